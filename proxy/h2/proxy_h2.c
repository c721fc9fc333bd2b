/* proxy_h2: one HTTP/2 client connection on nghttp2. Bytes from the client go through
 * nghttp2_session_mem_recv; what nghttp2 queues goes out with nghttp2_session_mem_send while the
 * client's output is under --buffer-size (backpressure: a client that does not read stops getting
 * frames, and flow control then stops the upstream reads of its streams). Limits the library does not
 * enforce on its own are counted here: CONTINUATION frames per header block and control frames per
 * second; a connection that breaks one gets GOAWAY ENHANCE_YOUR_CALM and is closed, others go on. */
#include "proxy_h2_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy_front.h"
#include "proxy_io.h"
#include "proxy_log.h"
#include "proxy_sock.h"
#include "tdtime.h"

static _Atomic uint64_t ph2_next_id = 1ull << 40; /* apart from HTTP/1 connection ids in the capture */

static void session_free(proxy_h2 *s)
{
    proxy_wctx *w = s->w;
    s->closing = 1; /* streams freed now are not kept */
    while (s->streams)
        proxy_h2_stream_free(s->streams, NGHTTP2_CANCEL);
    proxy_h2_stream_free_spares(s);
    tdbuf_free(&s->headbuf);
    proxy_h2_out_free(s);
    if (s->ng)
        nghttp2_session_del(s->ng);
    if (s->bev)
        bufferevent_free(s->bev);
    proxy_log(PROXY_LOG_DEBUG, "h2 conn %llu %s: closed", (unsigned long long)s->id, s->peer);
    proxy_front_unlink(w, &s->side);
    free(s);
}

/* Ends the connection for a broken limit (counted once): GOAWAY, then close once it is written. */
static void session_refuse(proxy_h2 *s, proxy_metrics_h2_refusal why)
{
    if (!s->fatal) {
        s->fatal = (int)why + 1;
        proxy_metrics_h2_refused(s->w->m, why);
        proxy_log(PROXY_LOG_WARN, "h2 conn %llu %s: ended: %s", (unsigned long long)s->id, s->peer,
                  why == PROXY_METRICS_H2_CONTINUATION   ? "CONTINUATION flood"
                  : why == PROXY_METRICS_H2_CONTROL_FLOOD ? "control frame flood"
                  : why == PROXY_METRICS_H2_RAPID_RESET   ? "stream reset flood"
                                                          : "protocol error");
    }
    nghttp2_session_terminate_session(s->ng, why == PROXY_METRICS_H2_PROTOCOL ? NGHTTP2_PROTOCOL_ERROR
                                                                               : NGHTTP2_ENHANCE_YOUR_CALM);
}

/* As proxy_conn's lingering close: a client still sending when we close would get a reset that can destroy
 * the GOAWAY it has not read yet. Shut down our side, discard its input until EOF or a second passes. */
