/* proxy_upstream: where requests go. An up_target is one parsed and resolved upstream URL (refcounted,
 * shared by threads, immutable); an up_holder publishes the current one (swapped on SIGHUP cut-over);
 * an up_pool is a worker's set of idle keep-alive connections (one event loop, not thread-safe). */
#ifndef TAPEDECK_PROXY_UPSTREAM_H
#define TAPEDECK_PROXY_UPSTREAM_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy_sock.h"

typedef struct up_target {
    int refs; /* atomic */
    uint64_t gen;
    char url[1024];
    char host[256];
    int port;
    char hostport[300]; /* "host:port", the Host value when a request has none */
    struct sockaddr_storage addr;
    socklen_t addrlen;
} up_target;

/* Parses "http://HOST[:PORT][/]" and resolves HOST (blocking: startup and SIGHUP only). Returns a target
 * with one reference, or NULL with err set to "'URL': reason"; the caller says which URL it was
 * (upstream, --mirror). */
up_target *up_target_new(const char *url, uint64_t gen, char *err, size_t errlen);
void up_target_ref(up_target *t);
void up_target_unref(up_target *t); /* NULL is a no-op */
/* Reads FILE (one URL on the first non-empty line) into url. 0 or -1 with err set. */
int up_target_read_file(const char *path, char *url, size_t urlsz, char *err, size_t errlen);

typedef struct up_holder up_holder;
up_holder *up_holder_new(up_target *t); /* takes over the reference */
void up_holder_free(up_holder *h);
void up_holder_set(up_holder *h, up_target *t); /* takes over the reference */
up_target *up_holder_get(up_holder *h);          /* a new reference */
uint64_t up_holder_gen(up_holder *h);            /* cheap: one atomic load */

/* One upstream connection. io's callbacks belong to whoever holds it (the client connection while a
 * request uses it, the pool while idle); reading goes through io (proxy_sock), writing through bev. */
typedef struct upconn {
    struct bufferevent *bev;
    proxy_sock *io;
    up_target *t; /* a reference */
    int reused;   /* served a request before */
    struct upconn *prev, *next;
    struct up_pool *pool;
} upconn;

typedef struct up_pool up_pool;
/* idle_us: idle connections are closed after this long. max_idle: more are closed rather than kept. */
up_pool *up_pool_new(struct event_base *base, int64_t idle_us, size_t max_idle);
void up_pool_free(up_pool *p); /* closes idle connections; NULL is a no-op */
/* An idle connection to t, detached from the pool (callbacks cleared), or NULL. Idle connections to
 * other targets are closed on the way (retired after a cut-over). */
upconn *up_pool_take(up_pool *p, up_target *t);
/* Starts a connection to t. Returns NULL with err set when it fails at once (e.g. refused). The
 * connect timeout is the bufferevent's write timeout until it connects. */
upconn *up_pool_connect(up_pool *p, up_target *t, int64_t connect_timeout_us, char *err, size_t errlen);
/* Parks u as idle (takes ownership). Closed instead when the pool is full or t is not current. */
void up_pool_put(up_pool *p, upconn *u, const up_target *current);
/* Closes idle connections not to current. */
void up_pool_retire(up_pool *p, const up_target *current);
size_t up_pool_idle_count(const up_pool *p);
void upconn_free(upconn *u); /* NULL is a no-op */
/* Hands u (taken or just connecting) to the exchange that will use it: rd/wr/ev with ctx on its socket,
 * reading on and capped at buffer_high, the write watermark at half of it, and the upstream timeout
 * for reads and writes (the connect timeout for writes while it connects). */
void upconn_attach(upconn *u, bufferevent_data_cb rd, bufferevent_data_cb wr, bufferevent_event_cb ev, void *ctx,
                   size_t buffer_high, int64_t upstream_timeout_us, int64_t connect_timeout_us);

#endif
