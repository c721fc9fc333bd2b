/* proxy_mirror: the shadow client. A request copy (proxy_mirror_req) is built by the client connection while
 * the request streams through, then queued here. Each shadow connection (mconn) carries one request at
 * a time and is kept alive between them; a deadline timer per connection covers connecting, sending and
 * the whole response, so a shadow that never answers costs a slot for PROXY_MIRROR_RESPONSE_US at most.
 * Responses are parsed only to know where they end (reuse), their bytes are dropped as they arrive. */
#include "proxy_mirror.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "proxy_io.h"
#include "proxy_log.h"
#include "proxy_mirror_int.h"
#include "tdtime.h"

/* One warning per minute for the whole process, whichever worker sees the failure. */
static _Atomic int64_t pmirror_last_warn = -1;
#define PMIRROR_WARN_EVERY_US (60ll * 1000000)

static void mirror_warn(const mpool *pl, const char *what)
{
    int64_t now = tdtime_mono_us(), last = atomic_load(&pmirror_last_warn);
    if (last >= 0 && now - last < PMIRROR_WARN_EVERY_US)
        return;
    if (!atomic_compare_exchange_strong(&pmirror_last_warn, &last, now))
        return;
    proxy_log(PROXY_LOG_WARN,
              "mirror: shadow %s: %s; the primary is not affected, failures are counted in "
              "tapedeck_proxy_mirror_failed_total (next warning in a minute at the earliest)",
              pl->shadow->hostport, what);
}

/* ---- shadow connections ---- */

static void mc_free(mconn *mc)
{
    mpool *pl = mc->pool;
    if (mc->req)
        proxy_mirror_req_free(mc->req);
    if (mc->prev)
        mc->prev->next = mc->next;
    else
        pl->conns = mc->next;
    if (mc->next)
        mc->next->prev = mc->prev;
    pl->n_conns--;
    httpmsg_parser_free(mc->rs);
    tdbuf_free(&mc->kept);
    if (mc->timer)
        event_free(mc->timer);
    if (mc->bev)
        bufferevent_free(mc->bev);
    free(mc);
}

static void pump(mpool *pl);

/* The request in flight on mc got no complete response: count it, close mc, move the queue on. */
static void mc_fail(mconn *mc, proxy_metrics_uperr_kind kind, const char *what)
{
    mpool *pl = mc->pool;
    proxy_metrics_mirror_failed(pl->mi->m, kind);
    if (kind == PROXY_METRICS_UPERR_CONNECT || kind == PROXY_METRICS_UPERR_CONNECT_TIMEOUT) {
        pl->down_until = tdtime_mono_us() + PROXY_MIRROR_BACKOFF_US;
        mirror_warn(pl, what);
    } else if (kind == PROXY_METRICS_UPERR_TIMEOUT) {
        mirror_warn(pl, what);
    }
    proxy_log(PROXY_LOG_DEBUG, "mirror: %s %s: %s", mc->req ? mc->req->method : "-", pl->shadow->hostport,
              what);
    proxy_mirror_join_answer(mc, mc->req, what);
    mc_free(mc);
    pump(pl);
}

static int rs_on_head(void *ctx, const httpmsg_head *h)
{
    mconn *mc = ctx;
    mc->status = h->status;
    mc->interim = h->status < 200;
    mc->keep_alive = h->keep_alive;
    mc->head_len = h->head_len;
    return 0;
}

static int rs_on_complete(void *ctx)
{
    mconn *mc = ctx;
    mc->done = 1;
    return 1; /* pause after every message, so interim ones are told apart */
}

static const httpmsg_callbacks mc_callbacks = {rs_on_head, NULL, rs_on_complete};

/* Puts r on mc (connected or connecting) and arms the deadline. Returns 0, or -1 out of memory (r is
 * then still the caller's). */
