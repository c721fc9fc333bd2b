/* load_sched: send times anchored to the start (no accumulated error), recorded timing scaled by --speed,
 * fixed-rate slots cycling the capture, --duration looping, and shards that partition the schedule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "load_sched.h"

typedef struct item {
    size_t idx;
    int64_t at;
} item;

/* Runs a schedule to its end (at most max items). */
static size_t collect(const int64_t *start, const uint64_t *conn, size_t n, load_sched_opts o, item *out, size_t max)
{
    char err[200];
    load_sched *s = load_sched_new(start, conn, n, &o, err, sizeof err);
    assert_non_null(s);
    size_t k = 0;
    size_t idx;
    int64_t at;
    while (k < max && load_sched_next(s, &idx, &at)) {
        out[k].idx = idx;
        out[k].at = at;
        k++;
    }
    assert_true(k < max); /* the schedule ended by itself */
    load_sched_free(s);
    return k;
}

static void fixed_rate_slots(void **state)
{
    (void)state;
    int64_t start[3] = {0, 0, 0};
    uint64_t conn[3] = {1, 2, 3};
    static item it[2000];
    load_sched_opts o = {.rate = 500, .duration_us = 1000000};
    size_t k = collect(start, conn, 3, o, it, 2000);
    assert_int_equal(k, 500);
    for (size_t j = 0; j < k; j++) {
        assert_int_equal(it[j].at, (int64_t)j * 2000);
        assert_int_equal(it[j].idx, j % 3);
    }
    /* without a duration: one pass over the capture */
    o.duration_us = 0;
    assert_int_equal(collect(start, conn, 3, o, it, 2000), 3);
}

static void no_accumulated_error(void **state)
{
    (void)state;
    int64_t start[1] = {0};
    uint64_t conn[1] = {7};
    char err[200];
    /* 3/s: the interval is 333333.33 µs; slot 3000 must be due at exactly 1000 s */
    load_sched_opts o = {.rate = 3, .duration_us = INT64_C(1001000000)};
    load_sched *s = load_sched_new(start, conn, 1, &o, err, sizeof err);
    size_t idx;
    int64_t at = 0;
    for (int j = 0; j <= 3000; j++)
        assert_int_equal(load_sched_next(s, &idx, &at), 1);
    assert_int_equal(at, INT64_C(1000000000));
    load_sched_free(s);
}

static void recorded_timing_scaled(void **state)
{
    (void)state;
    /* recorded out of order on purpose: the schedule follows the recorded times */
    int64_t start[4] = {1700000000300000, 1700000000000000, 1700000000100000, 1700000000600000};
    uint64_t conn[4] = {1, 1, 2, 3};
    item it[100];
    load_sched_opts o = {.speed = 2};
    size_t k = collect(start, conn, 4, o, it, 100);
    assert_int_equal(k, 4);
    static const size_t order[4] = {1, 2, 0, 3};
    static const int64_t at[4] = {0, 50000, 150000, 300000};
    for (size_t j = 0; j < 4; j++) {
        assert_int_equal(it[j].idx, order[j]);
        assert_int_equal(it[j].at, at[j]);
    }
    /* looping: the period is the span (600 ms) plus one mean gap (200 ms), scaled: 400 ms */
    o.duration_us = 1000000;
    k = collect(start, conn, 4, o, it, 100);
    assert_int_equal(k, 11); /* 0,50,150,300 | 400,450,550,700 | 800,850,950 */
    assert_int_equal(it[4].at, 400000);
    assert_int_equal(it[4].idx, 1);
    assert_int_equal(it[10].at, 950000);
    for (size_t j = 1; j < k; j++)
        assert_true(it[j].at >= it[j - 1].at);
}

static void speed_needs_timing(void **state)
{
    (void)state;
    int64_t start[2] = {1700000000000000, 0};
    uint64_t conn[2] = {1, 2};
    char err[200] = "";
    load_sched_opts o = {.speed = 1};
    assert_null(load_sched_new(start, conn, 2, &o, err, sizeof err));
    assert_non_null(strstr(err, "--rate"));
    o.rate = 10;
    load_sched *s = load_sched_new(start, conn, 2, &o, err, sizeof err);
    assert_non_null(s);
    load_sched_free(s);
}

static void shards_partition_the_schedule(void **state)
{
    (void)state;
    enum { N = 300, SHARDS = 4 };
    int64_t start[N];
    uint64_t conn[N];
    for (int i = 0; i < N; i++) {
        start[i] = 1700000000000000 + i * 1000;
        conn[i] = (uint64_t)(i / 3); /* three requests per connection */
    }
    static item whole[2000], part[SHARDS][2000];
    size_t nparts[SHARDS];
    for (int rate = 0; rate < 2; rate++) {
        load_sched_opts o = {.speed = 1, .rate = rate ? 1000 : 0, .duration_us = 900000};
        size_t nw = collect(start, conn, N, o, whole, 2000);
        size_t total = 0;
        for (unsigned k = 0; k < SHARDS; k++) {
            o.shard_k = k;
            o.shard_n = SHARDS;
            nparts[k] = collect(start, conn, N, o, part[k], 2000);
            assert_true(nparts[k] > nw / SHARDS / 2); /* roughly 1/N each */
            total += nparts[k];
            for (size_t j = 0; j < nparts[k]; j++) /* a connection stays in one shard */
                assert_int_equal(load_sched_shard_of(conn[part[k][j].idx], SHARDS), k);
        }
        assert_int_equal(total, nw);
        /* merged by time, the shards are exactly the whole schedule */
        size_t pos[SHARDS] = {0};
        for (size_t j = 0; j < nw; j++) {
            int found = 0;
            for (unsigned k = 0; k < SHARDS && !found; k++)
                if (pos[k] < nparts[k] && part[k][pos[k]].at == whole[j].at && part[k][pos[k]].idx == whole[j].idx) {
                    pos[k]++;
                    found = 1;
                }
            assert_true(found);
        }
    }
}

static void parses_options(void **state)
{
    (void)state;
    unsigned k, n;
    assert_int_equal(load_sched_parse_shard("0/4", &k, &n), 0);
    assert_int_equal(k, 0);
    assert_int_equal(n, 4);
    assert_int_equal(load_sched_parse_shard("3/4", &k, &n), 0);
    assert_int_equal(load_sched_parse_shard("4/4", &k, &n), -1);
    assert_int_equal(load_sched_parse_shard("-1/4", &k, &n), -1);
    assert_int_equal(load_sched_parse_shard("1/0", &k, &n), -1);
    assert_int_equal(load_sched_parse_shard("1", &k, &n), -1);
    assert_int_equal(load_sched_parse_shard("a/b", &k, &n), -1);
    double r;
    assert_int_equal(load_sched_parse_rate("500/s", &r), 0);
    assert_true(r == 500);
    assert_int_equal(load_sched_parse_rate("30000/m", &r), 0);
    assert_true(r == 500);
    assert_int_equal(load_sched_parse_rate("250", &r), 0);
    assert_int_equal(load_sched_parse_rate("0/s", &r), -1);
    assert_int_equal(load_sched_parse_rate("5/h", &r), -1);
    assert_int_equal(load_sched_parse_rate("fast", &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_rate_slots),       cmocka_unit_test(no_accumulated_error),
        cmocka_unit_test(recorded_timing_scaled), cmocka_unit_test(speed_needs_timing),
        cmocka_unit_test(shards_partition_the_schedule), cmocka_unit_test(parses_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
