/* proxy_record: the recording side of the proxy. Workers hand finished exchanges to a bounded queue;
 * one writer thread owns the capwriter (redaction, compression, rotation, flushing happen there), so an
 * event loop never waits on the disk. */
#ifndef TAPEDECK_PROXY_RECORD_H
#define TAPEDECK_PROXY_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "exchange.h"
#include "proxy_config.h"
#include "proxy_metrics.h"
#include "proxy_record_spare.h"
#include "tdbuf.h"

typedef struct proxy_record proxy_record;

/* Opens the first segment in cfg->capture_dir (created if missing) and starts the writer thread.
 * upstream is written into each warcinfo record. NULL with err set on failure. */
proxy_record *proxy_record_new(const proxy_config *cfg, proxy_metrics *m, const char *upstream,
                               char *err, size_t errlen);
/* Stops taking records, writes what is queued, closes (renames) the segment, joins the thread.
 * NULL is a no-op. */
void proxy_record_free(proxy_record *r);

/* Should an exchange with this request target be recorded? Applies --record-path, --skip-path and
 * --sample (rnd: a per-thread random state). Thread-safe. */
int proxy_record_wants(const proxy_record *r, const char *target, uint64_t *rnd);

/* Takes ownership of x (a heap exchange from malloc, freed with exchange_clear + free). Never blocks on
 * the writer: when the queue is full the exchange is dropped and counted. Returns 0 queued, -1 dropped. */
int proxy_record_push(proxy_record *r, exchange *x);

/* A written exchange back from the writer, for the next record: proxy_record_spare_take on the
 * recorder's spares. Worker thread only. */
exchange *proxy_record_reuse(proxy_record *r, proxy_record_spares *s, tdbuf *rq, tdbuf *rs, char **addr);
/* Frees what s still holds (the worker is ending). NULL r is a no-op. */
void proxy_record_spares_release(proxy_record *r, proxy_record_spares *s);

/* Ask the writer to close the current segment and start the next (SIGHUP). Async-signal-unsafe; call
 * from the main loop. */
void proxy_record_rotate(proxy_record *r);

/* --mirror-record: the writer's primary-vs-shadow counters (rendered on /metrics), or NULL. */
struct proxy_mirror_cmp *proxy_record_shadow_cmp(proxy_record *r);

size_t proxy_record_depth(proxy_record *r);
size_t proxy_record_capacity(const proxy_record *r);

/* Frees a heap exchange (exchange_clear + free). NULL is a no-op. */
void proxy_record_exchange_free(exchange *x);

#endif
