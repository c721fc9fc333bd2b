/* proxy_conn: one client connection and the exchange in flight on it: request parsing and forwarding
 * (proxy_conn.c), the upstream side of the exchange (proxy_relay.c). Runs on one worker's event loop. */
#ifndef TAPEDECK_PROXY_CONN_H
#define TAPEDECK_PROXY_CONN_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy_config.h"
#include "proxy_metrics.h"
#include "proxy_mirror.h"
#include "proxy_record.h"
#include "proxy_upstream.h"

struct proxy_conn;
struct proxy_wctx;
struct proxy_tls;

/* A client connection that is not an HTTP/1 proxy_conn: a TLS handshake or --h2c sniff in progress
 * (proxy_front.c), an HTTP/2 session (proxy_h2.c). The worker counts it in n_conns; a drain or a
 * shutdown reaches it through these (close frees it). Linked with proxy_front_link, unlinked by its owner
 * with proxy_front_unlink when it is freed. */
typedef struct proxy_side {
    struct proxy_side *prev, *next;
    void (*drain)(struct proxy_side *s);
    void (*close)(struct proxy_side *s);
} proxy_side;

#define PROXY_WCTX_PARSERS 8
#define PROXY_WCTX_KITS 256

/* What an exchange borrows for its time (proxy_conn_kit.c). */
typedef struct proxy_conn_kit {
    struct evbuffer *hold, *rhold, *replay;
    struct event *hdr_timer;
} proxy_conn_kit;

/* What a worker shares with its connections. Owned by the worker; connections only borrow it. */
typedef struct proxy_wctx {
    struct event_base *base;
    const proxy_config *cfg;
    proxy_metrics *m;
    proxy_record *rec;    /* NULL: recording off */
    proxy_mirror *mirror; /* NULL: mirroring off */
    proxy_upstream_pool *pool;
    proxy_upstream_holder *targets;
    proxy_upstream_target *target; /* this worker's reference to the current target */
    uint64_t rnd;                  /* sampling state */
    proxy_record_spares spares;    /* written exchanges back from the writer, for reuse */
    size_t rs_hint;                /* the last recorded HTTP/1 response's size (proxy_conn_rec.c) */
    /* Parsers of finished exchanges, for the next ones ([0] requests, [1] responses): a parser is
     * still made per exchange (idle connections hold none), but not allocated per exchange. */
    struct httpmsg_parser *parsers[2][PROXY_WCTX_PARSERS];
    size_t n_parsers[2];
    /* Buffers and header timers of finished exchanges, for the next ones (idle connections hold none). */
    proxy_conn_kit kits[PROXY_WCTX_KITS];
    size_t n_kits;
    int draining;
    struct proxy_conn *conns; /* every open client connection */
    proxy_side *sides;        /* and every other one (TLS handshakes, HTTP/2 sessions) */
    struct proxy_tls *tls;    /* TLS contexts (listener, https:// upstreams), NULL when neither is used */
    size_t n_conns;
    /* Called after a connection is freed (the worker checks whether a drain is complete). */
    void (*on_conn_closed)(struct proxy_wctx *w);
} proxy_wctx;

/* Takes over fd (an accepted client socket). Returns 0, or -1 (fd closed). */
int proxy_conn_accept(proxy_wctx *w, evutil_socket_t fd, const struct sockaddr *sa, int salen);
/* Takes over bev (a client connection past its TLS handshake or --h2c sniff; bytes already in its input
 * are parsed at once). proto: the WARC-Protocol tokens of the connection ("tls/1.3"; a static string),
 * NULL for cleartext. Returns 0, or -1 (bev freed). */
int proxy_conn_adopt(proxy_wctx *w, struct bufferevent *bev, const char *peer, const char *proto);
/* Drain: closes idle connections now; the others close after their current exchange. */
void proxy_conn_drain_all(proxy_wctx *w);
/* Closes every connection now (the drain deadline passed, or shutdown). */
void proxy_conn_close_all(proxy_wctx *w);
/* Frees the worker's spare parsers (the worker is ending, its connections closed). */
void proxy_conn_parsers_free(proxy_wctx *w);
/* Frees the worker's spare exchange buffers (as above). */
void proxy_conn_kits_free(proxy_wctx *w);
/* The current target for new requests (refreshed when a cut-over happened). Borrowed. */
proxy_upstream_target *proxy_relay_current_target(proxy_wctx *w);

#endif
