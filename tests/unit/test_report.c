/* report: building a report, the renderers (escaping, JUnit structure, a self-contained HTML page with
 * no external resources), and merging: N load reports built from slices of one set of latencies merge
 * into the same percentiles and gate verdicts as the report of all of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gates.h"
#include "hist.h"
#include "report.h"
#include "report_merge.h"

static char *render(json_t *r, int (*fn)(json_t *, FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(r, f), 0);
    fclose(f);
    return buf;
}

static int print_text(json_t *r, FILE *f)
{
    report_print_text(r, f);
    return 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static json_t *check_report(void)
{
    json_t *r = report_new("check", "http://127.0.0.1:9000");
    json_t *ep = report_endpoint(r, "GET", "/api/trips/{id}");
    assert_ptr_equal(report_endpoint(r, "GET", "/api/trips/{id}"), ep); /* found again, not duplicated */
    report_count(ep, "requests", 3);
    report_count(ep, "diffs", 1);
    report_count(ep, "matched", 2);
    json_t *ok = report_endpoint(r, "POST", "/api/trips");
    report_count(ok, "requests", 1);
    report_count(ok, "matched", 1);
    report_count(report_totals(r), "requests", 4);
    report_count(report_totals(r), "diffs", 1);
    assert_int_equal(report_add_diff(r, "7", "GET", "/api/trips/42?x=1", NULL, "$.fare", "12.5",
                                     "\"<b>&'quoted'</b>\""),
                     0);
    assert_int_equal(report_add_gate(r, "max_diff_rate=0", "25%", 0, NULL), 0);
    report_set_verdict(r, 0);
    return r;
}

static void builds_the_contract_keys(void **state)
{
    (void)state;
    json_t *r = check_report();
    static const char *const keys[] = {"tool", "version", "mode", "target", "verdict", "totals", "rate",
                                       "endpoints", "gates", "diffs"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(r, keys[i]));
    assert_string_equal(json_string_value(json_object_get(r, "verdict")), "fail");
    assert_int_equal(json_array_size(json_object_get(r, "endpoints")), 2);
    json_t *d = json_array_get(json_object_get(r, "diffs"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "route")), "/api/trips/{id}");
    json_t *t = json_object_get(r, "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "requests")), 4);
    json_decref(r);
}

static void junit_for_check(void **state)
{
    (void)state;
    json_t *r = check_report();
    char *x = render(r, report_write_junit);
    assert_non_null(strstr(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_int_equal(count(x, "<testcase "), 3); /* two routes and one gate */
    assert_non_null(strstr(x, "name=\"GET /api/trips/{id}\""));
    assert_int_equal(count(x, "<failure "), 2); /* the route with a diff, the gate */
    assert_non_null(strstr(x, "$.fare"));
    assert_non_null(strstr(x, "&lt;b&gt;&amp;&#39;quoted&#39;&lt;/b&gt;"));
    assert_null(strstr(x, "<b>"));
    assert_int_equal(count(x, "<testcase "), count(x, "</testcase>"));
    assert_int_equal(count(x, "<failure "), count(x, "</failure>"));
    free(x);
    json_decref(r);
}

static void html_is_self_contained(void **state)
{
    (void)state;
    json_t *r = check_report();
    char *h = render(r, report_write_html);
    assert_non_null(strstr(h, "<!DOCTYPE html>"));
    assert_non_null(strstr(h, "FAIL"));
    assert_non_null(strstr(h, "$.fare"));
    assert_null(strstr(h, "<b>&"));
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, " src="));
    assert_null(strstr(h, "<link"));
    assert_null(strstr(h, "url("));
    assert_null(strstr(h, "@import"));
    free(h);
    json_decref(r);
}

