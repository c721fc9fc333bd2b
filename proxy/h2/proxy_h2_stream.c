/* proxy_h2_stream: one HTTP/2 stream as one exchange on the worker's HTTP/1.1 upstream pool: its life
 * (kept for reuse when it ends), its request, and its record. The request goes up in the HTTP/1.1 form
 * proxy_h2_req builds (a body without Content-Length chunked), and that form is what is recorded, so
 * check and load replay it as any HTTP/1.1 request. The upstream side is proxy_h2_up.c. */
#include "proxy_h2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "httpmsg_facts.h"
#include "proxy_io.h"
#include "proxy_xrec.h"
#include "tdtime.h"

proxy_h2_stream *proxy_h2_stream_new(proxy_h2 *s, int32_t id)
{
    proxy_h2_stream *st = s->spare;
    if (st) {
        s->spare = st->next;
        s->n_spare--;
    } else {
        st = calloc(1, sizeof *st);
        if (!st)
            return NULL;
        proxy_h2_req_init(&st->rq, s->w->cfg->max_head);
        tdbuf_init(&st->rqbuf, 0);
        tdbuf_init(&st->rsbuf, 0);
        tdbuf_init(&st->rhead, 0);
        tdbuf_init(&st->sent, 0);
        st->body = evbuffer_new();
        if (!st->body) {
            proxy_h2_req_clear(&st->rq);
            free(st);
            return NULL;
        }
    }
    st->s = s;
    st->id = id;
    st->seq = s->next_seq++;
    st->t0_mono = tdtime_mono_us();
    st->t0_wall = tdtime_now_us();
    st->prev = NULL;
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    s->n_streams++;
    return st;
}

static void stream_destroy(proxy_h2_stream *st)
{
    httpmsg_parser_free(st->rs);
    proxy_h2_req_clear(&st->rq);
    tdbuf_free(&st->sent);
    evbuffer_free(st->body);
    tdbuf_free(&st->rqbuf);
    tdbuf_free(&st->rsbuf);
    tdbuf_free(&st->rhead);
    free(st);
}

void proxy_h2_stream_free_spares(proxy_h2 *s)
{
    while (s->spare) {
        proxy_h2_stream *st = s->spare;
        s->spare = st->next;
        stream_destroy(st);
    }
    s->n_spare = 0;
}

/* ---- recording ---- */

void proxy_h2_stream_rec_append(proxy_h2_stream *st, tdbuf *b, uint64_t *body_rec, size_t head_len,
                                const char *p, size_t n, unsigned trunc_flag)
{
    if (st->x && proxy_xrec_append(st->x, st->s->w->cfg->max_body, b, body_rec, head_len, p, n, trunc_flag) != 0) {
        proxy_metrics_dropped(st->s->w->m, PROXY_METRICS_DROP_NOMEM);
        proxy_record_exchange_free(st->x);
        st->x = NULL;
    }
}

/* The record, when one is wanted: its target URI is the h2 request's (scheme, authority, path). */
static void rec_begin(proxy_h2_stream *st, const char *auth)
{
    proxy_h2 *s = st->s;
    const proxy_h2_req *rq = &st->rq;
    const char *path = proxy_h2_req_pseudo(rq, PROXY_H2_REQ_P_PATH);
    exchange *x = proxy_xrec_begin(s->w, path, &st->rqbuf, &st->rsbuf, s->id, st->seq, st->t0_wall, s->peer,
                                   s->proto);
    if (!x)
        return;
    /* scheme://authority/path in one allocation of its size (a tdbuf grown from 256 bytes by four appends
     * before) */
    const char *scheme = proxy_h2_req_pseudo(rq, PROXY_H2_REQ_P_SCHEME);
    size_t sl = strlen(scheme), al = strlen(auth), pl = strlen(path);
    char *uri = malloc(sl + 3 + al + pl + 1);
    if (uri) {
        memcpy(uri, scheme, sl);
        memcpy(uri + sl, "://", 3);
        memcpy(uri + sl + 3, auth, al);
        memcpy(uri + sl + 3 + al, path, pl + 1);
    }
    if (!(x->target_uri = uri)) {
        proxy_record_exchange_free(x);
        proxy_metrics_dropped(s->w->m, PROXY_METRICS_DROP_NOMEM);
        return;
    }
    st->x = x;
}

