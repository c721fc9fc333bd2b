/* jsondiff: a parallel walk over two token arrays with an explicit path stack (for JSONPath names and
 * --ignore). Objects are matched member by member: first at the same position (the common case: same
 * serializer), else by search (linear for small objects, a sorted index for large ones). */
#include "jsondiff.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsoneq.h"
#include "jsontok.h"

#define JD_MAX_DEPTH 64
#define JD_KEY_MAX 128
#define JD_LINEAR_MAX 64

struct jsondiff_ctx {
    jsontok te, ta;
    char keys[JD_MAX_DEPTH][JD_KEY_MAX];
    jsonpath_step path[JD_MAX_DEPTH + 1];
    /* A key step's text is unescaped into keys[] only when something reads the path (a report, an
     * --ignore match, the equiv hook): most members of two equal documents never need it. */
    const char *kraw[JD_MAX_DEPTH];
    const jt_token *ktok[JD_MAX_DEPTH];
    unsigned char kpend[JD_MAX_DEPTH];
    char *sbuf[2]; /* unescaped strings / scalar texts */
    size_t scap[2];
    uint8_t *seen; /* jsoneq's scratch, one byte per expected token */
    size_t seen_cap;
};

typedef struct walk {
    jsondiff_ctx *c;
    const char *es, *as; /* the two texts */
    const jt_token *et, *at;
    const jsondiff_opts *o;
    jsondiff_emit_fn emit;
    void *ud;
    size_t depth;
    long count;
    int stop, oom;
    int has_ignore;
} walk;

jsondiff_ctx *jsondiff_ctx_new(void)
{
    return calloc(1, sizeof(jsondiff_ctx));
}

void jsondiff_ctx_free(jsondiff_ctx *c)
{
    if (!c)
        return;
    jsontok_free(&c->te);
    jsontok_free(&c->ta);
    free(c->sbuf[0]);
    free(c->sbuf[1]);
    free(c->seen);
    free(c);
}

/* Compact text of a token (whitespace outside strings dropped), cut at JSONDIFF_TEXT_MAX. */
static void text_of(const char *s, const jt_token *t, char *out, size_t outsz)
{
    size_t j = 0, cut = outsz - 1 < JSONDIFF_TEXT_MAX ? outsz - 1 : JSONDIFF_TEXT_MAX;
    int in_str = 0;
    for (uint32_t i = t->start; i < t->start + t->len && j < cut; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\' && i + 1 < t->start + t->len) {
                out[j++] = ch;
                if (j < cut)
                    out[j++] = s[++i];
                continue;
            }
            if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            continue;
        }
        out[j++] = ch;
    }
    if (j >= cut && t->len > cut)
        memcpy(out + cut - 3, "...", 3), j = cut;
    out[j] = '\0';
}

/* Unescapes the key steps still pending (see kpend). */
static void path_keys(walk *w)
{
    jsondiff_ctx *c = w->c;
    for (size_t d = 0; d < w->depth; d++)
        if (c->kpend[d]) {
            jsontok_string(c->kraw[d], c->ktok[d], c->keys[d], JD_KEY_MAX);
            c->kpend[d] = 0;
        }
}

static void report(walk *w, const jt_token *e, const jt_token *a)
{
    char p[512], et[JSONDIFF_TEXT_MAX + 1], at[JSONDIFF_TEXT_MAX + 1];
    path_keys(w);
    jsonpath_format(w->c->path, w->depth, p, sizeof p);
    if (e)
        text_of(w->es, e, et, sizeof et);
    if (a)
        text_of(w->as, a, at, sizeof at);
    w->count++;
    if (w->emit(w->ud, p, e ? et : NULL, a ? at : NULL))
        w->stop = 1;
}

/* Unescaped string (or raw number) text into scratch buffer k, its length in *n (NULL: not wanted; the text
 * may hold a NUL, from \u0000). NULL when out of memory. */
static const char *scalar_text(walk *w, int k, const char *s, const jt_token *t, size_t *n)
{
    jsondiff_ctx *c = w->c;
    size_t need = t->len + 1;
    if (need > c->scap[k]) {
        char *nb = realloc(c->sbuf[k], need);
        if (!nb) {
            w->oom = 1;
            return NULL;
        }
        c->sbuf[k] = nb;
        c->scap[k] = need;
    }
    size_t len = t->len;
    if (t->type == JT_STRING) {
        len = jsontok_string(s, t, c->sbuf[k], c->scap[k]);
    } else {
        memcpy(c->sbuf[k], s + t->start, t->len);
        c->sbuf[k][t->len] = '\0';
    }
    if (n)
        *n = len;
    return c->sbuf[k];
}

