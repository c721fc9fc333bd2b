/* proxy_conn_int: the client connection's state, shared by proxy_conn.c (client side) and
 * proxy_relay.c (upstream side) only. Nothing else includes this.
 *
 * The flow is one-way: every socket event, the client's and the upstream's, enters through
 * proxy_conn.c's callbacks, which call down into proxy_relay.c; relay returns what happened
 * (PROXY_RELAY_*) and never calls back up into parsing or the next request. Its only calls into the client
 * side are terminal: an error response (proxy_conn_err.c) or closing, after which it says
 * PROXY_RELAY_GONE. */
#ifndef TAPEDECK_PROXY_CONN_INT_H
#define TAPEDECK_PROXY_CONN_INT_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "exchange.h"
#include "httpmsg.h"
#include "proxy_conn.h"
#include "proxy_io.h"
#include "proxy_sock.h"
#include "tdbuf.h"

enum { RQ_IDLE = 0, RQ_HEAD, RQ_BODY, RQ_DONE };  /* request side */
enum { RS_NONE = 0, RS_HEAD, RS_BODY, RS_DONE };  /* response side */

#define PROXY_CONN_REPLAY_MAX (64 * 1024) /* requests up to this size can be retried on a fresh connection */

/* The upstream socket's callbacks: proxy_conn.c's, handed to proxy_relay.c (through c->upcb) to attach
 * to whichever upstream connection the exchange gets. */
typedef struct proxy_conn_upcbs {
    bufferevent_data_cb rd, wr;
    bufferevent_event_cb ev;
} proxy_conn_upcbs;

typedef struct proxy_conn {
    proxy_wctx *w;
    struct proxy_conn *prev, *next;
    struct bufferevent *bev; /* writing; reading goes through io */
    proxy_sock *io;
    const proxy_conn_upcbs *upcb;
    struct event *hdr_timer; /* --header-timeout, from the first byte of a head */
    uint64_t id, seq;
    char peer[64];
    const char *proto; /* WARC-Protocol tokens ("tls/1.3"; static), NULL on cleartext */

    /* request side */
    httpmsg_parser *rq;
    int rstate;
    int ev_head, ev_done; /* set by parser callbacks, consumed after each execute */
    struct evbuffer *hold; /* head bytes held until the head is known good (hold, rhold, replay and
                            * hdr_timer: only while an exchange is going, see proxy_conn_kit.c) */
    size_t head_len;
    char method[24];
    char *url;        /* request target as sent */
    char *target_uri; /* absolute URI, for the record */
    int req_keepalive, req_upgrade, is_head, idempotent;
    int64_t t0_mono, t0_wall;

    /* upstream side of the exchange in flight */
    proxy_upstream_conn *up;
    httpmsg_parser *rs;
    int sstate;
    int ev_rhead, ev_rdone, rstatus, r_keepalive, r_interim;
    size_t r_head_len;
    int64_t r_cl, q_cl; /* Content-Length of the response / request, -1 when none */
    struct evbuffer *rhold; /* response head bytes held until the head is known good */
    uint64_t to_client;   /* bytes of this exchange written to the client */
    uint64_t from_up;     /* bytes of this exchange received from the upstream */
    unsigned char up_connected, up_dirty, up_eof, retried; /* flags: bytes, not ints (10 000 idle connections) */
    struct evbuffer *replay; /* copy of the request sent on a reused connection, for one retry */
    int replay_ok;

    /* mirroring: the copy of the request being built for the shadow (NULL: not mirrored) */
    proxy_mirror_req *mir;
    /* --mirror-record: the recorded exchange goes here, to wait for the answers */
    proxy_mirror_join *mir_join;

    /* recording (x == NULL: this exchange is not recorded) */
    exchange *x;
    tdbuf rqbuf, rsbuf;
    uint64_t rq_body_rec, rs_body_rec;
    size_t rs_pend; /* response bytes read straight into rsbuf's end, not yet parsed and forwarded */

    /* connection */
    unsigned char close_after;     /* close once the current response is written */
    unsigned char closing;         /* no more reading; freed when the output is flushed */
    unsigned char tunnel;          /* after a 101: bytes are relayed both ways untouched */
    unsigned char tunnel_flush_up; /* client gone: free once the upstream output is flushed */
    unsigned char client_eof;      /* the client half-closed after its request */
    unsigned char lingering;       /* our side shut down; discarding input until EOF or a short timeout */
} proxy_conn;

