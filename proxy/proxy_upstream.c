/* proxy_upstream: targets, the cut-over holder and the per-worker idle pool. */
#include "proxy_upstream.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "proxy_io.h"
#include "tdtime.h"

up_target *up_target_new(const char *url, uint64_t gen, char *err, size_t errlen)
{
    up_target *t = NULL, *result = NULL;
    struct addrinfo *ai = NULL;
    if (strncasecmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "'%s': only http://HOST[:PORT] URLs are supported", url);
        goto out;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "'%s': out of memory", url);
        goto out;
    }
    t->refs = 1;
    t->gen = gen;
    snprintf(t->url, sizeof t->url, "%s", url);
    const char *h = url + 7, *he;
    const char *slash = strchr(h, '/');
    const char *end = slash ? slash : h + strlen(h);
    if (slash && slash[1] != '\0') {
        snprintf(err, errlen, "'%s': a path is not supported (requests keep their own)", url);
        goto out;
    }
    const char *portp = NULL;
    if (*h == '[') {
        he = memchr(h, ']', (size_t)(end - h));
        if (!he) {
            snprintf(err, errlen, "'%s': bad IPv6 address", url);
            goto out;
        }
        if (he + 1 < end && he[1] == ':')
            portp = he + 2;
        h++;
    } else {
        he = memchr(h, ':', (size_t)(end - h));
        if (he)
            portp = he + 1;
        else
            he = end;
    }
    if (he == h || (size_t)(he - h) >= sizeof t->host) {
        snprintf(err, errlen, "'%s': no host", url);
        goto out;
    }
    memcpy(t->host, h, (size_t)(he - h));
    t->port = 80;
    if (portp) {
        char pb[8];
        size_t pl = (size_t)(end - portp);
        if (pl == 0 || pl >= sizeof pb) {
            snprintf(err, errlen, "'%s': bad port", url);
            goto out;
        }
        memcpy(pb, portp, pl);
        pb[pl] = '\0';
        char *pe = NULL;
        long v = strtol(pb, &pe, 10);
        if (*pe || v < 1 || v > 65535) {
            snprintf(err, errlen, "'%s': bad port", url);
            goto out;
        }
        t->port = (int)v;
    }
    snprintf(t->hostport, sizeof t->hostport, strchr(t->host, ':') ? "[%s]:%d" : "%s:%d", t->host, t->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    char port[8];
    snprintf(port, sizeof port, "%d", t->port);
    int rc = getaddrinfo(t->host, port, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, errlen, "'%s': cannot resolve %s: %s", url, t->host, gai_strerror(rc));
        goto out;
    }
    memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
    t->addrlen = ai->ai_addrlen;
    result = t;
    t = NULL;
out:
    if (ai)
        freeaddrinfo(ai);
    free(t);
    return result;
}

void up_target_ref(up_target *t)
{
    atomic_fetch_add((_Atomic int *)&t->refs, 1);
}

void up_target_unref(up_target *t)
{
    if (t && atomic_fetch_sub((_Atomic int *)&t->refs, 1) == 1)
        free(t);
}

int up_target_read_file(const char *path, char *url, size_t urlsz, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "--upstream-file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1200];
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        char *s = line, *e;
        while (isspace((unsigned char)*s))
            s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (!*s || *s == '#')
            continue;
        if ((size_t)(e - s) >= urlsz) {
            snprintf(err, errlen, "--upstream-file %s: URL too long", path);
            break;
        }
        memcpy(url, s, (size_t)(e - s) + 1);
        rc = 0;
        break;
    }
    if (rc != 0 && !err[0])
        snprintf(err, errlen, "--upstream-file %s: no URL in the file", path);
    fclose(f);
    return rc;
}

struct up_holder {
    pthread_mutex_t mu;
    up_target *t;
    _Atomic uint64_t gen;
};

up_holder *up_holder_new(up_target *t)
{
    up_holder *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    h->t = t;
    atomic_store(&h->gen, t->gen);
    return h;
}

