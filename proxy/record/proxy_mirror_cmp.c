/* proxy_mirror_cmp: compares primary and shadow answers on the writer thread (see the header). */
#include "proxy_mirror_cmp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode.h"
#include "httpmsg_facts.h"
#include "jsondiff.h"
#include "route.h"

#define CMP_PATHS 16 /* differing JSON paths kept per comparison, for the noise test */

enum { K_COMPARED = 0, K_STATUS, K_BODY, K_NOISE, K_ERRORS, K__COUNT };
static const char *const k_name[K__COUNT] = {"compared", "status_mismatch", "body_mismatch", "noise", "errors"};
static const char *const k_help[K__COUNT] = {
    "Shadow answers compared with the primary response (--mirror-record), by route.",
    "Compared shadow answers whose status differed from the primary's.",
    "Compared shadow answers with the primary's status whose decoded body differed.",
    "Shadow differences set aside as noise: the --mirror-baseline answer differed the same way.",
    "Copies sent to the shadow that got no complete answer (refused, reset, timed out).",
};

typedef struct cmp_route {
    char method[16], route[200];
    unsigned long long n[K__COUNT];
} cmp_route;

struct proxy_mirror_cmp {
    pthread_mutex_t mu;
    cmp_route *routes;
    size_t n_routes;
    jsondiff_ctx *jd; /* writer thread only */
};

proxy_mirror_cmp *proxy_mirror_cmp_new(void)
{
    proxy_mirror_cmp *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->routes = calloc(PROXY_MIRROR_CMP_MAX_ROUTES + 1, sizeof *c->routes);
    c->jd = jsondiff_ctx_new();
    if (!c->routes || !c->jd) {
        free(c->routes);
        jsondiff_ctx_free(c->jd);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void proxy_mirror_cmp_free(proxy_mirror_cmp *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    jsondiff_ctx_free(c->jd);
    free(c->routes);
    free(c);
}

/* Under the lock. The last slot is "{other}". */
static cmp_route *route_of(proxy_mirror_cmp *c, const char *method, const char *route)
{
    for (size_t i = 0; i < c->n_routes; i++)
        if (!strcmp(c->routes[i].route, route) && !strcmp(c->routes[i].method, method))
            return &c->routes[i];
    cmp_route *r = c->n_routes < PROXY_MIRROR_CMP_MAX_ROUTES ? &c->routes[c->n_routes++]
                                                             : &c->routes[PROXY_MIRROR_CMP_MAX_ROUTES];
    if (r == &c->routes[PROXY_MIRROR_CMP_MAX_ROUTES])
        method = "", route = "{other}";
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->route, sizeof r->route, "%s", route);
    return r;
}

typedef struct paths {
    char v[CMP_PATHS][128];
    size_t n, total;
} paths;

static int collect(void *ud, const char *path, const char *expected, const char *actual)
{
    paths *p = ud;
    if (p->n < CMP_PATHS)
        snprintf(p->v[p->n++], sizeof p->v[0], "%s", path);
    p->total++;
    return 0;
}

/* The head fields that change what a body decodes to: its framing and its codings. */
static const struct {
    const char *name;
    size_t len;
} body_field[] = {{"transfer-encoding:", 18}, {"content-encoding:", 17}, {"content-length:", 15}};
#define BODY_SIG_MAX 512

/* The values of body_field in the head m[0..hl), in order, each after its index, into sig. Its length,
 * or -1 when they do not fit (the caller then decodes). */
static int body_sig(const char *m, size_t hl, char *sig)
{
    size_t n = 0;
    for (const char *p = m, *end = m + hl; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        char c0 = (char)(*p | 0x20);
        for (size_t f = 0; (c0 == 't' || c0 == 'c') && f < sizeof body_field / sizeof body_field[0]; f++) {
            size_t fl = body_field[f].len;
            /* the colon where the name ends first: it rules out nearly every other field for one load */
            if ((size_t)(le - p) < fl || c0 != body_field[f].name[0] || p[fl - 1] != ':' ||
                strncasecmp(p, body_field[f].name, fl))
                continue;
            const char *v = p + fl, *ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (n + 2 + (size_t)(ve - v) > BODY_SIG_MAX)
                return -1;
            sig[n++] = (char)('0' + f);
            memcpy(sig + n, v, (size_t)(ve - v));
            n += (size_t)(ve - v);
            sig[n++] = '\n';
        }
        p = le + 1;
    }
    return (int)n;
}

/* Whether a whole head ends m[0..hl) (a blank line), not just the bytes there are. */
static int head_whole(const char *m, size_t hl)
{
    return hl >= 2 && m[hl - 1] == '\n' && (m[hl - 2] == '\n' || (hl >= 3 && m[hl - 2] == '\r' && m[hl - 3] == '\n'));
}

/* 1 when the shadow answered what the primary did, as far as the comparison looks: the same final status,
 * the same body bytes, framed and coded the same way (the other fields, Date say, may differ). Decoding
 * both, de-chunking, inflating, tokenizing JSON, would only find them equal; a shadow as good as the
 * primary answers so nearly every time, and this is a memcmp. */
static int same_answer(const char *a, size_t alen, const char *b, size_t blen)
{
    int st = httpmsg_raw_status(a, alen);
    if (st < 200 || st != httpmsg_raw_status(b, blen))
        return 0;
    size_t ha = httpmsg_raw_head_len(a, alen), hb = httpmsg_raw_head_len(b, blen);
    if (alen - ha != blen - hb || !head_whole(a, ha) || !head_whole(b, hb) || memcmp(a + ha, b + hb, alen - ha))
        return 0;
    char sa[BODY_SIG_MAX], sb[BODY_SIG_MAX];
    int na = body_sig(a, ha, sa), nb = body_sig(b, hb, sb);
    return na >= 0 && na == nb && memcmp(sa, sb, (size_t)na) == 0;
}

/* How a answer differs from the primary's: 0 same, K_STATUS, K_BODY; the JSON paths into p. */
static int differ(proxy_mirror_cmp *c, decode_msg *prim, decode_msg *other, paths *p)
{
    memset(p, 0, sizeof *p);
    if (prim->status != other->status)
        return K_STATUS;
    if (prim->truncated || other->truncated)
        return 0; /* a cut body says nothing about the rest */
    if (decode_is_json_type(prim->media_type) && decode_is_json_type(other->media_type)) {
        long n = jsondiff(c->jd, prim->body, prim->body_len, other->body, other->body_len, NULL, collect, p);
        if (n >= 0)
            return n > 0 ? K_BODY : 0;
    }
    if (prim->body_len != other->body_len || memcmp(prim->body, other->body, prim->body_len)) {
        snprintf(p->v[0], sizeof p->v[0], "body");
        p->n = p->total = 1;
        return K_BODY;
    }
    return 0;
}

static int has_path(const paths *p, const char *path)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->v[i], path))
            return 1;
    return 0;
}

