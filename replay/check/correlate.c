/* correlate: two open-addressed hash tables of owned strings: every request value with the index of the
 * first request that sent it (from the scan), and the map learned during the replay. */
#include "correlate.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsondiff.h"
#include "jsontok.h"
#include "strmap.h"


struct correlate {
    jsontok tok;     /* scan: token buffer reused for every body */
    char *sbuf;      /* scan: unescaped string values */
    size_t scap;
    size_t scan_index; /* the request being scanned */
    strmap first_req;  /* value -> index (decimal) of the first recorded request that sent it */
    strmap map;        /* recorded value -> the destination's value */
    correlate_more_fn more; /* the rest of the scan, on demand (NULL: none left) */
    void *more_ud;
};

correlate *correlate_new(void)
{
    return calloc(1, sizeof(correlate));
}

void correlate_free(correlate *c)
{
    if (!c)
        return;
    strmap_free(&c->first_req);
    strmap_free(&c->map);
    jsontok_free(&c->tok);
    free(c->sbuf);
    free(c);
}

size_t correlate_request_values(const correlate *c)
{
    return c->first_req.n;
}

size_t correlate_mappings(const correlate *c)
{
    return c->map.n;
}

/* Could this string be an id or a token (as opposed to a word)? */
static int id_like(const char *s, int is_int)
{
    if (is_int)
        return 1;
    size_t n = strlen(s);
    if (!n || n > 512)
        return 0;
    int digit = 0, space = 0;
    for (const char *p = s; *p; p++) {
        digit |= isdigit((unsigned char)*p) != 0;
        space |= isspace((unsigned char)*p) != 0;
    }
    return !space && (digit || n >= 16);
}

/* ---- scan ---- */

/* "-12.5": a decimal number, never an id. */
static int decimal_number(const char *v)
{
    const char *p = v + (*v == '-');
    size_t d1 = strspn(p, "0123456789");
    return d1 && p[d1] == '.' && strspn(p + d1 + 1, "0123456789") == strlen(p + d1 + 1);
}

/* The values the scan keeps: an id-like request value that is not a decimal number. */
static int scan_keeps(const char *v)
{
    return *v && id_like(v, 0) && !decimal_number(v);
}

static void scan_req_value(correlate *c, const char *v)
{
    if (!scan_keeps(v))
        return;
    char idx[24];
    snprintf(idx, sizeof idx, "%zu", c->scan_index);
    strmap_put(&c->first_req, v, idx); /* kept only the first time */
}

typedef void (*scalar_fn)(correlate *, const char *, int);

/* Scalar values of the subtree at token i (keys are skipped by walking members). */
static void scalars_of(correlate *c, const char *body, uint32_t i, scalar_fn fn)
{
    const jt_token *t = c->tok.t;
    if (t[i].type == JT_OBJECT || t[i].type == JT_ARRAY) {
        uint32_t k = i + 1;
        for (uint32_t m = 0; m < t[i].n; m++) {
            if (t[i].type == JT_OBJECT)
                k = t[k].next; /* past the key */
            scalars_of(c, body, k, fn);
            t = c->tok.t;
            k = t[k].next;
        }
        return;
    }
    if (t[i].type != JT_STRING && t[i].type != JT_NUMBER)
        return;
    if (t[i].type == JT_NUMBER && (memchr(body + t[i].start, '.', t[i].len) || memchr(body + t[i].start, 'e', t[i].len) ||
                                  memchr(body + t[i].start, 'E', t[i].len)))
        return; /* not an integer: never an id */
    if (t[i].len + 1 > c->scap) {
        char *nb = realloc(c->sbuf, t[i].len + 1);
        if (!nb)
            return;
        c->sbuf = nb;
        c->scap = t[i].len + 1;
    }
    if (t[i].type == JT_STRING) {
        jsontok_string(body, &t[i], c->sbuf, c->scap);
    } else {
        memcpy(c->sbuf, body + t[i].start, t[i].len);
        c->sbuf[t[i].len] = '\0';
    }
    fn(c, c->sbuf, t[i].type == JT_NUMBER);
}

/* Calls fn(c, text, is_int) for every scalar value (not key) of a JSON body: integers as written,
 * strings unescaped. Bodies that are not JSON have none. Uses the flat tokenizer: the scan reads every
 * recorded body once, so it must be cheap. */
static void each_json_scalar(correlate *c, const char *body, size_t len, scalar_fn fn)
{
    if (!body || !len || jsontok_parse(&c->tok, body, len) < 0)
        return;
    scalars_of(c, body, 0, fn);
}

