/* proxy_conn: the client side. Requests are parsed (httpmsg) only to find where each message ends and
 * what it asks for; the bytes themselves go upstream exactly as received. A head is held back until
 * httpmsg has accepted it, so nothing ambiguous is ever forwarded. One exchange is in flight per
 * connection: pipelined requests wait in the input buffer, which keeps responses in order. */
#include "proxy_conn_int.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "httpmsg_facts.h"
#include "proxy_log.h"
#include "proxy_xrec.h"
#include "td_assert.h"
#include "tdtime.h"

static _Atomic uint64_t pconn_next_id = 1;

/* ---- parser callbacks: note what happened, act after execute returns ---- */

#define PCONN_URI_MAX (16 * 1024) /* longest WARC-Target-URI built; a longer one is refused (400) */

static int rq_on_head(void *ctx, const httpmsg_head *h)
{
    proxy_conn *c = ctx;
    c->ev_head = 1;
    c->head_len = h->head_len;
    /* per request, so no printf: the method's bytes, cut to fit */
    size_t ml = h->method ? strnlen(h->method, sizeof c->method - 1) : 0;
    memcpy(c->method, h->method ? h->method : "", ml);
    c->method[ml] = '\0';
    c->req_keepalive = h->keep_alive;
    c->req_upgrade = h->upgrade;
    c->q_cl = h->content_length;
    c->is_head = !strcmp(c->method, "HEAD");
    c->idempotent = httpmsg_method_is_idempotent(c->method);
    free(c->target_uri);
    free(c->url);
    c->target_uri = NULL;
    c->url = strdup(h->url ? h->url : "");
    if (!c->url)
        return -1;
    if (!c->w->rec)
        return 0; /* the absolute URI is only for the capture */
    /* one allocation of the exact size: this runs for every recorded request */
    const char *url = c->url, *scheme = c->proto ? "https://" : "http://";
    size_t lu = strlen(url);
    if (url[0] != '/' && (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8))) {
        c->target_uri = lu <= PCONN_URI_MAX ? strdup(url) : NULL;
        return c->target_uri ? 0 : -1;
    }
    char host[512];
    if (!httpmsg_header_value(h, "Host", host, sizeof host) || !host[0])
        snprintf(host, sizeof host, "%s", c->w->target->hostport);
    size_t ls = strlen(scheme), lh = strlen(host);
    if (ls + lh + lu > PCONN_URI_MAX)
        return -1;
    char *t = malloc(ls + lh + lu + 1);
    if (!t)
        return -1;
    memcpy(t, scheme, ls);
    memcpy(t + ls, host, lh);
    memcpy(t + ls + lh, url, lu + 1);
    c->target_uri = t;
    return 0;
}

static int rq_on_complete(void *ctx)
{
    proxy_conn *c = ctx;
    c->ev_done = 1;
    return 1; /* pause: the next request waits until this exchange is answered */
}

static const httpmsg_callbacks rq_callbacks = {rq_on_head, NULL, rq_on_complete};



static void reject(proxy_conn *c, int st)
{
    int status = -st;
    proxy_metrics_reject_kind k = status == 431   ? PROXY_METRICS_REJ_431
                                  : status == 501 ? PROXY_METRICS_REJ_501
                                                  : PROXY_METRICS_REJ_400;
    if (status != 400 && status != 431 && status != 501)
        status = 400;
    proxy_metrics_reject(c->w->m, k);
    if (c->up)
        proxy_relay_release(c, 0); /* it saw part of a message: never reuse it */
    if (c->x) { /* a refused request is not an exchange */
        proxy_record_exchange_free(c->x);
        c->x = NULL;
    }
    proxy_conn_mirror_end(c, 0); /* nor does the shadow get it */
    proxy_conn_err_send(c, status, c->rq ? httpmsg_parser_error(c->rq) : "bad request");
}

/* ---- request flow ---- */

httpmsg_parser *proxy_conn_parser_get(proxy_conn *c, int kind, const httpmsg_callbacks *cb)
{
    proxy_wctx *w = c->w;
    if (w->n_parsers[kind] > 0) {
        httpmsg_parser *p = w->parsers[kind][--w->n_parsers[kind]];
        httpmsg_parser_reuse(p, c);
        return p;
    }
    httpmsg_limits lim = {.max_head = w->cfg->max_head};
    return httpmsg_parser_new(kind == PROXY_CONN_RQ ? HTTPMSG_REQUEST : HTTPMSG_RESPONSE, cb, c, &lim);
}

