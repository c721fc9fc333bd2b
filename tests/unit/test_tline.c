/* tline: per-slice counts and percentiles for the latency-over-time plot, and merging slices of several
 * reports by adding counts (what `report` does with shards). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>

#include "tline.h"

static json_t *point(json_t *tl, size_t i)
{
    return json_array_get(json_object_get(tl, "points"), i);
}

static void slices_and_percentiles(void **state)
{
    (void)state;
    tline *t = tline_new(1000000);
    for (int i = 0; i < 100; i++)
        tline_record(t, 100000, 1000 + i * 10); /* slice 0: 1.00 .. 1.99 ms */
    tline_record(t, 2500000, 50000);            /* slice 2 */
    tline_record(t, 2600000, -1);               /* an error in slice 2 */
    json_t *j = tline_to_json(t);
    assert_true(fabs(json_number_value(json_object_get(j, "slice_s")) - 1.0) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(j, "points")), 2); /* empty slice 1 left out */
    json_t *p0 = point(j, 0), *p2 = point(j, 1);
    assert_int_equal(json_integer_value(json_object_get(p0, "sent")), 100);
    double p50 = json_number_value(json_object_get(p0, "p50_ms"));
    assert_true(p50 > 1.2 && p50 < 1.8); /* bins are 20% wide */
    assert_true(fabs(json_number_value(json_object_get(p0, "max_ms")) - 1.99) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(p2, "t_s")) - 2.0) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(p2, "errors")), 1);
    assert_int_equal(json_integer_value(json_object_get(p2, "sent")), 2);
    json_decref(j);
    tline_free(t);
    tline_free(NULL);
}

static void merging_adds_counts(void **state)
{
    (void)state;
    tline *a = tline_new(500000), *b = tline_new(500000), *all = tline_new(500000);
    for (int i = 0; i < 1000; i++) {
        int64_t at = (int64_t)i * 3000, lat = 200 + (i * 7919) % 30000;
        tline_record(i % 2 ? a : b, at, lat);
        tline_record(all, at, lat);
    }
    json_t *ja = tline_to_json(a), *jb = tline_to_json(b), *jall = tline_to_json(all);
    tline *m = tline_new(500000);
    assert_int_equal(tline_add_json(m, ja), 0);
    assert_int_equal(tline_add_json(m, jb), 0);
    json_t *jm = tline_to_json(m);
    assert_true(json_equal(jm, jall));
    json_t *bad = json_pack("{s[]}", "nope");
    assert_int_equal(tline_add_json(m, bad), -1);
    json_decref(bad);
    json_decref(ja);
    json_decref(jb);
    json_decref(jall);
    json_decref(jm);
    tline_free(a);
    tline_free(b);
    tline_free(all);
    tline_free(m);
}

static void picks_a_slice(void **state)
{
    (void)state;
    assert_int_equal(tline_pick_slice(2000000), 100000);    /* 2 s: 100 ms slices */
    assert_int_equal(tline_pick_slice(60000000), 500000);   /* 1 min: 0.5 s */
    assert_int_equal(tline_pick_slice(3600000000), 30000000); /* 1 h: 30 s */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(slices_and_percentiles), cmocka_unit_test(merging_adds_counts),
                                       cmocka_unit_test(picks_a_slice)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
