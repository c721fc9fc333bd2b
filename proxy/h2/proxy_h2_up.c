/* proxy_h2_up: the upstream side of an HTTP/2 stream, and its answer to the client. The response is
 * parsed with httpmsg (strict framing, as for HTTP/1 clients): its head becomes HEADERS (hop-by-hop
 * fields dropped), its de-chunked body DATA pulled by nghttp2 as the flow-control windows allow; the
 * record keeps the response as the upstream sent it (interim 1xx heads left out, listed). Part of
 * proxy_h2 (shares proxy_h2_int.h). */
#include "proxy_h2_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpmsg_facts.h"
#include "proxy_io.h"
#include "proxy_log.h"
#include "tdtime.h"


static void up_read(struct bufferevent *bev, void *ctx);
static void up_write(struct bufferevent *bev, void *ctx);
static void up_event(struct bufferevent *bev, short what, void *ctx);

/* ---- response to the client ---- */

static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    proxy_h2_stream *st = src->ptr;
    size_t have = evbuffer_get_length(st->body);
    if (have == 0 && !st->body_eof)
        return NGHTTP2_ERR_DEFERRED; /* resumed when the upstream sends more */
    int n = evbuffer_remove(st->body, buf, length);
    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (st->body_eof && evbuffer_get_length(st->body) == 0)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->read_paused && st->up && evbuffer_get_length(st->body) < st->s->w->cfg->buffer_high / 2) {
        /* the upstream's input may be full (its read watermark): no read callback would come, so
         * proxy_h2_flush parses it once nghttp2 is done (proxy_h2_up_resume_all) */
        st->read_paused = 0;
        st->resume_up = 1;
        st->s->n_resume++;
        proxy_sock_read(st->up->io, 1);
    }
    return n;
}

/* A response made here (refusals, upstream failures): a short text body. */
void proxy_h2_up_local_response(proxy_h2_stream *st, int status, const char *msg)
{
    if (st->submitted)
        return;
    char code[16], len[24];
    snprintf(code, sizeof code, "%d", status);
    evbuffer_drain(st->body, evbuffer_get_length(st->body));
    evbuffer_add_printf(st->body, "%s\n", msg);
    snprintf(len, sizeof len, "%zu", evbuffer_get_length(st->body));
    nghttp2_nv nv[] = {
        {(uint8_t *)":status", (uint8_t *)code, 7, strlen(code), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-type", (uint8_t *)"text/plain", 12, 10, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-length", (uint8_t *)len, 14, strlen(len), NGHTTP2_NV_FLAG_NONE},
    };
    st->body_eof = 1;
    st->submitted = 1;
    st->rstatus = status;
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = body_read};
    if (nghttp2_submit_response(st->s->ng, st->id, nv, 3, &dp) != 0)
        nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    proxy_metrics_request(st->s->w->m, status, tdtime_mono_us() - st->t0_mono);
}

/* The next token of a Connection value in [*p, e): 1 with t and n set, 0 at its end. */
static int conn_token(const char **p, const char *e, const char **t, size_t *n)
{
    const char *q = *p;
    while (q < e && (*q == ' ' || *q == ',' || *q == '\t'))
        q++;
    *t = q;
    while (q < e && *q != ',' && *q != ' ' && *q != '\t')
        q++;
    *n = (size_t)(q - *t);
    *p = q;
    return *n > 0;
}

/* The upstream's Connection field split once per head (n_tok -1: more than CONN_TOKENS, split again for
 * each name). */
#define CONN_TOKENS 8
typedef struct conn_tokens {
    const httpmsg_header *conn;
    const char *t[CONN_TOKENS];
    size_t n[CONN_TOKENS];
    int n_tok;
} conn_tokens;

static void conn_split(conn_tokens *ct)
{
    const char *p = ct->conn ? ct->conn->value : NULL, *e = p ? p + ct->conn->value_len : NULL, *t;
    size_t n;
    while (p && conn_token(&p, e, &t, &n)) {
        if (ct->n_tok == CONN_TOKENS) {
            ct->n_tok = -1;
            return;
        }
        ct->t[ct->n_tok] = t;
        ct->n[ct->n_tok++] = n;
    }
}

