/* jsontok: one pass over the text with an explicit stack of open containers (no recursion, no call
 * per character): `check` tokenizes two documents per exchange, so this loop is most of its JSON cost.
 * A table gives each byte its class, so that whitespace, string bodies and digits each cost one lookup
 * per byte. Tokens are referred to by index since the array may move while it grows. */
#include "jsontok.h"

#include <stdlib.h>
#include <string.h>

#include "jsontok_scan.h"

#define JSONTOK_DEFAULT_MAX (4u << 20)

/* The array grown as the old recursive parser grew it (doubling from 256, never past the limit). -1 when
 * over max_tokens or out of memory. */
static int grow(jsontok *jt)
{
    size_t max = jt->max_tokens ? jt->max_tokens : JSONTOK_DEFAULT_MAX;
    if (jt->cap >= max)
        return -1;
    size_t ncap = jt->cap ? jt->cap * 2 : 256;
    if (ncap > max)
        ncap = max;
    jt_token *nt = realloc(jt->t, ncap * sizeof *nt);
    if (!nt)
        return -1;
    jt->t = nt;
    jt->cap = ncap;
    return 0;
}

/* The next token's slot; NULL when over max_tokens or out of memory. */
static inline jt_token *new_tok(jsontok *jt)
{
    if (jt->n == jt->cap && grow(jt) < 0)
        return NULL;
    return &jt->t[jt->n++];
}


#define SKIP_WS()                                                                                      \
    do {                                                                                               \
        while (p < end && (jsontok_cls[*p] & JSONTOK_C_WS))                                                            \
            p++;                                                                                       \
    } while (0)

int jsontok_parse(jsontok *jt, const char *text, size_t len)
{
    if (len >= UINT32_MAX)
        return -1;
    const unsigned char *s = (const unsigned char *)text, *p = s, *end = s + len;
    uint32_t open[JSONTOK_MAX_DEPTH]; /* token index of each open container */
    uint32_t count[JSONTOK_MAX_DEPTH]; /* its elements so far */
    unsigned char is_obj[JSONTOK_MAX_DEPTH];
    size_t depth = 0;
    jt_token *t;
    jt->n = 0;
value:
    SKIP_WS();
    if (p >= end || !(t = new_tok(jt)))
        return -1;
    t->start = (uint32_t)(p - s);
    t->n = 0;
    t->escaped = 0;
    switch (*p) {
    case '{':
    case '[':
        if (depth >= JSONTOK_MAX_DEPTH)
            return -1;
        t->type = *p == '{' ? JT_OBJECT : JT_ARRAY;
        open[depth] = (uint32_t)(jt->n - 1);
        count[depth] = 0;
        is_obj[depth] = *p == '{';
        p++;
        SKIP_WS();
        if (p < end && *p == (is_obj[depth] ? '}' : ']')) {
            p++;
            t->len = (uint32_t)(p - s) - t->start;
            t->next = (uint32_t)jt->n;
            goto after_value;
        }
        if (is_obj[depth++])
            goto key;
        goto value;
    case '"': {
        int esc = 0;
        t->type = JT_STRING;
        if (!(p = jsontok_scan_string(p, end, &esc)))
            return -1;
        t->escaped = (uint8_t)esc;
        break;
    }
    case 't':
    case 'f':
    case 'n': {
        const char *word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
        size_t wn = *p == 'f' ? 5 : 4;
        if ((size_t)(end - p) < wn || memcmp(p, word, wn))
            return -1;
        t->type = *p == 't' ? JT_TRUE : *p == 'f' ? JT_FALSE : JT_NULL;
        p += wn;
        break;
    }
    default:
        if (*p != '-' && !(jsontok_cls[*p] & JSONTOK_C_DIGIT))
            return -1;
        t->type = JT_NUMBER;
        if (!(p = jsontok_scan_number(p, end)))
            return -1;
        break;
    }
    t->len = (uint32_t)(p - s) - t->start;
    t->next = (uint32_t)jt->n;
after_value:
    if (!depth) {
        SKIP_WS();
        return p == end ? 0 : -1;
    }
    count[depth - 1]++;
    SKIP_WS();
    if (p >= end)
        return -1;
    if (*p == ',') {
        p++;
        if (is_obj[depth - 1])
            goto key;
        goto value;
    }
    if (*p != (is_obj[depth - 1] ? '}' : ']'))
        return -1;
    p++;
    depth--;
    t = &jt->t[open[depth]];
    t->n = count[depth];
    t->len = (uint32_t)(p - s) - t->start;
    t->next = (uint32_t)jt->n;
    goto after_value;
key:
    SKIP_WS();
    if (p >= end || *p != '"' || !(t = new_tok(jt)))
        return -1;
    {
        int esc = 0;
        t->start = (uint32_t)(p - s);
        t->n = 0;
        t->type = JT_STRING;
        if (!(p = jsontok_scan_string(p, end, &esc)))
            return -1;
        t->escaped = (uint8_t)esc;
        t->len = (uint32_t)(p - s) - t->start;
        t->next = (uint32_t)jt->n;
    }
    SKIP_WS();
    if (p >= end || *p != ':')
        return -1;
    p++;
    goto value;
}

void jsontok_free(jsontok *jt)
{
    free(jt->t);
    jt->t = NULL;
    jt->n = jt->cap = 0;
}

static void put_utf8(unsigned cp, char *out, size_t outsz, size_t *n)
{
    char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    for (size_t i = 0; i < k; i++, (*n)++)
        if (outsz && *n < outsz - 1)
            out[*n] = b[i];
}

size_t jsontok_string(const char *s, const jt_token *t, char *out, size_t outsz)
{
    const char *p = s + t->start + 1, *end = s + t->start + t->len - 1;
    size_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            if (outsz && n < outsz - 1)
                out[n] = *p;
            n++;
            p++;
            continue;
        }
        char e = p[1];
        if (e == 'u') {
            unsigned cp = (unsigned)strtoul((char[]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
            p += 6;
            if (cp >= 0xd800 && cp < 0xdc00 && p + 5 < end && p[0] == '\\' && p[1] == 'u') {
                unsigned lo = (unsigned)strtoul((char[]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            put_utf8(cp, out, outsz, &n);
            continue;
        }
        char c = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
        if (outsz && n < outsz - 1)
            out[n] = c;
        n++;
        p += 2;
    }
    if (outsz)
        out[n < outsz ? n : outsz - 1] = '\0';
    return n;
}
