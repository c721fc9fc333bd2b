/* hist: precision (3 significant digits over 1 µs .. 1 h), exact small values, clamping, merging
 * (merged percentiles equal those of one histogram fed with every value) and the JSON round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>

#include "hist.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A latency-like value: log-uniform from 1 µs to ~1 h. */
static int64_t rand_latency(void)
{
    int shift = (int)(next_rand() % 32);
    return (int64_t)(1 + (next_rand() % ((UINT64_C(1) << shift))) % (uint64_t)HIST_MAX_US);
}

static void small_values_are_exact(void **state)
{
    (void)state;
    hist *h = hist_new();
    for (int64_t v = 0; v < 2048; v++)
        hist_record(h, v);
    for (int64_t v = 1; v < 2048; v++)
        assert_int_equal(hist_percentile(h, 100.0 * (double)(v + 1) / 2048.0), v);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), 2047);
    hist_free(h);
}

static void three_significant_digits(void **state)
{
    (void)state;
    /* Each value v with a much larger companion: p50 is v's bucket, at most 1/1024 above v. */
    for (int i = 0; i < 20000; i++) {
        int64_t v = rand_latency();
        if (v > HIST_MAX_US / 2)
            continue;
        hist *h = hist_new();
        hist_record(h, v);
        hist_record(h, v * 2 + 1);
        int64_t got = hist_percentile(h, 50);
        assert_true(got >= v);
        assert_true((double)(got - v) <= (double)v / 1024.0);
        hist_free(h);
    }
}

static void percentiles_of_a_uniform_run(void **state)
{
    (void)state;
    hist *h = hist_new();
    for (int64_t v = 1; v <= 1000000; v++)
        hist_record(h, v);
    static const double ps[] = {50, 90, 95, 99, 99.9, 99.99};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double want = ps[i] / 100.0 * 1e6;
        double got = (double)hist_percentile(h, ps[i]);
        assert_true(got >= want - 1);
        assert_true(got <= want * (1 + 1.0 / 1024) + 1);
    }
    assert_int_equal(hist_percentile(h, 100), 1000000);
    assert_int_equal(hist_count(h), 1000000);
    assert_true(hist_mean(h) > 500000.4 && hist_mean(h) < 500000.6);
    hist_free(h);
}

static void clamps_out_of_range(void **state)
{
    (void)state;
    hist *h = hist_new();
    hist_record(h, -5);
    hist_record(h, HIST_MAX_US * 3);
    assert_int_equal(hist_count(h), 2);
    assert_int_equal(hist_clamped(h), 1);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), HIST_MAX_US);
    assert_int_equal(hist_percentile(h, 99.9), HIST_MAX_US);
    hist_free(h);
    hist *e = hist_new();
    assert_int_equal(hist_percentile(e, 99), 0);
    assert_true(hist_mean(e) == 0);
    hist_free(e);
    hist_free(NULL);
}

static void merge_equals_combined(void **state)
{
    (void)state;
    hist *all = hist_new(), *part[4], *merged = hist_new();
    for (int k = 0; k < 4; k++)
        part[k] = hist_new();
    for (int i = 0; i < 200000; i++) {
        int64_t v = rand_latency();
        hist_record(all, v);
        hist_record(part[next_rand() % 4], v);
    }
    for (int k = 0; k < 4; k++)
        assert_int_equal(hist_merge(merged, part[k]), 0);
    assert_int_equal(hist_count(merged), hist_count(all));
    assert_int_equal(hist_min(merged), hist_min(all));
    assert_int_equal(hist_max(merged), hist_max(all));
    assert_true(hist_mean(merged) == hist_mean(all));
    for (double p = 0; p <= 100; p += 0.5)
        assert_int_equal(hist_percentile(merged, p), hist_percentile(all, p));
    assert_int_equal(hist_percentile(merged, 99.9), hist_percentile(all, 99.9));
    assert_int_equal(hist_percentile(merged, 99.99), hist_percentile(all, 99.99));
    for (int k = 0; k < 4; k++)
        hist_free(part[k]);
    hist_free(all);
    hist_free(merged);
}