/* Fields that describe the HTTP/1.1 hop, not the message (RFC 9113 8.2.2), and those the upstream's
 * Connection field names. */
static int hop_by_hop(const conn_tokens *ct, const char *name, size_t nl)
{
    if (httpmsg_header_is_conn_specific(name, nl))
        return 1;
    if (ct->n_tok < 0) {
        const char *p = ct->conn->value, *e = p + ct->conn->value_len, *t;
        size_t n;
        while (conn_token(&p, e, &t, &n))
            if (n == nl && !strncasecmp(t, name, nl))
                return 1;
        return 0;
    }
    for (int i = 0; i < ct->n_tok; i++)
        if (ct->n[i] == nl && !strncasecmp(ct->t[i], name, nl))
            return 1;
    return 0;
}

/* The three digits of a status httpmsg accepted (100..999), without snprintf on every response. */
static size_t status_digits(int status, char out[4])
{
    if (status < 100 || status > 999)
        return (size_t)snprintf(out, 4, "%d", status % 1000);
    out[0] = (char)('0' + status / 100);
    out[1] = (char)('0' + status / 10 % 10);
    out[2] = (char)('0' + status % 10);
    out[3] = '\0';
    return 3;
}

static int submit_head(proxy_h2_stream *st, const httpmsg_head *h)
{
    /* on the stack for common heads, on the heap past that. nghttp2_submit_response copies the fields
     * and lower-cases the names as it copies (HTTP/2 field names are lowercase, RFC 9113 8.2.1; ours are
     * tokens): a lowercase copy of our own first was a second pass over every name */
    nghttp2_nv nv_stack[64], *nv = nv_stack;
    char code[4];
    int rc = -1;
    if (h->n_headers + 1 > sizeof nv_stack / sizeof nv_stack[0] && !(nv = calloc(h->n_headers + 1, sizeof *nv)))
        return -1;
    size_t n = 0;
    nv[n++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)code, 7, status_digits(h->status, code),
                           NGHTTP2_NV_FLAG_NONE};
    conn_tokens ct = {.conn = httpmsg_find_header(h, "Connection")};
    conn_split(&ct);
    for (size_t i = 0; i < h->n_headers; i++) {
        const httpmsg_header *f = &h->headers[i];
        if (!hop_by_hop(&ct, f->name, f->name_len))
            nv[n++] = (nghttp2_nv){(uint8_t *)f->name, (uint8_t *)f->value, f->name_len, f->value_len,
                                   NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = body_read};
    rc = nghttp2_submit_response(st->s->ng, st->id, nv, n, &dp) == 0 ? 0 : -1;
    if (nv != nv_stack)
        free(nv);
    return rc;
}

/* ---- the upstream side ---- */

static int rs_on_head(void *ctx, const httpmsg_head *h)
{
    proxy_h2_stream *st = ctx;
    st->ev_rhead = 1;
    st->rstatus = h->status;
    st->r_keepalive = h->keep_alive;
    if (h->status >= 200 && !st->submitted) {
        st->final_head = 1;
        if (st->x) { /* the recorded response at its size at once: head, and a body of known length */
            uint64_t body = h->content_length > 0 ? (uint64_t)h->content_length : 0, mb = st->s->w->cfg->max_body;
            (void)tdbuf_reserve(&st->rsbuf, h->head_len + (size_t)(body < mb ? body : mb));
        }
        if (submit_head(st, h) != 0)
            return -1;
        st->submitted = 1;
    }
    return 0;
}

static int rs_on_body(void *ctx, const char *at, size_t len)
{
    proxy_h2_stream *st = ctx;
    return evbuffer_add(st->body, at, len) == 0 ? 0 : -1;
}