/* How the shadow answer compares: 0 same, K_STATUS, K_BODY or K_NOISE. */
static int judge(proxy_mirror_cmp *c, const exchange *x, decode_msg *prim, const exchange_shadow *sh,
                 const char *method)
{
    char err[128];
    decode_msg shd, base;
    memset(&base, 0, sizeof base);
    if (decode_response(&shd, sh->response, sh->response_len, 0, method, err, sizeof err) != DECODE_OK)
        return K_BODY; /* an answer that does not decode differs from one that does */
    paths ps, pb;
    int d = differ(c, prim, &shd, &ps);
    const exchange_shadow *bl = exchange_shadow_get(x, EXCHANGE_SHADOW_BASELINE);
    if (d && bl && bl->response &&
        decode_response(&base, bl->response, bl->response_len, 0, method, err, sizeof err) == DECODE_OK) {
        int noise = differ(c, prim, &base, &pb) == d;
        for (size_t i = 0; noise && d == K_BODY && i < ps.n; i++)
            noise = has_path(&pb, ps.v[i]);
        if (noise && ps.total <= ps.n)
            d = K_NOISE; /* (more paths than kept: not provably noise) */
    }
    decode_msg_clear(&shd);
    decode_msg_clear(&base);
    return d;
}

void proxy_mirror_cmp_exchange(proxy_mirror_cmp *c, const exchange *x)
{
    const exchange_shadow *sh = exchange_shadow_get(x, EXCHANGE_SHADOW);
    if (!c || !sh || !x->response || !x->request)
        return;
    char method[16] = "", route[200] = "", err[128];
    size_t ml = strcspn(x->request, " \r\n");
    ml = ml < sizeof method ? ml : sizeof method - 1;
    memcpy(method, x->request, ml); /* (snprintf of "%.*s" cost more than the comparison) */
    method[ml] = '\0';
    if (route_normalise(x->target_uri ? x->target_uri : "/", route, sizeof route) < 0)
        snprintf(route, sizeof route, "{long}");
    int d = K_ERRORS;
    if (sh->response && same_answer(x->response, x->response_len, sh->response, sh->response_len)) {
        d = 0;
    } else if (sh->response) {
        decode_msg prim;
        if (decode_response(&prim, x->response, x->response_len, 0, method, err, sizeof err) != DECODE_OK)
            return; /* nothing to compare with */
        d = judge(c, x, &prim, sh, method);
        decode_msg_clear(&prim);
    }
    pthread_mutex_lock(&c->mu);
    cmp_route *r = route_of(c, method, route);
    if (d != K_ERRORS)
        r->n[K_COMPARED]++;
    if (d)
        r->n[d]++;
    pthread_mutex_unlock(&c->mu);
}

/* Label values are escaped as the text format asks (backslash, quote, newline). */
static int put_label(tdbuf *o, const char *v)
{
    int rc = 0;
    for (const char *p = v; !rc && *p; p++)
        rc = *p == '\\' ? tdbuf_puts(o, "\\\\") : *p == '"' ? tdbuf_puts(o, "\\\"")
             : *p == '\n' ? tdbuf_puts(o, "\\n") : tdbuf_append(o, p, 1);
    return rc;
}

int proxy_mirror_cmp_render(proxy_mirror_cmp *c, tdbuf *o)
{
    if (!c)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    size_t n = c->n_routes + (c->routes[PROXY_MIRROR_CMP_MAX_ROUTES].n[K_COMPARED] ||
                              c->routes[PROXY_MIRROR_CMP_MAX_ROUTES].n[K_ERRORS]);
    for (int k = 0; !rc && k < K__COUNT; k++) {
        rc = tdbuf_printf(o, "# HELP tapedeck_proxy_shadow_%s_total %s\n# TYPE tapedeck_proxy_shadow_%s_total counter\n",
                          k_name[k], k_help[k], k_name[k]);
        for (size_t i = 0; !rc && i < n; i++) {
            const cmp_route *r = &c->routes[i < c->n_routes ? i : PROXY_MIRROR_CMP_MAX_ROUTES];
            rc = tdbuf_printf(o, "tapedeck_proxy_shadow_%s_total{method=\"", k_name[k]);
            rc = rc ? rc : put_label(o, r->method);
            rc = rc ? rc : tdbuf_puts(o, "\",route=\"");
            rc = rc ? rc : put_label(o, r->route);
            rc = rc ? rc : tdbuf_printf(o, "\"} %llu\n", r->n[k]);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}
