/* proxy_admin: the operations endpoint on the main thread's loop: GET /metrics (Prometheus text format)
 * and GET /healthz ("ok", or 503 "draining" during shutdown). One request per connection. */
#ifndef TAPEDECK_PROXY_ADMIN_H
#define TAPEDECK_PROXY_ADMIN_H

#include <event2/event.h>
#include <stddef.h>

#include "proxy_metrics.h"
#include "proxy_record.h"

typedef struct proxy_admin proxy_admin;

/* Listens on host:port. draining points at a flag the server sets on SIGTERM. NULL with err set when
 * the address cannot be bound. */
proxy_admin *proxy_admin_new(struct event_base *base, const char *host, int port, proxy_metrics *m,
                             proxy_record *rec, const int *draining, char *err, size_t errlen);
void proxy_admin_free(proxy_admin *a); /* closes the listener and open admin connections; NULL no-op */

#endif
