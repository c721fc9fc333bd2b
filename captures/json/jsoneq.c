/* jsoneq: recursive descent over the actual text, carrying the index of the expected token it must
 * match. Objects: each actual member is looked up among the expected object's members by its raw key
 * (as the walk matches them), each expected member may be taken once, and the counts must agree, so
 * the match is one to one and the walk's own matching (first member with the key) finds the same
 * pairs. Recursion is bounded by max_depth. */
#include "jsoneq.h"

#include <string.h>

#include "jsontok_scan.h"

typedef struct eq {
    const jsoneq_doc *d;
    const unsigned char *as, *p, *end;
} eq;

/* The first member of expected object obj whose key is written at p as the expected text writes it,
 * or 0. An expected key's raw text is a whole string token, so when the actual text starts with those
 * bytes its key is that token, closing quote included: no scan of the actual key. Only the first:
 * with a duplicate key the second member is never found, the match fails and the walk decides. */
static uint32_t member(const jsoneq_doc *d, uint32_t obj, const unsigned char *p, const unsigned char *end)
{
    const jt_token *t = d->et;
    size_t room = (size_t)(end - p);
    if (room < 2)
        return 0;
    uint32_t key = obj + 1;
    for (uint32_t m = 0; m < t[obj].n; m++) {
        /* keys include their quotes: the first character tells most keys apart */
        const unsigned char *k = (const unsigned char *)d->es + t[key].start;
        if (k[1] == p[1] && t[key].len <= room && jsontok_same(k, p, t[key].len))
            return key;
        key = t[t[key].next].next;
    }
    return 0;
}

/* A scalar the actual text writes as the expected one does, seen without scanning it: the expected
 * bytes are a whole token, so equal bytes are the same token, except that a number could go on in
 * the actual text (1.5 against 1.55, 1.5e3): then the scanner decides. */
static inline int written_alike(const eq *q, const jt_token *e)
{
    const unsigned char *p = q->p, *x = (const unsigned char *)q->d->es + e->start;
    size_t room = (size_t)(q->end - p);
    if (room < e->len || *p != *x || !jsontok_same(p, x, e->len))
        return 0;
    return e->type != JT_NUMBER || room == e->len || !(jsontok_cls[p[e->len]] & JSONTOK_C_NUM);
}

static int value(eq *q, uint32_t ei, size_t depth);

/* A member's value or an array's element: most are scalars written alike, taken here without a call. */
static inline int element(eq *q, uint32_t ei, size_t depth)
{
    const jt_token *e = &q->d->et[ei];
    q->p = jsontok_skip_ws(q->p, q->end);
    if (e->type != JT_OBJECT && e->type != JT_ARRAY && q->p < q->end && written_alike(q, e)) {
        q->p += e->len;
        return 1;
    }
    return value(q, ei, depth);
}

/* After an element: 1 at a comma (another follows), 2 at the container's close (consumed), 0 else. */
static inline int after_element(eq *q, char close)
{
    q->p = jsontok_skip_ws(q->p, q->end);
    if (q->p >= q->end || (*q->p != ',' && *q->p != close))
        return 0;
    return *q->p++ == ',' ? 1 : 2;
}

static int object(eq *q, uint32_t ei, size_t depth)
{
    const jsoneq_doc *d = q->d;
    uint32_t got = 0;
    q->p = jsontok_skip_ws(q->p + 1, q->end);
    if (q->p < q->end && *q->p == '}') {
        q->p++;
        return d->et[ei].n == 0;
    }
    for (;;) {
        q->p = jsontok_skip_ws(q->p, q->end);
        if (q->p >= q->end || *q->p != '"')
            return 0;
        uint32_t k = member(d, ei, q->p, q->end);
        if (!k || d->seen[k])
            return 0; /* a key the expected object lacks (or writes otherwise), or a second member with it */
        d->seen[k] = 1;
        got++;
        q->p = jsontok_skip_ws(q->p + d->et[k].len, q->end);
        if (q->p >= q->end || *q->p != ':')
            return 0;
        q->p++;
        if (!element(q, d->et[k].next, depth + 1))
            return 0;
        int next = after_element(q, '}');
        if (next != 1)
            return next == 2 && got == d->et[ei].n;
    }
}

static int array(eq *q, uint32_t ei, size_t depth)
{
    const jsoneq_doc *d = q->d;
    uint32_t n = d->et[ei].n, i = 0, ek = ei + 1;
    q->p = jsontok_skip_ws(q->p + 1, q->end);
    if (q->p < q->end && *q->p == ']') {
        q->p++;
        return n == 0;
    }
    for (;;) {
        if (i == n || !element(q, ek, depth + 1))
            return 0;
        ek = d->et[ek].next;
        i++;
        int next = after_element(q, ']');
        if (next != 1)
            return next == 2 && i == n;
    }
}

static int value(eq *q, uint32_t ei, size_t depth)
{
    const jsoneq_doc *d = q->d;
    const jt_token *e = &d->et[ei];
    q->p = jsontok_skip_ws(q->p, q->end);
    if (q->p >= q->end)
        return 0;
    if (e->type != JT_OBJECT && e->type != JT_ARRAY && written_alike(q, e)) {
        q->p += e->len;
        return 1;
    }
    jt_token a = {.start = (uint32_t)(q->p - q->as)};
    const unsigned char *after;
    switch (*q->p) {
    case '{':
        if (e->type != JT_OBJECT || depth >= d->max_depth || e->n > d->max_members)
            return 0;
        return object(q, ei, depth);
    case '[':
        if (e->type != JT_ARRAY || depth >= d->max_depth)
            return 0;
        return array(q, ei, depth);
    case '"': {
        int esc = 0;
        a.type = JT_STRING;
        after = jsontok_scan_string(q->p, q->end, &esc);
        a.escaped = (uint8_t)esc;
        break;
    }
    case 't':
    case 'f':
    case 'n': {
        const char *word = *q->p == 't' ? "true" : *q->p == 'f' ? "false" : "null";
        size_t wn = strlen(word);
        a.type = *q->p == 't' ? JT_TRUE : *q->p == 'f' ? JT_FALSE : JT_NULL;
        after = (size_t)(q->end - q->p) >= wn && !memcmp(q->p, word, wn) ? q->p + wn : NULL;
        break;
    }
    default:
        if (*q->p != '-' && (*q->p < '0' || *q->p > '9'))
            return 0;
        a.type = JT_NUMBER;
        after = jsontok_scan_number(q->p, q->end);
        break;
    }
    if (!after || e->type == JT_OBJECT || e->type == JT_ARRAY)
        return 0;
    a.len = (uint32_t)(after - q->p);
    const unsigned char *at = q->p;
    q->p = after;
    if (e->type == a.type && e->len == a.len && !memcmp(d->es + e->start, at, a.len))
        return 1; /* written alike */
    return d->scalar_eq(d->ud, e, &a);
}

int jsoneq_document(const jsoneq_doc *d, const char *a, size_t al)
{
    if (!d->n || al >= UINT32_MAX)
        return 0;
    const unsigned char *s = (const unsigned char *)a;
    eq q = {d, s, s, s + al};
    if (!value(&q, 0, 0))
        return 0;
    return jsontok_skip_ws(q.p, q.end) == q.end;
}
