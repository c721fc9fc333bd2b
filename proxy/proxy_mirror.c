/* proxy_mirror: the shadow client. A request copy (pmirror_req) is built by the client connection while
 * the request streams through, then queued here. Each shadow connection (mconn) carries one request at
 * a time and is kept alive between them; a deadline timer per connection covers connecting, sending and
 * the whole response, so a shadow that never answers costs a slot for PMIRROR_RESPONSE_US at most.
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

static void mirror_warn(const pmirror *mi, const char *what)
{
    int64_t now = tdtime_mono_us(), last = atomic_load(&pmirror_last_warn);
    if (last >= 0 && now - last < PMIRROR_WARN_EVERY_US)
        return;
    if (!atomic_compare_exchange_strong(&pmirror_last_warn, &last, now))
        return;
    plog(PLOG_WARN,
         "mirror: shadow %s: %s; the primary is not affected, failures are counted in "
         "tapedeck_proxy_mirror_failed_total (next warning in a minute at the earliest)",
         mi->shadow->hostport, what);
}

/* ---- shadow connections ---- */

static void mc_free(mconn *mc)
{
    pmirror *mi = mc->mi;
    if (mc->req)
        pmirror_req_free(mc->req);
    if (mc->prev)
        mc->prev->next = mc->next;
    else
        mi->conns = mc->next;
    if (mc->next)
        mc->next->prev = mc->prev;
    mi->n_conns--;
    httpmsg_parser_free(mc->rs);
    if (mc->timer)
        event_free(mc->timer);
    if (mc->bev)
        bufferevent_free(mc->bev);
    free(mc);
}

static void pump(pmirror *mi);

/* The request in flight on mc got no complete response: count it, close mc, move the queue on. */
static void mc_fail(mconn *mc, pm_uperr_kind kind, const char *what)
{
    pmirror *mi = mc->mi;
    pm_mirror_failed(mi->m, kind);
    if (kind == PM_UPERR_CONNECT || kind == PM_UPERR_CONNECT_TIMEOUT) {
        mi->down_until = tdtime_mono_us() + PMIRROR_BACKOFF_US;
        mirror_warn(mi, what);
    } else if (kind == PM_UPERR_TIMEOUT) {
        mirror_warn(mi, what);
    }
    plog(PLOG_DEBUG, "mirror: %s %s: %s", mc->req ? mc->req->method : "-", mi->shadow->hostport, what);
    mc_free(mc);
    pump(mi);
}

