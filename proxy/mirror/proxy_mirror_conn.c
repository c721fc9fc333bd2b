/* proxy_mirror_conn: one connection to a shadow. Its own non-blocking socket and events, no bufferevent:
 * the copies queued on it in one loop turn leave in one sendmsg straight from their own buffers (nothing
 * is copied or moved, so a copy the connection could not deliver can be put back and sent elsewhere),
 * and answers are read with one recv per wakeup (proxy_mirror_read.c) (two for a large kept one: its head, then its body in
 * place). An answer nobody keeps (no --mirror-record) is parsed
 * only for its framing: its head is read, and a body framed by Content-Length is dropped in the kernel
 * (recv MSG_TRUNC copies nothing) while the parser is fed as many zero bytes, which it skips without
 * looking at them. libevent 2.1's bufferevent read 4 KiB a wakeup (sixteen loop turns, each with
 * epoll_wait, ioctl(FIONREAD) and readv, per 64 KiB answer) and added two epoll_ctl per copy.
 *
 * A deadline timer per connection covers connecting, then the answer to the copy at the head of its
 * pipeline (PROXY_MIRROR_RESPONSE_US from when that copy was queued, so a pipelined copy waits no longer
 * than a lone one); when it fires, or the shadow resets, that copy fails (counted) and the ones behind it go
 * back to the pool once. A shadow that announces Connection: close leaves the copies behind the answer
 * unanswered but untouched: they go back to the pool without a failure. */
#include "proxy_mirror_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxy_log.h"
#include "tdtime.h"

#define MC_IOV 64                  /* copies per sendmsg */
#define MC_HEAD_SLICE 4096         /* fed to the parser at once while a head is incomplete (it copies those) */

/* One warning per minute for the whole process, whichever worker sees the failure. */
static _Atomic int64_t mc_last_warn = -1;
#define MC_WARN_EVERY_US (60ll * 1000000)

static void mc_warn(const mpool *pl, const char *what)
{
    int64_t now = tdtime_mono_us(), last = atomic_load(&mc_last_warn);
    if (last >= 0 && now - last < MC_WARN_EVERY_US)
        return;
    if (!atomic_compare_exchange_strong(&mc_last_warn, &last, now))
        return;
    proxy_log(PROXY_LOG_WARN,
              "mirror: shadow %s: %s; the primary is not affected, failures are counted in "
              "tapedeck_proxy_mirror_failed_total (next warning in a minute at the earliest)",
              pl->shadow->hostport, what);
}

/* mc's deadline is us from now. The timer moves only when that is sooner than it is set for; a later
 * deadline is found when the timer fires (mc_on_timeout sets it again for the rest): each answer moved
 * the deadline, and re-adding the timer twice per copy cost more than the rest of its bookkeeping. */
static void mc_arm(mconn *mc, int64_t us)
{
    mc->deadline = tdtime_mono_us() + us;
    if (mc->armed_at && mc->armed_at <= mc->deadline)
        return;
    struct timeval tv = tdtime_tv(us);
    evtimer_add(mc->timer, &tv);
    mc->armed_at = mc->deadline;
}

/* A new message is due on mc: for the copy now at the head (if any). */
static void mc_msg_start(mconn *mc)
{
    proxy_mirror_join_keep_reset(mc);
    mc->status = mc->interim = mc->done = 0;
    mc->body_len = -1;
    mc->msg_bytes = 0;
    httpmsg_parser_resume(mc->rs);
    if (mc->head)
        httpmsg_parser_set_request_method(mc->rs, mc->head->method);
}

static proxy_mirror_req *mc_pop(mconn *mc)
{
    proxy_mirror_req *r = mc->head;
    mc->head = r->next;
    if (!mc->head)
        mc->tail = NULL;
    mc->depth--;
    r->next = NULL;
    return r;
}

void proxy_mirror_conn_free(mconn *mc)
{
    mpool *pl = mc->pool;
    proxy_mirror *mi = pl->mi;
    while (mc->head)
        proxy_mirror_req_free(mc_pop(mc));
    if (mc->dirty) {
        mconn **pp = &mi->dirty;
        while (*pp && *pp != mc)
            pp = &(*pp)->flush_next;
        if (*pp)
            *pp = mc->flush_next;
    }
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
    if (mc->rev)
        event_free(mc->rev);
    if (mc->wev)
        event_free(mc->wev);
    if (mc->fd >= 0)
        close(mc->fd);
    free(mc);
}