void up_holder_free(up_holder *h)
{
    if (!h)
        return;
    up_target_unref(h->t);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void up_holder_set(up_holder *h, up_target *t)
{
    pthread_mutex_lock(&h->mu);
    up_target *old = h->t;
    h->t = t;
    atomic_store(&h->gen, t->gen);
    pthread_mutex_unlock(&h->mu);
    up_target_unref(old);
}

up_target *up_holder_get(up_holder *h)
{
    pthread_mutex_lock(&h->mu);
    up_target *t = h->t;
    up_target_ref(t);
    pthread_mutex_unlock(&h->mu);
    return t;
}

uint64_t up_holder_gen(up_holder *h)
{
    return atomic_load_explicit(&h->gen, memory_order_acquire);
}

/* ---- pool ---- */
struct up_pool {
    struct event_base *base;
    int64_t idle_us;
    size_t max_idle, n_idle;
    upconn *idle; /* most recently parked first */
};

up_pool *up_pool_new(struct event_base *base, int64_t idle_us, size_t max_idle)
{
    up_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->base = base;
    p->idle_us = idle_us;
    p->max_idle = max_idle;
    return p;
}

void upconn_free(upconn *u)
{
    if (!u)
        return;
    proxy_sock_free(u->io); /* before the bufferevent closes the socket */
    if (u->bev)
        bufferevent_free(u->bev);
    up_target_unref(u->t);
    free(u);
}

static void pool_unlink(up_pool *p, upconn *u)
{
    if (u->prev)
        u->prev->next = u->next;
    else
        p->idle = u->next;
    if (u->next)
        u->next->prev = u->prev;
    u->prev = u->next = NULL;
    p->n_idle--;
}

void up_pool_free(up_pool *p)
{
    if (!p)
        return;
    while (p->idle) {
        upconn *u = p->idle;
        pool_unlink(p, u);
        upconn_free(u);
    }
    free(p);
}

/* An idle connection that becomes readable was closed by the upstream (or sent bytes nobody asked for,
 * which makes it unusable too); a timeout means it sat idle too long. */
static void pool_idle_read(struct bufferevent *bev, void *ctx)
{
    upconn *u = ctx;
    pool_unlink(u->pool, u);
    upconn_free(u);
}

static void pool_idle_event(struct bufferevent *bev, short what, void *ctx)
{
    upconn *u = ctx;
    pool_unlink(u->pool, u);
    upconn_free(u);
}

upconn *up_pool_take(up_pool *p, up_target *t)
{
    upconn *u = p->idle;
    while (u) {
        upconn *next = u->next;
        if (u->t != t) {
            pool_unlink(p, u);
            upconn_free(u);
        } else if (evbuffer_get_length(bufferevent_get_input(u->bev)) == 0) {
            pool_unlink(p, u);
            proxy_sock_setcb(u->io, NULL, NULL, NULL, NULL);
            proxy_sock_set_timeouts(u->io, NULL, NULL);
            return u;
        }
        u = next;
    }
    return NULL;
}

upconn *up_pool_connect(up_pool *p, up_target *t, int64_t connect_timeout_us, char *err, size_t errlen)
{
    upconn *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->pool = p;
    u->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!u->bev) {
        snprintf(err, errlen, "connect: cannot create a socket");
        free(u);
        return NULL;
    }
    up_target_ref(t);
    u->t = t;
    struct timeval tv = {(time_t)(connect_timeout_us / 1000000), (suseconds_t)(connect_timeout_us % 1000000)};
    bufferevent_set_timeouts(u->bev, NULL, &tv);
    if (bufferevent_socket_connect(u->bev, (struct sockaddr *)&t->addr, (int)t->addrlen) != 0) {
        int e = EVUTIL_SOCKET_ERROR();
        snprintf(err, errlen, "connect %s: %s", t->hostport, e ? strerror(e) : "failed");
        upconn_free(u);
        return NULL;
    }
    u->io = proxy_sock_new(u->bev);
    if (!u->io) {
        snprintf(err, errlen, "connect %s: out of memory", t->hostport);
        upconn_free(u);
        return NULL;
    }
    proxy_sock_read(u->io, 1); /* an upstream connection is always read: EOF, or the response */
    evutil_socket_t fd = bufferevent_getfd(u->bev);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return u;
}

void upconn_attach(upconn *u, bufferevent_data_cb rd, bufferevent_data_cb wr, bufferevent_event_cb ev, void *ctx,
                   size_t buffer_high, int64_t upstream_timeout_us, int64_t connect_timeout_us)
{
    proxy_sock_setcb(u->io, rd, wr, ev, ctx);
    proxy_sock_read_limit(u->io, buffer_high);
    proxy_tune_bev(u->bev, buffer_high);
    bufferevent_setwatermark(u->bev, EV_WRITE, buffer_high / 2, 0);
    struct timeval rt = tdtime_tv(upstream_timeout_us);
    struct timeval wt = tdtime_tv(u->reused ? upstream_timeout_us : connect_timeout_us);
    proxy_sock_set_timeouts(u->io, &rt, &wt);
    proxy_sock_read(u->io, 1);
    /* Enabling writing on a bufferevent adds its write event even when nothing is queued: one
     * epoll_ctl to add it, one more when the empty output removes it again. A pooled connection keeps
     * writing enabled, so only a new connection needs this. */
    if (!(bufferevent_get_enabled(u->bev) & EV_WRITE))
        bufferevent_enable(u->bev, EV_WRITE);
}

void up_pool_put(up_pool *p, upconn *u, const up_target *current)
{
    if (u->t != current || p->n_idle >= p->max_idle ||
        evbuffer_get_length(bufferevent_get_input(u->bev)) > 0) {
        upconn_free(u);
        return;
    }
    u->reused = 1;
    u->pool = p;
    struct timeval tv = {(time_t)(p->idle_us / 1000000), (suseconds_t)(p->idle_us % 1000000)};
    proxy_sock_set_timeouts(u->io, &tv, NULL);
    proxy_sock_read_limit(u->io, 0);
    proxy_sock_setcb(u->io, pool_idle_read, NULL, pool_idle_event, u);
    proxy_sock_read(u->io, 1);
    u->prev = NULL;
    u->next = p->idle;
    if (p->idle)
        p->idle->prev = u;
    p->idle = u;
    p->n_idle++;
}

void up_pool_retire(up_pool *p, const up_target *current)
{
    upconn *u = p->idle;
    while (u) {
        upconn *next = u->next;
        if (u->t != current) {
            pool_unlink(p, u);
            upconn_free(u);
        }
        u = next;
    }
}

size_t up_pool_idle_count(const up_pool *p)
{
    return p->n_idle;
}