/* proxy_conn.c */
void proxy_conn_free(proxy_conn *c, const char *why); /* aborts whatever is in flight */
void proxy_conn_finish_close(proxy_conn *c);          /* flush the output, then free */

/* proxy_conn_err.c */
void proxy_conn_err_send(proxy_conn *c, int status, const char *detail); /* short response, then close */

/* proxy_conn_rec.c */
void proxy_conn_rec_begin(proxy_conn *c); /* start c->x when this exchange is to be recorded */
void proxy_conn_rec_drop(proxy_conn *c, proxy_metrics_drop_reason why); /* give up the record, counted */
void proxy_conn_rec_finish(proxy_conn *c, const char *error); /* push c->x (if any) to the recorder */
/* Appends n bytes of a message to b: the first head_len always, body bytes up to --max-body (setting
 * trunc_flag when cut). Returns -1 when out of memory (the record is dropped). */
int proxy_conn_rec_append(proxy_conn *c, tdbuf *b, uint64_t *body_rec, size_t head_len, const char *p,
                          size_t n, unsigned trunc_flag);
/* Lets the upstream socket read this exchange's response into rsbuf (when it is recorded). */
void proxy_conn_rec_sink(proxy_conn *c, proxy_sock *up);
/* n bytes at rsbuf offset off, read there and now forwarded, head of them the response head's: counted
 * in the record, and cut from rsbuf past --max-body. */
void proxy_conn_rec_direct(proxy_conn *c, size_t off, size_t n, size_t head);

/* proxy_conn_mirror.c */
void proxy_conn_mirror_begin(proxy_conn *c);            /* the head is accepted: copy it if mirrored */
void proxy_conn_mirror_body(proxy_conn *c, const void *p, size_t n); /* request body bytes as received */
void proxy_conn_mirror_end(proxy_conn *c, int complete); /* submit (complete) or abort (counted) the copy */
/* --mirror-record: takes the finished exchange x when it is to wait for its shadows' answers (1), else 0
 * (the caller queues x itself). */
int proxy_conn_mirror_take(proxy_conn *c, exchange *x);

/* proxy_relay.c: what the upstream side tells the client side */
enum {
    PROXY_RELAY_MORE = 0, /* the exchange goes on (or nothing happened) */
    PROXY_RELAY_GONE = 1, /* c is closing or gone: touch nothing */
    PROXY_RELAY_DONE = 2, /* the response is complete and the upstream connection released: next request */
};
/* Picks or opens an upstream connection for the request in c. 0, or -1 when that failed (the error
 * response is on its way: c is closing or gone). */
int proxy_relay_start(proxy_conn *c);
/* Parses and forwards buffered response bytes (or tunnel bytes). PROXY_RELAY_*. */
int proxy_relay_process(proxy_conn *c);
/* An event on the upstream socket (not in a tunnel). PROXY_RELAY_*. */
int proxy_relay_up_event(proxy_conn *c, short what);
void proxy_relay_release(proxy_conn *c, int reusable); /* give the upstream connection back or close it */
void proxy_relay_send(proxy_conn *c, struct evbuffer *src, size_t n); /* n bytes of src to the upstream */
void proxy_relay_tunnel_from_client(proxy_conn *c);

/* proxy_conn_close.c: shut down our side, discard the client's input for a moment, free on its EOF or
 * after the linger time (or at once when there is nothing to protect). c may be gone on return. */
void proxy_conn_linger(proxy_conn *c);

/* Parsers come from the worker's spares (proxy_wctx.parsers) and go back there. kind: PROXY_CONN_RQ
 * (cb: the request callbacks) or PROXY_CONN_RS (the response's). NULL out of memory. */
enum { PROXY_CONN_RQ = 0, PROXY_CONN_RS = 1 };
httpmsg_parser *proxy_conn_parser_get(proxy_conn *c, int kind, const httpmsg_callbacks *cb);
/* Keeps p for a next exchange, or frees it when the spares are full; NULL is a no-op. */
void proxy_conn_parser_put(proxy_wctx *w, int kind, httpmsg_parser *p);

/* proxy_conn_kit.c: c->hold, c->rhold, c->replay and c->hdr_timer exist only while an exchange is
 * going. take: from the worker's spares or new (no-op when c has them); -1 out of memory. park: they go
 * back (the timer deleted); no-op when c has none. */
int proxy_conn_kit_take(proxy_conn *c, event_callback_fn hdr_timeout);
void proxy_conn_kit_park(proxy_conn *c);

#endif