/* mc closes; the copies still on it go back to the pool (failed: each at most once). */
static void mc_close(mconn *mc, int failed, proxy_metrics_uperr_kind kind, const char *what)
{
    mpool *pl = mc->pool;
    proxy_mirror_req *rest = mc->head;
    mc->head = mc->tail = NULL;
    mc->depth = 0;
    proxy_mirror_conn_free(mc);
    /* back to the front of the queue in their order: last first */
    proxy_mirror_req *rev = NULL;
    while (rest) {
        proxy_mirror_req *n = rest->next;
        rest->next = rev;
        rev = rest;
        rest = n;
    }
    while (rev) {
        proxy_mirror_req *n = rev->next;
        rev->next = NULL;
        if (!failed)
            rev->requeued = 0; /* never sent on to the shadow's application: not a try */
        proxy_mirror_pool_requeue(rev, kind, what);
        rev = n;
    }
    proxy_mirror_pool_pump(pl);
}

/* The copy at the head of mc got no complete answer: count it, close mc, move the queue on. */
void proxy_mirror_conn_fail(mconn *mc, proxy_metrics_uperr_kind kind, const char *what)
{
    mpool *pl = mc->pool;
    if (kind == PROXY_METRICS_UPERR_CONNECT || kind == PROXY_METRICS_UPERR_CONNECT_TIMEOUT) {
        pl->down_until = tdtime_mono_us() + PROXY_MIRROR_BACKOFF_US;
        mc_warn(pl, what);
    } else if (kind == PROXY_METRICS_UPERR_TIMEOUT) {
        mc_warn(pl, what);
    }
    if (mc->depth > 1) /* maybe a shadow that mishandles pipelining: stop giving it any for a while */
        pl->serial_until = tdtime_mono_us() + PROXY_MIRROR_SERIAL_US;
    if (mc->head) {
        proxy_mirror_req *r = mc_pop(mc);
        proxy_metrics_mirror_failed(pl->mi->m, kind);
        proxy_log(PROXY_LOG_DEBUG, "mirror: %s %s: %s", r->method, pl->shadow->hostport, what);
        proxy_mirror_join_answer(mc, r, what);
        proxy_mirror_req_free(r);
    }
    mc_close(mc, 1, kind, what);
}

static int rs_on_head(void *ctx, const httpmsg_head *h)
{
    mconn *mc = ctx;
    mc->status = h->status;
    mc->interim = h->status < 200;
    mc->keep_alive = h->keep_alive;
    mc->head_len = h->head_len;
    int bodiless = mc->interim || h->status == 204 || h->status == 304 ||
                   (mc->head && strcmp(mc->head->method, "HEAD") == 0);
    mc->body_len = bodiless ? 0 : !h->chunked && h->content_length >= 0 ? h->content_length : -1;
    proxy_mirror_join_head(mc);
    return 0;
}

static int rs_on_complete(void *ctx)
{
    ((mconn *)ctx)->done = 1;
    return 1; /* pause after every message: interim ones are told apart, and each answer is its copy's */
}

static const httpmsg_callbacks mc_callbacks = {rs_on_head, NULL, rs_on_complete};

/* The answer to the head copy ended: the next copy's answer, idle, or close. Returns 0, or -1 when mc is
 * gone. */
int proxy_mirror_conn_done(mconn *mc)
{
    mpool *pl = mc->pool;
    proxy_mirror_req *r = mc_pop(mc);
    proxy_metrics_mirror_response(pl->mi->m, mc->status);
    proxy_mirror_join_answer(mc, r, NULL);
    /* an early answer (before the whole copy went out) leaves the connection in an unknown state */
    int reusable = mc->keep_alive && r->keep_alive && mc->status != 101 && mc->written >= r->out_end;
    proxy_mirror_req_free(r);
    if (!reusable) {
        mc_close(mc, 0, PROXY_METRICS_UPERR_RESET, "closed the connection before the response ended");
        return -1;
    }
    mc_msg_start(mc);
    if (mc->head) { /* the next copy's deadline counts from when it was queued, not from now */
        int64_t left = mc->head->sent_mono_us + PROXY_MIRROR_RESPONSE_US - tdtime_mono_us();
        mc_arm(mc, left < 1000 ? 1000 : left > PROXY_MIRROR_RESPONSE_US ? PROXY_MIRROR_RESPONSE_US : left);
    } else {
        mc_arm(mc, PROXY_MIRROR_IDLE_US);
    }
    if (pl->pending)
        proxy_mirror_pool_pump(pl); /* may queue on mc */
    return 0;
}

