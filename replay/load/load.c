/* load: `tapedeck-replay load`, the performance gate. Reads the capture, runs the open-loop schedule
 * (load_run), turns the measurements into the report (design.md keys plus histograms), judges the
 * gates (gates.c) and writes the outputs. */
#include "load.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gates.h"
#include "load_opts.h"
#include "load_prep.h"
#include "load_run.h"
#include "report.h"
#include "slo.h"
#include "tdtime.h"

static double rate_of(uint64_t n, int64_t first_us, int64_t last_us, int64_t elapsed_us)
{
    if (n >= 2 && last_us > first_us)
        return (double)(n - 1) * 1e6 / (double)(last_us - first_us);
    return elapsed_us > 0 ? (double)n * 1e6 / (double)elapsed_us : 0;
}

static json_t *build_report(const load_opts *o, const load_set *set, const load_result *res)
{
    json_t *r = report_new("load", o->target);
    if (!r)
        return NULL;
    char iso[40];
    report_set_started(r, tdtime_format_iso(res->started_wall_us, 0, iso, sizeof iso));
    json_t *caps = json_array();
    for (size_t i = 0; i < o->ncaptures; i++)
        json_array_append_new(caps, json_string(o->captures[i]));
    char shard[32] = "";
    if (o->shard_n > 1)
        snprintf(shard, sizeof shard, "%u/%u", o->shard_k, o->shard_n);
    report_set_key(r, "config",
                   json_pack("{sosfsfsfsssisiss*}", "captures", caps, "speed", o->rate > 0 ? 0.0 : o->speed,
                             "rate_per_s", o->rate, "duration_s", (double)o->duration_us / 1e6, "shard",
                             shard, "connections", o->connections, "max_inflight", o->max_inflight,
                             "compare", o->compare));
    json_t *slos = json_array();
    for (size_t i = 0; i < o->nslo; i++)
        json_array_append_new(slos, json_string(o->slo[i]));
    report_set_key(r, "gate_config",
                   json_pack("{sosfsfsIss*}", "slo", slos, "max_regression", o->max_regression,
                             "regression_floor_ms", (double)o->regression_floor_us / 1000.0, "min_samples",
                             (json_int_t)o->min_samples, "baseline_report", o->baseline_report));
    if (load_stats_to_json(&res->cand, set, r, r, NULL)) {
        json_decref(r);
        return NULL;
    }
    double sched_rps = rate_of(res->scheduled, res->first_due_us, res->last_due_us, res->elapsed_us);
    double ach_rps = rate_of(res->sent, res->first_send_us, res->last_send_us, res->elapsed_us);
    report_load_rate lr = {.scheduled_rps = sched_rps, .achieved_rps = ach_rps, .scheduled = res->scheduled,
                           .sent = res->sent, .inflight_peak = res->inflight_peak, .duration_s = (double)res->elapsed_us / 1e6, .lag = res->lag};
    report_set_load_rate(r, &lr);
    if (res->has_base) {
        json_t *b = report_set_baseline(r, o->compare);
        if (!b || load_stats_to_json(&res->base, set, b, r, "baseline")) {
            json_decref(r);
            return NULL;
        }
    }
    /* How late the first request went out against its scheduled instant: for --start-at across
     * shards, the figure that says whether this machine kept to the common schedule. */
    report_set_start(r, tdtime_format_iso(res->started_wall_us, 1, iso, sizeof iso), o->start_at_us != 0,
                     res->sent ? (double)(res->first_send_us - res->first_due_us) / 1000.0 : 0.0);
    if (res->interrupted)
        report_set_interrupted(r);
    return r;
}

int load_main(int argc, char **argv)
{
    load_opts o;
    load_set set;
    load_result res;
    json_t *report = NULL, *baseline = NULL;
    char err[512];
    int status = 2;
    memset(&set, 0, sizeof set);
    memset(&res, 0, sizeof res);

    int p = load_opts_parse(&o, argc, argv, err, sizeof err);
    if (p == LOAD_OPTS_HELP)
        load_usage(stdout);
    else if (p == LOAD_OPTS_VERSION)
        printf("tapedeck-replay load %s\n", TAPEDECK_VERSION);
    else if (p)
        fprintf(stderr, "tapedeck-replay load: %s\n", err);
    if (p) {
        status = p > 0 ? 0 : 2;
        goto out;
    }
    for (size_t i = 0; i < o.nslo; i++) { /* reject a bad gate before spending the run */
        slo s;
        if (slo_parse(o.slo[i], &s, err, sizeof err)) {
            fprintf(stderr, "tapedeck-replay load: %s\n", err);
            goto out;
        }
    }
    if (o.baseline_report && !(baseline = gates_read_report(o.baseline_report, err, sizeof err))) {
        fprintf(stderr, "tapedeck-replay load: --baseline-report %s\n", err);
        goto out;
    }
    if (baseline && strcmp(json_string_value(json_object_get(baseline, "mode")), "load")) {
        fprintf(stderr, "tapedeck-replay load: --baseline-report %s: a %s report, not a load report\n",
                o.baseline_report, json_string_value(json_object_get(baseline, "mode")));
        goto out;
    }
    if (load_prep_read(&set, o.captures, o.ncaptures, o.set_header, o.nset_header, err, sizeof err)) {
        fprintf(stderr, "tapedeck-replay load: %s\n", err);
        goto out;
    }
    if (load_run(&o, &set, &res, err, sizeof err)) {
        fprintf(stderr, "tapedeck-replay load: %s\n", err);
        goto out;
    }
    if (res.unreachable) {
        fprintf(stderr, "tapedeck-replay load: %s\n", res.reason);
        goto out;
    }
    if (res.cand.requests > 0 && res.cand.responses == 0) {
        fprintf(stderr, "tapedeck-replay load: target %s: no request got a response (first error: %s)\n",
                o.target, res.cand.first_error);
        goto out;
    }
    if (res.has_base && res.base.requests > 0 && res.base.responses == 0) {
        fprintf(stderr, "tapedeck-replay load: baseline %s: no request got a response (first error: %s)\n",
                o.compare, res.base.first_error);
        goto out;
    }
    if (!(report = build_report(&o, &set, &res))) {
        fprintf(stderr, "tapedeck-replay load: out of memory building the report\n");
        goto out;
    }
    if (gates_eval_load(report, baseline, err, sizeof err)) {
        fprintf(stderr, "tapedeck-replay load: %s\n", err);
        goto out;
    }
    if (report_write_files(report, o.report_json, o.junit, o.html, err, sizeof err)) {
        fprintf(stderr, "tapedeck-replay load: %s\n", err);
        goto out;
    }
    if (!o.quiet)
        report_print_text(report, stdout);
    if (res.interrupted)
        fprintf(stderr, "tapedeck-replay load: interrupted; the report covers what ran\n");
    status = strcmp(json_string_value(json_object_get(report, "verdict")), "pass") ? 1 : 0;
out:
    json_decref(report);
    json_decref(baseline);
    load_result_free(&res);
    load_prep_free(&set);
    free(o.captures);
    return status;
}
