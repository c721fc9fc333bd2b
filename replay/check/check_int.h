/* check_int: the check module over several files (curl's _int.h): check_sched.c reads the capture and schedules the groups and lanes, check.c sets up and reports,
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
    exchange *x;       /* &xbuf: the item owns its exchange */
    exchange xbuf;
    size_t index;      /* 0-based position in the capture: correlation's request number */
    int skip;          /* not replayed: filtered out, or nothing recorded to compare with */
    int is_write;      /* a method other than GET/HEAD/OPTIONS: replayed in global recorded order */
    char method[24];
    char *target;      /* request target as recorded */
    char **headers;    /* "Name: value" to send (recorded minus Host, plus --set-header) */
    size_t n_headers;
    char *body;        /* de-chunked request body */
    size_t body_len;
    size_t bytes;      /* what it holds, counted against the read window */
    char route[256];
    check_copy copy[COPY_N];
    int pending;
    int finished;      /* judged (item_done ran) */
    cmp_list *diffs;   /* judged, with diffs: handed to the pending list by check_item_finish */
    struct check_run *run;
    struct check_group *group;
    struct check_item *next; /* the group's queue */
    struct check_item *next_write; /* the write order */
} check_item;

/* An exchange judged with diffs, kept (compact) until the end, when the noise every route showed is
 * known: then its diffs are set apart from noise and counted. */
typedef struct check_pending {
    size_t index;
    uint64_t id;
    char method[24];
    char route[256];
    char *target;
    cmp_list *diffs;
} check_pending;

enum { GROUP_WAITING, GROUP_ACTIVE, GROUP_PARKED, GROUP_IDLE };

/* The exchanges of one recorded connection that have been read (the read window), in order. A group is
 * replayed by one lane at a time; it waits for a slot (WAITING), replays (ACTIVE), waits for an earlier
 * recorded write (PARKED: off its slot, keeping its lane), or has replayed all it has so far and waits,
 * keeping its connection, for more of its exchanges to be read (IDLE). */
typedef struct check_group {
    uint64_t conn;  /* recorded connection id (0: an exchange of no known connection, alone) */
    check_item *head, *tail; /* read, not yet sent */
    check_item *cur;         /* sent, not judged */
    int state;
    int lane;       /* the lane replaying it, -1 before it starts */
    int known;      /* a recorded connection (id != 0): replayed on a connection of its own */
    int opened[2];  /* a request of this group went to the target [0] / the baseline [1] */
    struct check_group *next_wait;            /* the start queue */
    struct check_group *prev_idle, *next_idle; /* idle groups, oldest first */
    struct check_group *prev_all, *next_all;   /* every live group */
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

typedef struct capset capset;

typedef struct check_run {
    const check_opts *o;
    /* The read window: the capture is read as the replay goes, at most CHECK_WINDOW_ITEMS exchanges
     * (and CHECK_WINDOW_BYTES) read and not yet judged; a judged exchange is freed at once. */
    struct capfeed *feed; /* the capture, read ahead on its own thread */
    int eof;
    capset *scan_cs; /* correlation's scan, read on demand (check.c:scan_more); NULL once it ended */
    size_t n_items, n_replayed, n_finished, n_skipped; /* read, sent, judged, not replayed */
    size_t live_items, live_bytes;
    struct connmap *gmap; /* recorded connection id -> its group */
    check_group *wait_head, *wait_tail; /* groups waiting for a slot, in order */
    check_group *idle_head, *idle_tail;
    size_t n_idle;
    check_group *seq_group; /* --sequential: the one group */
    check_group *all_groups;
    size_t active_groups, live_groups;
    struct event_base *base;
    check_lane *lanes;
    size_t n_lanes, cap_lanes;
    size_t *free_lanes;   /* lanes free again, a stack */
    size_t n_free;
    /* Writes (methods that are not safe: httpmsg_method_is_safe) replay in global recorded order, whatever connection
     * they were recorded on: state changes happen in the order the recording saw them (two creations
     * on two connections get their ids in the recorded order). Reads run freely in parallel. The
     * writes read and not yet judged, in recorded order: only the first may go. */
    check_item *writes_head, *writes_tail;
    correlate *corr_target, *corr_baseline;
    cmp_cfg cfg;
    json_t *report;
    json_t *ep_index; /* report_endpoint_at's */
    hist *service;
    /* The exchange counters (requests, matched, diffs, noise, errors) live in the report's totals and
     * endpoints only (check_count, check_total): one store, so the summary and the file agree. */
    uint64_t baseline_errors, diffs_listed;
    uint64_t unjudged; /* exchanges with diffs waiting for the end to set noise apart */
    check_pending *pend;
    size_t n_pend, cap_pend;
    noise_agg *noise_list;
    size_t n_noise, cap_noise;
    route_noise *rnoise;
    size_t n_rnoise, cap_rnoise;
    char fatal[512]; /* set: stop, exit 2 */
    int64_t t0_us, t1_us;
} check_run;

#define CHECK_WINDOW_ITEMS 4096
#define CHECK_WINDOW_BYTES (64u << 20)
#define CHECK_MAX_IDLE 64      /* idle groups keeping their connection; the oldest goes beyond */
#define CHECK_MAX_PENDING 10000 /* exchanges with diffs kept for the end; beyond, judged at once */

/* check_sched.c: the replay — reading the window, groups, lanes, write order, the engines' answers */
/* Reads until the window is full or the capture ends; groups what it read. 0 or -1 (fatal set). */
int check_sched_fill(check_run *r);
void check_sched_start(check_run *r); /* starts waiting groups while slots are free */
int check_sched_init(check_run *r);   /* 0 or -1 (out of memory) */
void check_sched_free(check_run *r);

/* check_item.c */
int check_item_prepare(check_run *r, check_item *it, exchange *x, char *err, size_t errlen);
/* Frees what the item owns, its exchange too (moved into it by check_item_prepare). */
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
/* All copies are in: learn correlations, compare, account into the report. Diffs that noise found
 * later may still explain go to the pending list (or are judged at once when it is full). */
void check_item_finish(check_run *r, check_item *it);
/* After the replay: set noise apart from the pending diffs, count and list what is left. */
void check_classify(check_run *r);
/* One recorded request into the correlation scans. */
void check_scan_item(check_run *r, const check_item *it);

/* Adds one to counter key ("requests", "matched", "diffs", "noise", "errors") of the totals and of the
 * endpoint ep (NULL: totals only). */
void check_count(check_run *r, json_t *ep, const char *key);
/* The totals' counter key so far. */
uint64_t check_total(const check_run *r, const char *key);

#endif
