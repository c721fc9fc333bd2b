/* report_merge: merging reports (see report_merge.h). */
#include "report_merge.h"

#include <stdio.h>
#include <string.h>

#include "gates.h"
#include "hist.h"
#include "report.h"
#include "report_fmt.h"
#include "tline.h"

static const char *const COUNTERS[] = {"requests", "matched", "diffs", "noise", "errors", "http_5xx"};

/* Every integer of src is a counter (totals and endpoints hold nothing else as integers): add it. */
static void add_counters(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        if (json_is_integer(v))
            report_count(dst, k, json_integer_value(v));
    }
}

/* dst.histogram.key += src.histogram.key; refreshes dst's summary (latency_ms / service_ms). */
static int merge_hist(json_t *dst, const json_t *src, const char *key, const char *summary, char *err,
                      size_t errlen)
{
    const json_t *sh = json_object_get(json_object_get(src, "histogram"), key);
    json_t *dh = json_object_get(json_object_get(dst, "histogram"), key);
    if (!sh)
        return 0;
    hist *h = hist_new();
    int rc = -1;
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if ((dh && hist_add_json(h, dh, err, errlen)) || hist_add_json(h, sh, err, errlen))
        goto out;
    json_t *hobj = json_object_get(dst, "histogram");
    if (!json_is_object(hobj)) {
        hobj = json_object();
        json_object_set_new(dst, "histogram", hobj);
    }
    json_object_set_new(hobj, key, hist_to_json(h));
    json_object_set_new(dst, summary, report_latency_json(h));
    rc = 0;
out:
    hist_free(h);
    return rc;
}

/* dst.histogram.latency_blocks[k] += src's, block by block (the shards share the time axis). */
static int merge_blocks(json_t *dst, const json_t *src, char *err, size_t errlen)
{
    const json_t *sa = json_object_get(json_object_get(src, "histogram"), "latency_blocks");
    json_t *dh = json_object_get(dst, "histogram");
    if (!json_is_array(sa) || !json_is_object(dh))
        return 0;
    json_t *da = json_object_get(dh, "latency_blocks");
    if (!json_is_array(da)) {
        da = json_array();
        if (json_object_set_new(dh, "latency_blocks", da))
            return -1;
    }
    for (size_t k = 0; k < json_array_size(sa); k++) {
        const json_t *sb = json_array_get(sa, k);
        json_t *db = json_array_get(da, k);
        while (json_array_size(da) <= k)
            json_array_append_new(da, json_null());
        if (!json_is_object(sb))
            continue;
        hist *h = hist_new();
        if (!h || (json_is_object(db) && hist_add_json(h, db, err, errlen)) || hist_add_json(h, sb, err, errlen)) {
            hist_free(h);
            return -1;
        }
        json_array_set_new(da, k, hist_to_json(h));
        hist_free(h);
    }
    return 0;
}

static int merge_timeline(json_t *dst, const json_t *src)
{
    const json_t *st = json_object_get(src, "timeline");
    json_t *dt = json_object_get(dst, "timeline");
    if (!json_is_object(st))
        return 0;
    double slice = json_is_object(dt) ? report_fmt_num(dt, "slice_s") : report_fmt_num(st, "slice_s");
    tline *t = tline_new((int64_t)(slice * 1e6 + 0.5));
    if (!t)
        return -1;
    int rc = (json_is_object(dt) && tline_add_json(t, dt)) || tline_add_json(t, st) ? -1 : 0;
    if (!rc)
        json_object_set_new(dst, "timeline", tline_to_json(t));
    tline_free(t);
    return rc;
}

/* One side's figures: counters, status codes, histograms, timeline. */
static int merge_side(json_t *dst, const json_t *src, char *err, size_t errlen)
{
    add_counters(dst, src);
    const json_t *ss = json_object_get(src, "status");
    if (json_is_object(ss)) {
        json_t *ds = json_object_get(dst, "status");
        if (!json_is_object(ds)) {
            ds = json_object();
            json_object_set_new(dst, "status", ds);
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)ss, k, v) report_count(ds, k, json_integer_value(v));
    }
    if (merge_hist(dst, src, "latency", "latency_ms", err, errlen) ||
        merge_hist(dst, src, "service", "service_ms", err, errlen) || merge_blocks(dst, src, err, errlen))
        return -1;
    if (merge_timeline(dst, src)) {
        snprintf(err, errlen, "bad timeline");
        return -1;
    }
    return 0;
}

static json_t *fresh_side(void)
{
    json_t *o = json_object();
    if (o)
        for (size_t i = 0; i < sizeof COUNTERS / sizeof COUNTERS[0]; i++)
            json_object_set_new(o, COUNTERS[i], json_integer(0));
    return o;
}

