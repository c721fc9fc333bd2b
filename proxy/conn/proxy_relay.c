/* proxy_relay: the upstream side of an exchange. Responses are parsed with httpmsg (so the proxy knows
 * where each ends and whether the connection can be reused) and forwarded byte for byte. A response
 * head is held until httpmsg has accepted it: an ambiguous response becomes a 502, never a guess.
 * Interim 1xx responses go to the client and only their codes go to the record. */
#include "proxy_conn_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_log.h"
#include "td_assert.h"
#include "tdtime.h"

/* Upstream selection: the target for new requests (refreshed when a cut-over happened). */
proxy_upstream_target *proxy_relay_current_target(proxy_wctx *w)
{
    if (proxy_upstream_holder_gen(w->targets) != w->target->gen) {
        proxy_upstream_target_unref(w->target);
        w->target = proxy_upstream_holder_get(w->targets);
        proxy_upstream_pool_retire(w->pool, w->target);
        proxy_log(PROXY_LOG_INFO, "worker now sends new requests to %s", w->target->url);
    }
    return w->target;
}

static int rs_on_head(void *ctx, const httpmsg_head *h)
{
    proxy_conn *c = ctx;
    c->ev_rhead = 1;
    c->rstatus = h->status;
    c->r_keepalive = h->keep_alive;
    c->r_head_len = h->head_len;
    c->r_cl = h->content_length;
    return 0; /* httpmsg already knows 1xx/204/304 and HEAD answers have no body */
}

static int rs_on_complete(void *ctx)
{
    proxy_conn *c = ctx;
    c->ev_rdone = 1;
    return 1; /* pause after every message, interim ones too, so each is accounted on its own */
}

static const httpmsg_callbacks rs_callbacks = {rs_on_head, NULL, rs_on_complete};

static void relay_tunnel_start(proxy_conn *c);

static void attach(proxy_conn *c, proxy_upstream_conn *u)
{
    const proxy_config *cfg = c->w->cfg;
    c->up = u;
    c->up_connected = u->reused;
    proxy_upstream_conn_attach(u, c->upcb->rd, c->upcb->wr, c->upcb->ev, c, cfg->buffer_high,
                               cfg->upstream_timeout_us, cfg->connect_timeout_us);
    proxy_conn_rec_sink(c, u->io);
}

static int new_response_parser(proxy_conn *c)
{
    proxy_conn_parser_put(c->w, PROXY_CONN_RS, c->rs);
    c->rs = proxy_conn_parser_get(c, PROXY_CONN_RS, &rs_callbacks);
    if (!c->rs)
        return -1;
    httpmsg_parser_set_request_method(c->rs, c->method);
    return 0;
}

/* Fails the exchange before any response byte reached the client (502/504), or cuts the client off
 * when part of a response already went out. */
static void fail_exchange(proxy_conn *c, int status, const char *msg)
{
    proxy_relay_release(c, 0);
    proxy_conn_parser_put(c->w, PROXY_CONN_RS, c->rs); /* it may be inside a message: reuse resets it */
    c->rs = NULL;
    proxy_conn_rec_finish(c, msg);
    if (c->to_client == 0) {
        proxy_conn_err_send(c, status, msg);
    } else {
        proxy_metrics_request(c->w->m, 0, tdtime_mono_us() - c->t0_mono);
        proxy_log(PROXY_LOG_DEBUG, "conn %llu %s: response cut: %s", (unsigned long long)c->id, c->peer, msg);
        proxy_conn_finish_close(c);
    }
}

int proxy_relay_start(proxy_conn *c)
{
    proxy_wctx *w = c->w;
    proxy_upstream_target *t = proxy_relay_current_target(w);
    char err[256];
    if (!c->rs) {
        if (new_response_parser(c) != 0) {
            fail_exchange(c, 502, "out of memory");
            return -1;
        }
    } else {
        httpmsg_parser_set_request_method(c->rs, c->method);
    }
    proxy_upstream_conn *u = proxy_upstream_pool_take(w->pool, t);
    if (!u) {
        u = proxy_upstream_pool_connect(w->pool, t, w->cfg->connect_timeout_us, err, sizeof err);
        if (!u) {
            proxy_metrics_upstream_error(w->m, PROXY_METRICS_UPERR_CONNECT);
            fail_exchange(c, 502, err);
            return -1;
        }
    }
    proxy_metrics_upstream_connect(w->m, u->reused);
    TD_ASSERT(c->sstate == RS_NONE && c->rstate == RQ_BODY);
    c->sstate = RS_HEAD;
    c->replay_ok = u->reused && c->idempotent;
    attach(c, u);
    return 0;
}