static int mc_send(mconn *mc, proxy_mirror_req *r)
{
    httpmsg_parser_free(mc->rs);
    httpmsg_limits lim = {0};
    mc->rs = httpmsg_parser_new(HTTPMSG_RESPONSE, &mc_callbacks, mc, &lim);
    if (!mc->rs)
        return -1;
    httpmsg_parser_set_request_method(mc->rs, r->method);
    mc->req = r;
    mc->status = mc->interim = mc->done = 0;
    proxy_mirror_join_keep_reset(mc);
    mc->first_us = 0;
    mc->sent_us = tdtime_now_us();
    if (mc->state == MC_IDLE)
        mc->state = MC_BUSY;
    /* move, don't copy (straight into the socket when the connection is up and idle, saving a loop
     * turn); the bytes stay accounted in r->held until the exchange ends */
    proxy_io_send(mc->bev, mc->state == MC_BUSY, r->buf, evbuffer_get_length(r->buf));
    struct timeval tv =
        tdtime_tv(mc->state == MC_CONNECTING ? PROXY_MIRROR_CONNECT_US : PROXY_MIRROR_RESPONSE_US);
    evtimer_add(mc->timer, &tv);
    bufferevent_enable(mc->bev, EV_READ | EV_WRITE);
    return 0;
}

/* The response to mc's request ended: next request, idle, or close. */
static void mc_done(mconn *mc)
{
    mpool *pl = mc->pool;
    proxy_mirror *mi = pl->mi;
    proxy_mirror_req *r = mc->req;
    proxy_metrics_mirror_response(mi->m, mc->status);
    proxy_mirror_join_answer(mc, r, NULL);
    mc->req = NULL;
    /* an early answer (before the whole request went out) leaves the connection in an unknown state */
    int reusable = mc->keep_alive && r->keep_alive && mc->status != 101 &&
                   evbuffer_get_length(bufferevent_get_input(mc->bev)) == 0 &&
                   evbuffer_get_length(bufferevent_get_output(mc->bev)) == 0;
    proxy_mirror_req_free(r);
    if (!reusable) {
        mc_free(mc);
        pump(pl);
        return;
    }
    mc->state = MC_IDLE;
    proxy_mirror_req *next = pl->pending;
    if (next) {
        pl->pending = next->next;
        if (!pl->pending)
            pl->pending_tail = NULL;
        next->next = NULL;
        if (mc_send(mc, next) != 0) {
            proxy_metrics_mirror_failed(mi->m, PROXY_METRICS_UPERR_RESET);
            proxy_mirror_req_free(next);
            mc_free(mc);
            pump(pl);
        }
        return;
    }
    httpmsg_parser_free(mc->rs); /* idle connections hold no parser */
    mc->rs = NULL;
    struct timeval tv = tdtime_tv(PROXY_MIRROR_IDLE_US);
    evtimer_add(mc->timer, &tv);
}

static void mc_read(struct bufferevent *bev, void *ctx)
{
    mconn *mc = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (mc->state == MC_IDLE) { /* the shadow closed it, or sent bytes nobody asked for */
        mc_free(mc);
        return;
    }
    while (evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        mc->done = 0;
        ssize_t n = httpmsg_parser_execute(mc->rs, v.iov_base, v.iov_len);
        if (n < 0) {
            mc_fail(mc, PROXY_METRICS_UPERR_BAD_RESPONSE, "bad response");
            return;
        }
        /* --mirror-record; otherwise only its framing counts */
        proxy_mirror_join_keep(mc, v.iov_base, (size_t)n);
        evbuffer_drain(in, (size_t)n);
        if (mc->done && mc->interim && mc->status != 101) {
            proxy_mirror_join_keep_reset(mc);
            httpmsg_parser_resume(mc->rs);
            continue;
        }
        if (mc->done) {
            mc_done(mc);
            return;
        }
        if (n == 0)
            break;
    }
}

