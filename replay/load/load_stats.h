/* load_stats: what one side of a load run (the target, or the --compare baseline) measured: overall and
 * per-route histograms of latency (from the intended send time) and service time (from the actual send),
 * counters, status codes, and the timeline. Written into the report by load_stats_to_json. */
#ifndef TAPEDECK_LOAD_STATS_H
#define TAPEDECK_LOAD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "load_prep.h"
#include "tline.h"

/* Latency is also kept per time block (the run cut into LOAD_BLOCKS equal parts by intended send time):
 * the regression gates measure how much a percentile moves from block to block, which captures noise
 * that comes in bursts (a descheduled process, a GC pause) and that per-request statistics would take
 * for signal. See latency_cmp.h. */
#define LOAD_BLOCKS 10

typedef struct load_route_stats {
    hist *lat, *svc;
    hist *blk[LOAD_BLOCKS]; /* allocated on first use */
    uint64_t requests, responses, errors, http_5xx;
} load_route_stats;

typedef struct load_stats {
    hist *lat, *svc;
    hist *blk[LOAD_BLOCKS];
    int64_t block_us;
    tline *tl;
    uint64_t requests, responses, errors, http_5xx;
    uint64_t status[600]; /* responses by status code (others under 0) */
    load_route_stats *routes;
    size_t nroutes;
    char first_error[256];
} load_stats;

/* block_us: length of one time block (expected run length / LOAD_BLOCKS). 0 or -1 (out of memory; s is
 * left freeable). */
int load_stats_init(load_stats *s, size_t nroutes, int64_t slice_us, int64_t block_us);
void load_stats_free(load_stats *s);

/* One finished request. status 0 = transport failure (error says why). */
void load_stats_record(load_stats *s, uint32_t route, int64_t at_us, int status, const char *error,
                       int64_t latency_us, int64_t service_us);

/* Writes totals, latency_ms/service_ms, histogram (with "latency_blocks"), status, timeline into obj, and for every route with
 * requests an endpoint object (created in endpoints, an array, when given; else the route is looked
 * up in / added to obj's "endpoints" via report_endpoint). When baseline_key is set, the per-endpoint
 * figures go under endpoint[baseline_key] instead (for --compare). 0 or -1. */
int load_stats_to_json(const load_stats *s, const load_set *set, json_t *obj, json_t *report,
                       const char *baseline_key);

#endif
