/* proxy_h2_stream: one HTTP/2 stream as one exchange on the worker's HTTP/1.1 upstream pool. The request
 * goes up in the HTTP/1.1 form proxy_h2_req builds (a body without Content-Length chunked), and that form
 * is what is recorded, so check and load replay it as any HTTP/1.1 request. The response is parsed with
 * httpmsg (strict framing, as for HTTP/1 clients): its head becomes HEADERS (hop-by-hop fields dropped),
 * its de-chunked body DATA; the record keeps the response as the upstream sent it. */
#include "proxy_h2_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpmsg_facts.h"
#include "proxy_io.h"
#include "proxy_log.h"
#include "tdtime.h"

#define PH2S_REPLAY_MAX (64 * 1024) /* as PCONN_REPLAY_MAX: requests up to this size get one retry */

static void up_read(struct bufferevent *bev, void *ctx);
static void up_write(struct bufferevent *bev, void *ctx);
static void up_event(struct bufferevent *bev, short what, void *ctx);

ph2s *ph2s_new(ph2 *s, int32_t id)
{
    ph2s *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->s = s;
    st->id = id;
    st->seq = s->next_seq++;
    st->t0_mono = tdtime_mono_us();
    st->t0_wall = tdtime_now_us();
    h2req_init(&st->rq, s->w->cfg->max_head);
    tdbuf_init(&st->rqbuf, 0);
    tdbuf_init(&st->rsbuf, 0);
    tdbuf_init(&st->rhead, 0);
    st->body = evbuffer_new();
    if (!st->body) {
        h2req_clear(&st->rq);
        free(st);
        return NULL;
    }
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    s->n_streams++;
    return st;
}

/* ---- recording ---- */

/* Head bytes always, body bytes up to --max-body (the rest marks the record truncated). */
static void rec_append(ph2s *st, tdbuf *b, uint64_t *body_rec, size_t head_len, const char *p, size_t n,
                       unsigned trunc_flag)
{
    if (!st->x)
        return;
    size_t h = head_len < n ? head_len : n;
    uint64_t room = st->s->w->cfg->max_body - *body_rec;
    size_t body = n - h, take = body < room ? body : (size_t)room;
    if (tdbuf_append(b, p, h + take) != 0) {
        pm_dropped(st->s->w->m, PM_DROP_NOMEM);
        proxy_exchange_free(st->x);
        st->x = NULL;
        return;
    }
    *body_rec += take;
    if (take < body)
        st->x->truncated |= trunc_flag;
}

static void rec_begin(ph2s *st, const char *target_uri)
{
    proxy_wctx *w = st->s->w;
    if (!w->rec)
        return;
    if (!proxy_recorder_wants(w->rec, h2req_pseudo(&st->rq, H2REQ_P_PATH), &w->rnd)) {
        pm_sampled_out(w->m);
        return;
    }
    exchange *x = malloc(sizeof *x);
    if (!x) {
        pm_dropped(w->m, PM_DROP_NOMEM);
        return;
    }
    exchange_init(x);
    x->conn_id = st->s->id;
    x->conn_seq = st->seq;
    x->req_start_us = st->t0_wall;
    if (exchange_set_str(&x->client_addr, st->s->peer) || exchange_set_str(&x->protocol, st->s->proto) ||
        exchange_set_str(&x->target_uri, target_uri)) {
        proxy_exchange_free(x);
        pm_dropped(w->m, PM_DROP_NOMEM);
        return;
    }
    st->x = x;
}

static void rec_finish(ph2s *st, const char *error)
{
    exchange *x = st->x;
    if (!x)
        return;
    st->x = NULL;
    x->request = tdbuf_steal(&st->rqbuf, &x->request_len);
    if (error) {
        tdbuf_free(&st->rsbuf);
        if (exchange_set_str(&x->error, error) != 0) {
            pm_dropped(st->s->w->m, PM_DROP_NOMEM);
            proxy_exchange_free(x);
            return;
        }
    } else {
        x->response = tdbuf_steal(&st->rsbuf, &x->response_len);
    }
    if (!x->request || (!error && !x->response)) {
        pm_dropped(st->s->w->m, PM_DROP_NOMEM);
        proxy_exchange_free(x);
        return;
    }
    proxy_recorder_push(st->s->w->rec, x);
}

