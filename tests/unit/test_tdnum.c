/* tdnum: the one percent parser and the one sampler. Both scales (a bare number as a fraction for the replay gates, as a
 * percent for the proxy's --sample/--mirror-percent), the bound, and what is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tdnum.h"

static const struct {
    const char *in;
    tdnum_bare bare;
    double max;
    int rc;
    double want;
} CASES[] = {
    {"5%", TDNUM_BARE_FRACTION, 1, 0, 0.05},
    {"0.05", TDNUM_BARE_FRACTION, 1, 0, 0.05},
    {"0", TDNUM_BARE_FRACTION, 1, 0, 0},
    {"100%", TDNUM_BARE_FRACTION, 1, 0, 1},
    {"0.5 %", TDNUM_BARE_FRACTION, 1, 0, 0.005}, /* blanks before and after the sign (--slo) */
    {" 2% ", TDNUM_BARE_FRACTION, 1, 0, 0.02},
    {"101%", TDNUM_BARE_FRACTION, 1, -1, 0},
    {"1.5", TDNUM_BARE_FRACTION, 1, -1, 0},
    {"1.5", TDNUM_BARE_FRACTION, 100, 0, 1.5}, /* --max-regression allows up to 100x */
    {"5", TDNUM_BARE_PERCENT, 100, 0, 5},
    {"5%", TDNUM_BARE_PERCENT, 100, 0, 5},
    {"100", TDNUM_BARE_PERCENT, 100, 0, 100},
    {"100.5", TDNUM_BARE_PERCENT, 100, -1, 0},
    {"", TDNUM_BARE_FRACTION, 1, -1, 0},
    {"%", TDNUM_BARE_FRACTION, 1, -1, 0},
    {"-1%", TDNUM_BARE_FRACTION, 1, -1, 0},
    {"nan", TDNUM_BARE_FRACTION, 1, -1, 0},
    {"inf", TDNUM_BARE_PERCENT, -1, -1, 0},
    {"1e999", TDNUM_BARE_PERCENT, -1, -1, 0},
    {"5%%", TDNUM_BARE_FRACTION, 1, -1, 0},
    {"5 percent", TDNUM_BARE_FRACTION, 1, -1, 0},
    {"1e3", TDNUM_BARE_PERCENT, -1, 0, 1000}, /* no bound */
};

static void parses_each_case(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        double out = -42;
        int rc = tdnum_parse_percent(CASES[i].in, CASES[i].bare, CASES[i].max, &out);
        if (rc != CASES[i].rc)
            fail_msg("'%s': rc %d, wanted %d", CASES[i].in, rc, CASES[i].rc);
        if (rc == 0 && out != CASES[i].want)
            fail_msg("'%s': %g, wanted %g", CASES[i].in, out, CASES[i].want);
        if (rc != 0 && out != -42)
            fail_msg("'%s': out written on failure", CASES[i].in);
    }
}

/* The sampler: draws in [0, 100), the same sequence from the same state, about p% under p. */
static void draws_percentages(void **state)
{
    (void)state;
    uint64_t a = 0, b = 0, c = 12345;
    int under30 = 0;
    for (int i = 0; i < 10000; i++) {
        double x = tdnum_draw_percent(&a);
        assert_true(x >= 0 && x < 100);
        assert_true(x == tdnum_draw_percent(&b));
        under30 += x < 30;
    }
    assert_true(under30 > 2700 && under30 < 3300); /* 30% of 10,000, far from chance failures */
    assert_true(tdnum_draw_percent(&c) != tdnum_draw_percent(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(parses_each_case), cmocka_unit_test(draws_percentages)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