static void scan_req_scalar(correlate *c, const char *v, int is_int)
{
    (void)is_int;
    scan_req_value(c, v);
}

/* Calls fn(c, piece) for every path segment and query value of a target (each copied, NUL-terminated). */
static void each_target_piece(correlate *c, const char *target, void (*fn)(correlate *, const char *))
{
    char piece[512];
    const char *p = target;
    if (!strncasecmp(p, "http://", 7) || !strncasecmp(p, "https://", 8)) {
        p = strchr(strstr(p, "//") + 2, '/');
        if (!p)
            return;
    }
    while (*p) {
        char sep = *p;
        if (sep == '/' || sep == '?' || sep == '&' || sep == '=' || sep == '#') {
            p++;
            continue;
        }
        size_t k = strcspn(p, "/?&=#");
        if (k < sizeof piece) {
            memcpy(piece, p, k);
            piece[k] = '\0';
            fn(c, piece);
        }
        p += k;
    }
}

int correlate_scan_request(correlate *c, size_t index, const char *target, const char *const *headers,
                           size_t n_headers, const char *body, size_t body_len)
{
    c->scan_index = index;
    if (target)
        each_target_piece(c, target, scan_req_value);
    for (size_t i = 0; i < n_headers; i++) {
        const char *colon = strchr(headers[i], ':');
        if (!colon || !strncasecmp(headers[i], "host:", 5) || !strncasecmp(headers[i], "content-length:", 15))
            continue;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        scan_req_value(c, v);
        const char *sp = strrchr(v, ' ');
        if (sp)
            scan_req_value(c, sp + 1);
    }
    each_json_scalar(c, body, body_len, scan_req_scalar);
    return 0;
}

void correlate_scan_done(correlate *c)
{
    jsontok_free(&c->tok);
    free(c->sbuf);
    c->sbuf = NULL;
    c->scap = 0;
}

/* ---- replay ---- */

const char *correlate_lookup(const correlate *c, const char *recorded)
{
    int f;
    return strmap_get(&c->map, recorded, &f);
}

void correlate_set_source(correlate *c, correlate_more_fn more, void *ud)
{
    c->more = more;
    c->more_ud = ud;
}

int correlate_is_candidate(correlate *c, size_t index, const char *value)
{
    if (!scan_keeps(value))
        return 0; /* never in the table: no need to scan on for it */
    int found;
    const char *first = strmap_get(&c->first_req, value, &found);
    while (!found && c->more) {
        if (c->more(c->more_ud) <= 0) {
            c->more = NULL;
            break;
        }
        first = strmap_get(&c->first_req, value, &found);
    }
    return found && strtoull(first, NULL, 10) > index;
}

int correlate_learn_value(correlate *c, size_t index, const char *rec, const char *act)
{
    if (!rec || !act || !strcmp(rec, act) || !correlate_is_candidate(c, index, rec))
        return 0;
    return strmap_put(&c->map, rec, act) == 1;
}

size_t correlate_learn_location(correlate *c, size_t index, const char *rec_location, const char *act_location)
{
    /* Segment by segment (query pieces too), in step. */
    char rb[1024], ab[1024];
    snprintf(rb, sizeof rb, "%s", rec_location);
    snprintf(ab, sizeof ab, "%s", act_location);
    char *rs, *as;
    size_t n = 0;
    char *rt = strtok_r(rb, "/?&=#", &rs), *at = strtok_r(ab, "/?&=#", &as);
    while (rt && at) {
        n += (size_t)correlate_learn_value(c, index, rt, at);
        rt = strtok_r(NULL, "/?&=#", &rs);
        at = strtok_r(NULL, "/?&=#", &as);
    }
    return n;
}