/* ---- response to the client ---- */

static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    ph2s *st = src->ptr;
    size_t have = evbuffer_get_length(st->body);
    if (have == 0 && !st->body_eof)
        return NGHTTP2_ERR_DEFERRED; /* resumed when the upstream sends more */
    int n = evbuffer_remove(st->body, buf, length);
    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (st->body_eof && evbuffer_get_length(st->body) == 0)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->read_paused && st->up && evbuffer_get_length(st->body) < st->s->w->cfg->buffer_high / 2) {
        st->read_paused = 0;
        proxy_sock_read(st->up->io, 1);
    }
    return n;
}

/* A response made here (refusals, upstream failures): a short text body. */
static void local_response(ph2s *st, int status, const char *msg)
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
    pm_request(st->s->w->m, status, tdtime_mono_us() - st->t0_mono);
}

/* Fields that describe the HTTP/1.1 hop, not the message (RFC 9113 8.2.2), and those the upstream's
 * Connection field names. */
static int hop_by_hop(const httpmsg_head *h, const char *name, size_t nl)
{
    if (httpmsg_header_is_conn_specific(name, nl))
        return 1;
    const httpmsg_header *c = httpmsg_find_header(h, "Connection");
    for (const char *p = c ? c->value : NULL, *e = p ? p + c->value_len : NULL; p && p < e;) {
        while (p < e && (*p == ' ' || *p == ',' || *p == '\t'))
            p++;
        const char *t = p;
        while (p < e && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - t) == nl && !strncasecmp(t, name, nl))
            return 1;
    }
    return 0;
}

static int submit_head(ph2s *st, const httpmsg_head *h)
{
    nghttp2_nv *nv = calloc(h->n_headers + 1, sizeof *nv);
    char *names = malloc(h->head_len + 1), code[16];
    int rc = -1;
    if (!nv || !names)
        goto out;
    snprintf(code, sizeof code, "%d", h->status);
    size_t n = 0, used = 0;
    nv[n++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)code, 7, strlen(code), NGHTTP2_NV_FLAG_NONE};
    for (size_t i = 0; i < h->n_headers; i++) {
        const httpmsg_header *f = &h->headers[i];
        if (hop_by_hop(h, f->name, f->name_len) || used + f->name_len > h->head_len)
            continue;
        char *lc = names + used; /* HTTP/2 field names are lowercase (RFC 9113 8.2.1) */
        for (size_t k = 0; k < f->name_len; k++)
            lc[k] = (char)tolower((unsigned char)f->name[k]);
        used += f->name_len;
        nv[n++] = (nghttp2_nv){(uint8_t *)lc, (uint8_t *)f->value, f->name_len, f->value_len, NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = body_read};
    rc = nghttp2_submit_response(st->s->ng, st->id, nv, n, &dp) == 0 ? 0 : -1; /* copies nv */
out:
    free(nv);
    free(names);
    return rc;
}

/* ---- the upstream side ---- */

static int rs_on_head(void *ctx, const httpmsg_head *h)
{
    ph2s *st = ctx;
    st->ev_rhead = 1;
    st->rstatus = h->status;
    st->r_keepalive = h->keep_alive;
    if (h->status >= 200 && !st->submitted) {
        st->final_head = 1;
        if (submit_head(st, h) != 0)
            return -1;
        st->submitted = 1;
    }
    return 0;
}

static int rs_on_body(void *ctx, const char *at, size_t len)
{
    ph2s *st = ctx;
    return evbuffer_add(st->body, at, len) == 0 ? 0 : -1;
}

static int rs_on_complete(void *ctx)
{
    ph2s *st = ctx;
    if (st->rstatus >= 200) {
        st->ev_rdone = 1;
        return 1;
    }
    if (st->x && st->x->n_interim < EXCHANGE_MAX_INTERIM) /* 1xx: not forwarded, listed in the record */
        st->x->interim[st->x->n_interim++] = st->rstatus;
    return 0;
}

static const httpmsg_callbacks rs_callbacks = {rs_on_head, rs_on_body, rs_on_complete};