static int rs_on_head(void *ctx, const httpmsg_head *h)
{
    mconn *mc = ctx;
    mc->status = h->status;
    mc->interim = h->status < 200;
    mc->keep_alive = h->keep_alive;
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
static int mc_send(mconn *mc, pmirror_req *r)
{
    httpmsg_parser_free(mc->rs);
    httpmsg_limits lim = {0};
    mc->rs = httpmsg_parser_new(HTTPMSG_RESPONSE, &mc_callbacks, mc, &lim);
    if (!mc->rs)
        return -1;
    httpmsg_parser_set_request_method(mc->rs, r->method);
    mc->req = r;
    mc->status = mc->interim = mc->done = 0;
    if (mc->state == MC_IDLE)
        mc->state = MC_BUSY;
    /* move, don't copy (straight into the socket when the connection is up and idle, saving a loop
     * turn); the bytes stay accounted in r->held until the exchange ends */
    proxy_send(mc->bev, mc->state == MC_BUSY, r->buf, evbuffer_get_length(r->buf));
    struct timeval tv = tdtime_tv(mc->state == MC_CONNECTING ? PMIRROR_CONNECT_US : PMIRROR_RESPONSE_US);
    evtimer_add(mc->timer, &tv);
    bufferevent_enable(mc->bev, EV_READ | EV_WRITE);
    return 0;
}

/* The response to mc's request ended: next request, idle, or close. */
static void mc_done(mconn *mc)
{
    pmirror *mi = mc->mi;
    pmirror_req *r = mc->req;
    mc->req = NULL;
    pm_mirror_response(mi->m, mc->status);
    /* an early answer (before the whole request went out) leaves the connection in an unknown state */
    int reusable = mc->keep_alive && r->keep_alive && mc->status != 101 &&
                   evbuffer_get_length(bufferevent_get_input(mc->bev)) == 0 &&
                   evbuffer_get_length(bufferevent_get_output(mc->bev)) == 0;
    pmirror_req_free(r);
    if (!reusable) {
        mc_free(mc);
        pump(mi);
        return;
    }
    mc->state = MC_IDLE;
    pmirror_req *next = mi->pending;
    if (next) {
        mi->pending = next->next;
        if (!mi->pending)
            mi->pending_tail = NULL;
        next->next = NULL;
        if (mc_send(mc, next) != 0) {
            pm_mirror_failed(mi->m, PM_UPERR_RESET);
            pmirror_req_free(next);
            mc_free(mc);
            pump(mi);
        }
        return;
    }
    httpmsg_parser_free(mc->rs); /* idle connections hold no parser */
    mc->rs = NULL;
    struct timeval tv = tdtime_tv(PMIRROR_IDLE_US);
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
            mc_fail(mc, PM_UPERR_BAD_RESPONSE, "bad response");
            return;
        }
        evbuffer_drain(in, (size_t)n); /* the shadow's answer is of no use beyond its framing */
        if (mc->done && mc->interim && mc->status != 101) {
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
        struct timeval tv = tdtime_tv(PMIRROR_RESPONSE_US);
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
        mc_fail(mc, PM_UPERR_CONNECT, msg);
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
    mc_fail(mc, PM_UPERR_RESET, "closed the connection before the response ended");
}

static void mc_timeout(evutil_socket_t fd, short what, void *ctx)
{
    mconn *mc = ctx;
    if (mc->state == MC_IDLE) {
        mc_free(mc);
        return;
    }
    if (mc->state == MC_CONNECTING) {
        mc_fail(mc, PM_UPERR_CONNECT_TIMEOUT, "connect timed out");
        return;
    }
    mc_fail(mc, PM_UPERR_TIMEOUT, "no complete response in time");
}

/* Opens a connection for r. On failure r is counted and freed and the backoff starts; returns -1. */
static int mc_open(pmirror *mi, pmirror_req *r)
{
    mconn *mc = calloc(1, sizeof *mc);
    if (!mc) {
        pm_mirror_failed(mi->m, PM_UPERR_CONNECT);
        pmirror_req_free(r);
        return -1;
    }
    mc->mi = mi;
    mc->state = MC_CONNECTING;
    mc->next = mi->conns;
    if (mi->conns)
        mi->conns->prev = mc;
    mi->conns = mc;
    mi->n_conns++;
    mc->timer = evtimer_new(mi->base, mc_timeout, mc);
    mc->bev = bufferevent_socket_new(mi->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!mc->timer || !mc->bev) {
        pm_mirror_failed(mi->m, PM_UPERR_CONNECT);
        pmirror_req_free(r);
        mc_free(mc);
        return -1;
    }
    pm_mirror_connect(mi->m);
    bufferevent_setcb(mc->bev, mc_read, NULL, mc_event, mc);
    if (bufferevent_socket_connect(mc->bev, (struct sockaddr *)&mi->shadow->addr, (int)mi->shadow->addrlen) !=
        0) {
        int e = EVUTIL_SOCKET_ERROR();
        char msg[256];
        snprintf(msg, sizeof msg, "connect: %s", e ? evutil_socket_error_to_string(e) : "failed");
        pm_mirror_failed(mi->m, PM_UPERR_CONNECT);
        mi->down_until = tdtime_mono_us() + PMIRROR_BACKOFF_US;
        mirror_warn(mi, msg);
        pmirror_req_free(r);
        mc_free(mc);
        return -1;
    }
    if (mc_send(mc, r) != 0) {
        pm_mirror_failed(mi->m, PM_UPERR_CONNECT);
        pmirror_req_free(r);
        mc_free(mc);
        return -1;
    }
    return 0;
}

/* Queued requests get connections while there is room. While the shadow is backing off they fail at
 * once (counted): holding them would only hold memory. Iterative, never re-entered from below. */
static void pump(pmirror *mi)
{
    while (mi->pending) {
        pmirror_req *r = mi->pending;
        if (mi->down_until <= tdtime_mono_us() && mi->n_conns >= PMIRROR_MAX_CONNS)
            return;
        mi->pending = r->next;
        if (!mi->pending)
            mi->pending_tail = NULL;
        r->next = NULL;
        if (mi->down_until > tdtime_mono_us()) {
            pm_mirror_failed(mi->m, PM_UPERR_CONNECT);
            pmirror_req_free(r);
            continue;
        }
        mc_open(mi, r);
    }
}

void pmirror_req_submit(pmirror_req *r)
{
    pmirror *mi = r->mi;
    pm_mirror_sent(mi->m);
    for (mconn *mc = mi->conns; mc; mc = mc->next) {
        if (mc->state == MC_IDLE) {
            if (mc_send(mc, r) != 0) {
                pm_mirror_failed(mi->m, PM_UPERR_RESET);
                pmirror_req_free(r);
            }
            return;
        }
    }
    if (mi->n_conns < PMIRROR_MAX_CONNS && !mi->pending) {
        mc_open(mi, r);
        return;
    }
    if (mi->pending_tail)
        mi->pending_tail->next = r;
    else
        mi->pending = r;
    mi->pending_tail = r;
}

/* ---- lifetime ---- */

pmirror *pmirror_new(struct event_base *base, up_target *shadow, double percent, int writes,
                     proxy_metrics *m, uint64_t seed)
{
    pmirror *mi = calloc(1, sizeof *mi);
    if (!mi)
        return NULL;
    mi->base = base;
    up_target_ref(shadow);
    mi->shadow = shadow;
    mi->m = m;
    mi->percent = percent;
    mi->writes = writes;
    mi->rnd = seed ? seed : 0x9E3779B97F4A7C15ull;
    return mi;
}

void pmirror_free(pmirror *mi)
{
    if (!mi)
        return;
    while (mi->conns)
        mc_free(mi->conns);
    while (mi->pending) {
        pmirror_req *r = mi->pending;
        mi->pending = r->next;
        pmirror_req_free(r);
    }
    up_target_unref(mi->shadow);
    free(mi);
}
