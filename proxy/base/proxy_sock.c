/* proxy_sock: reads a plain TCP socket into its bufferevent's input without libevent's FIONREAD, or
 * lets a TLS bufferevent read for itself; see proxy_sock.h. */
#include "proxy_sock.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

/* A read's size: by default one 64 KiB evbuffer chain (libevent rounds a chain's allocation up to a
 * power of two with its header inside, hence the 128 bytes off), enough for a small message or a
 * 64 KiB body in one or two reads; after a read that filled its window, four times that (bodies
 * streaming). Chains are freed as the bytes are forwarded, so an idle connection holds none. */
#define SOCK_WINDOW_MIN (64 * 1024 - 128)
#define SOCK_WINDOW_MAX (256 * 1024 - 128)

struct proxy_sock {
    struct bufferevent *bev;
    struct event *rev; /* our read event; NULL: the bufferevent reads (TLS) */
    struct evbuffer_cb_entry *drained;
    bufferevent_data_cb rd;
    bufferevent_event_cb ev;
    proxy_sock_sink_get sink_get; /* NULL: every read goes into the input */
    proxy_sock_sink_got sink_got;
    void *ctx;
    struct timeval rd_tv;
    int has_rd_tv;
    struct timeval wr_tv; /* the write timeout set last through proxy_sock (wr_set: 0 unknown, 1 none, 2 wr_tv) */
    int wr_set;
    size_t high;
    size_t window;
    int on;      /* reading enabled */
    int pending; /* rev added */
};

/* rev is pending exactly when reading is on and the input is under the limit. */
static void sock_sync(proxy_sock *s)
{
    int want = s->on && !(s->high && evbuffer_get_length(bufferevent_get_input(s->bev)) >= s->high);
    if (want && !s->pending) {
        if (event_add(s->rev, s->has_rd_tv ? &s->rd_tv : NULL) == 0)
            s->pending = 1;
    } else if (!want && s->pending) {
        event_del(s->rev);
        s->pending = 0;
    }
}

/* The input shrank below the limit: resume (an evbuffer callback, as libevent's watermarks are). */
static void sock_drained(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
    proxy_sock *s = arg;
    if (info->n_deleted && s->on && !s->pending)
        sock_sync(s);
}

/* Reading stops on EOF, an error and a timeout (as a bufferevent's does), then the owner hears. */
static void sock_event(proxy_sock *s, short what)
{
    s->on = 0;
    sock_sync(s);
    if (s->ev)
        s->ev(s->bev, (short)(BEV_EVENT_READING | what), s->ctx);
}

/* What a read returned, once its bytes are where they belong: the owner hears (rd, or the event
 * callback on EOF and errors). n_room: the bytes the read could have taken. */
static void sock_after_read(proxy_sock *s, ssize_t n, int e, size_t n_room)
{
    if (n > 0) {
        s->window = (size_t)n == n_room ? SOCK_WINDOW_MAX : SOCK_WINDOW_MIN;
        if (s->rd)
            s->rd(s->bev, s->ctx); /* last: it may free s */
        return;
    }
    if (n == 0) {
        sock_event(s, BEV_EVENT_EOF);
        return;
    }
    if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
        return;
    errno = e; /* for EVUTIL_SOCKET_ERROR() in the owner's message */
    sock_event(s, BEV_EVENT_ERROR);
}

/* One read straight into the owner's memory (the input is empty, so the order of bytes holds). */
static void sock_read_sink(proxy_sock *s, evutil_socket_t fd, char *dst, size_t len)
{
    ssize_t n;
    do
        n = read(fd, dst, len);
    while (n < 0 && errno == EINTR);
    int e = errno;
    if (n > 0)
        s->sink_got(s->ctx, (size_t)n);
    sock_after_read(s, n, e, len);
}

static void sock_on_read(evutil_socket_t fd, short what, void *arg)
{
    proxy_sock *s = arg;
    if (what & EV_TIMEOUT) {
        sock_event(s, BEV_EVENT_TIMEOUT);
        return;
    }
    struct evbuffer *in = bufferevent_get_input(s->bev);
    size_t have = evbuffer_get_length(in), want = s->window;
    if (s->high) {
        if (have >= s->high) {
            sock_sync(s); /* resumed by sock_drained */
            return;
        }
        if (want > s->high - have)
            want = s->high - have;
    }
    if (s->sink_get && have == 0) {
        size_t len = 0;
        char *dst = s->sink_get(s->ctx, &len);
        if (dst && len > 0) {
            sock_read_sink(s, fd, dst, len < want ? len : want);
            return;
        }
    }
    struct evbuffer_iovec v[2];
    /* a socket bufferevent keeps the end of its input frozen so that only its own reads append; this
     * is such a read, so open it for the duration */
    evbuffer_unfreeze(in, 0);
    int nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
    if (nv <= 0) {
        evbuffer_freeze(in, 0);
        errno = ENOMEM;
        sock_event(s, BEV_EVENT_ERROR);
        return;
    }
    struct iovec iov[2];
    size_t room = 0;
    for (int i = 0; i < nv; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
        room += v[i].iov_len;
    }
    ssize_t n = readv(fd, iov, nv);
    int e = errno;
    size_t left = n > 0 ? (size_t)n : 0;
    int used = 0;
    for (int i = 0; i < nv && left > 0; i++, used++) {
        if (v[i].iov_len > left)
            v[i].iov_len = left;
        left -= v[i].iov_len;
    }
    evbuffer_commit_space(in, v, used);
    evbuffer_freeze(in, 0);
    /* A read that found nothing leaves the reserved chain behind, empty: on an idle keep-alive
     * connection that would be a block of up to the read window (64 KiB) held for nothing. */
    if (n <= 0 && have == 0)
        evbuffer_drain(in, 0);
    sock_after_read(s, n, e, room);
}