int proxy_h2_linger(proxy_h2 *s)
{
    if (s->lingering)
        return 0;
    s->lingering = 1;
    if (proxy_io_shutdown_write(s->bev) != 0) {
        session_free(s);
        return 1;
    }
    struct evbuffer *in = bufferevent_get_input(s->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    struct timeval tv = {1, 0};
    bufferevent_set_timeouts(s->bev, &tv, NULL);
    bufferevent_enable(s->bev, EV_READ);
    return 0;
}

/* ---- nghttp2 callbacks ---- */

static int control_frame(proxy_h2 *s)
{
    int64_t now = tdtime_mono_us();
    if (now - s->win_start_us >= 1000000) {
        s->win_start_us = now;
        s->ctrl_in_win = 0;
    }
    if (++s->ctrl_in_win > PROXY_H2_CTRL_PER_SEC)
        session_refuse(s, PROXY_METRICS_H2_CONTROL_FLOOD); /* the read loop stops at s->fatal */
    return 0;
}

/* CVE-2023-44487: each reset stream is work (a request started upstream) that the concurrency limit
 * does not count. A bucket of PROXY_H2_RESET_BURST resets refilled at PROXY_H2_RESET_PER_SEC; nghttp2's own
 * limit, set higher, is the backstop. */
static void stream_reset(proxy_h2 *s)
{
    int64_t now = tdtime_mono_us();
    double refill = (double)(now - s->reset_at_us) * PROXY_H2_RESET_PER_SEC / 1e6;
    s->reset_at_us = now;
    s->reset_tokens += refill;
    if (s->reset_tokens > PROXY_H2_RESET_BURST)
        s->reset_tokens = PROXY_H2_RESET_BURST;
    s->reset_tokens -= 1.0;
    if (s->reset_tokens < 0)
        session_refuse(s, PROXY_METRICS_H2_RAPID_RESET);
}

static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *ud)
{
    proxy_h2 *s = ud;
    switch (hd->type) {
    case NGHTTP2_HEADERS:
        s->cont_frames = 0;
        s->block_bytes = hd->length;
        break;
    case NGHTTP2_CONTINUATION:
        s->block_bytes += hd->length;
        /* a header block may not run on for ever: HPACK state is per connection, so its frames cannot
         * be skipped; the decoded size is checked per field, this caps frames and raw bytes */
        if (++s->cont_frames > PROXY_H2_MAX_CONTINUATIONS || s->block_bytes > 2 * s->w->cfg->max_head + 16384)
            session_refuse(s, PROXY_METRICS_H2_CONTINUATION);
        break;
    case NGHTTP2_RST_STREAM:
        stream_reset(s);
        break;
    case NGHTTP2_PING:
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PRIORITY:
        if (!(hd->flags & NGHTTP2_FLAG_ACK))
            return control_frame(s);
        break;
    case NGHTTP2_DATA:
        if (hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM))
            return control_frame(s); /* empty DATA frames cost work and carry nothing */
        break;
    default:
        break;
    }
    return 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    proxy_h2 *s = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    if (s->draining)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    proxy_h2_stream *st = proxy_h2_stream_new(s, frame->hd.stream_id);
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* out of memory: this stream is reset */
    nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, st);
    proxy_metrics_h2_stream(s->w->m);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers: not forwarded (the upstream side is HTTP/1.1 without TE: trailers) */
    proxy_h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st)
        (void)proxy_h2_req_header(&st->rq, (const char *)name, namelen, (const char *)value, valuelen);
    return 0; /* errors stick in st->rq and are answered at the end of the block */
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    proxy_h2_stream *st =
        frame->hd.stream_id ? nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id) : NULL;
    int end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if (!st)
            break;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST)
            proxy_h2_stream_request_head(st, end);
        else if (end)
            proxy_h2_stream_request_end(st);
        break;
    case NGHTTP2_DATA:
        if (st && end)
            proxy_h2_stream_request_end(st);
        break;
    default:
        break;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                         void *ud)
{
    proxy_h2_stream *st = nghttp2_session_get_stream_user_data(ng, stream_id);
    if (st)
        proxy_h2_stream_request_data(st, data, len);
    else
        nghttp2_session_consume(ng, stream_id, len); /* keep the connection window open */
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *ud)
{
    proxy_h2_stream *st = nghttp2_session_get_stream_user_data(ng, stream_id);
    if (st)
        proxy_h2_stream_free(st, error_code);
    return 0;
}

static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *frame, int lib_error, void *ud)
{
    proxy_h2 *s = ud;
    /* a malformed request (content-length against DATA, a bad field): nghttp2 resets the stream */
    if (lib_error == NGHTTP2_ERR_HTTP_MESSAGING || lib_error == NGHTTP2_ERR_HTTP_HEADER)
        proxy_metrics_h2_refused(s->w->m, PROXY_METRICS_H2_MESSAGING);
    else if (lib_error == NGHTTP2_ERR_REFUSED_STREAM)
        proxy_metrics_h2_refused(s->w->m, PROXY_METRICS_H2_STREAMS);
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    proxy_h2 *s = ud;
    /* nghttp2's own limits (stream reset rate, its CONTINUATION cap) end the session with GOAWAY: count
     * those by what the client was doing */
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR && !s->fatal) {
        proxy_metrics_h2_refusal why = s->n_streams >= PROXY_H2_MAX_STREAMS ? PROXY_METRICS_H2_STREAMS
                                       : s->reset_tokens < PROXY_H2_RESET_BURST / 2
                                           ? PROXY_METRICS_H2_RAPID_RESET
                                           : PROXY_METRICS_H2_PROTOCOL;
        s->fatal = (int)why + 1;
        proxy_metrics_h2_refused(s->w->m, why);
        proxy_log(PROXY_LOG_WARN, "h2 conn %llu %s: ended by GOAWAY %u%s", (unsigned long long)s->id, s->peer,
                  frame->goaway.error_code,
                  why == PROXY_METRICS_H2_RAPID_RESET ? " (stream reset flood)"
                  : why == PROXY_METRICS_H2_STREAMS   ? " (over the concurrent stream limit)"
                                                      : "");
    }
    return 0;
}

