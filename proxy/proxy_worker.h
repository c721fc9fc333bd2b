/* proxy_worker: one event-loop thread with its own SO_REUSEPORT listener, its own upstream pool and its
 * own client connections. The main thread talks to it only through the thread-safe calls below. */
#ifndef TAPEDECK_PROXY_WORKER_H
#define TAPEDECK_PROXY_WORKER_H

#include <event2/util.h>
#include <stddef.h>

#include "proxy_config.h"
#include "proxy_metrics.h"
#include "proxy_record.h"
#include "proxy_tls.h"
#include "proxy_upstream.h"

typedef struct proxy_worker proxy_worker;

/* tls: the TLS contexts (borrowed; NULL when neither the listener nor the upstream uses TLS).
 * shadow: the --mirror target (the worker takes its own reference), NULL when mirroring is off;
 * shadow_baseline: the --mirror-baseline target or NULL.
 * listen_fd: a bound, listening, non-blocking socket the worker takes over. on_exit(arg) is called from
 * the worker thread when its loop has ended (the main thread then joins it). */
proxy_worker *proxy_worker_new(int idx, const proxy_config *cfg, proxy_metrics *m, proxy_record *rec,
                               proxy_upstream_holder *targets, proxy_upstream_target *shadow,
                               proxy_upstream_target *shadow_baseline, proxy_tls *tls,
                               evutil_socket_t listen_fd, void (*on_exit)(void *), void *arg, char *err,
                               size_t errlen);
int proxy_worker_start(proxy_worker *w); /* 0 or -1 */
/* Thread-safe: stop accepting, finish in-flight exchanges (up to --drain-timeout), then end the loop. */
void proxy_worker_drain(proxy_worker *w);
/* Thread-safe: close every connection now and end the loop. */
void proxy_worker_stop(proxy_worker *w);
/* Thread-safe: the upstream changed; drop idle connections to the old one. */
void proxy_worker_notify_upstream(proxy_worker *w);
void proxy_worker_join(proxy_worker *w);
void proxy_worker_free(proxy_worker *w); /* after join; NULL is a no-op */

#endif
