/* gates: SLO, --compare and --baseline-report verdicts of a load report (see gates.h). */
#include "gates.h"

#include <stdio.h>
#include <string.h>

#include "latency_cmp.h"
#include "hist.h"
#include "report.h"
#include "report_fmt.h"
#include "slo.h"

/* The latency histogram of obj (report, endpoint or baseline object) added into h. 0 or -1. */
static int add_hist(hist *h, const json_t *obj, char *err, size_t errlen)
{
    const json_t *hj = json_object_get(json_object_get(obj, "histogram"), "latency");
    if (!hj)
        return 0; /* an endpoint without responses has no histogram */
    return hist_add_json(h, hj, err, errlen);
}

static int endpoint_matches(const json_t *e, const slo *s)
{
    if (s->method[0] && strcmp(report_fmt_str(e, "method", ""), s->method))
        return 0;
    return !strcmp(report_fmt_str(e, "route", ""), s->route);
}

static int eval_slo(json_t *report, const char *expr, char *err, size_t errlen)
{
    slo s;
    hist *h = NULL;
    int rc = -1;
    if (slo_parse(expr, &s, err, errlen))
        return -1;
    if (!(h = hist_new())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_int_t req = 0, bad = 0;
    if (!s.route[0]) {
        const json_t *t = json_object_get(report, "totals");
        req = report_fmt_int(t, "requests");
        bad = report_fmt_int(t, "errors") + report_fmt_int(t, "http_5xx");
        if (add_hist(h, report, err, errlen))
            goto out;
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(report, "endpoints"), i, e) {
            if (!endpoint_matches(e, &s))
                continue;
            req += report_fmt_int(e, "requests");
            bad += report_fmt_int(e, "errors") + report_fmt_int(e, "http_5xx");
            if (add_hist(h, e, err, errlen))
                goto out;
        }
    }
    double v = 0;
    int judged = 1;
    switch (s.metric) {
    case SLO_PCT: v = (double)hist_percentile(h, s.pct); judged = hist_count(h) > 0; break;
    case SLO_MAX: v = (double)hist_max(h); judged = hist_count(h) > 0; break;
    case SLO_MEAN: v = hist_mean(h); judged = hist_count(h) > 0; break;
    case SLO_ERROR_RATE: v = req ? (double)bad / (double)req : 0; judged = req > 0; break;
    case SLO_RATE: {
        const json_t *rate = json_object_get(report, "rate");
        double sch = report_fmt_num(rate, "scheduled_rps");
        v = sch > 0 ? report_fmt_num(rate, "achieved_rps") / sch : 0;
        judged = sch > 0;
        break;
    }
    }
    char obs[64];
    if (!judged)
        rc = report_add_gate(report, s.expr, "no requests", 0,
                             s.route[0] ? "no request of the run matched this route" : "nothing was sent");
    else
        rc = report_add_gate(report, s.expr, slo_format(&s, v, obs, sizeof obs), slo_holds(&s, v), NULL);
    if (rc)
        snprintf(err, errlen, "out of memory");
out:
    hist_free(h);
    return rc;
}

typedef struct regress_cfg {
    double max_regression;
    int64_t floor_us;
    uint64_t min_samples;
    const char *against; /* "baseline" or "baseline report" */
} regress_cfg;

#define MAX_BLOCKS 64

/* The per-block latency histograms of obj (histogram.latency_blocks) into blk; returns how many. */
static size_t load_blocks(hist **blk, const json_t *obj, char *err, size_t errlen, int *bad)
{
    const json_t *a = json_object_get(json_object_get(obj, "histogram"), "latency_blocks");
    size_t n = json_array_size(a);
    if (n > MAX_BLOCKS)
        n = MAX_BLOCKS;
    for (size_t i = 0; i < n; i++) {
        const json_t *hj = json_array_get(a, i);
        if (!json_is_object(hj))
            continue;
        if (!(blk[i] = hist_new()) || hist_add_json(blk[i], hj, err, errlen)) {
            *bad = 1;
            return i + 1;
        }
    }
    return n;
}

