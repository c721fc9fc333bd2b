/* load_opts: the command line of `tapedeck-replay load`. */
#ifndef TAPEDECK_LOAD_OPTS_H
#define TAPEDECK_LOAD_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LOAD_MAX_SLO 64
#define LOAD_MAX_SET_HEADER 32

typedef struct load_opts {
    char **captures; /* borrowed from argv */
    size_t ncaptures;
    const char *target;
    const char *compare;  /* --compare URL: the baseline deployment, or NULL */
    double speed;         /* default 1 */
    double rate;          /* --rate N/s, 0 = recorded timing */
    int64_t duration_us;  /* 0 = one pass */
    unsigned shard_k, shard_n;
    int connections;      /* default 64 */
    int max_inflight;     /* effective, set by load_opts_parse: HTTP/1.1 also the most connections
                           * (default: connections; more lets the pool grow); HTTP/2 at most 100 per
                           * connection */
    int http2;            /* --http2 */
    int insecure;         /* --insecure */
    int engine_curl;      /* --engine curl: libcurl for http:// too */
    int64_t start_at_us;  /* --start-at: Unix µs the schedule starts at; 0 = now */
    int64_t timeout_us;   /* per request, default 30 s */
    const char *slo[LOAD_MAX_SLO];
    size_t nslo;
    const char *baseline_report;
    double max_regression; /* fraction, default 0.10 */
    int64_t regression_floor_us; /* default 1 ms */
    uint64_t min_samples;  /* per route for the regression gates, default 100 */
    const char *set_header[LOAD_MAX_SET_HEADER];
    size_t nset_header;
    const char *report_json, *junit, *html;
    int quiet;            /* --quiet: no text summary */
    int progress;         /* -1 auto (stderr is a terminal), 0 off, 1 on */
} load_opts;

void load_usage(FILE *f);
/* What load_opts_parse found. It never prints: on LOAD_OPTS_EBAD err says what is wrong, and on
 * HELP/VERSION the caller prints load_usage or the version (as check_opts_parse). */
enum { LOAD_OPTS_OK = 0, LOAD_OPTS_HELP = 1, LOAD_OPTS_VERSION = 2, LOAD_OPTS_EBAD = -1 };
int load_opts_parse(load_opts *o, int argc, char **argv, char *err, size_t errlen);
/* --start-at: RFC 3339 ("2026-12-02T10:00:00Z", "...T10:00:00.5+01:00") or Unix seconds ("1796205600",
 * "1796205600.25") -> Unix µs. 0 or -1. */
int load_parse_start_at(const char *s, int64_t *us);

#endif