/* A load report for the given latencies, like `load` writes it (one route, histograms, totals). */
static json_t *load_report(const int64_t *v, size_t n, const char *slo, double rps)
{
    json_t *r = report_new("load", "http://127.0.0.1:9000");
    hist *h = hist_new(), *s = hist_new();
    for (size_t i = 0; i < n; i++) {
        hist_record(h, v[i]);
        hist_record(s, v[i] / 2);
    }
    report_set_latency(r, h, s);
    json_t *ep = report_endpoint(r, "GET", "/api/trips/{id}");
    report_count(ep, "requests", (json_int_t)n);
    report_count(ep, "matched", (json_int_t)n);
    report_set_latency(ep, h, s);
    report_count(report_totals(r), "requests", (json_int_t)n);
    report_count(report_totals(r), "matched", (json_int_t)n);
    json_object_set_new(r, "rate", json_pack("{sfsf}", "scheduled_rps", rps, "achieved_rps", rps));
    json_object_set_new(r, "gate_config", json_pack("{s[s]}", "slo", slo));
    char err[200];
    assert_int_equal(gates_eval_load(r, NULL, err, sizeof err), 0);
    hist_free(h);
    hist_free(s);
    return r;
}

/* The indexed lookup hands back the endpoint the scan finds, one per method + route, however many routes. */
static void indexed_endpoints_are_the_scanned_ones(void **state)
{
    (void)state;
    json_t *r = report_new("check", "http://t"), *ix = NULL;
    char route[32];
    for (int i = 0; i < 300; i++) {
        snprintf(route, sizeof route, "/r/%d", i);
        json_t *e = report_endpoint_at(r, &ix, i % 2 ? "GET" : "PUT", route);
        assert_non_null(e);
        assert_ptr_equal(report_endpoint_at(r, &ix, i % 2 ? "GET" : "PUT", route), e);
        assert_ptr_equal(report_endpoint(r, i % 2 ? "GET" : "PUT", route), e);
    }
    /* same route, other method: another endpoint */
    assert_ptr_not_equal(report_endpoint_at(r, &ix, "GET", "/r/0"), report_endpoint_at(r, &ix, "PUT", "/r/0"));
    assert_int_equal(json_array_size(json_object_get(r, "endpoints")), 301);
    json_decref(ix);
    json_decref(r);
}

static void merged_shards_equal_one_run(void **state)
{
    (void)state;
    enum { N = 30000, SHARDS = 3 };
    static int64_t all[N], part[SHARDS][N];
    size_t np[SHARDS] = {0};
    uint64_t x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        all[i] = 200 + (int64_t)((x >> 33) % 50000) + ((x >> 20) % 100 == 0 ? 400000 : 0);
        size_t k = (x >> 40) % SHARDS;
        part[k][np[k]++] = all[i];
    }
    /* p99 of the whole lies above 40 ms: an SLO at 40 ms must fail in both, one at 500 ms pass */
    const char *slos[2] = {"p99<40ms", "p99<500ms"};
    for (int t = 0; t < 2; t++) {
        json_t *one = load_report(all, N, slos[t], 300);
        json_t *shards[SHARDS];
        for (int k = 0; k < SHARDS; k++)
            shards[k] = load_report(part[k], np[k], slos[t], 100);
        char err[200];
        json_t *m = report_merge(shards, NULL, SHARDS, NULL, err, sizeof err);
        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "verdict")),
                            json_string_value(json_object_get(one, "verdict")));
        assert_string_equal(json_string_value(json_object_get(one, "verdict")), t ? "pass" : "fail");
        static const char *const ps[] = {"p50", "p90", "p95", "p99", "max", "mean"};
        for (size_t i = 0; i < 6; i++) {
            double a = json_number_value(json_object_get(json_object_get(one, "latency_ms"), ps[i]));
            double b = json_number_value(json_object_get(json_object_get(m, "latency_ms"), ps[i]));
            assert_true(a == b);
            json_t *e1 = json_array_get(json_object_get(one, "endpoints"), 0);
            json_t *e2 = json_array_get(json_object_get(m, "endpoints"), 0);
            assert_true(json_number_value(json_object_get(json_object_get(e1, "latency_ms"), ps[i])) ==
                        json_number_value(json_object_get(json_object_get(e2, "latency_ms"), ps[i])));
        }
        assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "totals"), "requests")), N);
        assert_true(json_real_value(json_object_get(json_object_get(m, "rate"), "achieved_rps")) == 300);
        /* the merged histogram is the combined one, bucket for bucket */
        assert_true(json_equal(json_object_get(json_object_get(m, "histogram"), "latency"),
                               json_object_get(json_object_get(one, "histogram"), "latency")));
        json_decref(m);
        json_decref(one);
        for (int k = 0; k < SHARDS; k++)
            json_decref(shards[k]);
    }
}

