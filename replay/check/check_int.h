/* check_int: the check module over several files (curl's _int.h): check.c schedules the groups and lanes,
 * check_item.c prepares one exchange and judges it; the text summary is the report's (report_text.c).
 * Not a public interface. */
#ifndef TAPEDECK_CHECK_INT_H
#define TAPEDECK_CHECK_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "check_compare.h"
#include "check_opts.h"
#include "correlate.h"
#include "engine.h"
#include "exchange.h"
#include "hist.h"

enum { COPY_TARGET = 0, COPY_TARGET2 = 1, COPY_BASELINE = 2, COPY_N = 3 };

typedef struct check_copy {
    struct check_item *item; /* back-pointer: the engine's callback gets the copy */
    int which;               /* COPY_* */
    int used, done, ok;
    engine_error_kind kind;
    char *raw;
    size_t raw_len, head_only; /* head_only: head length for HTTP/2 responses, else 0 */
    char *error;
    int64_t service_us;
} check_copy;

typedef struct check_item {
    exchange *x;
    int skip;          /* not replayed: filtered out, or nothing recorded to compare with */
    char method[24];
    char *target;      /* request target as recorded */
    char **headers;    /* "Name: value" to send (recorded minus Host, plus --set-header) */
    size_t n_headers;
    char *body;        /* de-chunked request body */
    size_t body_len;
    char route[256];
    check_copy copy[COPY_N];
    int pending;
    int finished;      /* judged (item_done ran) */
    cmp_list *diffs;   /* judged, with diffs: classified against the route's noise at the end */
    struct check_run *run;
    struct check_group *group;
} check_item;

typedef struct check_group {
    size_t *idx;
    size_t n, next;
    size_t last;    /* position in idx of the last exchange replayed */
    int lane;       /* the lane replaying it (set when it starts) */
    int known;      /* a recorded connection (id != 0): replayed on a connection of its own */
    int opened[2];  /* a request of this group went to the target [0] / the baseline [1] */
    int parked;     /* its next exchange is a write waiting for an earlier recorded write */
} check_group;

/* A lane replays one group at a time, on one connection to each destination: one engine per
 * destination with max_connections 1, so nothing else can take the connection between two exchanges
 * of the recorded connection. Engines are made when a lane is first used. */
typedef struct check_lane {
    engine *target, *baseline;
    int busy;
} check_lane;

typedef struct noise_agg {
    char method[24], route[256], where[256];
    uint64_t count;
} noise_agg;

/* A field found noisy on a route (any method; array indices as [*]). */
typedef struct route_noise {
    char route[256], where[256];
} route_noise;

typedef struct check_run {
    const check_opts *o;
    exchange *xs;
    size_t n_xs;
    check_item *items;
    size_t n_items, n_replayed, n_finished, n_skipped;
    check_group *groups;
    size_t n_groups, next_group, active_groups;
    struct event_base *base;
    check_lane *lanes;    /* one per group at most; a finished group's lane is reused */
    size_t n_lanes, lanes_used;
    size_t *free_lanes;   /* lanes free again, a stack */
    size_t n_free;
    /* Writes (methods that are not safe: httpmsg_method_is_safe) replay in global recorded order, whatever connection
     * they were recorded on: state changes happen in the order the recording saw them (two creations
     * on two connections get their ids in the recorded order). Reads run freely in parallel. */
    size_t *writes;       /* item indices of the replayed writes, in recorded order */
    size_t n_writes, write_next; /* writes[write_next]: the earliest not yet finished */
    correlate *corr_target, *corr_baseline;
    cmp_cfg cfg;
    json_t *report;
    hist *service;
    /* The exchange counters (requests, matched, diffs, noise, errors) live in the report's totals and
     * endpoints only (check_count, check_total): one store, so the summary and the file agree. */
    uint64_t baseline_errors, diffs_listed;
    uint64_t unjudged; /* exchanges with diffs waiting for the end to set noise apart */
    noise_agg *noise_list;
    size_t n_noise, cap_noise;
    route_noise *rnoise;
    size_t n_rnoise, cap_rnoise;
    char fatal[512]; /* set: stop, exit 2 */
    int64_t t0_us, t1_us;
} check_run;

/* check_item.c */
int check_item_prepare(check_run *r, check_item *it, exchange *x, char *err, size_t errlen);
/* Frees what the item owns (never its exchange: the capture set's, freed by capset_free_all). */
void check_item_free(check_item *it);
/* Frees the answers' raw bytes once judged (check_item_free frees what is left). */
void check_item_release_copies(check_item *it);
/* Builds the engine request for one destination (correlation applied); frees with check_req_free. */
typedef struct check_req {
    engine_request req;
    char *target, *body;
    char **owned_headers;
    const char **hdr_ptrs;
} check_req;
int check_req_build(const check_item *it, correlate *corr, check_req *out);
void check_req_free(check_req *q);
/* All copies are in: learn correlations, compare, account into the report. */
void check_item_finish(check_run *r, check_item *it);
/* After the replay: set noise apart from the stored diffs, count and list what is left. */
void check_classify(check_run *r);
/* The correlation scan over every replayed item, in recorded order. */
void check_scan_correlation(check_run *r, correlate *c);

/* Adds one to counter key ("requests", "matched", "diffs", "noise", "errors") of the totals and of the
 * endpoint ep (NULL: totals only). */
void check_count(check_run *r, json_t *ep, const char *key);
/* The totals' counter key so far. */
uint64_t check_total(const check_run *r, const char *key);

#endif