/* hist_record_all into several histograms leaves each as hist_record would have, to the JSON
 * (which holds every bucket), clamped and negative values included. */
static void record_all_equals_record(void **state)
{
    (void)state;
    hist *one = hist_new(), *a = hist_new(), *b = hist_new();
    hist *both[2] = {a, b};
    int64_t odd[] = {-5, 0, 2047, 2048, HIST_MAX_US, HIST_MAX_US + 10};
    for (int i = 0; i < 20000; i++) {
        int64_t v = i < 6 ? odd[i] : rand_latency();
        hist_record(one, v);
        hist_record_all(both, 2, v);
    }
    json_t *j1 = hist_to_json(one), *ja = hist_to_json(a), *jb = hist_to_json(b);
    assert_true(json_equal(j1, ja) && json_equal(j1, jb));
    assert_int_equal(hist_clamped(a), hist_clamped(one));
    assert_int_equal(hist_min(b), hist_min(one));
    assert_int_equal(hist_max(b), hist_max(one));
    assert_true(hist_mean(a) == hist_mean(one));
    json_decref(j1);
    json_decref(ja);
    json_decref(jb);
    hist_free(one);
    hist_free(a);
    hist_free(b);
}

static void json_round_trip(void **state)
{
    (void)state;
    hist *h = hist_new(), *back = hist_new();
    for (int i = 0; i < 50000; i++)
        hist_record(h, rand_latency());
    json_t *j = hist_to_json(h);
    assert_non_null(j);
    char *text = json_dumps(j, 0);
    json_error_t je;
    json_t *parsed = json_loads(text, 0, &je);
    char err[200];
    assert_int_equal(hist_add_json(back, parsed, err, sizeof err), 0);
    for (double p = 0; p <= 100; p += 0.25)
        assert_int_equal(hist_percentile(back, p), hist_percentile(h, p));
    assert_true(hist_mean(back) == hist_mean(h));
    /* adding the same document again doubles every count: JSON histograms merge too */
    assert_int_equal(hist_add_json(back, parsed, err, sizeof err), 0);
    assert_int_equal(hist_count(back), 2 * hist_count(h));
    assert_int_equal(hist_percentile(back, 99), hist_percentile(h, 99));
    free(text);
    json_decref(j);
    json_decref(parsed);
    hist_free(h);
    hist_free(back);
}

static void json_rejects_bad_documents(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]",
        "{\"count\":1,\"min\":1,\"max\":1,\"sum\":1}",
        "{\"count\":2,\"min\":1,\"max\":1,\"sum\":1,\"buckets\":[[1,1]]}",     /* counts do not add up */
        "{\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"buckets\":[[-1,1]]}",    /* negative value */
        "{\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"buckets\":[[1,-1]]}",    /* negative count */
        "{\"count\":1,\"min\":5,\"max\":1,\"sum\":1,\"buckets\":[[1,1]]}",     /* min > max */
        "{\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"buckets\":[\"x\"]}",
        "{\"unit\":\"ms\",\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"buckets\":[[1,1]]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t je;
        json_t *j = json_loads(bad[i], 0, &je);
        assert_non_null(j);
        hist *h = hist_new();
        char err[200] = "";
        assert_int_equal(hist_add_json(h, j, err, sizeof err), -1);
        assert_true(err[0] != '\0');
        assert_int_equal(hist_count(h), 0);
        hist_free(h);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_values_are_exact),     cmocka_unit_test(three_significant_digits),
        cmocka_unit_test(percentiles_of_a_uniform_run), cmocka_unit_test(clamps_out_of_range),
        cmocka_unit_test(merge_equals_combined),      cmocka_unit_test(json_round_trip),
        cmocka_unit_test(json_rejects_bad_documents), cmocka_unit_test(record_all_equals_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