static nghttp2_session_callbacks *ph2_cbs;
static nghttp2_option *ph2_opt;
static pthread_once_t ph2_once = PTHREAD_ONCE_INIT;

static void ph2_init_once(void)
{
    nghttp2_session_callbacks *c = NULL;
    nghttp2_option *o = NULL;
    if (nghttp2_session_callbacks_new(&c) != 0 || nghttp2_option_new(&o) != 0) {
        nghttp2_session_callbacks_del(c);
        return;
    }
    nghttp2_session_callbacks_set_on_begin_frame_callback(c, on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(c, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, on_stream_close);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(c, on_invalid_frame);
    nghttp2_session_callbacks_set_on_frame_send_callback(c, on_frame_send);
    /* request bodies are acknowledged (WINDOW_UPDATE) only once the upstream took them: flow control
     * is the backpressure */
    nghttp2_option_set_no_auto_window_update(o, 1);
    nghttp2_option_set_stream_reset_rate_limit(o, 2 * PROXY_H2_RESET_BURST, 2 * PROXY_H2_RESET_PER_SEC);
    /* ours (on_begin_frame) comes first */
    nghttp2_option_set_max_continuations(o, 4 * PROXY_H2_MAX_CONTINUATIONS);
    nghttp2_option_set_max_settings(o, 32);
    nghttp2_option_set_max_outbound_ack(o, 1000); /* a client that sends PINGs but never reads */
    ph2_cbs = c;
    ph2_opt = o;
}

/* ---- the client connection ---- */

/* n bytes from the client into nghttp2. Returns 0 to go on, -1 when the connection reads no more. */
static int feed(proxy_h2 *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = nghttp2_session_mem_recv(s->ng, p, n);
        if (k < 0) {
            if (k == NGHTTP2_ERR_FLOODED) {
                if (!s->fatal)
                    proxy_metrics_h2_refused(s->w->m, PROXY_METRICS_H2_CONTROL_FLOOD);
                s->closing = 1;
            } else if (!s->fatal) {
                session_refuse(s, PROXY_METRICS_H2_PROTOCOL);
            }
            return -1;
        }
        proxy_metrics_bytes(s->w->m, (uint64_t)k, 0);
        if (s->fatal || s->closing) /* a limit was broken: read nothing more */
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* With read-ahead one read(2) takes every TLS record the socket holds, but bufferevent_openssl (libevent
 * 2.1) decrypts only the first ones: it asks SSL_pending, which counts the bytes left of the record being
 * read, not the records behind it. Those are decrypted here, straight from the SSL object (as
 * proxy_h2_out writes to it), and no socket event would have come for them. SSL_read stops with
 * WANT_READ when only part of a record is left: the socket's next bytes wake the bufferevent. */
static void drain_tls(proxy_h2 *s)
{
    SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
    uint8_t buf[16384];
    while (ssl && !s->closing && !s->fatal && SSL_has_pending(ssl)) {
        ERR_clear_error();
        int r = SSL_read(ssl, buf, sizeof buf);
        if (r <= 0) {
            ERR_clear_error(); /* a retry, EOF or an error: the bufferevent's own read reports it */
            break;
        }
        if (feed(s, buf, (size_t)r) != 0)
            break;
    }
}

static void conn_read(struct bufferevent *bev, void *ctx)
{
    proxy_h2 *s = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (s->lingering) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    s->in_ng = 1;
    while (!s->closing && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        int rc = feed(s, v.iov_base, v.iov_len);
        evbuffer_drain(in, rc == 0 ? v.iov_len : evbuffer_get_length(in));
        if (rc != 0)
            break;
    }
    if (!s->closing)
        drain_tls(s);
    s->in_ng = 0;
    proxy_h2_flush(s);
}

static void conn_write(struct bufferevent *bev, void *ctx)
{
    proxy_h2 *s = ctx;
    if (s->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            proxy_h2_linger(s);
        return;
    }
    proxy_h2_flush(s);
}

static void conn_event(struct bufferevent *bev, short what, void *ctx)
{
    proxy_h2 *s = ctx;
    if ((what & BEV_EVENT_TIMEOUT) && !s->closing && (what & BEV_EVENT_READING)) {
        /* silent for --idle-timeout: streams whose requests are not complete are stalled by the client
         * (each may hold an upstream connection), as an HTTP/1 client stalled inside a body; streams
         * that wait on their upstreams go on, under the upstream's own timeout */
        int stalled = 0;
        for (proxy_h2_stream *st = s->streams; st; st = st->next)
            if (!st->req_done && !st->refused) {
                nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
                stalled++;
            }
        if (stalled)
            proxy_log(PROXY_LOG_DEBUG, "h2 conn %llu %s: %d stream(s) stalled inside their request: reset",
                      (unsigned long long)s->id, s->peer, stalled);
        if (s->n_streams > 0) {
            bufferevent_enable(bev, EV_READ);
            proxy_h2_flush(s);
            return;
        }
        nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->ng),
                              NGHTTP2_NO_ERROR, NULL, 0);
        s->draining = 1;
        proxy_h2_flush(s);
        return;
    }
    session_free(s); /* EOF, error, or a client that does not take its last bytes */
}

