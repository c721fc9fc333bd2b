/* check: the integration gate. Reads the capture as it replays it (check_sched: a bounded window,
 * exchanges grouped by recorded connection, groups in parallel, each in its recorded order on a
 * connection of its own), judges each response against the recording (check_item), and reports.
 * With correlation on, the recorded requests are also scanned (which request first sent which value) by
 * a second reader of the capture, as far as a question of correlation needs it (scan_more). Exit 0
 * pass, 1 diffs over the limit, 2 trouble. */
#include "check.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capfeed.h"
#include "capset.h"
#include "check_int.h"
#include "report.h"
#include "td_assert.h"
#include "tdtime.h"

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    check_run *r = arg;
    fprintf(stderr, "\rcheck: %zu/%zu exchanges, %llu differ%s, %llu errors ", r->n_finished,
            r->n_items - r->n_skipped, (unsigned long long)(check_total(r, "diffs") + r->unjudged),
            r->o->baseline || r->o->learn_noise ? " (noise not yet set apart)" : "",
            (unsigned long long)check_total(r, "errors"));
}

static void run_free(check_run *r)
{
    check_sched_free(r);
    for (size_t i = 0; i < r->n_pend; i++) {
        cmp_list_clear(r->pend[i].diffs);
        free(r->pend[i].diffs);
        free(r->pend[i].target);
    }
    free(r->pend);
    correlate_free(r->corr_target);
    correlate_free(r->corr_baseline);
    if (r->base)
        event_base_free(r->base);
    capfeed_free(r->feed);
    capset_free(r->scan_cs);
    json_decref(r->report);
    json_decref(r->ep_index);
    hist_free(r->service);
    free(r->noise_list);
    free(r->rnoise);
    jsondiff_ctx_free(r->cfg.jd);
}

/* The correlation scan, on demand (correlate_set_source): the next recorded request into both
 * correlates. A scan that cannot read on stops the run, as the replay's own reader would at the same
 * place. 1 scanned, 0 the end or an error (fatal set). */
static int scan_more(void *ud)
{
    check_run *r = ud;
    if (!r->scan_cs)
        return 0;
    char err[512] = "";
    exchange x;
    exchange_init(&x);
    check_item it;
    int rc = capset_next(r->scan_cs, &x);
    if (rc > 0) {
        if (check_item_prepare(r, &it, &x, err, sizeof err) < 0)
            rc = -1;
        else
            check_scan_item(r, &it);
        check_item_free(&it);
        if (rc > 0)
            return 1;
    } else if (rc < 0) {
        snprintf(err, sizeof err, "%s", capset_error(r->scan_cs));
    }
    if (rc < 0 && !r->fatal[0]) {
        snprintf(r->fatal, sizeof r->fatal, "%s", err);
        if (r->base)
            event_base_loopbreak(r->base);
    }
    capset_free(r->scan_cs);
    r->scan_cs = NULL;
    if (r->corr_target)
        correlate_scan_done(r->corr_target);
    if (r->corr_baseline)
        correlate_scan_done(r->corr_baseline);
    return 0;
}

