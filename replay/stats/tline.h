/* tline: latency over time for the report's plot. Time is cut into fixed slices by intended send
 * time; each slice keeps its count, errors, max and a coarse log histogram (bins 20% wide) so that p50
 * and p99 per slice can be drawn and slices of several shard reports merge by adding counts. The exact
 * numbers of a run come from hist, not from here. */
#ifndef TAPEDECK_TLINE_H
#define TAPEDECK_TLINE_H

#include <stdint.h>

typedef struct tline tline;
typedef struct json_t json_t;

tline *tline_new(int64_t slice_us); /* NULL when out of memory */
void tline_free(tline *t);           /* NULL is a no-op */
/* at_us: intended send time from the start; latency_us < 0 records an error. Slices past ~1 day of
 * run time are folded into the last one. */
void tline_record(tline *t, int64_t at_us, int64_t latency_us);
/* {"slice_s":S,"points":[{"t_s","sent","errors","p50_ms","p99_ms","max_ms","bins":[[b,c],...]},...]} */
json_t *tline_to_json(const tline *t);
/* Adds a tline_to_json document into t (same slice width). 0 or -1. */
int tline_add_json(tline *t, const json_t *j);
/* Slice width a run of the given expected length gets: ~200 points, at least 100 ms. */
int64_t tline_pick_slice(int64_t expected_run_us);

#endif