void proxy_relay_send(proxy_conn *c, struct evbuffer *src, size_t n)
{
    if (!c->up) {
        evbuffer_drain(src, n);
        return;
    }
    if (c->replay_ok) {
        if (evbuffer_get_length(c->replay) + n > PROXY_CONN_REPLAY_MAX) {
            c->replay_ok = 0;
            evbuffer_drain(c->replay, evbuffer_get_length(c->replay));
        } else {
            struct evbuffer_iovec v;
            if (evbuffer_reserve_space(c->replay, (ev_ssize_t)n, &v, 1) == 1 && v.iov_len >= n &&
                evbuffer_copyout(src, v.iov_base, n) == (ev_ssize_t)n) {
                v.iov_len = n;
                evbuffer_commit_space(c->replay, &v, 1);
            } else {
                c->replay_ok = 0;
            }
        }
    }
    proxy_io_send(c->up->bev, c->up_connected, src, n);
}

void proxy_relay_release(proxy_conn *c, int reusable)
{
    proxy_upstream_conn *u = c->up;
    if (!u)
        return;
    c->up = NULL;
    if (reusable) {
        proxy_sock_setcb(u->io, NULL, NULL, NULL, NULL);
        proxy_upstream_pool_put(c->w->pool, u, proxy_relay_current_target(c->w));
    } else {
        proxy_upstream_conn_free(u);
    }
}

/* A reused keep-alive connection may have been closed by the upstream just as we sent on it. If no
 * response byte came back and the whole (idempotent) request is still at hand, send it again once on
 * a fresh connection. Returns 1 when the retry is under way. */
static int try_retry(proxy_conn *c)
{
    if (!c->up || !c->up->reused || c->from_up != 0 || c->rs_pend || !c->replay_ok || c->retried)
        return 0;
    char err[256];
    c->retried = 1;
    proxy_relay_release(c, 0);
    proxy_upstream_conn *u = proxy_upstream_pool_connect(c->w->pool, proxy_relay_current_target(c->w),
                                                         c->w->cfg->connect_timeout_us, err, sizeof err);
    if (!u || new_response_parser(c) != 0) {
        proxy_upstream_conn_free(u);
        return 0;
    }
    proxy_metrics_upstream_connect(c->w->m, 0);
    attach(c, u);
    c->replay_ok = 0;
    evbuffer_add_buffer(bufferevent_get_output(u->bev), c->replay);
    proxy_log(PROXY_LOG_DEBUG, "conn %llu: retrying %s %s on a fresh upstream connection",
              (unsigned long long)c->id, c->method, c->url);
    return 1;
}

static int relay_fail(proxy_conn *c, proxy_metrics_uperr_kind kind, int status, const char *msg)
{
    if (try_retry(c))
        return PROXY_RELAY_MORE;
    proxy_metrics_upstream_error(c->w->m, kind);
    fail_exchange(c, status, msg);
    return PROXY_RELAY_GONE;
}

/* The response is complete: account and record it, release the upstream connection (or start the
 * tunnel after a 101). PROXY_RELAY_DONE tells the client side to move on to the next request. */
