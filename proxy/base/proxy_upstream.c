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
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "proxy_tls.h"

#include "proxy_io.h"
#include "tdtime.h"

proxy_upstream_target *proxy_upstream_target_new(const char *url, uint64_t gen, char *err, size_t errlen)
{
    proxy_upstream_target *t = NULL, *result = NULL;
    struct addrinfo *ai = NULL;
    int tls = strncasecmp(url, "https://", 8) == 0;
    if (!tls && strncasecmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "'%s': only http://HOST[:PORT] and https://HOST[:PORT] URLs are supported", url);
        goto out;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "'%s': out of memory", url);
        goto out;
    }
    t->refs = 1;
    t->gen = gen;
    t->tls = tls;
    snprintf(t->url, sizeof t->url, "%s", url);
    const char *h = url + (tls ? 8 : 7), *he;
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
    t->port = tls ? 443 : 80;
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

void proxy_upstream_target_ref(proxy_upstream_target *t)
{
    atomic_fetch_add((_Atomic int *)&t->refs, 1);
}

void proxy_upstream_target_unref(proxy_upstream_target *t)
{
    if (t && atomic_fetch_sub((_Atomic int *)&t->refs, 1) == 1)
        free(t);
}

int proxy_upstream_target_read_file(const char *path, char *url, size_t urlsz, char *err, size_t errlen)
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

struct proxy_upstream_holder {
    pthread_mutex_t mu;
    proxy_upstream_target *t;
    _Atomic uint64_t gen;
};

proxy_upstream_holder *proxy_upstream_holder_new(proxy_upstream_target *t)
{
    proxy_upstream_holder *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    h->t = t;
    atomic_store(&h->gen, t->gen);
    return h;
}