/* rate.lag_ms: percentiles recomputed from the merged send-lag histograms. */
static int merge_lag(json_t *mr, const json_t *rr, char *err, size_t errlen)
{
    const json_t *sh = json_object_get(json_object_get(rr, "lag_ms"), "histogram");
    const json_t *dh = json_object_get(json_object_get(mr, "lag_ms"), "histogram");
    if (!json_is_object(sh))
        return 0;
    hist *h = hist_new();
    json_t *l = NULL;
    int rc = -1;
    if (!h || (json_is_object(dh) && hist_add_json(h, dh, err, errlen)) || hist_add_json(h, sh, err, errlen))
        goto out;
    if (!(l = report_latency_json(h)) || json_object_set_new(l, "histogram", hist_to_json(h)))
        goto out;
    rc = json_object_set_new(mr, "lag_ms", l); /* takes l, also on failure */
    l = NULL;
out:
    json_decref(l);
    hist_free(h);
    return rc;
}

static int merge_load(json_t *m, const json_t *r, char *err, size_t errlen)
{
    json_t *totals = json_object_get(m, "totals");
    /* overall figures live on the report object itself; totals holds the counters */
    add_counters(totals, json_object_get(r, "totals"));
    /* status, histograms, timeline of the report object itself */
    const json_t *ss = json_object_get(r, "status");
    if (json_is_object(ss)) {
        json_t *ds = json_object_get(m, "status");
        if (!json_is_object(ds)) {
            ds = json_object();
            if (report_set_key(m, "status", ds))
                return -1;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)ss, k, v) report_count(ds, k, json_integer_value(v));
    }
    if (merge_hist(m, r, "latency", "latency_ms", err, errlen) ||
        merge_hist(m, r, "service", "service_ms", err, errlen) || merge_blocks(m, r, err, errlen) ||
        merge_timeline(m, r))
        return -1;

    /* rates add up: the shards ran side by side */
    json_t *mr = json_object_get(m, "rate");
    const json_t *rr = json_object_get(r, "rate");
    json_object_set_new(mr, "scheduled_rps",
                        json_real(report_fmt_num(mr, "scheduled_rps") + report_fmt_num(rr, "scheduled_rps")));
    json_object_set_new(mr, "achieved_rps",
                        json_real(report_fmt_num(mr, "achieved_rps") + report_fmt_num(rr, "achieved_rps")));
    report_count(mr, "scheduled", report_fmt_int(rr, "scheduled"));
    report_count(mr, "sent", report_fmt_int(rr, "sent"));
    report_count(mr, "inflight_peak", report_fmt_int(rr, "inflight_peak")); /* side by side: at most the sum */
    if (report_fmt_num(rr, "duration_s") > report_fmt_num(mr, "duration_s"))
        json_object_set_new(mr, "duration_s", json_real(report_fmt_num(rr, "duration_s")));
    if (merge_lag(mr, rr, err, errlen))
        return -1;

    /* the --compare baseline */
    const json_t *rb = json_object_get(r, "baseline");
    if (json_is_object(rb)) {
        json_t *mb = json_object_get(m, "baseline");
        if (!json_is_object(mb)) {
            if (!(mb = report_set_baseline(m, report_fmt_str(rb, "target", ""))) ||
                report_set_key(mb, "totals", fresh_side()))
                return -1;
        }
        add_counters(json_object_get(mb, "totals"), json_object_get(rb, "totals"));
        if (merge_hist(mb, rb, "latency", "latency_ms", err, errlen) ||
            merge_hist(mb, rb, "service", "service_ms", err, errlen) || merge_blocks(mb, rb, err, errlen) ||
            merge_timeline(mb, rb))
            return -1;
    }

    /* endpoints */
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "endpoints"), i, e) {
        json_t *me = report_endpoint(m, report_fmt_str(e, "method", "?"), report_fmt_str(e, "route", "?"));
        if (!me || merge_side(me, e, err, errlen))
            return -1;
        const json_t *eb = json_object_get(e, "baseline");
        if (json_is_object(eb)) {
            json_t *mb = json_object_get(me, "baseline");
            if (!json_is_object(mb)) {
                mb = fresh_side();
                json_object_set_new(me, "baseline", mb);
            }
            if (merge_side(mb, eb, err, errlen))
                return -1;
        }
    }
    return 0;
}