static int response_done(proxy_conn *c, int by_eof)
{
    proxy_wctx *w = c->w;
    TD_ASSERT(c->sstate == RS_HEAD || c->sstate == RS_BODY);
    c->sstate = RS_DONE;
    if (c->x)
        c->x->resp_end_us = tdtime_now_us();
    proxy_metrics_request(w->m, c->rstatus, tdtime_mono_us() - c->t0_mono);
    int upgraded = c->rstatus == 101 && c->req_upgrade;
    int extra = c->up && evbuffer_get_length(bufferevent_get_input(c->up->bev)) > 0;
    int reusable = !by_eof && !upgraded && !c->req_upgrade && c->r_keepalive && c->req_keepalive &&
                   c->rstate == RQ_DONE && !c->up_dirty && !extra;
    if (!c->r_keepalive || !c->req_keepalive || by_eof || c->rstate != RQ_DONE)
        c->close_after = 1;
    proxy_log(PROXY_LOG_DEBUG, "conn %llu %s: %s %s -> %d", (unsigned long long)c->id, c->peer, c->method,
              c->url, c->rstatus);
    proxy_conn_rec_finish(c, NULL);
    if (upgraded) {
        relay_tunnel_start(c);
        return PROXY_RELAY_MORE;
    }
    proxy_conn_parser_put(c->w, PROXY_CONN_RS, c->rs); /* idle connections hold none */
    c->rs = NULL;
    proxy_relay_release(c, reusable);
    return PROXY_RELAY_DONE;
}

static int relay_eof(proxy_conn *c)
{
    c->ev_rdone = 0;
    if (c->sstate == RS_BODY && httpmsg_parser_eof(c->rs) == 0 && c->ev_rdone)
        return response_done(c, 1); /* a response delimited by the connection's close */
    return relay_fail(c, PROXY_METRICS_UPERR_RESET, 502,
                      c->from_up ? "upstream closed the connection inside the response"
                                 : "upstream closed the connection without a response");
}

enum { DIRECT_NONE = 0, DIRECT_SENT, DIRECT_HOLD, DIRECT_GONE };

static int relay_interim(const proxy_conn *c)
{
    return c->rstatus < 200 && !(c->rstatus == 101 && c->req_upgrade);
}

/* The parser took n of the rs_pend bytes read into rsbuf's end. What it left (past a message's end) goes
 * back to the front of the input, which only ever holds later bytes. A final head, and body bytes, are
 * forwarded from rsbuf and stay there as the record (DIRECT_SENT); a head the read cut short, or an
 * interim response, is not the record's: it moves into rhold and takes the input's path (DIRECT_HOLD).
 * DIRECT_GONE: out of memory, c is closing or gone. */
static int relay_direct(proxy_conn *c, struct evbuffer *in, size_t n)
{
    size_t avail = c->rs_pend, start = c->rsbuf.len - avail;
    const char *p = c->rsbuf.data + start;
    int r = DIRECT_SENT;
    c->rs_pend = 0;
    if (n < avail && evbuffer_prepend(in, p + n, avail - n) != 0)
        r = DIRECT_GONE;
    c->rsbuf.len = start + n;
    if (r == DIRECT_SENT && c->sstate == RS_HEAD && (!c->ev_rhead || relay_interim(c))) {
        r = evbuffer_add(c->rhold, p, n) == 0 ? DIRECT_HOLD : DIRECT_GONE;
        c->rsbuf.len = start;
    }
    c->rsbuf.data[c->rsbuf.len] = '\0';
    if (r != DIRECT_SENT) {
        if (r == DIRECT_GONE)
            fail_exchange(c, 502, "out of memory");
        return r;
    }
    size_t head = 0;
    if (c->sstate == RS_HEAD) {
        head = c->r_head_len;
        c->sstate = RS_BODY;
        size_t mb = (size_t)c->w->cfg->max_body, want = c->r_head_len + (c->r_cl < (int64_t)mb ? (size_t)c->r_cl : mb);
        if (c->r_cl > 0 && !c->is_head && want > c->rsbuf.len)
            (void)tdbuf_reserve(&c->rsbuf, want - c->rsbuf.len); /* the rest of the body reads in here */
    }
    struct iovec v = {c->rsbuf.data + start, n};
    c->to_client += n;
    proxy_metrics_bytes(c->w->m, 0, n);
    if (proxy_io_sendv(c->bev, 1, &v, 1) != 0) {
        fail_exchange(c, 502, "out of memory");
        return DIRECT_GONE;
    }
    proxy_conn_rec_direct(c, start, n, head);
    return DIRECT_SENT;
}

