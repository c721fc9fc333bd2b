/* proxy_upstream: where requests go. A proxy_upstream_target is one parsed and resolved upstream URL
 * (refcounted, shared by threads, immutable); a proxy_upstream_holder publishes the current one (swapped on
 * SIGHUP cut-over);
 * a proxy_upstream_pool is a worker's set of idle keep-alive connections (one event loop, not
 * thread-safe). */
#ifndef TAPEDECK_PROXY_UPSTREAM_H
#define TAPEDECK_PROXY_UPSTREAM_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy_sock.h"

typedef struct proxy_upstream_target {
    int refs; /* atomic */
    uint64_t gen;
    char url[1024];
    char host[256];
    int port;
    char hostport[300]; /* "host:port", the Host value when a request has none */
    int tls;            /* https://: the pool speaks TLS to it (SNI and verified name: host) */
    struct sockaddr_storage addr;
    socklen_t addrlen;
} proxy_upstream_target;

/* Parses "http://HOST[:PORT][/]" or "https://HOST[:PORT][/]" and resolves HOST (blocking: startup and
 * SIGHUP only). Returns a target with one reference, or NULL with err set to "'URL': reason"; the caller
 * says which URL it was (upstream, --mirror). */
proxy_upstream_target *proxy_upstream_target_new(const char *url, uint64_t gen, char *err, size_t errlen);
void proxy_upstream_target_ref(proxy_upstream_target *t);
void proxy_upstream_target_unref(proxy_upstream_target *t); /* NULL is a no-op */
/* Reads FILE (one URL on the first non-empty line) into url. 0 or -1 with err set. */
int proxy_upstream_target_read_file(const char *path, char *url, size_t urlsz, char *err, size_t errlen);

typedef struct proxy_upstream_holder proxy_upstream_holder;
proxy_upstream_holder *proxy_upstream_holder_new(proxy_upstream_target *t); /* takes over the reference */
void proxy_upstream_holder_free(proxy_upstream_holder *h);
/* takes over the reference */
void proxy_upstream_holder_set(proxy_upstream_holder *h, proxy_upstream_target *t);
proxy_upstream_target *proxy_upstream_holder_get(proxy_upstream_holder *h); /* a new reference */
uint64_t proxy_upstream_holder_gen(proxy_upstream_holder *h);               /* cheap: one atomic load */

/* One upstream connection. io's callbacks belong to whoever holds it (the client connection while a
 * request uses it, the pool while idle); reading goes through io (proxy_sock), writing through bev. */
typedef struct proxy_upstream_conn {
    struct bufferevent *bev;
    proxy_sock *io;
    proxy_upstream_target *t; /* a reference */
    int reused;               /* served a request before */
    struct proxy_upstream_conn *prev, *next;
    struct proxy_upstream_pool *pool;
} proxy_upstream_conn;

typedef struct proxy_upstream_pool proxy_upstream_pool;
struct proxy_tls;
/* idle_us: idle connections are closed after this long. max_idle: more are closed rather than kept. */
proxy_upstream_pool *proxy_upstream_pool_new(struct event_base *base, int64_t idle_us, size_t max_idle);
void proxy_upstream_pool_free(proxy_upstream_pool *p); /* closes idle connections; NULL is a no-op */
/* The TLS contexts for https:// targets (borrowed; must outlive the pool). Without, they fail to connect. */
void proxy_upstream_pool_set_tls(proxy_upstream_pool *p, struct proxy_tls *tls);
/* An idle connection to t, detached from the pool (callbacks cleared), or NULL. Idle connections to
 * other targets are closed on the way (retired after a cut-over). The caller attaches it
 * (proxy_upstream_conn_attach) or frees it before the event loop runs again: its idle timeout is still
 * armed until then. */
proxy_upstream_conn *proxy_upstream_pool_take(proxy_upstream_pool *p, proxy_upstream_target *t);
/* Starts a connection to t. Returns NULL with err set when it fails at once (e.g. refused). The
 * connect timeout is the bufferevent's write timeout until it connects. */
proxy_upstream_conn *proxy_upstream_pool_connect(proxy_upstream_pool *p, proxy_upstream_target *t,
                                                 int64_t connect_timeout_us, char *err, size_t errlen);
/* Parks u as idle (takes ownership). Closed instead when the pool is full or t is not current. */
void proxy_upstream_pool_put(proxy_upstream_pool *p, proxy_upstream_conn *u,
                             const proxy_upstream_target *current);
/* Closes idle connections not to current. */
void proxy_upstream_pool_retire(proxy_upstream_pool *p, const proxy_upstream_target *current);
size_t proxy_upstream_pool_idle_count(const proxy_upstream_pool *p);
void proxy_upstream_conn_free(proxy_upstream_conn *u); /* NULL is a no-op */
/* Why u failed (after a bufferevent error): the TLS error when there is one (certificate not verified,
 * handshake failure), else sock_err's text. Into buf; returns buf. */
const char *proxy_upstream_conn_error(const proxy_upstream_conn *u, int sock_err, char *buf, size_t bufsz);
/* Hands u (taken or just connecting) to the exchange that will use it: rd/wr/ev with ctx on its socket,
 * reading on and capped at buffer_high, the write watermark at half of it, and the upstream timeout
 * for reads and writes (the connect timeout for writes while it connects). */
void proxy_upstream_conn_attach(proxy_upstream_conn *u, bufferevent_data_cb rd, bufferevent_data_cb wr,
                                bufferevent_event_cb ev, void *ctx, size_t buffer_high,
                                int64_t upstream_timeout_us, int64_t connect_timeout_us);

#endif