static int rs_on_complete(void *ctx)
{
    proxy_h2_stream *st = ctx;
    if (st->rstatus >= 200) {
        st->ev_rdone = 1;
        return 1;
    }
    if (st->x && st->x->n_interim < EXCHANGE_MAX_INTERIM) /* 1xx: not forwarded, listed in the record */
        st->x->interim[st->x->n_interim++] = st->rstatus;
    return 0;
}

static const httpmsg_callbacks rs_callbacks = {rs_on_head, rs_on_body, rs_on_complete};

void proxy_h2_up_release(proxy_h2_stream *st, int reusable)
{
    proxy_upstream_conn *u = st->up;
    if (!u)
        return;
    st->up = NULL;
    if (reusable) {
        proxy_sock_setcb(u->io, NULL, NULL, NULL, NULL);
        proxy_upstream_pool_put(st->s->w->pool, u, proxy_relay_current_target(st->s->w));
    } else {
        proxy_upstream_conn_free(u);
    }
}

void proxy_h2_up_attach(proxy_h2_stream *st, proxy_upstream_conn *u)
{
    const proxy_config *cfg = st->s->w->cfg;
    st->up = u;
    st->up_connected = u->reused;
    proxy_upstream_conn_attach(u, up_read, up_write, up_event, st, cfg->buffer_high, cfg->upstream_timeout_us,
                               cfg->connect_timeout_us);
}

int proxy_h2_up_new_parser(proxy_h2_stream *st)
{
    if (st->rs && !st->retried) { /* a clean one kept from an earlier stream */
        httpmsg_parser_set_request_method(st->rs, st->method);
        return 0;
    }
    httpmsg_parser_free(st->rs);
    httpmsg_limits lim = {.max_head = st->s->w->cfg->max_head};
    st->rs = httpmsg_parser_new(HTTPMSG_RESPONSE, &rs_callbacks, st, &lim);
    if (!st->rs)
        return -1;
    httpmsg_parser_set_request_method(st->rs, st->method);
    return 0;
}

/* The exchange failed upstream: a 502/504 when nothing was answered yet, else the stream is reset. */
void proxy_h2_up_fail(proxy_h2_stream *st, proxy_metrics_uperr_kind kind, int status, const char *msg)
{
    proxy_metrics_upstream_error(st->s->w->m, kind);
    proxy_h2_up_release(st, 0);
    proxy_h2_stream_rec_finish(st, msg);
    proxy_log(PROXY_LOG_DEBUG, "h2 conn %llu stream %d: %s", (unsigned long long)st->s->id, st->id, msg);
    if (!st->submitted) {
        proxy_h2_up_local_response(st, status, msg);
    } else {
        proxy_metrics_request(st->s->w->m, 0, tdtime_mono_us() - st->t0_mono);
        nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    }
}

/* As proxy_relay's: a reused connection the upstream closed as we sent gets the request once more on a
 * fresh one, when it was idempotent, complete and small. Returns 1 when under way. */
static int try_retry(proxy_h2_stream *st)
{
    if (!st->up || !st->up->reused || st->from_up || !st->keep_sent || !st->req_done || st->retried)
        return 0;
    char err[256];
    st->retried = 1;
    proxy_h2_up_release(st, 0);
    proxy_upstream_conn *u = proxy_upstream_pool_connect(st->s->w->pool, proxy_relay_current_target(st->s->w),
                                                         st->s->w->cfg->connect_timeout_us, err, sizeof err);
    if (!u || proxy_h2_up_new_parser(st) != 0) {
        proxy_upstream_conn_free(u);
        return 0;
    }
    proxy_metrics_upstream_connect(st->s->w->m, 0);
    tdbuf_reset(&st->rhead);
    proxy_h2_up_attach(st, u);
    st->keep_sent = 0;
    if (evbuffer_add(bufferevent_get_output(u->bev), st->sent.data, st->sent.len) != 0) {
        proxy_h2_up_release(st, 0);
        return 0;
    }
    return 1;
}

static void up_fail(proxy_h2_stream *st, proxy_metrics_uperr_kind kind, int status, const char *msg)
{
    if (!try_retry(st))
        proxy_h2_up_fail(st, kind, status, msg);
}