static void merge_refuses_mixed_modes(void **state)
{
    (void)state;
    int64_t v[3] = {1000, 2000, 3000};
    json_t *reps[2] = {load_report(v, 3, "p99<1s", 10), check_report()};
    const char *names[2] = {"a.json", "b.json"};
    char err[200] = "";
    assert_null(report_merge(reps, names, 2, NULL, err, sizeof err));
    assert_non_null(strstr(err, "b.json"));
    json_decref(reps[0]);
    json_decref(reps[1]);
}

static void load_text_and_junit(void **state)
{
    (void)state;
    int64_t v[200];
    for (int i = 0; i < 200; i++)
        v[i] = 1000 + i * 100;
    json_t *r = load_report(v, 200, "p99<10ms", 50);
    char *t = render(r, print_text);
    assert_non_null(strstr(t, "FAIL"));
    assert_non_null(strstr(t, "/api/trips/{id}"));
    assert_non_null(strstr(t, "p99<10ms"));
    free(t);
    char *x = render(r, report_write_junit);
    assert_int_equal(count(x, "<testcase "), 1); /* load: one per gate */
    assert_int_equal(count(x, "<failure "), 1);
    free(x);
    char *h = render(r, report_write_html);
    assert_non_null(strstr(h, "<svg"));
    assert_null(strstr(h, "<script"));
    free(h);
    json_decref(r);
}

/* Every top-level key goes through report.c's list: a misspelt one is refused, not written. */
static void refuses_keys_outside_the_contract(void **state)
{
    (void)state;
    json_t *r = check_report();
    assert_int_equal(report_set_key(r, "duration_s", json_real(1.5)), 0);
    assert_int_equal(report_set_key(r, "durration_s", json_real(1.5)), -1);
    assert_null(json_object_get(r, "durration_s"));
    assert_int_equal(report_set_key(r, "noise", NULL), -1); /* a failed allocation is a failure */
    json_decref(r);
}

/* check's summary comes from the report alone: counts, the limit, the routes, the noise, the diffs. */
static void check_text_from_the_report(void **state)
{
    (void)state;
    json_t *r = check_report();
    report_check_extras x = {.max_diff_rate = "0.5%", .learn_noise = 1, .correlated = 2, .show_diffs = 1,
                             .skipped = 3, .duration_s = 0.25, .noise_method = "learn",
                             .noise = json_pack("[{s:s,s:s,s:s,s:i}]", "method", "GET", "route", "/a", "where",
                                                "$.serverTime", "count", 4)};
    assert_int_equal(report_set_check_extras(r, &x), 0);
    char *t = render(r, print_text);
    assert_non_null(strstr(t, "tapedeck-replay check against http://127.0.0.1:9000: FAIL\n"));
    assert_non_null(strstr(t, "4 exchanges replayed: 0 matched, 1 with diffs, 0 transport errors, 0 with noise "
                              "set aside; 3 not replayed"));
    assert_non_null(strstr(t, "failing rate 25% (limit 0.5%); noise learned by sending each request twice; "
                              "2 ids correlated"));
    assert_non_null(strstr(t, "GET /api/trips/{id}        3        2        1        0        0  <-"));
    assert_non_null(strstr(t, "$.serverTime                   4 exchanges, GET /a"));
    assert_non_null(strstr(t, "#7 GET /api/trips/42?x=1\n      $.fare: expected 12.5"));
    free(t);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builds_the_contract_keys), cmocka_unit_test(junit_for_check),
        cmocka_unit_test(html_is_self_contained), cmocka_unit_test(indexed_endpoints_are_the_scanned_ones),   cmocka_unit_test(merged_shards_equal_one_run),
        cmocka_unit_test(merge_refuses_mixed_modes), cmocka_unit_test(load_text_and_junit),
        cmocka_unit_test(refuses_keys_outside_the_contract), cmocka_unit_test(check_text_from_the_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
