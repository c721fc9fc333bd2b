/* load_run: the open-loop run itself. One event loop (libevent, a timerfd of its own) sends each scheduled
 * request at its due time through the engine, to the target and, with --compare, to the baseline at the
 * same moment (alternating which goes first). At most --max-inflight scheduled requests are in flight
 * (on HTTP/1.1 the engine's pool grows to that many connections, one per request in flight, opened only
 * when every open one is busy); later ones queue, and the time they wait is measured (send lag) and
 * included in their latency. */
#ifndef TAPEDECK_LOAD_RUN_H
#define TAPEDECK_LOAD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "load_opts.h"
#include "load_prep.h"
#include "load_stats.h"

typedef struct load_result {
    load_stats cand;     /* the target */
    load_stats base;     /* the --compare baseline (has_base) */
    int has_base;
    hist *lag;           /* actual send − due time, µs */
    uint64_t scheduled;  /* requests that came due during the run */
    uint64_t sent;       /* requests handed to the engine (a compare pair counts once) */
    uint64_t inflight_peak; /* most requests in flight on one side at once (HTTP/1.1: connections) */
    int64_t first_due_us, last_due_us;   /* from the start */
    int64_t first_send_us, last_send_us; /* from the start */
    int64_t elapsed_us;
    int64_t started_wall_us;
    int unreachable;     /* stopped early: no response, connections refused (reason below) */
    int interrupted;     /* SIGINT/SIGTERM: stopped early, report what was measured */
    char reason[384];
} load_result;

/* Runs the schedule. 0 (res filled; check res->unreachable), or -1 with err set (setup failed). res must
 * be released with load_result_free either way. */
int load_run(const load_opts *o, const load_set *set, load_result *res, char *err, size_t errlen);
void load_result_free(load_result *res);

#endif