static void response_done(proxy_h2_stream *st)
{
    if (st->x)
        st->x->resp_end_us = tdtime_now_us();
    proxy_metrics_request(st->s->w->m, st->rstatus, tdtime_mono_us() - st->t0_mono);
    int extra = st->up && evbuffer_get_length(bufferevent_get_input(st->up->bev)) > 0;
    proxy_h2_up_release(st, st->r_keepalive && st->req_done && !extra);
    proxy_h2_stream_rec_finish(st, NULL);
    st->body_eof = 1;
    nghttp2_session_resume_data(st->s->ng, st->id);
}

/* Where the head being read ends in p (just past its blank line, which may have begun in the bytes
 * already held in st->rhead), or 0 when not in p. The parser is fed no further than that, so the bytes
 * of each head are known: interim heads stay out of the record, the final one goes in whole. */
static size_t head_end(const proxy_h2_stream *st, const char *p, size_t n)
{
    const tdbuf *held = &st->rhead;
    for (const char *q = p; (q = memchr(q, '\n', (size_t)(p + n - q))) != NULL; q++) {
        size_t at = (size_t)(q - p); /* a "\r\n\r\n" ending here? its first bytes may be held */
        if (at >= 3) { /* all four in p (every line but a head's first three bytes): no window to build */
            if (q[-1] == '\r' && q[-2] == '\n' && q[-3] == '\r')
                return at + 1;
            continue;
        }
        char w[4];
        for (int k = 0; k < 4; k++) {
            size_t back = 3 - (size_t)k; /* w[k] is the byte back places before q */
            w[k] = back <= at ? q[-(ptrdiff_t)back] : back - at <= held->len ? held->data[held->len - (back - at)] : 0;
        }
        if (!memcmp(w, "\r\n\r\n", 4))
            return at + 1;
    }
    return 0;
}

/* Parses what the upstream sent. Returns 1 when the exchange ended. */
static int up_process(proxy_h2_stream *st)
{
    if (!st->up)
        return 1;
    struct evbuffer *in = bufferevent_get_input(st->up->bev);
    while (evbuffer_get_length(in) > 0) {
        if (evbuffer_get_length(st->body) >= st->s->w->cfg->buffer_high) {
            st->read_paused = 1; /* the client's flow control or its reading holds us back */
            proxy_sock_read(st->up->io, 0);
            break;
        }
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        if (st->from_up == 0 && st->x)
            st->x->resp_first_us = tdtime_now_us();
        size_t before = evbuffer_get_length(st->body), take = v.iov_len;
        int in_head = !st->head_done;
        if (in_head) {
            size_t k = head_end(st, v.iov_base, v.iov_len);
            if (k)
                take = k;
        }
        st->ev_rhead = 0;
        ssize_t n = httpmsg_parser_execute(st->rs, v.iov_base, take);
        /* a head whole in this chunk (the usual case) goes to the record from here, not through rhead */
        int whole = in_head && n >= 0 && st->ev_rhead && st->rhead.len == 0;
        if (n < 0 || (in_head && !whole && tdbuf_append(&st->rhead, v.iov_base, (size_t)n) != 0)) {
            char msg[300];
            snprintf(msg, sizeof msg, "bad response from upstream: %s",
                     n < 0 ? httpmsg_parser_error(st->rs) : "out of memory");
            up_fail(st, PROXY_METRICS_UPERR_BAD_RESPONSE, 502, msg);
            return 1;
        }
        st->from_up += (uint64_t)n;
        if (!in_head) {
            proxy_h2_stream_rec_append(st, &st->rsbuf, &st->rs_body_rec, 0, v.iov_base, (size_t)n,
                                       EXCHANGE_TRUNC_RESPONSE);
        } else if (st->ev_rhead) {
            if (st->rstatus >= 200) {
                st->head_done = 1;
                const char *hp = whole ? v.iov_base : st->rhead.data;
                size_t hl = whole ? (size_t)n : st->rhead.len;
                proxy_h2_stream_rec_append(st, &st->rsbuf, &st->rs_body_rec, hl, hp, hl, EXCHANGE_TRUNC_RESPONSE);
            }
            tdbuf_reset(&st->rhead);
        }
        evbuffer_drain(in, (size_t)n);
        if (evbuffer_get_length(st->body) > before)
            nghttp2_session_resume_data(st->s->ng, st->id);
        if (st->ev_rdone) {
            response_done(st);
            return 1;
        }
        if (n == 0)
            break;
    }
    return 0;
}