static int is_integer_text(const char *s, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return 0;
    return 1;
}

static int numbers_equal(walk *w, const jt_token *e, const jt_token *a)
{
    const char *ep = w->es + e->start, *ap = w->as + a->start;
    if (e->len == a->len && !memcmp(ep, ap, e->len))
        return 1;
    char eb[64], ab[64];
    if (e->len >= sizeof eb || a->len >= sizeof ab)
        return 0; /* absurdly long numbers: equal only as written */
    memcpy(eb, ep, e->len);
    eb[e->len] = '\0';
    memcpy(ab, ap, a->len);
    ab[a->len] = '\0';
    if (is_integer_text(eb, e->len) && is_integer_text(ab, a->len)) {
        if (e->len > 18 || a->len > 18)
            return 0; /* beyond int64: as written (already unequal) */
        return strtoll(eb, NULL, 10) == strtoll(ab, NULL, 10);
    }
    return strtod(eb, NULL) == strtod(ab, NULL);
}

static int scalars_equal(walk *w, const jt_token *e, const jt_token *a)
{
    if (e->type == JT_NUMBER && a->type == JT_NUMBER)
        return numbers_equal(w, e, a);
    if (e->type != a->type)
        return 0;
    if (e->type != JT_STRING)
        return 1; /* true, false, null */
    if (e->len == a->len && !memcmp(w->es + e->start, w->as + a->start, e->len))
        return 1;
    if (!e->escaped && !a->escaped)
        return 0;
    size_t xl, yl;
    const char *x = scalar_text(w, 0, w->es, e, &xl), *y = scalar_text(w, 1, w->as, a, &yl);
    /* by length and bytes: an escaped \u0000 unescapes to a NUL, where strcmp would stop */
    return x && y && xl == yl && !memcmp(x, y, xl);
}

static int keys_equal(const char *s1, const jt_token *k1, const char *s2, const jt_token *k2)
{
    return k1->len == k2->len && !memcmp(s1 + k1->start, s2 + k2->start, k1->len);
}

typedef struct keyidx_ctx {
    const char *s;
    const jt_token *t;
} keyidx_ctx;

static int cmp_key_idx(const void *x, const void *y, void *ud)
{
    const keyidx_ctx *k = ud;
    const jt_token *a = &k->t[*(const uint32_t *)x], *b = &k->t[*(const uint32_t *)y];
    uint32_t n = a->len < b->len ? a->len : b->len;
    int r = memcmp(k->s + a->start, k->s + b->start, n);
    return r ? r : (a->len > b->len) - (a->len < b->len);
}

/* Key token indices of object obj, sorted by key (for objects too large for a linear search). */
static uint32_t *key_index(const char *s, const jt_token *t, uint32_t obj)
{
    uint32_t n = t[obj].n, *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return NULL;
    uint32_t k = obj + 1;
    for (uint32_t m = 0; m < n; m++) {
        idx[m] = k;
        k = t[t[k].next].next;
    }
    keyidx_ctx kc = {s, t};
    qsort_r(idx, n, sizeof *idx, cmp_key_idx, &kc);
    return idx;
}

