/* proxy_h2_int: the HTTP/2 session and stream state, shared by proxy_h2.c (the client connection and
 * nghttp2) and proxy_h2_stream.c (each stream's upstream exchange and record) only. */
#ifndef TAPEDECK_PROXY_H2_INT_H
#define TAPEDECK_PROXY_H2_INT_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <nghttp2/nghttp2.h>

#include "exchange.h"
#include "httpmsg.h"
#include "proxy_h2.h"
#include "proxy_h2_req.h"
#include "tdbuf.h"

#define PH2_MAX_STREAMS 100          /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define PH2_CONN_WINDOW (1 << 20)    /* connection receive window: caps request bytes held per connection */
#define PH2_MAX_CONTINUATIONS 8      /* CONTINUATION frames per header block (the 2024 floods) */
#define PH2_CTRL_PER_SEC 1000        /* SETTINGS, PING, PRIORITY, empty DATA frames per second */
#define PH2_RESET_BURST 400          /* client stream resets: a burst of ... */
#define PH2_RESET_PER_SEC 100        /* ... then this many per second (CVE-2023-44487) */
#define PH2S_REPLAY_MAX (64 * 1024)  /* as PCONN_REPLAY_MAX: requests up to this size get one retry */
#define PH2_SPARE 16                 /* streams kept for reuse per connection: no malloc per request */

typedef struct ph2s ph2s;

typedef struct ph2 {
    proxy_side side; /* first: a proxy_side * is a ph2 * */
    proxy_wctx *w;
    struct bufferevent *bev;
    nghttp2_session *ng;
    uint64_t id, next_seq;
    char peer[64];
    const char *proto;
    ph2s *streams;
    size_t n_streams;
    ph2s *spare;     /* finished streams kept for reuse (their buffers and parser), at most PH2_SPARE */
    size_t n_spare;
    tdbuf headbuf;            /* the HTTP/1.1 head being built for a stream */
    struct evbuffer *scratch; /* request bytes on their way to an upstream (proxy_send takes an evbuffer) */
    int draining, closing, lingering, in_ng; /* in_ng: inside nghttp2 (recv/send): never free the session there */
    int fatal;                    /* a pm_h2_refusal + 1 when a limit ends the connection */
    int64_t win_start_us;
    unsigned ctrl_in_win, cont_frames;
    int64_t reset_at_us;
    double reset_tokens; /* client RST_STREAMs still allowed now */
    size_t block_bytes;
} ph2;

struct ph2s {
    ph2 *s;
    ph2s *prev, *next;
    int32_t id;
    uint64_t seq;
    h2req rq;
    int req_done, chunked, refused, closed;
    char method[24];
    int64_t t0_mono, t0_wall;
    size_t unconsumed; /* request DATA bytes not yet given back to the flow-control window */

    /* the upstream exchange */
    upconn *up;
    int up_connected, retried, ev_rhead, ev_rdone, final_head, head_done, rstatus, r_keepalive;
    tdbuf rhead; /* bytes of the response head being read */
    uint64_t from_up;
    httpmsg_parser *rs;
    struct evbuffer *sent;  /* the whole request as sent, for one retry (NULL once over the cap) */
    struct evbuffer *body;  /* response body bytes waiting for DATA frames */
    int submitted, body_eof, read_paused, resume_up;

    /* the record (x == NULL: not recorded) */
    exchange *x;
    tdbuf rqbuf, rsbuf;
    uint64_t rq_body_rec, rs_body_rec;
    size_t rq_head_len;
};

/* proxy_h2.c */
/* Sends what nghttp2 has queued (up to the client output's watermark) and frees the session when it is
 * over. Returns 1 when the session is gone: touch nothing after. */
int ph2_flush(ph2 *s);

/* proxy_h2_stream.c */
ph2s *ph2s_new(ph2 *s, int32_t id);
/* The request head is complete: answer it locally (refused) or start the upstream exchange. */
void ph2s_request_head(ph2s *st, int end_stream);
void ph2s_request_data(ph2s *st, const uint8_t *p, size_t n);
void ph2s_request_end(ph2s *st);
/* The stream closed (answered, or reset by the client): the record and the upstream connection end.
 * Frees st. */
void ph2s_free(ph2s *st, uint32_t error_code);
void ph2s_free_spares(ph2 *s);
/* The record: head bytes always, body bytes up to --max-body (then marked truncated); finish pushes it
 * (error: the exchange failed, the response is not kept). */
void ph2s_rec_append(ph2s *st, tdbuf *b, uint64_t *body_rec, size_t head_len, const char *p, size_t n,
                     unsigned trunc_flag);
void ph2s_rec_finish(ph2s *st, const char *error);

/* proxy_h2_up.c */
void ph2s_attach(ph2s *st, upconn *u);      /* st sends on u now (its callbacks are st's) */
int ph2s_new_parser(ph2s *st);              /* the response parser for st's request; -1 out of memory */
void ph2s_up_release(ph2s *st, int reusable); /* back to the pool, or closed */
/* The exchange failed upstream: a 502/504 when nothing was answered yet, else the stream is reset. */
void ph2s_fail(ph2s *st, pm_uperr_kind kind, int status, const char *msg);
void ph2s_local_response(ph2s *st, int status, const char *msg); /* a short text answer made here */
void ph2s_give_window(ph2s *st); /* request bytes the upstream took go back to the client's window */
/* Streams whose response body drained below half the watermark parse their upstream's input again
 * (outside nghttp2's callbacks). Returns how many did. */
int ph2s_resume_all(ph2 *s);


#endif
