/* proxy_conn_int: the client connection's state, shared by proxy_conn.c (client side) and
 * proxy_relay.c (upstream side) only. Nothing else includes this.
 *
 * The flow is one-way: every socket event, the client's and the upstream's, enters through
 * proxy_conn.c's callbacks, which call down into proxy_relay.c; relay returns what happened
 * (RELAY_*) and never calls back up into parsing or the next request. Its only calls into the client
 * side are terminal: an error response (proxy_conn_err.c) or closing, after which it says RELAY_GONE. */
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

#define PCONN_REPLAY_MAX (64 * 1024) /* requests up to this size can be retried on a fresh connection */

/* The upstream socket's callbacks: proxy_conn.c's, handed to proxy_relay.c (through c->upcb) to attach
 * to whichever upstream connection the exchange gets. */
typedef struct pconn_upcbs {
    bufferevent_data_cb rd, wr;
    bufferevent_event_cb ev;
} pconn_upcbs;

typedef struct pconn {
    proxy_wctx *w;
    struct pconn *prev, *next;
    struct bufferevent *bev; /* writing; reading goes through io */
    proxy_sock *io;
    const pconn_upcbs *upcb;
    struct event *hdr_timer; /* --header-timeout, from the first byte of a head */
    uint64_t id, seq;
    char peer[64];
    const char *proto; /* WARC-Protocol tokens ("tls/1.3"; static), NULL on cleartext */

    /* request side */
    httpmsg_parser *rq;
    int rstate;
    int ev_head, ev_done; /* set by parser callbacks, consumed after each execute */
    struct evbuffer *hold; /* head bytes held until the head is known good */
    size_t head_len;
    char method[24];
    char *url;        /* request target as sent */
    char *target_uri; /* absolute URI, for the record */
    int req_keepalive, req_upgrade, is_head, idempotent;
    int64_t t0_mono, t0_wall;

    /* upstream side of the exchange in flight */
    upconn *up;
    httpmsg_parser *rs;
    int sstate;
    int ev_rhead, ev_rdone, rstatus, r_keepalive, r_interim;
    size_t r_head_len;
    int64_t r_cl, q_cl; /* Content-Length of the response / request, -1 when none */
    struct evbuffer *rhold; /* response head bytes held until the head is known good */
    uint64_t to_client;   /* bytes of this exchange written to the client */
    uint64_t from_up;     /* bytes of this exchange received from the upstream */
    int up_connected, up_dirty, up_eof, retried;
    struct evbuffer *replay; /* copy of the request sent on a reused connection, for one retry */
    int replay_ok;

    /* mirroring: the copy of the request being built for the shadow (NULL: not mirrored) */
    pmirror_req *mir;

    /* recording (x == NULL: this exchange is not recorded) */
    exchange *x;
    tdbuf rqbuf, rsbuf;
    uint64_t rq_body_rec, rs_body_rec;

    /* connection */
    int close_after; /* close once the current response is written */
    int closing;     /* no more reading; freed when the output is flushed */
    int tunnel;      /* after a 101: bytes are relayed both ways untouched */
    int tunnel_flush_up; /* client gone: free once the upstream output is flushed */
    int client_eof;      /* the client half-closed after its request */
    int lingering;       /* our side shut down; discarding input until EOF or a short timeout */
} pconn;

/* proxy_conn.c */
void pconn_free(pconn *c, const char *why);           /* aborts whatever is in flight */
void pconn_finish_close(pconn *c);                    /* flush the output, then free */
void pconn_send_error(pconn *c, int status, const char *detail); /* short response, then close */

/* proxy_conn_rec.c */
void pconn_record_begin(pconn *c);  /* start c->x when this exchange is to be recorded */
void pconn_record_drop(pconn *c, pm_drop_reason why); /* give up the record, counted */
void pconn_record_finish(pconn *c, const char *error); /* push c->x (if any) to the recorder */
/* Appends n bytes of a message to b: the first head_len always, body bytes up to --max-body (setting
 * trunc_flag when cut). Returns -1 when out of memory (the record is dropped). */
int pconn_record_append(pconn *c, tdbuf *b, uint64_t *body_rec, size_t head_len, const char *p, size_t n,
                        unsigned trunc_flag);

/* proxy_conn_mirror.c */
void pconn_mirror_begin(pconn *c);                      /* the head is accepted: copy it if mirrored */
void pconn_mirror_body(pconn *c, const void *p, size_t n); /* request body bytes as received */
void pconn_mirror_end(pconn *c, int complete); /* submit (complete) or abort (counted) the copy */

/* proxy_relay.c: what the upstream side tells the client side */
enum {
    RELAY_MORE = 0, /* the exchange goes on (or nothing happened) */
    RELAY_GONE = 1, /* c is closing or gone: touch nothing */
    RELAY_DONE = 2, /* the response is complete and the upstream connection released: next request */
};
/* Picks or opens an upstream connection for the request in c. 0, or -1 when that failed (the error
 * response is on its way: c is closing or gone). */
int relay_start(pconn *c);
/* Parses and forwards buffered response bytes (or tunnel bytes). RELAY_*. */
int relay_process(pconn *c);
/* An event on the upstream socket (not in a tunnel). RELAY_*. */
int relay_up_event(pconn *c, short what);
void relay_release(pconn *c, int reusable); /* give the upstream connection back or close it */
void relay_send(pconn *c, struct evbuffer *src, size_t n); /* n bytes of src to the upstream */
void relay_tunnel_from_client(pconn *c);

#endif