static void up_release(ph2s *st, int reusable)
{
    upconn *u = st->up;
    if (!u)
        return;
    st->up = NULL;
    if (reusable) {
        proxy_sock_setcb(u->io, NULL, NULL, NULL, NULL);
        up_pool_put(st->s->w->pool, u, pconn_current_target(st->s->w));
    } else {
        upconn_free(u);
    }
}

static void attach(ph2s *st, upconn *u)
{
    const proxy_config *cfg = st->s->w->cfg;
    st->up = u;
    st->up_connected = u->reused;
    upconn_attach(u, up_read, up_write, up_event, st, cfg->buffer_high, cfg->upstream_timeout_us,
                  cfg->connect_timeout_us);
}

static int new_parser(ph2s *st)
{
    httpmsg_parser_free(st->rs);
    httpmsg_limits lim = {.max_head = st->s->w->cfg->max_head};
    st->rs = httpmsg_parser_new(HTTPMSG_RESPONSE, &rs_callbacks, st, &lim);
    if (!st->rs)
        return -1;
    httpmsg_parser_set_request_method(st->rs, st->method);
    return 0;
}

/* The exchange failed upstream: a 502/504 when nothing was answered yet, else the stream is reset. */
static void fail(ph2s *st, pm_uperr_kind kind, int status, const char *msg)
{
    pm_upstream_error(st->s->w->m, kind);
    up_release(st, 0);
    rec_finish(st, msg);
    plog(PLOG_DEBUG, "h2 conn %llu stream %d: %s", (unsigned long long)st->s->id, st->id, msg);
    if (!st->submitted) {
        local_response(st, status, msg);
    } else {
        pm_request(st->s->w->m, 0, tdtime_mono_us() - st->t0_mono);
        nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    }
}

/* As proxy_relay's: a reused connection the upstream closed as we sent gets the request once more on a
 * fresh one, when it was idempotent, complete and small. Returns 1 when under way. */
static int try_retry(ph2s *st)
{
    if (!st->up || !st->up->reused || st->from_up || !st->sent || !st->req_done || st->retried)
        return 0;
    char err[256];
    st->retried = 1;
    up_release(st, 0);
    upconn *u = up_pool_connect(st->s->w->pool, pconn_current_target(st->s->w), st->s->w->cfg->connect_timeout_us,
                                err, sizeof err);
    if (!u || new_parser(st) != 0) {
        upconn_free(u);
        return 0;
    }
    pm_upstream_connect(st->s->w->m, 0);
    tdbuf_reset(&st->rhead);
    attach(st, u);
    evbuffer_add_buffer(bufferevent_get_output(u->bev), st->sent);
    evbuffer_free(st->sent);
    st->sent = NULL;
    return 1;
}

static void up_fail(ph2s *st, pm_uperr_kind kind, int status, const char *msg)
{
    if (!try_retry(st))
        fail(st, kind, status, msg);
}

static void response_done(ph2s *st)
{
    if (st->x)
        st->x->resp_end_us = tdtime_now_us();
    pm_request(st->s->w->m, st->rstatus, tdtime_mono_us() - st->t0_mono);
    int extra = st->up && evbuffer_get_length(bufferevent_get_input(st->up->bev)) > 0;
    up_release(st, st->r_keepalive && st->req_done && !extra);
    rec_finish(st, NULL);
    st->body_eof = 1;
    nghttp2_session_resume_data(st->s->ng, st->id);
}

/* Where the head being read ends in p (just past its blank line, which may have begun in the bytes
 * already held in st->rhead), or 0 when not in p. The parser is fed no further than that, so the bytes
 * of each head are known: interim heads stay out of the record, the final one goes in whole. */
static size_t head_end(const ph2s *st, const char *p, size_t n)
{
    char tmp[6];
    size_t tl = st->rhead.len < 3 ? st->rhead.len : 3, m = n < 3 ? n : 3;
    if (tl)
        memcpy(tmp, st->rhead.data + st->rhead.len - tl, tl);
    memcpy(tmp + tl, p, m);
    for (size_t i = 0; i + 4 <= tl + m; i++)
        if (!memcmp(tmp + i, "\r\n\r\n", 4) && i + 4 > tl)
            return i + 4 - tl;
    const char *f = memmem(p, n, "\r\n\r\n", 4);
    return f ? (size_t)(f - p) + 4 : 0;
}

