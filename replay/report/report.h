/* report: the report both gates produce — a jansson object with the keys of design.md — and its
 * renderers: JSON file, JUnit XML, a self-contained HTML page (inline SVG, no network fetches) and a text
 * summary. `check`, `load` and `tapedeck-replay report` all go through here, so a report re-rendered from
 * its JSON looks exactly like the one written by the run.
 *
 * Shape (the contract; extra keys are fine, these are fixed):
 *   tool "tapedeck-replay", version, mode "check"|"load", target, verdict "pass"|"fail",
 *   totals   {requests, matched, diffs, noise, errors}
 *   latency_ms {p50,p90,p95,p99,max,mean}  (load: from the intended send time; check: service time)
 *   service_ms {same keys, from the actual send}
 *   rate     {scheduled_rps, achieved_rps}
 *   endpoints [ {method, route, requests, matched, diffs, noise, errors, ...}, ... ]
 *   gates    [ {expr, observed, pass, ...}, ... ]
 *   diffs    [ {id, method, uri, route, where, expected, actual}, ... ]
 *   histogram {latency: <hist json>, service: <hist json>}   (see hist.h; per endpoint too in load)
 *
 * Every top-level key is set through this module (report_set_key holds the list of them), so the file a
 * run writes and the one `report` re-renders share one writer; check, load and shadow add their extras
 * through report_set_check_extras / report_set_load_rate / report_set_started ...
 *
 * Ownership: every function taking a json_t *report borrows it; report_new's result is the caller's
 * (json_decref). Returned json_t pointers to parts of the report are borrowed, valid while the report is. */
#ifndef TAPEDECK_REPORT_H
#define TAPEDECK_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "hist.h"

/* A new report with tool, version, mode, target, verdict "pass", zeroed totals and rate, empty
 * endpoints/gates/diffs. NULL when out of memory. */
json_t *report_new(const char *mode, const char *target);

/* verdict: 1 pass, 0 fail. */
void report_set_verdict(json_t *report, int pass);

/* Sets the top-level key of obj (the report, or its baseline side, which has the same shape) to value,
 * taking value (also on failure; NULL value = failure). -1 for a key that is not in the report's list
 * (report.c's KEYS: design.md's keys and the modes' extras) or out of memory. */
int report_set_key(json_t *obj, const char *key, json_t *value);

/* rate.scheduled_rps / rate.achieved_rps (check: both the achieved rate). 0 or -1. */
int report_set_rate(json_t *report, double scheduled_rps, double achieved_rps);

/* load's rate block: the two rates, the counts scheduled and sent, the wall time of the run and the
 * send lag (how late requests left against their schedule; NULL = none). 0 or -1. */
typedef struct report_load_rate {
    double scheduled_rps, achieved_rps;
    uint64_t scheduled, sent;
    double duration_s;
    const hist *lag;
} report_load_rate;
int report_set_load_rate(json_t *report, const report_load_rate *lr);

int report_set_started(json_t *report, const char *iso); /* "started": the run's wall-clock start */
int report_set_interrupted(json_t *report);              /* "interrupted": true (SIGINT/SIGTERM) */
/* "start": {at (the schedule's instant 0, RFC 3339), pinned (--start-at), first_send_late_ms}. 0 or -1. */
int report_set_start(json_t *report, const char *at_iso, int pinned, double first_send_late_ms);
/* "baseline": {target}, the baseline side of a load run; returned borrowed to fill (totals, latency,
 * ...: the same keys as the report, through report_set_key). NULL when out of memory. */
json_t *report_set_baseline(json_t *report, const char *target);

/* What check (and shadow) add to the report; the text summary (report_print_text) needs all of it. */
typedef struct report_check_extras {
    const char *max_diff_rate; /* the limit as the user wrote it ("0.5%") */
    const char *baseline;      /* --baseline URL, or NULL: then baseline_errors is not reported */
    int learn_noise;
    long long correlated;      /* ids correlated; -1 when correlation was off */
    size_t show_diffs;         /* diffs the text summary lists */
    uint64_t skipped, baseline_errors;
    double duration_s;
    const char *noise_method;  /* "none" | "learn" | "baseline" | "baseline+learn" */
    json_t *noise;             /* taken: [{method, route, where, count}], or NULL */
} report_check_extras;
/* Sets config {max_diff_rate, show_diffs, learn_noise, correlate, baseline}, noise, duration_s,
 * noise_method, correlated_ids and totals.skipped / totals.baseline_errors. 0 or -1. */
int report_set_check_extras(json_t *report, const report_check_extras *x);

/* The endpoint object for method + route (the normalised path, see route.h), created with zeroed
 * counters {method, route, requests, matched, diffs, noise, errors} the first time. NULL when out of
 * memory. Lookup is a linear scan: callers on a hot path keep the pointer, or use report_endpoint_at. */
json_t *report_endpoint(json_t *report, const char *method, const char *route);
/* report_endpoint through *index, a JSON object the caller owns (NULL at first, created here; free it
 * with json_decref): one hash lookup per call instead of a scan of every endpoint, which per exchange
 * grew with the capture's number of routes. */
json_t *report_endpoint_at(json_t *report, json_t **index, const char *method, const char *route);

/* Adds delta to the integer counter key of obj (report_totals(report), an endpoint, ...), creating it
 * at 0 first. */
void report_count(json_t *obj, const char *key, json_int_t delta);
json_t *report_totals(json_t *report); /* borrowed */

/* Appends a diff. request_id is the exchange's id (record id or number as text); route may be NULL
 * (computed from uri). expected/actual may be NULL (shown as "(none)"). 0 or -1 (out of memory). */
int report_add_diff(json_t *report, const char *request_id, const char *method, const char *uri,
                    const char *route, const char *where, const char *expected, const char *actual);

/* Appends a gate: expr as the user wrote it ("p99<250ms", "max_diff_rate=0"), observed as text
 * ("212.4ms", "0.3%"), pass, and an optional detail sentence (NULL for none). 0 or -1. */
int report_add_gate(json_t *report, const char *expr, const char *observed, int pass, const char *detail);

/* {p50,p90,p95,p99,max,mean} in milliseconds (3 decimals) from a histogram of microseconds. NULL on OOM. */
json_t *report_latency_json(const hist *h);
/* Sets latency_ms (and histogram.latency) and service_ms (and histogram.service) of obj (the report or
 * an endpoint) from the two histograms; either may be NULL to skip. */
void report_set_latency(json_t *obj, const hist *latency, const hist *service);

/* Sets NAME_latency_ms (and histogram.NAME) of obj from h: a second destination's latency beside the
 * report's own (shadow: "primary", the production answers' recorded latency). */
void report_set_latency_named(json_t *obj, const char *name, const hist *h);

/* Renderers. NULL path = skip that output. Returns 0, or -1 with the file and reason in err. */
int report_write_files(json_t *report, const char *json_path, const char *junit_path, const char *html_path,
                       char *err, size_t errlen);
int report_write_json(json_t *report, FILE *f);
int report_write_junit(json_t *report, FILE *f);  /* check: a testcase per route; load: per gate */
int report_write_html(json_t *report, FILE *f);
/* The human summary for stdout (report_text.c), from the report alone: check and shadow get the gate's
 * summary (counts, failing rate against the limit, per-route table, noise, first diffs); load gets
 * totals, rate, latency table, per-endpoint table, gates, first diffs. */
void report_print_text(json_t *report, FILE *f);

#endif