proxy_sock *proxy_sock_new(struct bufferevent *bev)
{
    proxy_sock *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->bev = bev;
    s->window = SOCK_WINDOW_MIN;
    if (bufferevent_openssl_get_ssl(bev))
        return s; /* TLS: the bufferevent reads */
    evutil_socket_t fd = bufferevent_getfd(bev);
    s->rev = fd >= 0 ? event_new(bufferevent_get_base(bev), fd, EV_READ | EV_PERSIST, sock_on_read, s) : NULL;
    s->drained = s->rev ? evbuffer_add_cb(bufferevent_get_input(bev), sock_drained, s) : NULL;
    if (!s->drained) {
        if (s->rev)
            event_free(s->rev);
        free(s);
        return NULL;
    }
    bufferevent_disable(bev, EV_READ); /* never both readers on one socket */
    return s;
}

void proxy_sock_free(proxy_sock *s)
{
    if (!s)
        return;
    if (s->rev) {
        evbuffer_remove_cb_entry(bufferevent_get_input(s->bev), s->drained);
        event_free(s->rev);
    }
    free(s);
}

void proxy_sock_setcb(proxy_sock *s, bufferevent_data_cb rd, bufferevent_data_cb wr, bufferevent_event_cb ev,
                      void *ctx)
{
    if (!s->rev) {
        bufferevent_setcb(s->bev, rd, wr, ev, ctx);
        return;
    }
    s->rd = rd;
    s->ev = ev;
    s->ctx = ctx;
    s->sink_get = NULL;
    s->sink_got = NULL;
    bufferevent_setcb(s->bev, NULL, wr, ev, ctx);
}

void proxy_sock_set_sink(proxy_sock *s, proxy_sock_sink_get get, proxy_sock_sink_got got)
{
    if (!s->rev)
        return; /* TLS: every byte comes out of OpenSSL into the input */
    s->sink_get = get && got ? get : NULL;
    s->sink_got = got;
}

/* The few durations the configuration gives, as libevent common timeouts: their timers wait in
 * one queue per duration, appended to in O(1), instead of the heap, which a persistent read event
 * re-enters after every read (and the relay re-arms per exchange). The plain value when libevent
 * refuses (its limit is 256 durations a base). */
const struct timeval *proxy_sock_common_tv(struct event_base *base, const struct timeval *tv)
{
    if (!tv)
        return NULL;
    const struct timeval *c = event_base_init_common_timeout(base, tv);
    return c ? c : tv;
}

/* wr is the write timeout bev has already: bufferevent_set_timeouts would change nothing */
static int wr_same(const proxy_sock *s, const struct timeval *wr)
{
    return wr ? s->wr_set == 2 && s->wr_tv.tv_sec == wr->tv_sec && s->wr_tv.tv_usec == wr->tv_usec : s->wr_set == 1;
}

static void wr_note(proxy_sock *s, const struct timeval *wr)
{
    s->wr_set = wr ? 2 : 1;
    if (wr)
        s->wr_tv = *wr;
}

void proxy_sock_set_timeouts(proxy_sock *s, const struct timeval *rd, const struct timeval *wr)
{
    rd = proxy_sock_common_tv(bufferevent_get_base(s->bev), rd);
    wr = proxy_sock_common_tv(bufferevent_get_base(s->bev), wr);
    if (!s->rev) {
        bufferevent_set_timeouts(s->bev, rd, wr);
        wr_note(s, wr);
        return;
    }
    /* a pooled connection goes back and forth between the same few values: a call that changes nothing
     * is left out (libevent's re-adds a pending write event) */
    if (!wr_same(s, wr)) {
        bufferevent_set_timeouts(s->bev, NULL, wr);
        wr_note(s, wr);
    }
    s->has_rd_tv = rd != NULL;
    if (rd)
        s->rd_tv = *rd;
    if (!s->pending)
        return;
    /* re-adding a pending event only moves its timer: no epoll_ctl */
    if (rd)
        event_add(s->rev, rd);
    else
        event_remove_timer(s->rev);
}

void proxy_sock_set_read_timeout(proxy_sock *s, const struct timeval *rd)
{
    struct timeval wr = s->wr_tv;
    proxy_sock_set_timeouts(s, rd, s->wr_set == 2 ? &wr : NULL);
}

void proxy_sock_read_limit(proxy_sock *s, size_t high)
{
    if (!s->rev) {
        bufferevent_setwatermark(s->bev, EV_READ, 0, high);
        return;
    }
    s->high = high;
    sock_sync(s);
}

void proxy_sock_read(proxy_sock *s, int on)
{
    if (!s->rev) {
        if (on)
            bufferevent_enable(s->bev, EV_READ);
        else
            bufferevent_disable(s->bev, EV_READ);
        return;
    }
    s->on = on;
    sock_sync(s);
}