static void up_read(struct bufferevent *bev, void *ctx)
{
    proxy_h2_stream *st = ctx;
    proxy_h2 *s = st->s;
    up_process(st);
    proxy_h2_flush(s);
}

/* The upstream took request bytes: give that much window back to the client. */
void proxy_h2_up_give_window(proxy_h2_stream *st)
{
    if (st->unconsumed && (!st->up || evbuffer_get_length(bufferevent_get_output(st->up->bev)) <
                                          st->s->w->cfg->buffer_high)) {
        nghttp2_session_consume(st->s->ng, st->id, st->unconsumed);
        st->unconsumed = 0;
    }
}

static void up_write(struct bufferevent *bev, void *ctx)
{
    proxy_h2_stream *st = ctx;
    proxy_h2 *s = st->s;
    proxy_h2_up_give_window(st);
    proxy_h2_flush(s);
}

static void up_event(struct bufferevent *bev, short what, void *ctx)
{
    proxy_h2_stream *st = ctx;
    proxy_h2 *s = st->s;
    const proxy_config *cfg = s->w->cfg;
    char msg[640];
    if (what & BEV_EVENT_CONNECTED) {
        st->up_connected = 1;
        struct timeval rd = tdtime_tv(cfg->upstream_timeout_us), wr = rd;
        if (st->up)
            proxy_sock_set_timeouts(st->up->io, &rd, &wr);
        return;
    }
    const char *hp = st->up ? st->up->t->hostport : "?";
    if (what & BEV_EVENT_TIMEOUT) {
        snprintf(msg, sizeof msg, "%s %s: timed out", st->up_connected ? "upstream" : "connect", hp);
        proxy_h2_up_fail(st,
                         st->up_connected ? PROXY_METRICS_UPERR_TIMEOUT : PROXY_METRICS_UPERR_CONNECT_TIMEOUT,
                         504, msg);
    } else if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        if (!up_process(st)) {
            st->ev_rdone = 0;
            if (st->ev_rhead && httpmsg_parser_eof(st->rs) == 0 && st->ev_rdone) {
                st->r_keepalive = 0;
                response_done(st); /* delimited by the close */
            } else {
                up_fail(st, PROXY_METRICS_UPERR_RESET, 502,
                        st->from_up ? "upstream closed the connection inside the response"
                                    : "upstream closed the connection without a response");
            }
        }
    } else {
        char why[300];
        snprintf(msg, sizeof msg, "%s %s: %s", st->up_connected ? "upstream" : "connect", hp,
                 proxy_upstream_conn_error(st->up, EVUTIL_SOCKET_ERROR(), why, sizeof why));
        up_fail(st, st->up_connected ? PROXY_METRICS_UPERR_RESET : PROXY_METRICS_UPERR_CONNECT, 502, msg);
    }
    proxy_h2_flush(s);
}

int proxy_h2_up_resume_all(proxy_h2 *s)
{
    /* called after every send (every upstream read): walking up to PROXY_H2_MAX_STREAMS streams each
     * time for the rare one whose body drained showed in the profile */
    if (!s->n_resume)
        return 0;
    s->n_resume = 0; /* up_process does not mark streams (only body_read, from nghttp2's send, does) */
    int n = 0;
    for (proxy_h2_stream *st = s->streams; st; st = st->next)
        if (st->resume_up) {
            st->resume_up = 0;
            up_process(st);
            n++;
        }
    return n;
}
