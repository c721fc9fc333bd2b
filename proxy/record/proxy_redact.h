/* proxy_redact: the proxy's side of captures/redact. The writer thread owns one; it redacts each
 * exchange just before it is written (never on an event loop: hashing, decoding and re-encoding bodies
 * cost CPU that forwarding must not wait for) and counts what it did in the proxy's metrics. Only the
 * capture copy changes; forwarding never sees this. */
#ifndef TAPEDECK_PROXY_REDACT_H
#define TAPEDECK_PROXY_REDACT_H

#include "exchange.h"
#include "proxy_config.h"
#include "proxy_metrics.h"

typedef struct proxy_redact proxy_redact;

/* NULL with err empty when cfg has no --redact-* rule (nothing to do); NULL with err set when the key
 * file cannot be read or on allocation failure. m is kept (not owned). */
proxy_redact *proxy_redact_new(const proxy_config *cfg, proxy_metrics *m, char *err, size_t errlen);
void proxy_redact_free(proxy_redact *r); /* NULL is a no-op */

/* Redacts x in place (see redact_exchange). 0 done (whatever was replaced), -1 out of memory: x may be
 * half redacted and must be dropped, not written. One thread at a time. */
int proxy_redact_apply(proxy_redact *r, exchange *x);

#endif