static int merge_check(json_t *m, const json_t *r, char *err, size_t errlen)
{
    add_counters(json_object_get(m, "totals"), json_object_get(r, "totals"));
    if (merge_hist(m, r, "latency", "latency_ms", err, errlen) ||
        merge_hist(m, r, "service", "service_ms", err, errlen))
        return -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "endpoints"), i, e) {
        json_t *me = report_endpoint(m, report_fmt_str(e, "method", "?"), report_fmt_str(e, "route", "?"));
        if (!me)
            return -1;
        add_counters(me, e);
    }
    json_array_foreach(json_object_get(r, "diffs"), i, e) json_array_append(json_object_get(m, "diffs"), e);
    json_array_foreach(json_object_get(r, "gates"), i, e) json_array_append(json_object_get(m, "gates"), e);
    if (strcmp(report_fmt_str(r, "verdict", "fail"), "pass"))
        report_set_verdict(m, 0);
    return 0;
}

/* Shards of one schedule: the latest instant 0 and the latest first send speak for the run (the
 * schedule is only as punctual as its last shard). Reports without `start` (older ones) add nothing. */
static void merge_start(json_t *m, json_t *const *reports, size_t n)
{
    const char *at = NULL;
    double late = 0;
    int pinned = 0, any = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *st = json_object_get(reports[i], "start");
        const char *a = json_string_value(json_object_get(st, "at"));
        if (!a)
            continue;
        double l = json_number_value(json_object_get(st, "first_send_late_ms"));
        if (!any || strcmp(a, at) > 0) /* RFC 3339 in UTC with fixed digits: text order is time order */
            at = a;
        if (!any || l > late)
            late = l;
        pinned |= json_is_true(json_object_get(st, "pinned"));
        any = 1;
    }
    if (any)
        report_set_start(m, at, pinned, late);
}

json_t *report_merge(json_t *const *reports, const char *const *names, size_t n, const json_t *baseline_report,
                     char *err, size_t errlen)
{
    const char *mode = report_fmt_str(reports[0], "mode", "");
    int load = !strcmp(mode, "load");
    if (!load && strcmp(mode, "check")) {
        snprintf(err, errlen, "%s: unknown report mode '%s'", names && names[0] ? names[0] : "report 1", mode);
        return NULL;
    }
    for (size_t i = 1; i < n; i++)
        if (strcmp(report_fmt_str(reports[i], "mode", ""), mode)) {
            snprintf(err, errlen, "cannot merge a %s report with a %s report (%s)", mode,
                     report_fmt_str(reports[i], "mode", "?"), names && names[i] ? names[i] : "");
            return NULL;
        }
    json_t *m = report_new(mode, report_fmt_str(reports[0], "target", ""));
    json_t *from = json_array();
    if (!m || !from)
        goto oom;
    if (report_set_key(m, "merged_from", from)) { /* took from, also on failure */
        from = NULL;
        goto oom;
    } /* from stays borrowed from m */
    json_t *cfg = json_deep_copy(json_object_get(reports[0], "config")); /* check: its flags, for the text */
    if (cfg) {
        if (load)
            json_object_set_new(cfg, "shard", json_string(""));
        report_set_key(m, "config", cfg);
    }
    if (load) {
        if (json_object_get(reports[0], "gate_config"))
            report_set_key(m, "gate_config", json_incref(json_object_get(reports[0], "gate_config")));
        report_count(json_object_get(m, "totals"), "http_5xx", 0);
        json_object_set_new(json_object_get(m, "rate"), "scheduled", json_integer(0));
        json_object_set_new(json_object_get(m, "rate"), "sent", json_integer(0));
        json_object_set_new(json_object_get(m, "rate"), "inflight_peak", json_integer(0));
        json_object_set_new(json_object_get(m, "rate"), "duration_s", json_real(0));
    }
    if (report_fmt_str(reports[0], "started", NULL))
        report_set_key(m, "started", json_incref(json_object_get(reports[0], "started")));
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(from, json_string(names && names[i] ? names[i] : ""));
        if (strcmp(report_fmt_str(reports[i], "target", ""), report_fmt_str(m, "target", "")))
            report_set_key(m, "target", json_string("(several targets)"));
        if (load ? merge_load(m, reports[i], err, errlen) : merge_check(m, reports[i], err, errlen)) {
            if (!err[0])
                snprintf(err, errlen, "out of memory");
            char tmp[400];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen, "%s: %s", names && names[i] ? names[i] : "report", tmp);
            json_decref(m);
            return NULL;
        }
    }
    if (load)
        merge_start(m, reports, n);
    if (load && gates_eval_load(m, baseline_report, err, errlen)) {
        json_decref(m);
        return NULL;
    }
    return m;
oom:
    snprintf(err, errlen, "out of memory");
    json_decref(m);
    json_decref(from);
    return NULL;
}
