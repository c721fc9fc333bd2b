/* proxy_h2_int: the HTTP/2 session and stream state, shared by proxy_h2.c (the client connection and
 * nghttp2) and proxy_h2_stream.c (each stream's upstream exchange and record) only. */
#ifndef TAPEDECK_PROXY_H2_INT_H
#define TAPEDECK_PROXY_H2_INT_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "exchange.h"
#include "httpmsg.h"
#include "proxy_h2.h"
#include "proxy_h2_req.h"
#include "tdbuf.h"

#define PROXY_H2_MAX_STREAMS 100       /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define PROXY_H2_CONN_WINDOW (1 << 20) /* connection receive window: caps request bytes held per connection */
#define PROXY_H2_MAX_CONTINUATIONS 8   /* CONTINUATION frames per header block (the 2024 floods) */
#define PROXY_H2_CTRL_PER_SEC 1000     /* SETTINGS, PING, PRIORITY, empty DATA frames per second */
#define PROXY_H2_RESET_BURST 400       /* client stream resets: a burst of ... */
#define PROXY_H2_RESET_PER_SEC 100     /* ... then this many per second (CVE-2023-44487) */
#define PH2S_REPLAY_MAX (64 * 1024)    /* as PROXY_CONN_REPLAY_MAX: requests up to this size get one retry */
#define PROXY_H2_SPARE 16              /* streams kept for reuse per connection: no malloc per request */

typedef struct proxy_h2_stream proxy_h2_stream;

typedef struct proxy_h2 {
    proxy_side side; /* first: a proxy_side * is a proxy_h2 * */
    proxy_wctx *w;
    struct bufferevent *bev;
    nghttp2_session *ng;
    uint64_t id, next_seq;
    char peer[64];
    const char *proto;
    proxy_h2_stream *streams;
    size_t n_streams;
    /* finished streams kept for reuse (their buffers and parser), at most PROXY_H2_SPARE */
    proxy_h2_stream *spare;
    size_t n_spare;
    tdbuf headbuf;            /* the HTTP/1.1 head being built for a stream */
    /* frames not handed to the bufferevent yet (only while its output is empty): written in one
     * SSL_write (or write) by out_ev once the loop's other callbacks ran (proxy_h2_out.c) */
    tdbuf obuf;
    struct event *out_ev;
    int out_armed;
    unsigned n_resume; /* streams marked resume_up since the last proxy_h2_up_resume_all (may count freed ones) */
    int draining, closing, lingering, in_ng; /* in_ng: inside nghttp2 (recv/send): never free the session there */
    int fatal;                    /* a proxy_metrics_h2_refusal + 1 when a limit ends the connection */
    int64_t win_start_us;
    unsigned ctrl_in_win, cont_frames;
    int64_t reset_at_us;
    double reset_tokens; /* client RST_STREAMs still allowed now */
    size_t block_bytes;
} proxy_h2;

struct proxy_h2_stream {
    proxy_h2 *s;
    proxy_h2_stream *prev, *next;
    int32_t id;
    uint64_t seq;
    proxy_h2_req rq;
    int req_done, chunked, refused, closed;
    char method[24];
    int64_t t0_mono, t0_wall;
    size_t unconsumed; /* request DATA bytes not yet given back to the flow-control window */

    /* the upstream exchange */
    proxy_upstream_conn *up;
    int up_connected, retried, ev_rhead, ev_rdone, final_head, head_done, rstatus, r_keepalive;
    tdbuf rhead; /* bytes of the response head being read */
    uint64_t from_up;
    httpmsg_parser *rs;
    tdbuf sent;             /* the whole request as sent, for one retry (kept with the spare stream) */
    int keep_sent;          /* sent holds the request: idempotent and not over PH2S_REPLAY_MAX yet */
    struct evbuffer *body;  /* response body bytes waiting for DATA frames */
    int submitted, body_eof, read_paused, resume_up;

    /* the record (x == NULL: not recorded) */
    exchange *x;
    tdbuf rqbuf, rsbuf;
    uint64_t rq_body_rec, rs_body_rec;
    size_t rq_head_len;
};

/* proxy_h2.c */
/* Shuts our side down and discards the client's input until EOF or a second passes. Returns 1 when the
 * session is gone. */
int proxy_h2_linger(proxy_h2 *s);

/* proxy_h2_out.c */
int proxy_h2_out_init(proxy_h2 *s); /* 0, or -1 out of memory */
void proxy_h2_out_free(proxy_h2 *s);
/* Sends what nghttp2 has queued (up to the client output's watermark) and frees the session when it is
 * over. Returns 1 when the session is gone: touch nothing after. */
int proxy_h2_flush(proxy_h2 *s);

/* proxy_h2_stream.c */
proxy_h2_stream *proxy_h2_stream_new(proxy_h2 *s, int32_t id);
/* The request head is complete: answer it locally (refused) or start the upstream exchange. */
void proxy_h2_stream_request_head(proxy_h2_stream *st, int end_stream);
void proxy_h2_stream_request_data(proxy_h2_stream *st, const uint8_t *p, size_t n);
void proxy_h2_stream_request_end(proxy_h2_stream *st);
/* The stream closed (answered, or reset by the client): the record and the upstream connection end.
 * Frees st. */
void proxy_h2_stream_free(proxy_h2_stream *st, uint32_t error_code);
void proxy_h2_stream_free_spares(proxy_h2 *s);
/* The record: head bytes always, body bytes up to --max-body (then marked truncated); finish pushes it
 * (error: the exchange failed, the response is not kept). */
void proxy_h2_stream_rec_append(proxy_h2_stream *st, tdbuf *b, uint64_t *body_rec, size_t head_len,
                                const char *p, size_t n, unsigned trunc_flag);
void proxy_h2_stream_rec_finish(proxy_h2_stream *st, const char *error);

/* proxy_h2_up.c */
/* st sends on u now (its callbacks are st's) */
void proxy_h2_up_attach(proxy_h2_stream *st, proxy_upstream_conn *u);
int proxy_h2_up_new_parser(proxy_h2_stream *st); /* the response parser for st's request; -1 out of memory */
void proxy_h2_up_release(proxy_h2_stream *st, int reusable); /* back to the pool, or closed */
/* The exchange failed upstream: a 502/504 when nothing was answered yet, else the stream is reset. */
void proxy_h2_up_fail(proxy_h2_stream *st, proxy_metrics_uperr_kind kind, int status, const char *msg);
/* a short text answer made here */
void proxy_h2_up_local_response(proxy_h2_stream *st, int status, const char *msg);
/* request bytes the upstream took go back to the client's window */
void proxy_h2_up_give_window(proxy_h2_stream *st);
/* Streams whose response body drained below half the watermark parse their upstream's input again
 * (outside nghttp2's callbacks). Returns how many did. */
int proxy_h2_up_resume_all(proxy_h2 *s);


#endif
