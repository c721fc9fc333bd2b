/* engine_int: the engine's internals shared by engine.c (the multi handle on the event loop) and
 * engine_xfer.c (one transfer: its easy handle, buffers and callbacks). Not a public interface. */
#ifndef TAPEDECK_ENGINE_INT_H
#define TAPEDECK_ENGINE_INT_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine.h"

#define ENGINE_DEFAULT_MAX_RESPONSE (64u * 1024 * 1024)

typedef struct xfer {
    struct xfer *next_free;
    struct xfer *prev_active, *next_active; /* in engine.active while in flight */
    engine *eng;
    CURL *easy;
    struct curl_slist *headers;
    char *buf; /* raw response: head, then body */
    size_t len, cap;
    size_t head_len;
    int in_body; /* body bytes arrived: header lines now are trailers */
    char *url;
    size_t url_cap;
    char *body; /* request body copy */
    size_t body_cap;
    char method[24];
    int64_t sent_us, first_byte_us;
    int too_big;
    engine_done_fn done;
    void *user;
    char errbuf[CURL_ERROR_SIZE];
    /* native HTTP/1.1 path (engine_h1.c) */
    struct xfer *next_queued;  /* waiting for a connection */
    char *req;                 /* the request, serialised */
    size_t req_len, req_cap;
    size_t msg_start;          /* where the current message starts in buf (interim ones are cut out) */
    int status, version, interim, keep_alive, retried;
    int head_seen; /* 1: the head of the current message is in; 2: the message is complete */
    int fresh, close_after; /* engine_request's connection control */
} xfer;

typedef struct h1conn h1conn;

typedef struct sockctx {
    struct event *ev;
    engine *eng;
    curl_socket_t fd;
} sockctx;

struct engine {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    engine_opts opts;
    char *base_url; /* opts.target without a trailing '/' */
    size_t base_len;
    xfer *free_list;
    xfer *active; /* in flight, so engine_free can cancel them */
    size_t inflight;
    int curl_inited;
    /* libcurl before 8.0 breaks a reused prior-knowledge HTTP/2 connection ("Error in the HTTP2 framing
     * layer", curl issue 10634): there, h2c gets a fresh connection per request. Slower, but right. */
    int h2c_no_reuse;
    /* Native HTTP/1.1 path for http:// without --http2: plain sockets on the loop, requests serialised
     * once, responses framed by httpmsg; libcurl's per-request cost (option handling, a poll to check
     * a pooled connection, another after each send) is what the load gate cannot afford. */
    int native;
    struct sockaddr_storage addr;
    int addr_len;
    char hostport[300];  /* for the Host header */
    size_t hostport_len;
    char *path_prefix;   /* target URL path without the trailing '/' ("" for none) */
    h1conn *conns;       /* max_connections slots */
    /* the per-request limits as libevent common timeouts: every request arms one, and a common
     * timeout's queue takes it in O(1) where the timer heap took O(log n) */
    const struct timeval *req_tv, *connect_tv;
    xfer *queue_head, *queue_tail;
};

/* engine_xfer.c */
xfer *engine_xfer_get(engine *e);          /* from the free list, or a new one set up for e; NULL on OOM */
void engine_xfer_put(engine *e, xfer *xf); /* back to the free list */
void engine_xfer_destroy(xfer *xf);
/* Resets xf for req and sets URL, headers, method and body on its easy handle. 0 or -1 (OOM). */
int engine_xfer_prepare(engine *e, xfer *xf, const engine_request *req);
/* Shared by both paths. */
/* Makes *buf hold at least need bytes (capacity doubling from first). 0 or -1 (OOM; *buf kept). */
int engine_grow(char **buf, size_t *cap, size_t need, size_t first);
/* 1 for a header line the engine never passes on: framing and connection management (the client
 * does those itself), or a line without a colon. */
int engine_hop_header(const char *line);
/* The origin-form path of a request target: an absolute-form target (as proxies receive) keeps only
 * its path ("/" when it has none). */
const char *engine_origin_path(const char *target);

/* engine_h1_req.c */
int engine_h1_init(engine *e, char *err, size_t errlen); /* resolves the target, allocates the slots */
int engine_h1_submit(engine *e, xfer *xf, const engine_request *req); /* serialise, queue, dispatch */
/* engine_h1.c */
int engine_h1_slots(engine *e, char *err, size_t errlen); /* the connection slots */
void engine_h1_dispatch(engine *e);                       /* queued transfers to free connections */
void engine_h1_free(engine *e);                           /* closes connections, drops queued work */
/* engine.c: a transfer is done (ok or not): call back, recycle. r is filled by the caller. */
void engine_finish(engine *e, xfer *xf, engine_response *r);

#endif