void proxy_conn_parser_put(proxy_wctx *w, int kind, httpmsg_parser *p)
{
    if (p && w->n_parsers[kind] < PROXY_WCTX_PARSERS)
        w->parsers[kind][w->n_parsers[kind]++] = p;
    else
        httpmsg_parser_free(p);
}

void proxy_conn_parsers_free(proxy_wctx *w)
{
    for (int k = 0; k < 2; k++)
        while (w->n_parsers[k] > 0)
            httpmsg_parser_free(w->parsers[k][--w->n_parsers[k]]);
}

static void hdr_timeout(evutil_socket_t fd, short what, void *ctx);

/* Parsers exist only while a connection has an exchange going: an idle keep-alive connection then
 * costs a few hundred bytes instead of a few KiB (between exchanges they wait in the worker's
 * spares). Returns -1 out of memory. */
static int request_start(proxy_conn *c)
{
    if (!c->rq && !(c->rq = proxy_conn_parser_get(c, PROXY_CONN_RQ, &rq_callbacks)))
        return -1;
    if (proxy_conn_kit_take(c, hdr_timeout) != 0)
        return -1;
    TD_ASSERT(c->rstate == RQ_IDLE && c->sstate == RS_NONE);
    c->rstate = RQ_HEAD;
    c->t0_mono = tdtime_mono_us();
    c->t0_wall = tdtime_now_us();
    struct timeval tv = tdtime_tv(c->w->cfg->header_timeout_us);
    evtimer_add(c->hdr_timer, &tv);
    return 0;
}

/* The head is accepted: decide recording, pick the upstream, forward the held bytes. Returns 1 when
 * the connection is closing or gone. */
static int request_head_done(proxy_conn *c)
{
    evtimer_del(c->hdr_timer);
    TD_ASSERT(c->rstate == RQ_HEAD);
    c->rstate = RQ_BODY;
    if (!strcmp(c->method, "CONNECT")) {
        proxy_conn_err_send(c, 405, "CONNECT is not proxied");
        return 1;
    }
    if (c->w->draining)
        c->close_after = 1;
    proxy_conn_mirror_begin(c);
    proxy_conn_rec_begin(c);
    if (c->x) {
        size_t n = evbuffer_get_length(c->hold);
        int64_t cap = (int64_t)c->w->cfg->max_body < PROXY_XREC_REQ_RESERVE ? (int64_t)c->w->cfg->max_body
                                                                             : PROXY_XREC_REQ_RESERVE;
        if (c->q_cl > 0)
            (void)tdbuf_reserve(&c->rqbuf, c->head_len + (size_t)(c->q_cl < cap ? c->q_cl : cap));
        const char *p = (const char *)evbuffer_pullup(c->hold, -1);
        if (p)
            proxy_conn_rec_append(c, &c->rqbuf, &c->rq_body_rec, c->head_len, p, n, EXCHANGE_TRUNC_REQUEST);
        else
            proxy_conn_rec_drop(c, PROXY_METRICS_DROP_NOMEM);
    }
    if (proxy_relay_start(c) != 0)
        return 1;
    proxy_relay_send(c, c->hold, evbuffer_get_length(c->hold));
    return 0;
}

/* Parses and forwards buffered request bytes. Returns 1 when c is closing or gone: touch nothing after. */
static int pconn_parse(proxy_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t high = c->w->cfg->buffer_high;
    while (!c->closing && !c->tunnel && c->rstate != RQ_DONE) {
        if (evbuffer_get_length(in) == 0)
            break;
        if (c->up && evbuffer_get_length(bufferevent_get_output(c->up->bev)) >= high)
            break; /* resumed from the upstream's write callback */
        if (c->rstate == RQ_IDLE) {
            /* empty lines between messages are allowed and dropped (RFC 9112 2.2), as httpmsg would */
            unsigned char b0 = 0;
            evbuffer_copyout(in, &b0, 1);
            if (b0 == '\r' || b0 == '\n') {
                evbuffer_drain(in, 1);
                continue;
            }
            if (request_start(c) != 0) {
                proxy_conn_free(c, "out of memory");
                return 1;
            }
        }
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        c->ev_head = c->ev_done = 0;
        ssize_t n = httpmsg_parser_execute(c->rq, v.iov_base, v.iov_len);
        if (n < 0) {
            reject(c, (int)n);
            return 1;
        }
        proxy_metrics_bytes(c->w->m, (uint64_t)n, 0);
        if (c->rstate == RQ_HEAD) {
            evbuffer_remove_buffer(in, c->hold, (size_t)n);
            if (!c->ev_head) {
                if (n == 0)
                    break;
                continue;
            }
            if (request_head_done(c))
                return 1;
        } else {
            if (c->x)
                proxy_conn_rec_append(c, &c->rqbuf, &c->rq_body_rec, 0, v.iov_base, (size_t)n,
                                      EXCHANGE_TRUNC_REQUEST);
            proxy_conn_mirror_body(c, v.iov_base, (size_t)n);
            proxy_relay_send(c, in, (size_t)n);
        }
        if (c->ev_done || (c->req_upgrade && (size_t)n < v.iov_len)) {
            TD_ASSERT(c->rstate == RQ_BODY);
            c->rstate = RQ_DONE;
            proxy_conn_mirror_end(c, c->ev_done);
            break;
        }
        if (n == 0)
            break;
    }
    return 0;
}

