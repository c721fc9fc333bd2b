/* proxy_mirror_cmp: the live signal of --mirror-record. The writer thread hands each exchange that came
 * back with shadow answers to proxy_mirror_cmp_exchange, which decodes the primary and the shadow responses
 * (captures/http decode: de-chunked, content-decoded) and compares status and body (JSON structurally,
 * by captures/json jsondiff; other bodies byte for byte). Counted per method and normalised route, and
 * rendered on /metrics as tapedeck_proxy_shadow_*. With a --mirror-baseline answer, a difference the
 * baseline shows as well (the same status, or every differing JSON path) is noise, not a mismatch.
 *
 * Off the event loops: only the writer thread compares; the admin thread renders under the same lock.
 * Routes are capped (PROXY_MIRROR_CMP_MAX_ROUTES); the rest are counted under route "{other}". */
#ifndef TAPEDECK_PROXY_MIRROR_CMP_H
#define TAPEDECK_PROXY_MIRROR_CMP_H

#include "exchange.h"
#include "tdbuf.h"

#define PROXY_MIRROR_CMP_MAX_ROUTES 256

typedef struct proxy_mirror_cmp proxy_mirror_cmp;

proxy_mirror_cmp *proxy_mirror_cmp_new(void);    /* NULL when out of memory */
void proxy_mirror_cmp_free(proxy_mirror_cmp *c); /* NULL is a no-op */
/* One thread at a time (the writer). x is only read. Exchanges without shadow answers are ignored. */
void proxy_mirror_cmp_exchange(proxy_mirror_cmp *c, const exchange *x);
/* Thread-safe. Appends the tapedeck_proxy_shadow_* series (nothing when c is NULL). 0 or a TDBUF_* error. */
int proxy_mirror_cmp_render(proxy_mirror_cmp *c, tdbuf *out);

#endif