/* p50 and p95 of cand vs base for one scope; adds gates only where there are enough samples. */
static int judge_scope(json_t *report, const regress_cfg *c, const char *scope, const json_t *cand_obj,
                       const json_t *base_obj, char *err, size_t errlen)
{
    hist *hc = hist_new(), *hb = hist_new();
    hist *cb[MAX_BLOCKS] = {0}, *bb[MAX_BLOCKS] = {0};
    size_t ncb = 0, nbb = 0;
    int rc = -1, bad = 0;
    if (!hc || !hb) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (add_hist(hc, cand_obj, err, errlen) || add_hist(hb, base_obj, err, errlen))
        goto out;
    ncb = load_blocks(cb, cand_obj, err, errlen, &bad);
    nbb = bad ? 0 : load_blocks(bb, base_obj, err, errlen, &bad);
    if (bad)
        goto out;
    static const double ps[] = {50, 95};
    for (size_t i = 0; i < 2; i++) {
        latency_cmp_result cr;
        latency_cmp_quantile(hc, hb, (const hist *const *)cb, (const hist *const *)bb, ncb < nbb ? ncb : nbb, ps[i],
                         c->max_regression, c->floor_us, c->min_samples, &cr);
        if (!cr.enough)
            continue;
        char expr[700], obs[200], detail[300];
        snprintf(expr, sizeof expr, "%s p%.0f vs %s (+%.0f%% max)", scope, ps[i], c->against,
                 c->max_regression * 100);
        double pct = cr.base_ms > 0 ? (cr.cand_ms / cr.base_ms - 1) * 100 : 0;
        snprintf(obs, sizeof obs, "%.3fms vs %.3fms (%+.1f%%)", cr.cand_ms, cr.base_ms, pct);
        snprintf(detail, sizeof detail,
                 "%s: with 95%% confidence the difference is at least %.3fms; tolerated %.3fms",
                 cr.regressed ? "slower beyond the tolerance" : "within the tolerance", cr.lower_ms,
                 cr.allowed_ms);
        if (report_add_gate(report, expr, obs, !cr.regressed, detail)) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    hist_free(hc);
    hist_free(hb);
    for (size_t i = 0; i < MAX_BLOCKS; i++) {
        hist_free(cb[i]);
        hist_free(bb[i]);
    }
    return rc;
}

static const json_t *find_endpoint(const json_t *report, const char *method, const char *route)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(report, "endpoints"), i, e) {
        if (!strcmp(report_fmt_str(e, "method", ""), method) &&
            !strcmp(report_fmt_str(e, "route", ""), route))
            return e;
    }
    return NULL;
}

/* base_report: the other run's report; NULL for --compare (the baseline lives inside report). */
static int judge_regressions(json_t *report, const regress_cfg *c, const json_t *base_report, char *err,
                             size_t errlen)
{
    const json_t *overall_base = base_report ? base_report : json_object_get(report, "baseline");
    if (judge_scope(report, c, "all requests:", report, overall_base, err, errlen))
        return -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(report, "endpoints"), i, e) {
        const json_t *be = base_report ? find_endpoint(base_report, report_fmt_str(e, "method", ""),
                                                       report_fmt_str(e, "route", ""))
                                       : json_object_get(e, "baseline");
        if (!be)
            continue;
        char scope[600];
        snprintf(scope, sizeof scope, "%s %s:", report_fmt_str(e, "method", "?"),
                 report_fmt_str(e, "route", "?"));
        if (judge_scope(report, c, scope, e, be, err, errlen))
            return -1;
    }
    return 0;
}

int gates_eval_load(json_t *report, const json_t *baseline_report, char *err, size_t errlen)
{
    const json_t *gc = json_object_get(report, "gate_config");
    if (report_set_key(report, "gates", json_array())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(gc, "slo"), i, v) {
        if (!json_is_string(v) || eval_slo(report, json_string_value(v), err, errlen))
            return -1;
    }
    regress_cfg c = {0.10, 1000, 100, "baseline"};
    if (json_is_number(json_object_get(gc, "max_regression")))
        c.max_regression = report_fmt_num(gc, "max_regression");
    if (json_is_number(json_object_get(gc, "regression_floor_ms")))
        c.floor_us = (int64_t)(report_fmt_num(gc, "regression_floor_ms") * 1000.0 + 0.5);
    if (json_is_integer(json_object_get(gc, "min_samples")))
        c.min_samples = (uint64_t)report_fmt_int(gc, "min_samples");
    if (json_is_object(json_object_get(report, "baseline")) &&
        judge_regressions(report, &c, NULL, err, errlen))
        return -1;
    if (baseline_report) {
        if (strcmp(report_fmt_str(baseline_report, "mode", ""), "load") ||
            !json_is_object(json_object_get(json_object_get(baseline_report, "histogram"), "latency"))) {
            snprintf(err, errlen, "the baseline report is not a load report with latency histograms");
            return -1;
        }
        c.against = "baseline report";
        if (judge_regressions(report, &c, baseline_report, err, errlen))
            return -1;
    }
    int pass = 1;
    json_array_foreach(json_object_get(report, "gates"), i, v) {
        if (!json_is_true(json_object_get(v, "pass")))
            pass = 0;
    }
    report_set_verdict(report, pass);
    return 0;
}

json_t *gates_read_report(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        snprintf(err, errlen, "%s: not a JSON report: %s (line %d)", path, je.text, je.line);
        return NULL;
    }
    if (!json_is_object(j) || !json_is_string(json_object_get(j, "mode"))) {
        snprintf(err, errlen, "%s: not a tapedeck-replay report (no \"mode\")", path);
        json_decref(j);
        return NULL;
    }
    return j;
}