char *correlate_rewrite_target(const correlate *c, const char *target)
{
    if (!c->map.n)
        return NULL;
    size_t cap = strlen(target) * 2 + 64, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    int changed = 0;
    const char *p = target;
    int in_query = 0;
    while (*p) {
        size_t k = strcspn(p, "/?&=#");
        const char *piece = p;
        const char *rep = NULL;
        char tmp[512];
        if (k && k < sizeof tmp) {
            memcpy(tmp, piece, k);
            tmp[k] = '\0';
            rep = correlate_lookup(c, tmp);
        }
        /* In the query, only values (after '=') are rewritten, never names. */
        if (rep && in_query && (piece == target || piece[-1] != '='))
            rep = NULL;
        const char *src = rep ? rep : piece;
        size_t sl = rep ? strlen(rep) : k;
        if (len + sl + 2 > cap) {
            cap = (len + sl + 2) * 2;
            char *np = realloc(out, cap);
            if (!np) {
                free(out);
                return NULL;
            }
            out = np;
        }
        memcpy(out + len, src, sl);
        len += sl;
        changed |= rep != NULL;
        p += k;
        if (*p) {
            if (*p == '?')
                in_query = 1;
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    if (!changed) {
        free(out);
        return NULL;
    }
    return out;
}

char *correlate_rewrite_header(const correlate *c, const char *line)
{
    if (!c->map.n)
        return NULL;
    const char *colon = strchr(line, ':');
    if (!colon)
        return NULL;
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    const char *rep = correlate_lookup(c, v);
    const char *tail = v;
    if (!rep) {
        const char *sp = strrchr(v, ' ');
        if (!sp || !(rep = correlate_lookup(c, sp + 1)))
            return NULL;
        tail = sp + 1; /* "Bearer TOKEN": keep the scheme */
    }
    size_t head = (size_t)(tail - line), rl = strlen(rep);
    char *out = malloc(head + rl + 1);
    if (!out)
        return NULL;
    memcpy(out, line, head);
    memcpy(out + head, rep, rl + 1);
    return out;
}

/* What a scalar becomes when the recording produced it and this run renamed it (an integer stays an
 * integer when the new value is one); NULL for anything else. */
static json_t *replacement(const correlate *c, json_t *v)
{
    if (json_is_object(v) || json_is_array(v))
        return NULL;
    char buf[32];
    const char *t = jsondiff_scalar_text(v, buf, sizeof buf);
    const char *rep = t ? correlate_lookup(c, t) : NULL;
    if (!rep)
        return NULL;
    char *end;
    errno = 0;
    long long iv = strtoll(rep, &end, 10);
    /* past long long, strtoll clamps: the digits go out as a string rather than a wrong number */
    return (json_is_integer(v) && *rep && !*end && errno != ERANGE) ? json_integer(iv) : json_string(rep);
}

static int rewrite_json(const correlate *c, json_t *j, int depth)
{
    int n = 0;
    if (depth > 64)
        return 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(j, tmp, k, v)
        {
            json_t *nv = replacement(c, v);
            if (nv)
                n += !json_object_set_new(j, k, nv);
            else
                n += rewrite_json(c, v, depth + 1);
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            json_t *v = json_array_get(j, i);
            json_t *nv = replacement(c, v);
            if (nv)
                n += !json_array_set_new(j, i, nv);
            else
                n += rewrite_json(c, v, depth + 1);
        }
    }
    return n;
}

int correlate_rewrite_body(const correlate *c, const char *body, size_t len, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (!c->map.n || !len)
        return 0;
    json_t *j = json_loadb(body, len, 0, NULL);
    if (!j)
        return 0;
    int rc = 0;
    if (rewrite_json(c, j, 0) > 0) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) {
            *out = s;
            *outlen = strlen(s);
            rc = 1;
        }
    }
    json_decref(j);
    return rc;
}

static int ends_with_ci(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && !strncasecmp(s + n - k, suf, k);
}

int correlate_id_key(const char *key)
{
    if (!key || !*key)
        return 0;
    static const char *const words[] = {"id", "uuid", "guid", "key", "token", "ref", "slug"};
    size_t n = strlen(key);
    if (n > 1 && (key[n - 1] == 's' || key[n - 1] == 'S'))
        n--; /* tripIds, tokens */
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t k = strlen(words[i]);
        if (!ends_with_ci(key, n, words[i]))
            continue;
        if (n == k)
            return 1;
        /* a word of its own: after '_', '-', '.', or a camelCase hump (tripId, userUUID, apiKey) -
         * never the tail of another word ("paid", "valid", "monkey") */
        char before = key[n - k - 1], first = key[n - k];
        if (before == '_' || before == '-' || before == '.' || isupper((unsigned char)first))
            return 1;
    }
    return 0;
}

int correlate_equiv(void *ud, const char *key, int is_int, const char *expected, const char *actual)
{
    correlate_ref *ref = ud;
    if (ref->learn && (!is_int || correlate_id_key(key)))
        correlate_learn_value(ref->c, ref->index, expected, actual);
    const char *m = ref->c->map.n ? correlate_lookup(ref->c, expected) : NULL;
    return m && !strcmp(m, actual);
}