/* n bytes of answers. Returns 0, or -1 when mc is gone. */
int proxy_mirror_conn_feed(mconn *mc, const char *p, size_t n)
{
    while (n > 0) {
        if (!mc->head) { /* bytes after the last answer: nobody knows what the shadow is doing */
            proxy_mirror_conn_free(mc);
            return -1;
        }
        size_t take = !mc->head_len && n > MC_HEAD_SLICE ? MC_HEAD_SLICE : n;
        mc->done = 0;
        ssize_t k = httpmsg_parser_execute(mc->rs, p, take);
        if (k < 0 || (k == 0 && !mc->done)) {
            proxy_mirror_conn_fail(mc, PROXY_METRICS_UPERR_BAD_RESPONSE, "bad response");
            return -1;
        }
        proxy_mirror_join_keep(mc, p, (size_t)k); /* --mirror-record; otherwise only the framing counts */
        mc->msg_bytes += (uint64_t)k;
        p += k;
        n -= (size_t)k;
        if (!mc->done)
            continue;
        if (mc->interim && mc->status != 101) {
            mc_msg_start(mc);
            continue;
        }
        if (proxy_mirror_conn_done(mc) != 0)
            return -1;
    }
    return 0;
}

int proxy_mirror_conn_flush(mconn *mc)
{
    if (mc->state != MC_OPEN)
        return 0; /* written once connected */
    while (mc->written < mc->queued) {
        struct iovec iov[MC_IOV];
        int niov = 0;
        size_t total = 0;
        for (proxy_mirror_req *r = mc->head; r && niov < MC_IOV; r = r->next) {
            size_t len = r->buf.len;
            if (r->out_end <= mc->written || len == 0)
                continue;
            uint64_t start = r->out_end - len;
            size_t off = mc->written > start ? (size_t)(mc->written - start) : 0;
            iov[niov].iov_base = r->buf.data + off;
            iov[niov++].iov_len = len - off;
            total += len - off;
        }
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
        ssize_t n = total ? sendmsg(mc->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
        if (n < 0 && total && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            event_add(mc->wev, NULL);
            return 0;
        }
        if (n < 0) {
            char m[160];
            snprintf(m, sizeof m, "send: %s", total ? strerror(errno) : "nothing to send");
            proxy_mirror_conn_fail(mc, PROXY_METRICS_UPERR_RESET, m);
            return -1;
        }
        mc->written += (uint64_t)n;
        if ((size_t)n < total) { /* the socket's buffer is full */
            event_add(mc->wev, NULL);
            return 0;
        }
    }
    return 0;
}

static void mc_on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    mconn *mc = arg;
    if (mc->state == MC_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err) {
            char msg[160];
            snprintf(msg, sizeof msg, "connect: %s", strerror(err));
            proxy_mirror_conn_fail(mc, PROXY_METRICS_UPERR_CONNECT, msg);
            return;
        }
        mc->state = MC_OPEN;
        event_add(mc->rev, NULL);
        mc_arm(mc, mc->head ? PROXY_MIRROR_RESPONSE_US : PROXY_MIRROR_IDLE_US);
    }
    proxy_mirror_conn_flush(mc);
}

static void mc_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    mconn *mc = arg;
    int64_t now = tdtime_mono_us();
    mc->armed_at = 0;
    if (now < mc->deadline) { /* moved on since it was set */
        mc_arm(mc, mc->deadline - now);
        return;
    }
    if (mc->state == MC_CONNECTING)
        proxy_mirror_conn_fail(mc, PROXY_METRICS_UPERR_CONNECT_TIMEOUT, "connect timed out");
    else if (mc->head)
        proxy_mirror_conn_fail(mc, PROXY_METRICS_UPERR_TIMEOUT, "no complete response in time");
    else
        proxy_mirror_conn_free(mc);
}

