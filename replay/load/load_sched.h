/* load_sched: when each request of a load run is due.
 *
 * Every send time is computed from the start of the run and the item's own position, never from the
 * previous send, so timer jitter or a late send never shifts what comes after (no accumulated error):
 *   --speed F: at = loop·P + (t_i − t_0) / F, t_i the recorded request start; P, the loop period, is the
 *              recorded span plus one mean gap, scaled by 1/F.
 *   --rate  R: slot j is due at j / R seconds and replays exchange j mod n (recorded order).
 * Without a duration the capture plays once; with one, it loops while `at` < duration.
 * --shard K/N keeps the items whose recorded connection hashes to K (0 <= K < N): the N shards together
 * are exactly the unsharded schedule, each carrying about 1/N of it. */
#ifndef TAPEDECK_SCHED_H
#define TAPEDECK_SCHED_H

#include <stddef.h>
#include <stdint.h>

typedef struct load_sched load_sched;

typedef struct load_sched_opts {
    double speed;        /* > 0 when replaying recorded timing */
    double rate;         /* > 0 for fixed-rate slots (wins over speed) */
    int64_t duration_us; /* 0 = one pass over the capture */
    unsigned shard_k, shard_n; /* shard_n 0 or 1 = no sharding */
} load_sched_opts;

/* start_us: recorded request start of each exchange (µs, any epoch; 0 = unknown); conn: recorded
 * connection id. n >= 1. Both arrays are copied. NULL with the reason in err (no timing for --speed,
 * bad options, out of memory). */
load_sched *load_sched_new(const int64_t *start_us, const uint64_t *conn, size_t n, const load_sched_opts *o, char *err,
                 size_t errlen);
void load_sched_free(load_sched *s); /* NULL is a no-op */

/* The next due item in time order: 1 with the exchange index and its due time in µs from the start, or
 * 0 when the schedule is over. */
int load_sched_next(load_sched *s, size_t *index, int64_t *at_us);

/* Which shard (0..n-1) a recorded connection belongs to. */
unsigned load_sched_shard_of(uint64_t conn_id, unsigned n);

/* Parses "K/N" (0 <= K < N <= 100000). 0 or -1. */
int load_sched_parse_shard(const char *s, unsigned *k, unsigned *n);
/* Parses "500/s", "500", "30000/m". 0 or -1. */
int load_sched_parse_rate(const char *s, double *per_s);

#endif