/* Parses what the upstream sent. Returns 1 when the exchange ended. */
static int up_process(ph2s *st)
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
        if (n < 0 || (in_head && tdbuf_append(&st->rhead, v.iov_base, (size_t)n) != 0)) {
            char msg[300];
            snprintf(msg, sizeof msg, "bad response from upstream: %s",
                     n < 0 ? httpmsg_parser_error(st->rs) : "out of memory");
            up_fail(st, PM_UPERR_BAD_RESPONSE, 502, msg);
            return 1;
        }
        st->from_up += (uint64_t)n;
        if (!in_head) {
            rec_append(st, &st->rsbuf, &st->rs_body_rec, 0, v.iov_base, (size_t)n, EXCHANGE_TRUNC_RESPONSE);
        } else if (st->ev_rhead) {
            if (st->rstatus >= 200) {
                st->head_done = 1;
                rec_append(st, &st->rsbuf, &st->rs_body_rec, st->rhead.len, st->rhead.data, st->rhead.len,
                           EXCHANGE_TRUNC_RESPONSE);
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
    ph2s *st = ctx;
    ph2 *s = st->s;
    up_process(st);
    ph2_flush(s);
}

/* The upstream took request bytes: give that much window back to the client. */
static void give_window(ph2s *st)
{
    if (st->unconsumed && (!st->up || evbuffer_get_length(bufferevent_get_output(st->up->bev)) <
                                          st->s->w->cfg->buffer_high)) {
        nghttp2_session_consume(st->s->ng, st->id, st->unconsumed);
        st->unconsumed = 0;
    }
}

static void up_write(struct bufferevent *bev, void *ctx)
{
    ph2s *st = ctx;
    ph2 *s = st->s;
    give_window(st);
    ph2_flush(s);
}

static void up_event(struct bufferevent *bev, short what, void *ctx)
{
    ph2s *st = ctx;
    ph2 *s = st->s;
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
        fail(st, st->up_connected ? PM_UPERR_TIMEOUT : PM_UPERR_CONNECT_TIMEOUT, 504, msg);
    } else if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        if (!up_process(st)) {
            st->ev_rdone = 0;
            if (st->ev_rhead && httpmsg_parser_eof(st->rs) == 0 && st->ev_rdone) {
                st->r_keepalive = 0;
                response_done(st); /* delimited by the close */
            } else {
                up_fail(st, PM_UPERR_RESET, 502,
                        st->from_up ? "upstream closed the connection inside the response"
                                    : "upstream closed the connection without a response");
            }
        }
    } else {
        int e = EVUTIL_SOCKET_ERROR();
        snprintf(msg, sizeof msg, "%s %s: %s", st->up_connected ? "upstream" : "connect", hp,
                 e ? evutil_socket_error_to_string(e) : "connection error");
        up_fail(st, st->up_connected ? PM_UPERR_RESET : PM_UPERR_CONNECT, 502, msg);
    }
    ph2_flush(s);
}

/* ---- the request ---- */

static void send_up(ph2s *st, const void *p, size_t n)
{
    if (!st->up)
        return;
    if (st->sent) {
        if (evbuffer_get_length(st->sent) + n > PH2S_REPLAY_MAX || evbuffer_add(st->sent, p, n) != 0) {
            evbuffer_free(st->sent);
            st->sent = NULL;
        }
    }
    evbuffer_add(bufferevent_get_output(st->up->bev), p, n);
}