int proxy_mirror_conn_takes(const mconn *mc, const proxy_mirror_req *r)
{
    if (!mc->head)
        return mc->state == MC_OPEN;
    return r->pipeline && mc->tail->pipeline && mc->depth < PROXY_MIRROR_PIPELINE;
}

void proxy_mirror_conn_queue(mconn *mc, proxy_mirror_req *r)
{
    r->sent_us = tdtime_now_us();
    r->sent_mono_us = tdtime_mono_us(); /* a step of the wall clock must not move the deadline */
    mc->queued += r->buf.len;
    r->out_end = mc->queued;
    r->next = NULL;
    if (mc->tail)
        mc->tail->next = r;
    else
        mc->head = r;
    mc->tail = r;
    mc->depth++;
    if (mc->head == r) {
        httpmsg_parser_set_request_method(mc->rs, r->method);
        if (mc->state == MC_OPEN)
            mc_arm(mc, PROXY_MIRROR_RESPONSE_US);
    }
    proxy_mirror_pool_dirty(mc);
}

/* Starting a connection failed at once: r is failed (counted), mc freed. */
static mconn *mc_open_failed(mconn *mc, proxy_mirror_req *r, int refused)
{
    mpool *pl = mc->pool;
    char msg[160];
    snprintf(msg, sizeof msg, "connect: %s", strerror(errno ? errno : ENOMEM));
    proxy_metrics_mirror_failed(pl->mi->m, PROXY_METRICS_UPERR_CONNECT);
    if (refused) {
        pl->down_until = tdtime_mono_us() + PROXY_MIRROR_BACKOFF_US;
        mc_warn(pl, msg);
    }
    proxy_mirror_join_fail(r, msg);
    proxy_mirror_req_free(r);
    proxy_mirror_conn_free(mc);
    return NULL;
}

mconn *proxy_mirror_conn_open(mpool *pl, proxy_mirror_req *r)
{
    proxy_mirror *mi = pl->mi;
    mconn *mc = calloc(1, sizeof *mc);
    if (!mc) {
        proxy_metrics_mirror_failed(mi->m, PROXY_METRICS_UPERR_CONNECT);
        proxy_mirror_join_fail(r, "out of memory");
        proxy_mirror_req_free(r);
        return NULL;
    }
    mc->pool = pl;
    mc->fd = -1;
    mc->state = MC_CONNECTING;
    mc->body_len = -1;
    tdbuf_init(&mc->kept, 0);
    mc->next = pl->conns;
    if (pl->conns)
        pl->conns->prev = mc;
    pl->conns = mc;
    pl->n_conns++;
    errno = 0;
    httpmsg_limits lim = {0};
    mc->rs = httpmsg_parser_new(HTTPMSG_RESPONSE, &mc_callbacks, mc, &lim);
    mc->timer = evtimer_new(mi->base, mc_on_timeout, mc);
    mc->fd = socket(pl->shadow->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!mc->rs || !mc->timer || mc->fd < 0)
        return mc_open_failed(mc, r, 0);
    mc->rev = event_new(mi->base, mc->fd, EV_READ | EV_PERSIST, proxy_mirror_read_on_read, mc);
    mc->wev = event_new(mi->base, mc->fd, EV_WRITE, mc_on_write, mc);
    if (!mc->rev || !mc->wev)
        return mc_open_failed(mc, r, 0);
    int one = 1;
    setsockopt(mc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    proxy_metrics_mirror_connect(mi->m);
    /* done or not, the connect is confirmed by the socket turning writable (SO_ERROR says how it went) */
    if (connect(mc->fd, (struct sockaddr *)&pl->shadow->addr, pl->shadow->addrlen) != 0 && errno != EINPROGRESS)
        return mc_open_failed(mc, r, 1);
    event_add(mc->wev, NULL);
    mc_arm(mc, PROXY_MIRROR_CONNECT_US);
    proxy_mirror_conn_queue(mc, r);
    return mc;
}