/* The response is complete (relay said PROXY_RELAY_DONE): reset for the next request, start it when it is
 * already buffered (pipelining), or close. */
static void pconn_exchange_done(proxy_conn *c)
{
    c->x = NULL;
    proxy_conn_mirror_end(c, 0); /* answered before the request was complete */
    tdbuf_free(&c->rqbuf);
    tdbuf_free(&c->rsbuf);
    evbuffer_drain(c->hold, evbuffer_get_length(c->hold));
    evbuffer_drain(c->rhold, evbuffer_get_length(c->rhold));
    evbuffer_drain(c->replay, evbuffer_get_length(c->replay));
    c->to_client = c->from_up = 0;
    c->retried = c->up_dirty = c->up_eof = 0;
    TD_ASSERT(c->sstate == RS_DONE); /* only response_done ends an exchange */
    c->sstate = RS_NONE;
    c->rstate = RQ_IDLE;
    c->seq++;
    if (c->close_after || c->w->draining || c->req_upgrade) {
        proxy_conn_finish_close(c);
        return;
    }
    httpmsg_parser_resume(c->rq);
    if (pconn_parse(c))
        return;
    if (c->rstate == RQ_IDLE) {
        proxy_conn_parser_put(c->w, PROXY_CONN_RQ, c->rq);
        c->rq = NULL;
        proxy_conn_kit_park(c);
        if (c->client_eof)
            proxy_conn_finish_close(c);
    }
}

/* ---- bufferevent callbacks ---- */