void proxy_h2_stream_rec_finish(proxy_h2_stream *st, const char *error)
{
    if (!st->x)
        return;
    exchange *x = proxy_xrec_finish(st->x, &st->rqbuf, &st->rsbuf, error);
    st->x = NULL;
    if (x)
        proxy_record_push(st->s->w->rec, x);
    else
        proxy_metrics_dropped(st->s->w->m, PROXY_METRICS_DROP_NOMEM);
}

/* ---- the request ---- */

/* Request bytes to the upstream, in one write (straight into the socket when nothing is queued:
 * proxy_io_sendv), with a copy kept for a retry while the request is small. */
static void send_up(proxy_h2_stream *st, const struct iovec *parts, int n_parts)
{
    if (!st->up)
        return;
    for (int i = 0; st->keep_sent && i < n_parts; i++)
        if (st->sent.len + parts[i].iov_len > PH2S_REPLAY_MAX ||
            tdbuf_append(&st->sent, parts[i].iov_base, parts[i].iov_len) != 0)
            st->keep_sent = 0;
    /* proxy_upstream_conn_attach left writing enabled for the rest */
    if (proxy_io_sendv(st->up->bev, st->up_connected, parts, n_parts) != 0)
        proxy_h2_up_release(st, 0); /* out of memory: the upstream must not get half a message */
}

void proxy_h2_stream_request_head(proxy_h2_stream *st, int end_stream)
{
    proxy_h2 *s = st->s;
    proxy_wctx *w = s->w;
    proxy_upstream_target *t = proxy_relay_current_target(w);
    tdbuf *hb = &s->headbuf; /* the session's, reused: one head is built at a time */
    tdbuf_reset(hb);
    int rc = proxy_h2_req_head(&st->rq, end_stream, t->hostport, hb, &st->chunked);
    st->req_done = end_stream;
    if (rc != PROXY_H2_REQ_OK) {
        st->refused = 1;
        if (rc == PROXY_H2_REQ_ETOOLARGE) {
            proxy_metrics_reject(w->m, PROXY_METRICS_REJ_431);
            proxy_metrics_h2_refused(w->m, PROXY_METRICS_H2_HEADER_LIST);
            proxy_h2_up_local_response(st, 431, "request header list too large");
        } else if (rc == PROXY_H2_REQ_ECONNECT) {
            proxy_h2_up_local_response(st, 405, "CONNECT is not proxied");
        } else {
            proxy_metrics_reject(w->m, PROXY_METRICS_REJ_400);
            proxy_metrics_h2_refused(w->m, PROXY_METRICS_H2_MESSAGING);
            nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        }
        return;
    }
    const char *method = proxy_h2_req_pseudo(&st->rq, PROXY_H2_REQ_P_METHOD);
    size_t ml = strlen(method); /* a known method (proxy_h2_req_head): shorter than st->method */
    memcpy(st->method, method, ml < sizeof st->method ? ml + 1 : 0);
    const char *auth = proxy_h2_req_pseudo(&st->rq, PROXY_H2_REQ_P_AUTHORITY);
    if (w->rec)
        rec_begin(st, auth && *auth ? auth : t->hostport);
    st->rq_head_len = hb->len;
    if (st->x) { /* room for the head and a body of known length (within --max-body) at once */
        int64_t cl = st->rq.content_length;
        uint64_t body = cl > 0 ? (uint64_t)cl : 0, mb = w->cfg->max_body;
        if (mb > PROXY_XREC_REQ_RESERVE)
            mb = PROXY_XREC_REQ_RESERVE;
        (void)tdbuf_reserve(&st->rqbuf, hb->len + (size_t)(body < mb ? body : mb) + (st->chunked ? 64 : 0));
    }
    proxy_h2_stream_rec_append(st, &st->rqbuf, &st->rq_body_rec, hb->len, hb->data, hb->len,
                               EXCHANGE_TRUNC_REQUEST);
    st->keep_sent = httpmsg_method_is_idempotent(st->method);
    tdbuf_reset(&st->sent);
    char err[256];
    proxy_upstream_conn *u = proxy_h2_up_new_parser(st) == 0 ? proxy_upstream_pool_take(w->pool, t) : NULL;
    if (!u && st->rs)
        u = proxy_upstream_pool_connect(w->pool, t, w->cfg->connect_timeout_us, err, sizeof err);
    if (!u) {
        proxy_h2_up_fail(st, PROXY_METRICS_UPERR_CONNECT, 502, st->rs ? err : "out of memory");
        return;
    }
    proxy_metrics_upstream_connect(w->m, u->reused);
    proxy_h2_up_attach(st, u);
    struct iovec iov = {hb->data, hb->len};
    send_up(st, &iov, 1);
}