/* Nothing of the upstream's bytes waits: neither in the input nor read into the record. */
static int relay_up_drained(proxy_conn *c)
{
    return c->rs_pend == 0 && evbuffer_get_length(bufferevent_get_input(c->up->bev)) == 0;
}

int proxy_relay_process(proxy_conn *c)
{
    if (!c->up)
        return PROXY_RELAY_MORE;
    struct evbuffer *in = bufferevent_get_input(c->up->bev), *out = bufferevent_get_output(c->bev);
    size_t high = c->w->cfg->buffer_high;
    if (c->tunnel) {
        size_t n = evbuffer_get_length(in);
        if (n && evbuffer_get_length(out) < high) {
            proxy_metrics_bytes(c->w->m, 0, n);
            evbuffer_add_buffer(out, in);
        }
        return PROXY_RELAY_MORE;
    }
    while (c->sstate == RS_HEAD || c->sstate == RS_BODY) {
        size_t avail = c->rs_pend ? c->rs_pend : evbuffer_get_length(in);
        if (avail == 0)
            break;
        if (evbuffer_get_length(out) >= high)
            return PROXY_RELAY_MORE; /* resumed from the client's write callback */
        struct evbuffer_iovec v;
        if (c->rs_pend) { /* read into the record (proxy_conn_rec.c): they come before the input's */
            v.iov_base = c->rsbuf.data + c->rsbuf.len - avail;
            v.iov_len = avail;
        } else if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
            break;
        }
        if (c->from_up == 0 && c->x)
            c->x->resp_first_us = tdtime_now_us();
        c->ev_rhead = c->ev_rdone = 0;
        ssize_t n = httpmsg_parser_execute(c->rs, v.iov_base, v.iov_len);
        if (n < 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "bad response from upstream: %s", httpmsg_parser_error(c->rs));
            if (c->rs_pend) { /* no record's bytes (a retry starts the response afresh) */
                c->rsbuf.len -= c->rs_pend;
                c->rsbuf.data[c->rsbuf.len] = '\0';
                c->rs_pend = 0;
            }
            return relay_fail(c, PROXY_METRICS_UPERR_BAD_RESPONSE, 502, msg);
        }
        c->from_up += (uint64_t)n;
        int d = c->rs_pend ? relay_direct(c, in, (size_t)n) : DIRECT_NONE;
        if (d == DIRECT_GONE)
            return PROXY_RELAY_GONE;
        if (d == DIRECT_SENT) {
            /* forwarded and recorded by relay_direct */
        } else if (c->sstate == RS_HEAD) {
            if (d == DIRECT_NONE)
                evbuffer_remove_buffer(in, c->rhold, (size_t)n);
            if (!c->ev_rhead) {
                if (n == 0)
                    break;
                continue;
            }
            int interim = relay_interim(c);
            size_t hl = evbuffer_get_length(c->rhold);
            if (interim) {
                if (c->x && c->x->n_interim < EXCHANGE_MAX_INTERIM)
                    c->x->interim[c->x->n_interim++] = c->rstatus;
                if (c->rstatus == 101 || !c->ev_rdone)
                    return relay_fail(c, PROXY_METRICS_UPERR_BAD_RESPONSE, 502,
                                      "unexpected 101 from upstream");
            } else if (c->x) {
                /* one allocation for the recorded copy instead of a doubling series */
                if (c->r_cl > 0 && !c->is_head)
                    (void)tdbuf_reserve(&c->rsbuf, c->r_head_len + (size_t)(c->r_cl < (int64_t)c->w->cfg->max_body
                                                                          ? c->r_cl
                                                                          : (int64_t)c->w->cfg->max_body));
                const char *p = (const char *)evbuffer_pullup(c->rhold, -1);
                if (p)
                    proxy_conn_rec_append(c, &c->rsbuf, &c->rs_body_rec, c->r_head_len, p, hl,
                                          EXCHANGE_TRUNC_RESPONSE);
            }
            c->to_client += hl;
            proxy_metrics_bytes(c->w->m, 0, hl);
            proxy_io_send(c->bev, 1, c->rhold, hl);
            if (interim) {
                httpmsg_parser_resume(c->rs);
                continue;
            }
            c->sstate = RS_BODY;
        } else {
            if (c->x)
                proxy_conn_rec_append(c, &c->rsbuf, &c->rs_body_rec, 0, v.iov_base, (size_t)n,
                                      EXCHANGE_TRUNC_RESPONSE);
            c->to_client += (uint64_t)n;
            proxy_metrics_bytes(c->w->m, 0, (uint64_t)n);
            proxy_io_send(c->bev, 1, in, (size_t)n);
        }
        if (c->ev_rdone)
            return response_done(c, 0);
        if (n == 0)
            break;
    }
    if (c->up && c->up_eof && relay_up_drained(c))
        return relay_eof(c);
    return PROXY_RELAY_MORE;
}

