/* load_prep: reading and preparing the requests of a load run. */
#include "load_prep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capset.h"
#include "httpmsg.h"
#include "httpmsg_facts.h"
#include "load_pool.h"
#include "route.h"

#define MAX_ROUTES 2000 /* beyond this every further route is reported as "(other)" */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 256;
    while (ncap < need)
        ncap *= 2;
    void *q = realloc(*p, ncap * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

/* Framing and connection headers are the engine's business; Host comes from --target (as in check),
 * unless --set-header gives one. */
static int overridden(const char *name, size_t len, const char *const *set, size_t nset)
{
    for (size_t i = 0; i < nset; i++) {
        const char *c = strchr(set[i], ':');
        if (c && (size_t)(c - set[i]) == len && !strncasecmp(set[i], name, len))
            return 1;
    }
    return 0;
}

static uint32_t route_index(load_set *s, size_t *cap, const char *method, const char *path)
{
    for (size_t i = 0; i < s->nroutes; i++)
        if (!strcmp(s->routes[i].method, method) && !strcmp(s->routes[i].path, path))
            return (uint32_t)i;
    if (s->nroutes >= MAX_ROUTES && strcmp(path, "(other)"))
        return route_index(s, cap, "*", "(other)");
    if (grow((void **)&s->routes, cap, s->nroutes + 1, sizeof *s->routes))
        return UINT32_MAX;
    load_route *r = &s->routes[s->nroutes];
    r->method = strdup(method);
    r->path = strdup(path);
    if (!r->method || !r->path) {
        free(r->method);
        free(r->path);
        return UINT32_MAX;
    }
    return (uint32_t)s->nroutes++;
}

/* Fills q from a parsed request, into the pool. 0 or -1 (out of memory, or a body over 4 GiB). */
static int prepare(load_set *ls, load_req *q, const httpmsg *m, const char *const *set, size_t nset)
{
    load_pool *pool = ls->pool;
    const httpmsg_head *h = &m->head;
    const char *lines[512];
    size_t n = 0;
    char buf[8192];
    if (m->body_len > UINT32_MAX)
        return -1;
    size_t mi = 0;
    while (mi < ls->nmethods && strcmp(ls->methods[mi], h->method))
        mi++;
    if (mi == ls->nmethods) {
        if (mi == LOAD_MAX_METHODS || !(ls->methods[mi] = load_pool_copy(pool, h->method, strlen(h->method))))
            return -1;
        ls->nmethods++;
    }
    q->method = (uint8_t)mi;
    /* target, NUL, body: one piece */
    size_t tl = strlen(h->url);
    char *t = load_pool_copy(pool, NULL, tl + 1 + m->body_len);
    if (!t)
        return -1;
    memcpy(t, h->url, tl + 1);
    if (m->body_len)
        memcpy(t + tl + 1, m->body, m->body_len);
    q->target = t;
    q->body_len = (uint32_t)m->body_len;
    for (size_t i = 0; i < h->n_headers && n < 512 - nset; i++) {
        const httpmsg_header *hd = &h->headers[i];
        if (httpmsg_header_is_replay_skipped(hd->name, hd->name_len) ||
            overridden(hd->name, hd->name_len, set, nset))
            continue;
        const char *line;
        if (hd->name_len + hd->value_len + 3 <= sizeof buf) {
            int k = snprintf(buf, sizeof buf, "%.*s: %.*s", (int)hd->name_len, hd->name, (int)hd->value_len, hd->value);
            line = load_pool_intern(pool, buf, (size_t)k);
        } else { /* a huge line: not worth hashing */
            char *l = load_pool_copy(pool, NULL, hd->name_len + hd->value_len + 2);
            if (l)
                sprintf(l, "%.*s: %.*s", (int)hd->name_len, hd->name, (int)hd->value_len, hd->value);
            line = l;
        }
        if (!line)
            return -1;
        lines[n++] = line;
    }
    for (size_t i = 0; i < nset; i++)
        if (!(lines[n++] = load_pool_intern(pool, set[i], strlen(set[i]))))
            return -1;
    /* the lines are interned: requests with the same header list have the same pointers, and share it */
    q->headers = load_pool_intern(pool, lines, n * sizeof *lines);
    q->n_headers = (uint32_t)n;
    if (!q->headers)
        return -1;
    return 0;
}

int load_prep_read(load_set *s, char *const *captures, size_t ncaptures, const char *const *set_headers,
                  size_t nset, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    size_t cap = 0, rcap = 0, tcap = 0, ccap = 0;
    exchange x;
    int have_x = 0, rc = -1, r;
    capset *cs = capset_open(captures, ncaptures, err, errlen);
    if (!cs)
        return -1;
    if (!(s->pool = load_pool_new())) {
        capset_free(cs);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while ((r = capset_next(cs, &x)) == 1) {
        have_x = 1;
        httpmsg m;
        char perr[160];
        if (httpmsg_parse(&m, HTTPMSG_REQUEST, x.request, x.request_len, NULL, perr, sizeof perr) != HTTPMSG_OK) {
            s->skipped++;
            goto next;
        }
        if (!strcmp(m.head.method, "CONNECT") || m.head.upgrade) {
            s->skipped++;
            httpmsg_clear(&m);
            goto next;
        }
        if (grow((void **)&s->reqs, &cap, s->n + 1, sizeof *s->reqs) ||
            grow((void **)&s->start_us, &tcap, s->n + 1, sizeof *s->start_us) ||
            grow((void **)&s->conn, &ccap, s->n + 1, sizeof *s->conn)) {
            httpmsg_clear(&m);
            snprintf(err, errlen, "out of memory reading the capture");
            goto out;
        }
        load_req *q = &s->reqs[s->n];
        memset(q, 0, sizeof *q);
        s->n++; /* counted now so load_prep_free releases a half-prepared request too */
        char rbuf[1024];
        if (route_normalise(m.head.url, rbuf, sizeof rbuf) < 0)
            snprintf(rbuf, sizeof rbuf, "(long path)");
        uint32_t ri = route_index(s, &rcap, m.head.method, rbuf);
        if (ri == UINT32_MAX || prepare(s, q, &m, set_headers, nset)) {
            httpmsg_clear(&m);
            snprintf(err, errlen, "out of memory reading the capture");
            goto out;
        }
        q->route = ri;
        s->start_us[s->n - 1] = x.req_start_us;
        s->conn[s->n - 1] = x.conn_id;
        httpmsg_clear(&m);
    next:
        exchange_clear(&x);
        have_x = 0;
    }
    if (r < 0) {
        snprintf(err, errlen, "%s", capset_error(cs));
        goto out;
    }
    if (s->n == 0) {
        snprintf(err, errlen, "%s: no replayable request in the capture", captures[0]);
        goto out;
    }
    rc = 0;
out:
    if (have_x)
        exchange_clear(&x);
    capset_free(cs);
    if (rc)
        load_prep_free(s);
    return rc;
}

void load_prep_free(load_set *s)
{
    load_pool_free(s->pool);
    for (size_t i = 0; i < s->nroutes; i++) {
        free(s->routes[i].method);
        free(s->routes[i].path);
    }
    free(s->reqs);
    free(s->start_us);
    free(s->conn);
    free(s->routes);
    memset(s, 0, sizeof *s);
}