void proxy_h2_stream_request_data(proxy_h2_stream *st, const uint8_t *p, size_t n)
{
    if (st->refused || !st->up) {
        nghttp2_session_consume(st->s->ng, st->id, n); /* nobody takes it: keep the windows open */
        return;
    }
    char line[24];
    int k = st->chunked && n ? snprintf(line, sizeof line, "%zx\r\n", n) : 0;
    struct iovec parts[3] = {{line, (size_t)k}, {(void *)p, n}, {"\r\n", k ? 2 : 0}};
    for (int i = 0; i < 3; i++)
        proxy_h2_stream_rec_append(st, &st->rqbuf, &st->rq_body_rec, i == 1 ? 0 : parts[i].iov_len,
                                   parts[i].iov_base, parts[i].iov_len, EXCHANGE_TRUNC_REQUEST);
    send_up(st, parts, 3);
    st->unconsumed += n;
    proxy_h2_up_give_window(st);
}

void proxy_h2_stream_request_end(proxy_h2_stream *st)
{
    if (st->req_done)
        return;
    st->req_done = 1;
    if (st->chunked && st->up) {
        struct iovec last = {"0\r\n\r\n", 5};
        send_up(st, &last, 1);
        proxy_h2_stream_rec_append(st, &st->rqbuf, &st->rq_body_rec, 5, "0\r\n\r\n", 5,
                                   EXCHANGE_TRUNC_REQUEST);
    }
}

void proxy_h2_stream_free(proxy_h2_stream *st, uint32_t error_code)
{
    proxy_h2 *s = st->s;
    if (st->x) /* the client reset the stream (or the connection ended) before the response was whole */
        proxy_h2_stream_rec_finish(st, error_code == NGHTTP2_NO_ERROR
                                           ? "stream closed before the response ended"
                                           : "client reset the stream");
    if (st->up && !st->ev_rdone && !st->refused)
        proxy_metrics_request(s->w->m, 0, tdtime_mono_us() - st->t0_mono);
    proxy_h2_up_release(st, 0);
    if (st->unconsumed)
        nghttp2_session_consume_connection(s->ng, st->unconsumed);
    nghttp2_session_set_stream_user_data(s->ng, st->id, NULL);
    if (st->prev)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    s->n_streams--;
    if (s->n_spare >= PROXY_H2_SPARE || s->closing) {
        stream_destroy(st);
        return;
    }
    /* kept for the next stream: a parser that saw its response through resumes, any other is dropped */
    httpmsg_parser *rs = st->rs;
    if (rs && st->ev_rdone)
        httpmsg_parser_resume(rs);
    else if (rs)
        httpmsg_parser_free(rs), rs = NULL;
    proxy_h2_req rq = st->rq;
    proxy_h2_req_reset(&rq);
    struct evbuffer *body = st->body;
    evbuffer_drain(body, evbuffer_get_length(body));
    tdbuf rhead = st->rhead;
    tdbuf_reset(&rhead);
    tdbuf sent = st->sent;
    if (sent.cap > 4096)
        tdbuf_free(&sent); /* a large request body's copy is not kept with the spare */
    tdbuf_reset(&sent);
    tdbuf_free(&st->rqbuf);
    tdbuf_free(&st->rsbuf);
    memset(st, 0, sizeof *st);
    st->rs = rs;
    st->rq = rq;
    st->body = body;
    st->rhead = rhead;
    st->sent = sent;
    tdbuf_init(&st->rqbuf, 0);
    tdbuf_init(&st->rsbuf, 0);
    st->next = s->spare;
    s->spare = st;
    s->n_spare++;
}