static
void relay_tunnel_start(proxy_conn *c)
{
    const proxy_config *cfg = c->w->cfg;
    c->tunnel = 1;
    c->close_after = 1;
    struct timeval tv = tdtime_tv(cfg->idle_timeout_us);
    proxy_sock_set_timeouts(c->io, &tv, NULL);
    proxy_sock_set_timeouts(c->up->io, &tv, NULL);
    proxy_sock_read(c->io, 1);
    proxy_relay_tunnel_from_client(c); /* bytes the client sent right after its upgrade request */
    proxy_relay_process(c);            /* bytes the upstream sent right after its 101 */
}

void proxy_relay_tunnel_from_client(proxy_conn *c)
{
    if (!c->up)
        return;
    struct evbuffer *in = bufferevent_get_input(c->bev), *out = bufferevent_get_output(c->up->bev);
    size_t n = evbuffer_get_length(in);
    if (n && evbuffer_get_length(out) < c->w->cfg->buffer_high) {
        proxy_metrics_bytes(c->w->m, n, 0);
        evbuffer_add_buffer(out, in);
    }
}

int proxy_relay_up_event(proxy_conn *c, short what)
{
    const proxy_config *cfg = c->w->cfg;
    char msg[640];
    if (what & BEV_EVENT_CONNECTED) {
        c->up_connected = 1;
        struct timeval rd = tdtime_tv(cfg->upstream_timeout_us), wr = rd;
        if (c->up)
            proxy_sock_set_timeouts(c->up->io, &rd, &wr);
        return PROXY_RELAY_MORE;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        int connecting = !c->up_connected;
        snprintf(msg, sizeof msg, "%s %s: timed out", connecting ? "connect" : "upstream",
                 c->up ? c->up->t->hostport : "?");
        return relay_fail(c, connecting ? PROXY_METRICS_UPERR_CONNECT_TIMEOUT : PROXY_METRICS_UPERR_TIMEOUT,
                          504, msg);
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        c->up_eof = 1;
        int r = proxy_relay_process(c);
        if (r != PROXY_RELAY_MORE)
            return r;
        if (c->up && relay_up_drained(c))
            return relay_eof(c);
        return PROXY_RELAY_MORE; /* the rest waits for the client to drain; proxy_relay_process finishes it */
    }
    int e = EVUTIL_SOCKET_ERROR();
    if (!c->up_connected) {
        char why[300];
        snprintf(msg, sizeof msg, "connect %s: %s", c->up ? c->up->t->hostport : "?",
                 proxy_upstream_conn_error(c->up, e, why, sizeof why));
        if (try_retry(c))
            return PROXY_RELAY_MORE;
        proxy_metrics_upstream_error(c->w->m, PROXY_METRICS_UPERR_CONNECT);
        fail_exchange(c, 502, msg);
        return PROXY_RELAY_GONE;
    }
    char why[300];
    snprintf(msg, sizeof msg, "upstream %s: %s", c->up ? c->up->t->hostport : "?",
             proxy_upstream_conn_error(c->up, e, why, sizeof why));
    return relay_fail(c, PROXY_METRICS_UPERR_RESET, 502, msg);
}