void proxy_upstream_holder_free(proxy_upstream_holder *h)
{
    if (!h)
        return;
    proxy_upstream_target_unref(h->t);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void proxy_upstream_holder_set(proxy_upstream_holder *h, proxy_upstream_target *t)
{
    pthread_mutex_lock(&h->mu);
    proxy_upstream_target *old = h->t;
    h->t = t;
    atomic_store(&h->gen, t->gen);
    pthread_mutex_unlock(&h->mu);
    proxy_upstream_target_unref(old);
}

proxy_upstream_target *proxy_upstream_holder_get(proxy_upstream_holder *h)
{
    pthread_mutex_lock(&h->mu);
    proxy_upstream_target *t = h->t;
    proxy_upstream_target_ref(t);
    pthread_mutex_unlock(&h->mu);
    return t;
}

uint64_t proxy_upstream_holder_gen(proxy_upstream_holder *h)
{
    return atomic_load_explicit(&h->gen, memory_order_acquire);
}

/* ---- pool ---- */
struct proxy_upstream_pool {
    struct event_base *base;
    proxy_tls *tls;
    int64_t idle_us;
    size_t max_idle, n_idle;
    proxy_upstream_conn *idle; /* most recently parked first */
};

proxy_upstream_pool *proxy_upstream_pool_new(struct event_base *base, int64_t idle_us, size_t max_idle)
{
    proxy_upstream_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->base = base;
    p->idle_us = idle_us;
    p->max_idle = max_idle;
    return p;
}

void proxy_upstream_pool_set_tls(proxy_upstream_pool *p, proxy_tls *tls)
{
    p->tls = tls;
}

const char *proxy_upstream_conn_error(const proxy_upstream_conn *u, int sock_err, char *buf, size_t bufsz)
{
    unsigned long e = u && u->bev && u->t->tls ? bufferevent_get_openssl_error(u->bev) : 0;
    if (e) {
        char s[200];
        ERR_error_string_n(e, s, sizeof s);
        /* the verify result says which check failed; the error queue only that one did */
        SSL *ssl = bufferevent_openssl_get_ssl(u->bev);
        long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
        snprintf(buf, bufsz, "TLS: %s%s%s", s, vr != X509_V_OK ? ": " : "",
                 vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
    } else {
        snprintf(buf, bufsz, "%s", sock_err ? evutil_socket_error_to_string(sock_err) : "connection error");
    }
    return buf;
}

void proxy_upstream_conn_free(proxy_upstream_conn *u)
{
    if (!u)
        return;
    proxy_sock_free(u->io); /* before the bufferevent closes the socket */
    if (u->bev)
        bufferevent_free(u->bev);
    proxy_upstream_target_unref(u->t);
    free(u);
}

static void pool_unlink(proxy_upstream_pool *p, proxy_upstream_conn *u)
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

void proxy_upstream_pool_free(proxy_upstream_pool *p)
{
    if (!p)
        return;
    while (p->idle) {
        proxy_upstream_conn *u = p->idle;
        pool_unlink(p, u);
        proxy_upstream_conn_free(u);
    }
    free(p);
}

/* An idle connection that becomes readable was closed by the upstream (or sent bytes nobody asked for,
 * which makes it unusable too); a timeout means it sat idle too long. */
static void pool_idle_read(struct bufferevent *bev, void *ctx)
{
    proxy_upstream_conn *u = ctx;
    pool_unlink(u->pool, u);
    proxy_upstream_conn_free(u);
}

static void pool_idle_event(struct bufferevent *bev, short what, void *ctx)
{
    proxy_upstream_conn *u = ctx;
    pool_unlink(u->pool, u);
    proxy_upstream_conn_free(u);
}

proxy_upstream_conn *proxy_upstream_pool_take(proxy_upstream_pool *p, proxy_upstream_target *t)
{
    proxy_upstream_conn *u = p->idle;
    while (u) {
        proxy_upstream_conn *next = u->next;
        if (u->t != t) {
            pool_unlink(p, u);
            proxy_upstream_conn_free(u);
        } else if (evbuffer_get_length(bufferevent_get_input(u->bev)) == 0) {
            pool_unlink(p, u);
            /* its idle timer is left armed: the caller's proxy_upstream_conn_attach, before the loop
             * runs again, moves it to the exchange's timeouts (clearing it first cost a timer removal
             * and a bufferevent_set_timeouts a request) */
            proxy_sock_setcb(u->io, NULL, NULL, NULL, NULL);
            return u;
        }
        u = next;
    }
    return NULL;
}

proxy_upstream_conn *proxy_upstream_pool_connect(proxy_upstream_pool *p, proxy_upstream_target *t,
                                                 int64_t connect_timeout_us, char *err, size_t errlen)
{
    proxy_upstream_conn *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->pool = p;
    if (t->tls) {
        /* TLS to the upstream: the bufferevent connects, then handshakes; CONNECTED comes after both */
        SSL *ssl = p->tls ? proxy_tls_client_ssl(p->tls, t->host) : NULL;
        if (ssl)
            u->bev = bufferevent_openssl_socket_new(p->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                    BEV_OPT_CLOSE_ON_FREE);
        if (!u->bev)
            SSL_free(ssl);
        else
            bufferevent_openssl_set_allow_dirty_shutdown(u->bev, 1); /* HTTP frames its own messages */
    } else {
        u->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!u->bev) {
        snprintf(err, errlen, "connect: cannot create a socket");
        free(u);
        return NULL;
    }
    proxy_upstream_target_ref(t);
    u->t = t;
    struct timeval tv = {(time_t)(connect_timeout_us / 1000000), (suseconds_t)(connect_timeout_us % 1000000)};
    bufferevent_set_timeouts(u->bev, NULL, &tv);
    if (bufferevent_socket_connect(u->bev, (struct sockaddr *)&t->addr, (int)t->addrlen) != 0) {
        int e = EVUTIL_SOCKET_ERROR();
        snprintf(err, errlen, "connect %s: %s", t->hostport, e ? strerror(e) : "failed");
        proxy_upstream_conn_free(u);
        return NULL;
    }
    u->io = proxy_sock_new(u->bev);
    if (!u->io) {
        snprintf(err, errlen, "connect %s: out of memory", t->hostport);
        proxy_upstream_conn_free(u);
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

void proxy_upstream_conn_attach(proxy_upstream_conn *u, bufferevent_data_cb rd, bufferevent_data_cb wr,
                                bufferevent_event_cb ev, void *ctx, size_t buffer_high,
                                int64_t upstream_timeout_us, int64_t connect_timeout_us)
{
    proxy_sock_setcb(u->io, rd, wr, ev, ctx);
    proxy_sock_read_limit(u->io, buffer_high);
    proxy_io_tune_bev(u->bev, buffer_high);
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

void proxy_upstream_pool_put(proxy_upstream_pool *p, proxy_upstream_conn *u,
                             const proxy_upstream_target *current)
{
    if (u->t != current || p->n_idle >= p->max_idle ||
        evbuffer_get_length(bufferevent_get_input(u->bev)) > 0) {
        proxy_upstream_conn_free(u);
        return;
    }
    u->reused = 1;
    u->pool = p;
    struct timeval tv = {(time_t)(p->idle_us / 1000000), (suseconds_t)(p->idle_us % 1000000)};
    /* an idle connection has nothing to write: its write timeout is left as the exchange set it, and
     * the next exchange's attach, which sets the same one, changes nothing there */
    proxy_sock_set_read_timeout(u->io, &tv);
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

void proxy_upstream_pool_retire(proxy_upstream_pool *p, const proxy_upstream_target *current)
{
    proxy_upstream_conn *u = p->idle;
    while (u) {
        proxy_upstream_conn *next = u->next;
        if (u->t != current) {
            pool_unlink(p, u);
            proxy_upstream_conn_free(u);
        }
        u = next;
    }
}

size_t proxy_upstream_pool_idle_count(const proxy_upstream_pool *p)
{
    return p->n_idle;
}