static void conn_read(struct bufferevent *bev, void *ctx)
{
    proxy_conn *c = ctx;
    if (c->lingering) {
        struct evbuffer *in = bufferevent_get_input(bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    if (c->tunnel) {
        proxy_relay_tunnel_from_client(c);
        return;
    }
    pconn_parse(c);
}

static void conn_write(struct bufferevent *bev, void *ctx)
{
    proxy_conn *c = ctx;
    if (c->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            proxy_conn_linger(c);
        return;
    }
    /* the client drained: take more from the upstream */
    if (c->up && proxy_relay_process(c) == PROXY_RELAY_DONE)
        pconn_exchange_done(c);
}

static void conn_event(struct bufferevent *bev, short what, void *ctx)
{
    proxy_conn *c = ctx;
    if (c->closing) {
        proxy_conn_free(c, NULL);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        if (c->tunnel) {
            proxy_conn_free(c, "tunnel idle timeout");
        } else if (c->rstate == RQ_DONE) {
            proxy_sock_read(c->io, 1); /* the upstream is slow; its own timeout applies */
        } else if (c->rstate == RQ_IDLE) {
            proxy_conn_free(c, NULL); /* idle keep-alive connection */
        } else if (c->rstate == RQ_HEAD) {
            proxy_metrics_reject(c->w->m, PROXY_METRICS_REJ_408);
            proxy_conn_err_send(c, 408, "no complete request head in time");
        } else {
            proxy_conn_free(c, "client stalled inside the request body");
        }
        return;
    }
    /* EOF or error */
    if (c->tunnel) {
        if (c->up && evbuffer_get_length(bufferevent_get_output(c->up->bev)) > 0 && !(what & BEV_EVENT_ERROR)) {
            c->tunnel_flush_up = 1; /* freed from the upstream's write callback */
            proxy_sock_read(c->io, 0);
            return;
        }
        proxy_conn_free(c, NULL);
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && c->rstate == RQ_DONE && c->up) {
        c->client_eof = 1; /* half-close after a complete request: still answer it */
        c->close_after = 1;
        proxy_sock_read(c->io, 0);
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && c->rstate == RQ_IDLE &&
        evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
        proxy_conn_finish_close(c);
        return;
    }
    proxy_conn_free(c, c->rstate == RQ_HEAD || c->rstate == RQ_BODY ? "client closed inside a request"
                       : (what & BEV_EVENT_ERROR)                 ? "client connection error"
                                                                  : NULL);
}

/* ---- the upstream socket's callbacks (attached by proxy_relay.c to the exchange's connection) ---- */

static void up_read(struct bufferevent *bev, void *ctx)
{
    proxy_conn *c = ctx;
    if (proxy_relay_process(c) == PROXY_RELAY_DONE)
        pconn_exchange_done(c);
}

static void up_write(struct bufferevent *bev, void *ctx)
{
    proxy_conn *c = ctx;
    if (c->tunnel) {
        if (c->tunnel_flush_up && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            proxy_conn_free(c, NULL);
        else
            proxy_relay_tunnel_from_client(c);
        return;
    }
    pconn_parse(c); /* the upstream drained: take more of the request body */
}

static void up_event(struct bufferevent *bev, short what, void *ctx)
{
    proxy_conn *c = ctx;
    if (c->tunnel && !(what & BEV_EVENT_CONNECTED)) {
        proxy_relay_release(c, 0);
        proxy_conn_finish_close(c); /* flush what the upstream sent, then close */
        return;
    }
    if (proxy_relay_up_event(c, what) == PROXY_RELAY_DONE)
        pconn_exchange_done(c);
}

static const proxy_conn_upcbs up_callbacks = {up_read, up_write, up_event};

static void hdr_timeout(evutil_socket_t fd, short what, void *ctx)
{
    proxy_conn *c = ctx;
    if (c->rstate != RQ_HEAD || c->closing)
        return;
    proxy_metrics_reject(c->w->m, PROXY_METRICS_REJ_408);
    proxy_conn_err_send(c, 408, "no complete request head in time");
}

int proxy_conn_accept(proxy_wctx *w, evutil_socket_t fd, const struct sockaddr *sa, int salen)
{
    struct bufferevent *bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        proxy_log(PROXY_LOG_ERROR, "out of memory accepting a connection");
        return -1;
    }
    char peer[64];
    proxy_io_peer_name(sa, salen, peer, sizeof peer);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return proxy_conn_adopt(w, bev, peer, NULL);
}

int proxy_conn_adopt(proxy_wctx *w, struct bufferevent *bev, const char *peer, const char *proto)
{
    const proxy_config *cfg = w->cfg;
    proxy_conn *c = calloc(1, sizeof *c);
    if (!c) {
        bufferevent_free(bev);
        return -1;
    }
    c->w = w;
    c->id = atomic_fetch_add(&pconn_next_id, 1);
    c->proto = proto;
    c->bev = bev;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    /* link first, so proxy_conn_free can undo everything */
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->n_conns++;
    proxy_metrics_conn_open(w->m);
    c->upcb = &up_callbacks;
    c->io = proxy_sock_new(bev);
    if (!c->io) {
        proxy_log(PROXY_LOG_ERROR, "out of memory accepting a connection");
        proxy_conn_free(c, NULL);
        return -1;
    }
    proxy_sock_setcb(c->io, conn_read, conn_write, conn_event, c);
    proxy_sock_read_limit(c->io, cfg->buffer_high);
    proxy_io_tune_bev(c->bev, cfg->buffer_high);
    bufferevent_setwatermark(c->bev, EV_WRITE, cfg->buffer_high / 2, 0);
    struct timeval tv = tdtime_tv(cfg->idle_timeout_us);
    proxy_sock_set_timeouts(c->io, &tv, NULL);
    proxy_sock_read(c->io, 1);
    if (!(bufferevent_get_enabled(c->bev) & EV_WRITE))
        bufferevent_enable(c->bev, EV_WRITE);
    proxy_log(PROXY_LOG_DEBUG, "conn %llu %s: accepted%s%s", (unsigned long long)c->id, c->peer,
              proto ? " over " : "", proto ? proto : "");
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        conn_read(c->bev, c); /* bytes read while the protocol was being found out */
    return 0;
}

void proxy_conn_drain_all(proxy_wctx *w)
{
    proxy_conn *c = w->conns;
    while (c) {
        proxy_conn *next = c->next;
        if (c->closing) {
            /* already on its way out */
        } else if (c->rstate == RQ_IDLE && !c->tunnel &&
                   evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
            proxy_conn_finish_close(c); /* may free c */
        } else {
            c->close_after = 1;
        }
        c = next;
    }
}

void proxy_conn_close_all(proxy_wctx *w)
{
    while (w->conns)
        proxy_conn_free(w->conns, "shutting down");
}
