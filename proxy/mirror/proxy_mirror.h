/* proxy_mirror: a worker's client for the shadow deployment (--mirror). A copy of each chosen client
 * request, built while the request streams through, is sent fire-and-forget on the mirror's own
 * keep-alive connections to the shadow (and to the --mirror-baseline one); the shadow's responses are
 * parsed (httpmsg, for framing) and discarded, or with --mirror-record kept and joined to the recorded
 * exchange (proxy_mirror_join.c). One per worker, on the worker's event loop; not thread-safe.
 *
 * Nothing here can slow the primary exchange: no call blocks, every resource is capped per worker
 * (requests in flight, bytes held, connections, request size), and whatever does not fit is skipped and
 * counted rather than waited for. */
#ifndef TAPEDECK_PROXY_MIRROR_H
#define TAPEDECK_PROXY_MIRROR_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange.h"
#include "proxy_config.h"
#include "proxy_metrics.h"
#include "proxy_record.h"
#include "proxy_upstream.h"

#define PROXY_MIRROR_MAX_BODY (1024 * 1024)      /* request body bytes as received (chunk framing included) */
#define PROXY_MIRROR_MAX_HELD (8 * 1024 * 1024)  /* bytes of request copies a worker holds at once */
#define PROXY_MIRROR_MAX_INFLIGHT 512            /* copies being built, queued or awaiting a response */
#define PROXY_MIRROR_MAX_CONNS 64                /* connections to the shadow per worker */
/* copies on one connection before the first is answered (HTTP/1.1 pipelining: safe methods on kept-alive
 * requests only); the copies of one loop turn go out in one write */
#define PROXY_MIRROR_PIPELINE 8
#define PROXY_MIRROR_CONNECT_US (1000ll * 1000)  /* connect timeout */
#define PROXY_MIRROR_RESPONSE_US (3000ll * 1000) /* from sending a request to the end of its response */
/* idle keep-alive connections to the shadow close after this */
#define PROXY_MIRROR_IDLE_US (10000ll * 1000)
#define PROXY_MIRROR_BACKOFF_US (1000ll * 1000)  /* after a failed connect, requests are skipped this long */
/* after a connection with pipelined copies failed, one copy per connection this long */
#define PROXY_MIRROR_SERIAL_US (60000ll * 1000)

typedef struct proxy_mirror proxy_mirror;
typedef struct proxy_mirror_req proxy_mirror_req;
typedef struct proxy_mirror_join proxy_mirror_join;

/* shadow: the parsed and resolved --mirror URL (a reference is taken); baseline: --mirror-baseline, or
 * NULL. From cfg: --mirror-percent, --mirror-writes (every method, not only GET/HEAD/OPTIONS/TRACE),
 * --mirror-record with --max-body (then rec receives the joined exchanges). seed: sampling state. NULL
 * when out of memory. */
proxy_mirror *proxy_mirror_new(struct event_base *base, proxy_upstream_target *shadow,
                               proxy_upstream_target *baseline, const proxy_config *cfg, proxy_metrics *m,
                               proxy_record *rec, uint64_t seed);
/* Closes every shadow connection and drops what is queued. Requests still being built (proxy_mirror_req
 * owned by client connections) must have been submitted or aborted first. NULL is a no-op. */
void proxy_mirror_free(proxy_mirror *mi);

/* Called when a client request head has been accepted. Returns a copy to build (owned by the caller
 * until proxy_mirror_submit or proxy_mirror_req_abort), or NULL when this request is not mirrored (counted in
 * tapedeck_proxy_mirror_skipped_total with its reason). content_length: -1 when unknown (chunked). */
proxy_mirror_req *proxy_mirror_req_begin(proxy_mirror *mi, const char *method, int upgrade, int keep_alive,
                                         int64_t content_length, size_t head_len);
/* Appends bytes of the request as received (head first, then body). Returns 0, or -1 when the copy
 * passed a cap: it is then freed (counted) and must not be touched again. */
int proxy_mirror_req_append(proxy_mirror_req *r, const void *p, size_t n);
/* --mirror-record: the recorded exchange of r's request is to wait for the shadows' answers. Call
 * before proxy_mirror_submit. Returns the join the exchange is then handed to with proxy_mirror_join_primary,
 * or NULL (not recording answers, or out of memory: record the exchange as usual). */
proxy_mirror_join *proxy_mirror_join_req(proxy_mirror_req *r);
/* The primary exchange ended: x (taken; NULL when it is not recorded after all) is queued for the
 * writer with the shadows' answers once they are in, at most PROXY_MIRROR_RESPONSE_US later. */
void proxy_mirror_join_primary(proxy_mirror_join *j, exchange *x);
/* The request is complete: sends it (takes r). */
void proxy_mirror_submit(proxy_mirror_req *r);
/* The request ended before it was complete, or was refused: frees r (counted as incomplete). */
void proxy_mirror_req_abort(proxy_mirror_req *r);

#endif
