/* redact_json: one pass over the token array of captures/json's tokenizer, keeping the concrete path of
 * each value for the JSONPath matcher. The output is the input with each matched value's span replaced,
 * so everything else (spacing, key order, number spelling) stays as recorded.
 *
 * Keys must be NUL-terminated strings for the matcher: unescaped keys point into a scratch copy of the
 * document whose closing quotes are overwritten with NULs; only escaped keys are decoded (malloc'ed). */
#include "redact_int.h"

#include <stdlib.h>
#include <string.h>

struct redact_walk {
    redact *r;
    const char *s;
    char *keys; /* the scratch copy */
    const jt_token *t;
    jsonpath_step path[JSONTOK_MAX_DEPTH + 1];
    char *owned[JSONTOK_MAX_DEPTH + 1]; /* decoded escaped keys, per depth */
    tdbuf *out;
    size_t copied; /* s[0..copied) is in out */
    redact_acc *a;
    int changed;
    size_t max_owned; /* owned[0..max_owned) may be set */
};
typedef struct redact_walk walk;

/* Replaces token i's span by its token. */
static int replace(walk *w, const jt_token *t, long rule)
{
    redact *r = w->r;
    char tok[REDACT_TOKEN_MAX];
    const char *raw = w->s + t->start;
    if (tdbuf_append(w->out, w->s + w->copied, t->start - w->copied) != 0)
        return -1;
    if (t->type == JT_NUMBER) {
        redact_token_number(r, raw, t->len, tok, sizeof tok);
        if (tdbuf_puts(w->out, tok))
            return -1;
    } else {
        if (t->type == JT_STRING) {
            /* hash the string's content, as a query or header carrying the same value would be hashed */
            tdbuf_reset(&r->tmp);
            if (tdbuf_reserve(&r->tmp, t->len + 1) != 0)
                return -1;
            size_t n = jsontok_string(w->s, t, r->tmp.data, t->len + 1);
            redact_token(r, r->tmp.data, n, tok, sizeof tok);
        } else {
            redact_token(r, raw, t->len, tok, sizeof tok); /* an object or array: its text */
        }
        if (tdbuf_append(w->out, "\"", 1) || tdbuf_puts(w->out, tok) || tdbuf_append(w->out, "\"", 1))
            return -1;
    }
    w->copied = t->start + t->len;
    w->changed = 1;
    return redact_acc_note(w->a, REDACT_JSON, r->names[REDACT_JSON][rule]);
}

/* Visits value token i at path depth d (path[0..d) set). Returns 0 or -1. */
static int visit(walk *w, uint32_t i, size_t d)
{
    const jt_token *t = &w->t[i];
    if (d > 0) {
        long rule = jsonpath_set_find(w->r->json, w->path, d);
        if (rule >= 0 && t->type != JT_TRUE && t->type != JT_FALSE && t->type != JT_NULL)
            return replace(w, t, rule);
    }
    if (t->type != JT_ARRAY && t->type != JT_OBJECT)
        return 0;
    if (d >= JSONTOK_MAX_DEPTH)
        return 0; /* the tokenizer refuses deeper documents; stay safe anyway */
    uint32_t j = i + 1;
    for (uint32_t k = 0; k < t->n; k++) {
        if (t->type == JT_ARRAY) {
            w->path[d].key = NULL;
            w->path[d].index = k;
            if (visit(w, j, d + 1) < 0)
                return -1;
            j = w->t[j].next;
            continue;
        }
        const jt_token *key = &w->t[j];
        if (key->escaped) {
            char *dec = malloc(key->len);
            if (!dec)
                return -1;
            jsontok_string(w->s, key, dec, key->len);
            free(w->owned[d]);
            w->owned[d] = dec;
            if (d + 1 > w->max_owned)
                w->max_owned = d + 1;
            w->path[d].key = dec;
        } else {
            w->keys[key->start + key->len - 1] = '\0';
            w->path[d].key = w->keys + key->start + 1;
        }
        w->path[d].index = 0;
        if (visit(w, j + 1, d + 1) < 0)
            return -1;
        j = w->t[j + 1].next;
    }
    return 0;
}

int redact_json_body(redact *r, const char *s, size_t n, tdbuf *out, redact_acc *a)
{
    if (jsontok_parse(&r->tok, s, n) != 0)
        return REDACT_ENOTJSON; /* (or too deep, or no memory for tokens: not inspectable either way) */
    /* the walk state (6 KiB of path) and the key copy are kept in r between bodies */
    if (!r->walk && !(r->walk = calloc(1, sizeof *r->walk)))
        return REDACT_ENOMEM;
    tdbuf_reset(&r->keys);
    if (tdbuf_append(&r->keys, s, n) != 0)
        return REDACT_ENOMEM;
    walk *w = r->walk;
    w->r = r;
    w->s = s;
    w->keys = r->keys.data;
    w->t = r->tok.t;
    w->out = out;
    w->copied = 0;
    w->a = a;
    w->changed = 0;
    int rc = REDACT_ENOMEM;
    if (visit(w, 0, 0) == 0 && tdbuf_append(out, s + w->copied, n - w->copied) == 0)
        rc = w->changed;
    for (size_t d = 0; d < w->max_owned; d++) {
        free(w->owned[d]);
        w->owned[d] = NULL;
    }
    w->max_owned = 0;
    return rc;
}