/* Everything up to the replay: correlation scan, the capture opened, engines. 0 or -1 (err). */
static int run_setup(check_run *r, char *err, size_t errlen)
{
    const check_opts *o = r->o;
    r->cfg.ignore = o->ignore;
    r->cfg.ignore_header = o->ignore_header;
    r->cfg.n_ignore_header = o->n_ignore_header;
    r->cfg.compare_header = o->compare_header;
    r->cfg.n_compare_header = o->n_compare_header;
    if (!(r->cfg.jd = jsondiff_ctx_new()))
        goto oom;
    if (o->correlate && !o->no_diff) {
        if (!(r->corr_target = correlate_new()) || (o->baseline && !(r->corr_baseline = correlate_new())))
            goto oom;
        if (!(r->scan_cs = capset_open(o->captures, o->n_captures, err, errlen)))
            return -1;
        correlate_set_source(r->corr_target, scan_more, r);
        if (r->corr_baseline)
            correlate_set_source(r->corr_baseline, scan_more, r);
    }
    capset *cs = capset_open(o->captures, o->n_captures, err, errlen);
    if (!cs || !(r->feed = capfeed_open(cs, 0, 0, err, errlen)))
        return -1;
    r->base = event_base_new();
    r->report = report_new("check", o->target);
    r->service = hist_new();
    if (!r->base || !r->report || !r->service || check_sched_init(r) < 0)
        goto oom;
    /* The first lane now: a target URL that cannot work is bad input, said before anything is sent. */
    engine_opts eo = {.target = o->target, .timeout_ms = o->timeout_ms, .http2 = o->http2,
                      .insecure = o->insecure, .max_connections = 1,
                      .kind = o->engine_curl ? ENGINE_CURL : ENGINE_AUTO};
    if (!(r->lanes[0].target = engine_new(r->base, &eo, err, errlen)))
        return -1;
    if (o->baseline) {
        eo.target = o->baseline;
        if (!(r->lanes[0].baseline = engine_new(r->base, &eo, err, errlen)))
            return -1;
    }
    /* Scanning on demand reads the recorded requests inside a judgment, on the event loop: libcurl's
     * timers run on during that pause and time out the transfers in flight, so with libcurl the scan
     * is done whole before anything is sent (the native client reads its answers first when the loop
     * comes back, and only its latency figures see the pause). */
    if (r->scan_cs && (!engine_is_native(r->lanes[0].target) ||
                       (r->lanes[0].baseline && !engine_is_native(r->lanes[0].baseline)))) {
        while (scan_more(r) > 0)
            ;
        if (r->fatal[0]) {
            snprintf(err, errlen, "%s", r->fatal);
            return -1;
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void finish_report(check_run *r, int pass, double rate)
{
    const check_opts *o = r->o;
    json_t *rep = r->report;
    report_set_latency(rep, r->service, r->service);
    double secs = (double)(r->t1_us - r->t0_us) / 1e6;
    double rps = secs > 0 ? (double)check_total(r, "requests") / secs : 0;
    report_set_rate(rep, rps, rps);
    char expr[96], observed[64];
    snprintf(expr, sizeof expr, "max_diff_rate=%s", o->max_diff_rate_text);
    snprintf(observed, sizeof observed, "%.3g%%", rate * 100);
    report_add_gate(rep, expr, observed, pass, "exchanges with a diff or a transport error, of those replayed");
    json_t *nl = json_array();
    for (size_t i = 0; nl && i < r->n_noise; i++)
        json_array_append_new(nl, json_pack("{s:s,s:s,s:s,s:I}", "method", r->noise_list[i].method, "route",
                                            r->noise_list[i].route, "where", r->noise_list[i].where, "count",
                                            (json_int_t)r->noise_list[i].count));
    report_check_extras x = {
        .max_diff_rate = o->max_diff_rate_text,
        .baseline = o->baseline,
        .learn_noise = o->learn_noise,
        .correlated = r->corr_target ? (long long)correlate_mappings(r->corr_target) : -1,
        .show_diffs = o->show_diffs,
        .skipped = r->n_skipped,
        .baseline_errors = r->baseline_errors,
        .duration_s = secs,
        .noise_method = o->baseline ? (o->learn_noise ? "baseline+learn" : "baseline") : o->learn_noise ? "learn" : "none",
        .noise = nl,
    };
    report_set_check_extras(rep, &x);
    report_set_verdict(rep, pass);
}

int check_main(int argc, char **argv)
{
    check_opts o;
    char err[512] = "";
    int prc = check_opts_parse(&o, argc, argv, err, sizeof err);
    if (prc == CHECK_OPTS_HELP)
        check_usage(stdout);
    else if (prc == CHECK_OPTS_VERSION)
        printf("tapedeck-replay %s\n", TAPEDECK_VERSION);
    else if (prc)
        fprintf(stderr, "tapedeck-replay check: %s\n", err);
    if (prc) {
        check_opts_free(&o);
        return prc > 0 ? 0 : 2;
    }
    check_run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    int status = 2;
    struct event *prog = NULL;
    if (run_setup(&r, err, sizeof err) < 0) {
        fprintf(stderr, "tapedeck-replay check: %s\n", err);
        goto out;
    }
    int progress = o.progress < 0 ? isatty(2) : o.progress;
    if (progress) {
        prog = event_new(r.base, -1, EV_PERSIST, on_progress, &r);
        struct timeval tv = {0, 200000};
        if (prog)
            event_add(prog, &tv);
    }
    r.t0_us = tdtime_mono_us();
    if (check_sched_fill(&r) == 0) {
        check_sched_start(&r);
        if (r.active_groups && !r.fatal[0])
            event_base_dispatch(r.base);
    }
    r.t1_us = tdtime_mono_us();
    /* A run that was not stopped read the capture to its end, judged every exchange it selected (and
     * so every write, in order), and left no group behind. */
    TD_ASSERT(r.fatal[0] || (r.eof && !r.active_groups && !r.wait_head && !r.writes_head && !r.live_items &&
                             r.n_finished + r.n_skipped == r.n_items));
    check_classify(&r);
    if (progress)
        fprintf(stderr, "\r%60s\r", "");
    if (r.fatal[0]) {
        fprintf(stderr, "tapedeck-replay check: %s\n", r.fatal);
        goto out;
    }
    if (r.n_items == r.n_skipped) {
        /* An empty gate would pass without looking at anything: most likely a wrong filter or file. */
        fprintf(stderr, "tapedeck-replay check: nothing to replay: %zu exchange%s in the capture, none selected "
                        "(filters --method/--path, or no recorded response to compare with)\n",
                r.n_items, r.n_items == 1 ? "" : "s");
        goto out;
    }
    uint64_t requests = check_total(&r, "requests");
    double rate = requests ? (double)(check_total(&r, "diffs") + check_total(&r, "errors")) / (double)requests : 0;
    int pass = rate <= o.max_diff_rate + 1e-12;
    finish_report(&r, pass, rate);
    report_print_text(r.report, stdout);
    if (report_write_files(r.report, o.report_json, o.junit, o.html, err, sizeof err) < 0) {
        fprintf(stderr, "tapedeck-replay check: %s\n", err);
        goto out;
    }
    status = pass ? 0 : 1;
out:
    if (prog)
        event_free(prog);
    run_free(&r);
    check_opts_free(&o);
    return status;
}