/* The key token in object obj (of s/t) equal to key (of ks/kt), or 0. */
static uint32_t find_key(const char *s, const jt_token *t, uint32_t obj, const uint32_t *idx, const char *ks,
                         const jt_token *key)
{
    if (!idx) {
        uint32_t k = obj + 1;
        for (uint32_t m = 0; m < t[obj].n; m++) {
            if (keys_equal(s, &t[k], ks, key))
                return k;
            k = t[t[k].next].next;
        }
        return 0;
    }
    size_t lo = 0, hi = t[obj].n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const jt_token *mk = &t[idx[mid]];
        uint32_t n = mk->len < key->len ? mk->len : key->len;
        int r = memcmp(s + mk->start, ks + key->start, n);
        if (!r)
            r = (mk->len > key->len) - (mk->len < key->len);
        if (!r)
            return idx[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static void walk_node(walk *w, uint32_t ei, uint32_t ai);

/* Push a key step: the key's unescaped text (cut to JD_KEY_MAX) goes into the per-depth buffer when
 * the path is read (path_keys). */
static void push_key(walk *w, const char *s, const jt_token *k)
{
    jsondiff_ctx *c = w->c;
    c->path[w->depth].key = c->keys[w->depth];
    c->kraw[w->depth] = s;
    c->ktok[w->depth] = k;
    c->kpend[w->depth] = 1;
    w->depth++;
}

static int ignored(walk *w)
{
    if (!w->has_ignore)
        return 0;
    path_keys(w);
    return jsonpath_set_match(w->o->ignore, w->c->path, w->depth);
}

/* Two scalars written alike: equal whatever --ignore or equiv would say, so the walk need not name
 * their path (the common case of two equal documents). */
static int same_scalar(const walk *w, const jt_token *e, const jt_token *a)
{
    return e->type == a->type && e->type < JT_ARRAY && e->len == a->len &&
           !memcmp(w->es + e->start, w->as + a->start, e->len);
}

static void walk_object(walk *w, uint32_t ei, uint32_t ai)
{
    const jt_token *et = w->et, *at = w->at;
    uint32_t an = at[ai].n, en = et[ei].n;
    /* seen: which actual members matched, by token offset inside the object's subtree */
    uint32_t span = at[ai].next - ai;
    uint8_t small_seen[1024], *seen = span <= sizeof small_seen ? small_seen : calloc(span, 1);
    uint32_t *aidx = an > JD_LINEAR_MAX ? key_index(w->as, at, ai) : NULL;
    if (!seen || (an > JD_LINEAR_MAX && !aidx)) {
        w->oom = w->stop = 1;
        goto out;
    }
    if (seen == small_seen)
        memset(seen, 0, span);
    /* Expected members: at the same position in actual when the keys line up (one serializer), else
     * searched. */
    uint32_t ek = ei + 1, ak = ai + 1, apos = 0;
    for (uint32_t m = 0; m < en && !w->stop; m++) {
        uint32_t found = 0;
        if (apos < an && keys_equal(w->es, &et[ek], w->as, &at[ak])) {
            found = ak;
            ak = at[at[ak].next].next;
            apos++;
        } else {
            found = find_key(w->as, at, ai, aidx, w->es, &et[ek]);
        }
        if (found && same_scalar(w, &et[et[ek].next], &at[at[found].next])) {
            seen[found - ai] = 1;
            ek = et[et[ek].next].next;
            continue;
        }
        push_key(w, w->es, &et[ek]);
        if (!ignored(w)) {
            if (found)
                walk_node(w, et[ek].next, at[found].next);
            else
                report(w, &et[et[ek].next], NULL);
        }
        w->depth--;
        if (found)
            seen[found - ai] = 1;
        ek = et[et[ek].next].next;
    }
    /* Members only the actual has. */
    ak = ai + 1;
    for (uint32_t m = 0; m < an && !w->stop; m++) {
        if (!seen[ak - ai]) {
            push_key(w, w->as, &at[ak]);
            if (!ignored(w))
                report(w, NULL, &at[at[ak].next]);
            w->depth--;
        }
        ak = at[at[ak].next].next;
    }
out:
    if (seen != small_seen)
        free(seen);
    free(aidx);
}

static void walk_array(walk *w, uint32_t ei, uint32_t ai)
{
    const jt_token *et = w->et, *at = w->at;
    uint32_t en = et[ei].n, an = at[ai].n, n = en > an ? en : an;
    uint32_t ek = ei + 1, ak = ai + 1;
    for (uint32_t i = 0; i < n && !w->stop; i++) {
        if (i < en && i < an && same_scalar(w, &et[ek], &at[ak])) {
            ek = et[ek].next;
            ak = at[ak].next;
            continue;
        }
        w->c->path[w->depth].key = NULL;
        w->c->kpend[w->depth] = 0;
        w->c->path[w->depth].index = i;
        w->depth++;
        if (!ignored(w)) {
            if (i < en && i < an)
                walk_node(w, ek, ak);
            else
                report(w, i < en ? &et[ek] : NULL, i < an ? &at[ak] : NULL);
        }
        w->depth--;
        if (i < en)
            ek = et[ek].next;
        if (i < an)
            ak = at[ak].next;
    }
}

static int eq_scalar(void *ud, const jt_token *e, const jt_token *a)
{
    return scalars_equal(ud, e, a);
}

/* Equal documents (the common case) are recognised in one pass over the actual text, without its
 * tokens or the walk's bookkeeping (jsoneq); 0 when not equal, not sure, or out of memory. */
static int quick_equal(jsondiff_ctx *c, const char *e, const char *a, size_t al)
{
    if (c->te.n > c->seen_cap) {
        uint8_t *ns = realloc(c->seen, c->te.n);
        if (!ns)
            return 0;
        c->seen = ns;
        c->seen_cap = c->te.n;
    }
    memset(c->seen, 0, c->te.n);
    walk w = {.c = c, .es = e, .as = a};
    jsoneq_doc d = {.es = e, .et = c->te.t, .n = c->te.n, .seen = c->seen, .max_depth = JD_MAX_DEPTH,
                    .max_members = JD_LINEAR_MAX, .scalar_eq = eq_scalar, .ud = &w};
    return jsoneq_document(&d, a, al) && !w.oom;
}

static void walk_node(walk *w, uint32_t ei, uint32_t ai)
{
    if (w->stop)
        return;
    const jt_token *e = &w->et[ei], *a = &w->at[ai];
    int ec = e->type == JT_OBJECT || e->type == JT_ARRAY, ac = a->type == JT_OBJECT || a->type == JT_ARRAY;
    if (ec || ac) {
        if (e->type != a->type) {
            report(w, e, a);
        } else if (w->depth >= JD_MAX_DEPTH) {
            /* too deep to name paths: equal only when written the same */
            if (e->len != a->len || memcmp(w->es + e->start, w->as + a->start, e->len))
                report(w, e, a);
        } else if (e->type == JT_OBJECT) {
            walk_object(w, ei, ai);
        } else {
            walk_array(w, ei, ai);
        }
        return;
    }
    if (scalars_equal(w, e, a))
        return;
    /* equiv (correlation) only for strings and integers: a fraction is never an id */
    if (w->o && w->o->equiv && e->type == a->type &&
        (e->type == JT_STRING ||
         (e->type == JT_NUMBER && is_integer_text(w->es + e->start, e->len) && is_integer_text(w->as + a->start, a->len)))) {
        const char *x = scalar_text(w, 0, w->es, e, NULL), *y = scalar_text(w, 1, w->as, a, NULL);
        const char *key = NULL;
        path_keys(w);
        for (size_t d = w->depth; d > 0 && !key; d--)
            key = w->c->path[d - 1].key;
        if (x && y && w->o->equiv(w->o->equiv_ud, key, e->type == JT_NUMBER, x, y))
            return;
    }
    report(w, e, a);
}

long jsondiff(jsondiff_ctx *c, const char *e, size_t el, const char *a, size_t al, const jsondiff_opts *opts,
              jsondiff_emit_fn emit, void *emit_ud)
{
    jsondiff_ctx *own = NULL;
    if (!c && !(c = own = jsondiff_ctx_new()))
        return JSONDIFF_ENOMEM;
    long rc;
    if (jsontok_parse(&c->te, e, el) < 0) {
        rc = JSONDIFF_EEXPECTED;
    } else if (!(opts && opts->walk_only) && quick_equal(c, e, a, al)) {
        rc = 0;
    } else if (jsontok_parse(&c->ta, a, al) < 0) {
        rc = JSONDIFF_EACTUAL;
    } else {
        walk w = {.c = c, .es = e, .as = a, .et = c->te.t, .at = c->ta.t, .o = opts, .emit = emit, .ud = emit_ud,
                  .has_ignore = opts && jsonpath_set_count(opts->ignore) > 0};
        walk_node(&w, 0, 0);
        rc = w.oom ? JSONDIFF_ENOMEM : w.count;
    }
    jsondiff_ctx_free(own);
    return rc;
}

const char *jsondiff_scalar_text(const json_t *v, char *buf, size_t bufsz)
{
    if (json_is_integer(v)) {
        snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_string(v))
        return json_string_value(v);
    return NULL;
}