static void side_drain(proxy_side *side)
{
    proxy_h2 *s = (proxy_h2 *)side;
    if (s->draining || s->closing)
        return;
    s->draining = 1;
    /* graceful GOAWAY: streams already opened finish, new ones are refused */
    nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
    proxy_h2_flush(s);
}

static void side_close(proxy_side *side)
{
    session_free((proxy_h2 *)side);
}

int proxy_h2_adopt(proxy_wctx *w, struct bufferevent *bev, const char *peer, const char *proto)
{
    const proxy_config *cfg = w->cfg;
    pthread_once(&ph2_once, ph2_init_once);
    proxy_h2 *s = calloc(1, sizeof *s);
    if (!s || !ph2_cbs) {
        free(s);
        bufferevent_free(bev);
        return -1;
    }
    s->w = w;
    s->bev = bev;
    s->id = atomic_fetch_add(&ph2_next_id, 1);
    s->proto = proto;
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    s->side.drain = side_drain;
    s->side.close = side_close;
    s->win_start_us = s->reset_at_us = tdtime_mono_us();
    s->reset_tokens = PROXY_H2_RESET_BURST;
    proxy_front_link(w, &s->side);
    tdbuf_init(&s->headbuf, 0);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, PROXY_H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 65535},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)cfg->max_head},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    if (proxy_h2_out_init(s) != 0 || nghttp2_session_server_new2(&s->ng, ph2_cbs, s, ph2_opt) != 0 ||
        nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, PROXY_H2_CONN_WINDOW) != 0) {
        proxy_log(PROXY_LOG_ERROR, "out of memory starting an HTTP/2 session");
        session_free(s);
        return -1;
    }
    bufferevent_setcb(bev, conn_read, conn_write, conn_event, s);
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (ssl)
        SSL_set_read_ahead(ssl, 1); /* safe here only: conn_read decrypts what read-ahead buffered */
    proxy_io_tune_bev(bev, cfg->buffer_high);
    bufferevent_setwatermark(bev, EV_WRITE, cfg->buffer_high / 2, 0);
    struct timeval tv = {(time_t)(cfg->idle_timeout_us / 1000000), (suseconds_t)(cfg->idle_timeout_us % 1000000)};
    bufferevent_set_timeouts(bev, proxy_sock_common_tv(w->base, &tv), NULL); /* re-armed at every read */
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    proxy_log(PROXY_LOG_DEBUG, "h2 conn %llu %s: accepted (%s)", (unsigned long long)s->id, s->peer, proto);
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        conn_read(bev, s); /* the preface (and maybe more) read while sniffing */
    else
        proxy_h2_flush(s); /* our SETTINGS */
    return 0;
}
