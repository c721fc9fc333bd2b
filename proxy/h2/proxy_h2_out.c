/* proxy_h2_out: what goes to an HTTP/2 client. nghttp2's frames are gathered in the session's obuf
 * while the client bufferevent's output is empty and written by one SSL_write (write on --h2c) from an
 * event made active for the end of the loop turn: every stream answered in that turn shares the TLS
 * record and the syscall. Handing each burst to bufferevent_openssl instead costs, per burst, an
 * epoll_ctl to watch for writability, a loop turn to be told, and an epoll_ctl to stop watching
 * (libevent 2.1 writes a socket-based TLS bufferevent only from its write event). Whatever the direct
 * write does not take - the socket is full, TLS wants a retry, an error - moves to the bufferevent's
 * output, which from then on carries everything in order until it is empty again. */
#include "proxy_h2_int.h"

#include <errno.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy_io.h"

#define OBUF_KEEP (64 * 1024) /* obuf memory kept between bursts */

/* obuf into the bufferevent's output, as one contiguous chain: after SSL_write asked for a retry,
 * libevent retries with that chain, the same bytes and length (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) */
static int obuf_to_bev(proxy_h2 *s, size_t from)
{
    int rc = 0;
    if (s->obuf.len > from)
        rc = evbuffer_add(bufferevent_get_output(s->bev), s->obuf.data + from, s->obuf.len - from);
    if (s->obuf.cap > OBUF_KEEP)
        tdbuf_free(&s->obuf);
    tdbuf_reset(&s->obuf);
    return rc;
}

/* Writes obuf straight to the peer; returns the bytes taken (0 when none). */
static size_t obuf_write(proxy_h2 *s)
{
    SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
    if (ssl) {
        ERR_clear_error();
        int r = SSL_write(ssl, s->obuf.data, (int)s->obuf.len);
        if (r > 0)
            return (size_t)r;
        ERR_clear_error(); /* a retry or an error: the bufferevent's own SSL_write goes on from here */
        return 0;
    }
    evutil_socket_t fd = bufferevent_getfd(s->bev);
    ssize_t r;
    do
        r = write(fd, s->obuf.data, s->obuf.len);
    while (r < 0 && errno == EINTR);
    return r > 0 ? (size_t)r : 0; /* an error is left for the bufferevent's write to report */
}

static void out_cb(evutil_socket_t fd, short what, void *ctx)
{
    proxy_h2 *s = ctx;
    s->out_armed = 0;
    if (s->obuf.len == 0)
        return;
    struct evbuffer *out = bufferevent_get_output(s->bev);
    size_t done = 0;
    /* libevent's limit on one SSL_write: a retry of ours must fit in what it will pass */
    if (evbuffer_get_length(out) == 0 && s->obuf.len <= 2 * s->w->cfg->buffer_high)
        done = obuf_write(s);
    int all = done == s->obuf.len;
    if (obuf_to_bev(s, done) != 0) {
        s->closing = 1;
        proxy_h2_flush(s);
        return;
    }
    if (all && nghttp2_session_want_write(s->ng))
        proxy_h2_flush(s); /* it stopped at the watermark: more to send */
}

int proxy_h2_out_init(proxy_h2 *s)
{
    tdbuf_init(&s->obuf, 0);
    s->out_ev = event_new(s->w->base, -1, 0, out_cb, s);
    SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
    if (ssl)
        SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return s->out_ev ? 0 : -1;
}

void proxy_h2_out_free(proxy_h2 *s)
{
    if (s->out_ev)
        event_free(s->out_ev);
    s->out_ev = NULL;
    tdbuf_free(&s->obuf);
}

/* n bytes of frames: to obuf while the bufferevent has nothing queued, else behind what it has. */
static int out_add(proxy_h2 *s, struct evbuffer *out, const uint8_t *data, size_t n)
{
    if (evbuffer_get_length(out) > 0)
        return evbuffer_add(out, data, n);
    if (tdbuf_append(&s->obuf, data, n) != 0)
        return -1;
    if (!s->out_armed) {
        s->out_armed = 1;
        event_active(s->out_ev, EV_WRITE, 1);
    }
    return 0;
}

int proxy_h2_flush(proxy_h2 *s)
{
    if (s->in_ng)
        return 0; /* called back from inside nghttp2: the outer call flushes */
    struct evbuffer *out = bufferevent_get_output(s->bev);
    size_t high = s->w->cfg->buffer_high;
    /* send; streams that made room in their body buffers read their upstreams again, which may give
     * more to send (bounded: the client's output watermark stops it) */
    for (int round = 0; round < 8 && !s->closing; round++) {
        s->in_ng = 1;
        while (evbuffer_get_length(out) + s->obuf.len < high) {
            const uint8_t *data = NULL;
            ssize_t n = nghttp2_session_mem_send(s->ng, &data);
            if (n < 0) {
                s->closing = 1;
                break;
            }
            if (n == 0)
                break;
            proxy_metrics_bytes(s->w->m, 0, (uint64_t)n);
            if (out_add(s, out, data, (size_t)n) != 0) {
                s->closing = 1;
                break;
            }
        }
        s->in_ng = 0;
        if (s->closing || proxy_h2_up_resume_all(s) == 0)
            break;
    }
    int over = s->closing || (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng)) ||
               (s->draining && s->n_streams == 0 && !nghttp2_session_want_write(s->ng));
    if (!over)
        return 0;
    s->closing = 1;
    (void)obuf_to_bev(s, 0); /* the end goes the bufferevent's way: its write callback says when it is out */
    if (evbuffer_get_length(out) == 0)
        return proxy_h2_linger(s);
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0); /* the write callback fires once it is all out */
    struct timeval tv = {(time_t)(s->w->cfg->idle_timeout_us / 1000000), 0};
    bufferevent_set_timeouts(s->bev, NULL, &tv);
    return 0;
}
