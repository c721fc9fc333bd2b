/* tdtime: ISO and compact formats, parsing, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tdtime.h"

static const struct {
    int64_t us;
    const char *iso_micro, *iso, *compact;
} fmt_cases[] = {
    {0, "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:00Z", "19700101T000000Z"},
    {1795996590123456LL, "2026-11-29T23:56:30.123456Z", "2026-11-29T23:56:30Z", "20261129T235630Z"},
    {951782400000001LL, "2000-02-29T00:00:00.000001Z", "2000-02-29T00:00:00Z", "20000229T000000Z"},
    {-1, "1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59Z", "19691231T235959Z"},
};

static void formats(void **state)
{
    char buf[64];
    for (size_t i = 0; i < sizeof fmt_cases / sizeof fmt_cases[0]; i++) {
        assert_string_equal(tdtime_format_iso(fmt_cases[i].us, 1, buf, sizeof buf), fmt_cases[i].iso_micro);
        assert_string_equal(tdtime_format_iso(fmt_cases[i].us, 0, buf, sizeof buf), fmt_cases[i].iso);
        assert_string_equal(tdtime_format_compact(fmt_cases[i].us, buf, sizeof buf), fmt_cases[i].compact);
        int64_t back;
        assert_int_equal(tdtime_parse_iso(fmt_cases[i].iso_micro, &back), 0);
        assert_int_equal(back, fmt_cases[i].us);
    }
}

static const struct {
    const char *s;
    int ok;
    int64_t us;
} parse_cases[] = {
    {"2026-11-24T23:56:30Z", 1, 1795564590000000LL},
    {"2026-11-24T23:56:30.5Z", 1, 1795564590500000LL},
    {"2026-11-24T23:56:30.123456789Z", 1, 1795564590123456LL},
    {"2026-11-24T23:56:30.1234567891Z", 0, 0},
    {"2026-11-24T23:56:30", 0, 0},
    {"2026-13-24T23:56:30Z", 0, 0},
    {"2026-11-24T23:56:30.Z", 0, 0},
    {"2026-11-24T23:56:30Zjunk", 0, 0},
    {"", 0, 0},
};

static void parses(void **state)
{
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        int64_t us = 0;
        int rc = tdtime_parse_iso(parse_cases[i].s, &us);
        if (parse_cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_int_equal(us, parse_cases[i].us);
        } else {
            assert_int_equal(rc, -1);
        }
    }
}

static const struct {
    const char *s;
    int64_t unit, want; /* want -1: rejected */
} dur_cases[] = {
    {"250ms", 1000, 250000}, {"1.5s", 1000, 1500000}, {"2m", 1, 120000000}, {"1h", 1, 3600000000LL},
    {"500us", 1, 500},       {"7", 1000000, 7000000}, {"", 1, -1},          {"5x", 1, -1},
    {"-1s", 1, -1},          {"s", 1, -1},
};

static void durations(void **state)
{
    for (size_t i = 0; i < sizeof dur_cases / sizeof dur_cases[0]; i++) {
        int64_t us = 0;
        int rc = tdtime_parse_duration(dur_cases[i].s, dur_cases[i].unit, &us);
        if (dur_cases[i].want < 0) {
            assert_int_equal(rc, -1);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(us, dur_cases[i].want);
        }
    }
}

static void clocks_move(void **state)
{
    int64_t a = tdtime_mono_us(), w = tdtime_now_us();
    assert_true(w > 1700000000LL * 1000000);
    assert_true(tdtime_mono_us() >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats),
        cmocka_unit_test(parses),
        cmocka_unit_test(durations),
        cmocka_unit_test(clocks_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
