/* jsonpath: patterns compile to a list of segments; matching runs them as a small automaton over the
 * concrete path (`..` is the only segment that spans a variable number of steps). */
#include "jsonpath.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSONPATH_MAX_SEGS 32 /* positions 0..32 fit the matcher's 64-bit set */
#define JSONPATH_MAX_PATTERNS 1024

typedef enum { SEG_KEY, SEG_INDEX, SEG_ANY, SEG_DESC_KEY } seg_kind;

typedef struct seg {
    seg_kind kind;
    char *key;
    size_t index;
} seg;

typedef struct pattern {
    seg segs[JSONPATH_MAX_SEGS];
    size_t n;
} pattern;

struct jsonpath_set {
    pattern *pats;
    size_t n, cap;
};

jsonpath_set *jsonpath_set_new(void)
{
    return calloc(1, sizeof(jsonpath_set));
}

static void pattern_clear(pattern *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->segs[i].key);
    p->n = 0;
}

void jsonpath_set_free(jsonpath_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        pattern_clear(&s->pats[i]);
    free(s->pats);
    free(s);
}

size_t jsonpath_set_count(const jsonpath_set *s)
{
    return s ? s->n : 0;
}

static int add_seg(pattern *p, seg_kind kind, const char *key, size_t keylen, size_t index)
{
    if (p->n == JSONPATH_MAX_SEGS)
        return -1;
    seg *g = &p->segs[p->n];
    g->kind = kind;
    g->index = index;
    g->key = NULL;
    if (key) {
        g->key = malloc(keylen + 1);
        if (!g->key)
            return -1;
        memcpy(g->key, key, keylen);
        g->key[keylen] = '\0';
    }
    p->n++;
    return 0;
}

int jsonpath_set_add(jsonpath_set *s, const char *expr, char *err, size_t errlen)
{
    pattern p;
    memset(&p, 0, sizeof p);
    const char *c = expr;
    const char *why = NULL;
    if (*c != '$') {
        why = "must start with '$'";
        goto bad;
    }
    c++;
    if (!*c) {
        why = "a bare '$' would ignore the whole body";
        goto bad;
    }
    while (*c) {
        if (c[0] == '.' && c[1] == '.') {
            c += 2;
            size_t k = strcspn(c, ".[");
            if (!k) {
                why = "'..' must be followed by a key name";
                goto bad;
            }
            if (add_seg(&p, SEG_DESC_KEY, c, k, 0) < 0) {
                why = "too many segments";
                goto bad;
            }
            c += k;
        } else if (c[0] == '.') {
            c++;
            size_t k = strcspn(c, ".[");
            if (!k) {
                why = "empty key after '.'";
                goto bad;
            }
            int r = (k == 1 && c[0] == '*') ? add_seg(&p, SEG_ANY, NULL, 0, 0) : add_seg(&p, SEG_KEY, c, k, 0);
            if (r < 0) {
                why = "too many segments";
                goto bad;
            }
            c += k;
        } else if (c[0] == '[') {
            c++;
            int r;
            if (c[0] == '*' && c[1] == ']') {
                r = add_seg(&p, SEG_ANY, NULL, 0, 0);
                c += 2;
            } else if (c[0] == '\'' || c[0] == '"') {
                char q = c[0];
                const char *end = strchr(c + 1, q);
                if (!end || end[1] != ']') {
                    why = "unterminated quoted key";
                    goto bad;
                }
                r = add_seg(&p, SEG_KEY, c + 1, (size_t)(end - c - 1), 0);
                c = end + 2;
            } else if (isdigit((unsigned char)c[0])) {
                char *end;
                unsigned long long v = strtoull(c, &end, 10);
                if (*end != ']') {
                    why = "expected ']' after the index";
                    goto bad;
                }
                r = add_seg(&p, SEG_INDEX, NULL, 0, (size_t)v);
                c = end + 1;
            } else {
                why = "expected an index, '*' or a quoted key inside []";
                goto bad;
            }
            if (r < 0) {
                why = "too many segments";
                goto bad;
            }
        } else {
            why = "expected '.' or '['";
            goto bad;
        }
    }
    if (s->n == s->cap) {
        if (s->cap >= JSONPATH_MAX_PATTERNS) {
            why = "too many --ignore patterns";
            goto bad;
        }
        size_t ncap = s->cap ? s->cap * 2 : 8;
        pattern *np = realloc(s->pats, ncap * sizeof *np);
        if (!np) {
            why = "out of memory";
            goto bad;
        }
        s->pats = np;
        s->cap = ncap;
    }
    s->pats[s->n++] = p;
    return 0;
bad:
    pattern_clear(&p);
    snprintf(err, errlen, "bad JSONPath '%s' at offset %zu: %s", expr, (size_t)(c - expr), why);
    return -1;
}

/* Runs the pattern as an automaton over the path: a bit per pattern position (segments done so far),
 * all live positions advanced one step at a time. `..key` may skip any number of steps, so its
 * position stays live while it waits for its key. Linear in depth x segments: a backtracking walk
 * was exponential in the number of `..` segments on a deep path that almost matches (a body with
 * nested keys of the same name under --ignore '$..a..a..a' could stall check for minutes). */
static int match_pattern(const pattern *p, const jsonpath_step *path, size_t depth)
{
    uint64_t live = 1; /* position 0: nothing matched yet */
    for (size_t qi = 0; qi < depth && live; qi++) {
        const jsonpath_step *st = &path[qi];
        uint64_t next = 0;
        for (size_t pi = 0; pi < p->n; pi++) {
            if (!(live & ((uint64_t)1 << pi)))
                continue;
            const seg *g = &p->segs[pi];
            int step_ok = 0;
            switch (g->kind) {
            case SEG_KEY: step_ok = st->key && !strcmp(st->key, g->key); break;
            case SEG_INDEX: step_ok = !st->key && st->index == g->index; break;
            case SEG_ANY: step_ok = 1; break;
            case SEG_DESC_KEY:
                next |= (uint64_t)1 << pi; /* skip this step, still waiting for the key */
                step_ok = st->key && !strcmp(st->key, g->key);
                break;
            }
            if (step_ok)
                next |= (uint64_t)1 << (pi + 1);
        }
        live = next;
    }
    return (live >> p->n) & 1;
}

long jsonpath_set_find(const jsonpath_set *s, const jsonpath_step *path, size_t depth)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        if (match_pattern(&s->pats[i], path, depth))
            return (long)i;
    return -1;
}

int jsonpath_set_match(const jsonpath_set *s, const jsonpath_step *path, size_t depth)
{
    return jsonpath_set_find(s, path, depth) >= 0;
}

static int plain_key(const char *k)
{
    if (!*k || isdigit((unsigned char)*k))
        return 0;
    for (; *k; k++)
        if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-' && *k != '$' && *k != '@')
            return 0;
    return 1;
}

char *jsonpath_format(const jsonpath_step *path, size_t depth, char *out, size_t outsz)
{
    if (!outsz)
        return out;
    size_t len = 0;
    int n = snprintf(out, outsz, "$");
    len = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < depth && len < outsz; i++) {
        if (path[i].key && plain_key(path[i].key))
            n = snprintf(out + len, outsz - len, ".%s", path[i].key);
        else if (path[i].key)
            n = snprintf(out + len, outsz - len, "['%s']", path[i].key);
        else
            n = snprintf(out + len, outsz - len, "[%zu]", path[i].index);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (len >= outsz && outsz > 4)
        memcpy(out + outsz - 4, "...", 4);
    return out;
}