static void mc_event(struct bufferevent *bev, short what, void *ctx)
{
    mconn *mc = ctx;
    char msg[256];
    if (what & BEV_EVENT_CONNECTED) {
        mc->state = MC_BUSY;
        evutil_socket_t fd = bufferevent_getfd(bev);
        int one = 1;
        if (fd >= 0)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = tdtime_tv(PROXY_MIRROR_RESPONSE_US);
        evtimer_add(mc->timer, &tv);
        return;
    }
    if (mc->state == MC_IDLE) {
        mc_free(mc);
        return;
    }
    int e = EVUTIL_SOCKET_ERROR();
    if (mc->state == MC_CONNECTING) {
        snprintf(msg, sizeof msg, "connect: %s", e ? evutil_socket_error_to_string(e) : "failed");
        mc_fail(mc, PROXY_METRICS_UPERR_CONNECT, msg);
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && mc->rs) {
        mc->done = 0;
        if (httpmsg_parser_eof(mc->rs) == 0 && mc->done) { /* a response delimited by close */
            mc->keep_alive = 0;
            mc_done(mc);
            return;
        }
    }
    mc_fail(mc, PROXY_METRICS_UPERR_RESET, "closed the connection before the response ended");
}

static void mc_timeout(evutil_socket_t fd, short what, void *ctx)
{
    mconn *mc = ctx;
    if (mc->state == MC_IDLE) {
        mc_free(mc);
        return;
    }
    if (mc->state == MC_CONNECTING) {
        mc_fail(mc, PROXY_METRICS_UPERR_CONNECT_TIMEOUT, "connect timed out");
        return;
    }
    mc_fail(mc, PROXY_METRICS_UPERR_TIMEOUT, "no complete response in time");
}

/* Opens a connection for r. On failure r is counted and freed and the backoff starts; returns -1. */
static int mc_open(mpool *pl, proxy_mirror_req *r)
{
    proxy_mirror *mi = pl->mi;
    mconn *mc = calloc(1, sizeof *mc);
    if (!mc) {
        proxy_metrics_mirror_failed(mi->m, PROXY_METRICS_UPERR_CONNECT);
        proxy_mirror_req_free(r);
        return -1;
    }
    mc->pool = pl;
    mc->state = MC_CONNECTING;
    tdbuf_init(&mc->kept, 0);
    mc->next = pl->conns;
    if (pl->conns)
        pl->conns->prev = mc;
    pl->conns = mc;
    pl->n_conns++;
    mc->timer = evtimer_new(mi->base, mc_timeout, mc);
    mc->bev = bufferevent_socket_new(mi->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!mc->timer || !mc->bev) {
        proxy_metrics_mirror_failed(mi->m, PROXY_METRICS_UPERR_CONNECT);
        proxy_mirror_req_free(r);
        mc_free(mc);
        return -1;
    }
    proxy_metrics_mirror_connect(mi->m);
    bufferevent_setcb(mc->bev, mc_read, NULL, mc_event, mc);
    /* answers are read in large gulps: a 64 KiB answer in one or two reads, not sixteen */
    bufferevent_set_max_single_read(mc->bev, PROXY_MIRROR_READ_MAX);
    if (bufferevent_socket_connect(mc->bev, (struct sockaddr *)&pl->shadow->addr, (int)pl->shadow->addrlen) !=
        0) {
        int e = EVUTIL_SOCKET_ERROR();
        char msg[256];
        snprintf(msg, sizeof msg, "connect: %s", e ? evutil_socket_error_to_string(e) : "failed");
        proxy_metrics_mirror_failed(mi->m, PROXY_METRICS_UPERR_CONNECT);
        pl->down_until = tdtime_mono_us() + PROXY_MIRROR_BACKOFF_US;
        mirror_warn(pl, msg);
        proxy_mirror_join_fail(r, msg);
        proxy_mirror_req_free(r);
        mc_free(mc);
        return -1;
    }
    if (mc_send(mc, r) != 0) {
        proxy_metrics_mirror_failed(mi->m, PROXY_METRICS_UPERR_CONNECT);
        proxy_mirror_req_free(r);
        mc_free(mc);
        return -1;
    }
    return 0;
}

