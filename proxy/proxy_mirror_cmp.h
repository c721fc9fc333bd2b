/* proxy_mirror_cmp: the live signal of --mirror-record. The writer thread hands each exchange that came
 * back with shadow answers to pmirror_cmp_exchange, which decodes the primary and the shadow responses
 * (captures/http decode: de-chunked, content-decoded) and compares status and body (JSON structurally,
 * by captures/json jsondiff; other bodies byte for byte). Counted per method and normalised route, and
 * rendered on /metrics as tapedeck_proxy_shadow_*. With a --mirror-baseline answer, a difference the
 * baseline shows as well (the same status, or every differing JSON path) is noise, not a mismatch.
 *
 * Off the event loops: only the writer thread compares; the admin thread renders under the same lock.
 * Routes are capped (PMIRROR_CMP_MAX_ROUTES); the rest are counted under route "{other}". */
#ifndef TAPEDECK_PROXY_MIRROR_CMP_H
#define TAPEDECK_PROXY_MIRROR_CMP_H

#include "exchange.h"
#include "tdbuf.h"

#define PMIRROR_CMP_MAX_ROUTES 256

typedef struct pmirror_cmp pmirror_cmp;

pmirror_cmp *pmirror_cmp_new(void);    /* NULL when out of memory */
void pmirror_cmp_free(pmirror_cmp *c); /* NULL is a no-op */
/* One thread at a time (the writer). x is only read. Exchanges without shadow answers are ignored. */
void pmirror_cmp_exchange(pmirror_cmp *c, const exchange *x);
/* Thread-safe. Appends the tapedeck_proxy_shadow_* series (nothing when c is NULL). 0 or a TDBUF_* error. */
int pmirror_cmp_render(pmirror_cmp *c, tdbuf *out);

#endif