void ph2s_request_head(ph2s *st, int end_stream)
{
    ph2 *s = st->s;
    proxy_wctx *w = s->w;
    up_target *t = pconn_current_target(w);
    tdbuf head;
    tdbuf_init(&head, 0);
    int rc = h2req_head(&st->rq, end_stream, t->hostport, &head, &st->chunked);
    st->req_done = end_stream;
    if (rc != H2REQ_OK) {
        tdbuf_free(&head);
        st->refused = 1;
        if (rc == H2REQ_ETOOLARGE) {
            pm_reject(w->m, PM_REJ_431);
            pm_h2_refused(w->m, PM_H2_HEADER_LIST);
            local_response(st, 431, "request header list too large");
        } else if (rc == H2REQ_ECONNECT) {
            local_response(st, 405, "CONNECT is not proxied");
        } else {
            pm_reject(w->m, PM_REJ_400);
            pm_h2_refused(w->m, PM_H2_MESSAGING);
            nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        }
        return;
    }
    snprintf(st->method, sizeof st->method, "%s", h2req_pseudo(&st->rq, H2REQ_P_METHOD));
    const char *auth = h2req_pseudo(&st->rq, H2REQ_P_AUTHORITY);
    char *uri = NULL;
    if (w->rec) {
        tdbuf u;
        tdbuf_init(&u, 0);
        if (tdbuf_printf(&u, "%s://%s%s", h2req_pseudo(&st->rq, H2REQ_P_SCHEME),
                         auth && *auth ? auth : t->hostport, h2req_pseudo(&st->rq, H2REQ_P_PATH)) == 0)
            uri = tdbuf_steal(&u, NULL);
        tdbuf_free(&u);
        rec_begin(st, uri);
        free(uri);
    }
    st->rq_head_len = head.len;
    rec_append(st, &st->rqbuf, &st->rq_body_rec, head.len, head.data, head.len, EXCHANGE_TRUNC_REQUEST);
    if (!st->sent && httpmsg_method_is_idempotent(st->method))
        st->sent = evbuffer_new();
    char err[256];
    upconn *u = new_parser(st) == 0 ? up_pool_take(w->pool, t) : NULL;
    if (!u && st->rs)
        u = up_pool_connect(w->pool, t, w->cfg->connect_timeout_us, err, sizeof err);
    if (!u) {
        tdbuf_free(&head);
        fail(st, PM_UPERR_CONNECT, 502, st->rs ? err : "out of memory");
        return;
    }
    pm_upstream_connect(w->m, u->reused);
    attach(st, u);
    send_up(st, head.data, head.len);
    tdbuf_free(&head);
}

void ph2s_request_data(ph2s *st, const uint8_t *p, size_t n)
{
    if (st->refused || !st->up) {
        nghttp2_session_consume(st->s->ng, st->id, n); /* nobody takes it: keep the windows open */
        return;
    }
    char line[24];
    if (st->chunked && n) {
        int k = snprintf(line, sizeof line, "%zx\r\n", n);
        send_up(st, line, (size_t)k);
        rec_append(st, &st->rqbuf, &st->rq_body_rec, (size_t)k, line, (size_t)k, EXCHANGE_TRUNC_REQUEST);
    }
    send_up(st, p, n);
    rec_append(st, &st->rqbuf, &st->rq_body_rec, 0, (const char *)p, n, EXCHANGE_TRUNC_REQUEST);
    if (st->chunked && n) {
        send_up(st, "\r\n", 2);
        rec_append(st, &st->rqbuf, &st->rq_body_rec, 2, "\r\n", 2, EXCHANGE_TRUNC_REQUEST);
    }
    st->unconsumed += n;
    give_window(st);
}

void ph2s_request_end(ph2s *st)
{
    if (st->req_done)
        return;
    st->req_done = 1;
    if (st->chunked && st->up) {
        send_up(st, "0\r\n\r\n", 5);
        rec_append(st, &st->rqbuf, &st->rq_body_rec, 5, "0\r\n\r\n", 5, EXCHANGE_TRUNC_REQUEST);
    }
}

void ph2s_resume_all(ph2 *s)
{
    (void)s; /* DATA is pulled by nghttp2 from each stream's body buffer as the windows allow */
}

void ph2s_free(ph2s *st, uint32_t error_code)
{
    ph2 *s = st->s;
    if (st->x) /* the client reset the stream (or the connection ended) before the response was whole */
        rec_finish(st, error_code == NGHTTP2_NO_ERROR ? "stream closed before the response ended"
                                                       : "client reset the stream");
    if (st->up && !st->ev_rdone && !st->refused)
        pm_request(s->w->m, 0, tdtime_mono_us() - st->t0_mono);
    up_release(st, 0);
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
    httpmsg_parser_free(st->rs);
    h2req_clear(&st->rq);
    if (st->sent)
        evbuffer_free(st->sent);
    evbuffer_free(st->body);
    tdbuf_free(&st->rqbuf);
    tdbuf_free(&st->rsbuf);
    tdbuf_free(&st->rhead);
    free(st);
}