/* Queued requests get connections while there is room. While the shadow is backing off they fail at
 * once (counted): holding them would only hold memory. Iterative, never re-entered from below. */
static void pump(mpool *pl)
{
    proxy_mirror *mi = pl->mi;
    while (pl->pending) {
        proxy_mirror_req *r = pl->pending;
        if (pl->down_until <= tdtime_mono_us() && pl->n_conns >= PROXY_MIRROR_MAX_CONNS)
            return;
        pl->pending = r->next;
        if (!pl->pending)
            pl->pending_tail = NULL;
        r->next = NULL;
        if (pl->down_until > tdtime_mono_us()) {
            proxy_metrics_mirror_failed(mi->m, PROXY_METRICS_UPERR_CONNECT);
            proxy_mirror_join_fail(r, "not sent: the shadow refused a connection just before");
            proxy_mirror_req_free(r);
            continue;
        }
        mc_open(pl, r);
    }
}

void proxy_mirror_pool_submit(proxy_mirror_req *r)
{
    mpool *pl = r->pool;
    proxy_mirror *mi = pl->mi;
    for (mconn *mc = pl->conns; mc; mc = mc->next) {
        if (mc->state == MC_IDLE) {
            if (mc_send(mc, r) != 0) {
                proxy_metrics_mirror_failed(mi->m, PROXY_METRICS_UPERR_RESET);
                proxy_mirror_req_free(r);
            }
            return;
        }
    }
    if (pl->n_conns < PROXY_MIRROR_MAX_CONNS && !pl->pending) {
        mc_open(pl, r);
        return;
    }
    if (pl->pending_tail)
        pl->pending_tail->next = r;
    else
        pl->pending = r;
    pl->pending_tail = r;
}

void proxy_mirror_submit(proxy_mirror_req *r)
{
    proxy_mirror *mi = r->mi;
    proxy_metrics_mirror_sent(mi->m);
    /* --mirror-baseline: the same bytes to the second shadow (a copy of its own, the same join) */
    proxy_mirror_req *b = mi->n_pools > 1 ? proxy_mirror_req_clone(r, &mi->pools[1]) : NULL;
    proxy_mirror_pool_submit(r);
    if (b)
        proxy_mirror_pool_submit(b);
}

/* ---- lifetime ---- */

proxy_mirror *proxy_mirror_new(struct event_base *base, proxy_upstream_target *shadow,
                               proxy_upstream_target *baseline, const proxy_config *cfg, proxy_metrics *m,
                               proxy_record *rec, uint64_t seed)
{
    proxy_mirror *mi = calloc(1, sizeof *mi);
    if (!mi)
        return NULL;
    mi->base = base;
    mi->m = m;
    mi->percent = cfg->mirror_pct;
    mi->writes = cfg->mirror_writes;
    mi->rec = cfg->mirror_record ? rec : NULL;
    mi->max_body = cfg->max_body;
    mi->rnd = seed ? seed : 0x9E3779B97F4A7C15ull;
    proxy_upstream_target *t[EXCHANGE_N_SHADOW] = {shadow, baseline};
    for (int i = 0; i < EXCHANGE_N_SHADOW && t[i]; i++) {
        proxy_upstream_target_ref(t[i]);
        mi->pools[i].mi = mi;
        mi->pools[i].role = i;
        mi->pools[i].shadow = t[i];
        mi->n_pools = i + 1;
    }
    return mi;
}

void proxy_mirror_free(proxy_mirror *mi)
{
    if (!mi)
        return;
    for (int i = 0; i < mi->n_pools; i++) {
        mpool *pl = &mi->pools[i];
        while (pl->conns)
            mc_free(pl->conns);
        while (pl->pending) {
            proxy_mirror_req *r = pl->pending;
            pl->pending = r->next;
            proxy_mirror_req_free(r);
        }
    }
    for (int i = 0; i < mi->n_pools; i++)
        proxy_upstream_target_unref(mi->pools[i].shadow);
    free(mi);
}
