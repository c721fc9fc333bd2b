/* slo: the --slo grammar, case by case (valid expressions with what they mean, invalid ones with an
 * error naming the expression), and the comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "slo.h"

typedef struct good_case {
    const char *in;
    const char *method, *route;
    slo_metric metric;
    double pct;
    slo_op op;
    double threshold;
} good_case;

static const good_case GOOD[] = {
    {"p99<250ms", "", "", SLO_PCT, 99, SLO_LT, 250000},
    {"  p99.9 < 1s ", "", "", SLO_PCT, 99.9, SLO_LT, 1000000},
    {"p50<=20", "", "", SLO_PCT, 50, SLO_LE, 20000},
    {"p90<1.5s", "", "", SLO_PCT, 90, SLO_LT, 1500000},
    {"p95<800us", "", "", SLO_PCT, 95, SLO_LT, 800},
    {"max<2s", "", "", SLO_MAX, 0, SLO_LT, 2000000},
    {"mean<50ms", "", "", SLO_MEAN, 0, SLO_LT, 50000},
    {"error_rate<0.1%", "", "", SLO_ERROR_RATE, 0, SLO_LT, 0.001},
    {"error_rate<=0.02", "", "", SLO_ERROR_RATE, 0, SLO_LE, 0.02},
    {"rate>=95%", "", "", SLO_RATE, 0, SLO_GE, 0.95},
    {"rate>0.5", "", "", SLO_RATE, 0, SLO_GT, 0.5},
    {"GET /api/trips/{id}: p95<50ms", "GET", "/api/trips/{id}", SLO_PCT, 95, SLO_LT, 50000},
    {"POST /api/trips:p99<1s", "POST", "/api/trips", SLO_PCT, 99, SLO_LT, 1000000},
    {"/health: max<100ms", "", "/health", SLO_MAX, 0, SLO_LT, 100000},
    {"DELETE /api/trips/{id}: error_rate<1%", "DELETE", "/api/trips/{id}", SLO_ERROR_RATE, 0, SLO_LT, 0.01},
};

static const char *const BAD[] = {
    "",            "p99",          "p99<",         "p99<fast",     "p100<1s",   "p0<1s",
    "pXX<1s",      "median<1s",    "p99=1s",       "p99<-1ms",     "error_rate<5ms", "rate>=150%",
    "p99<1h2",     "get /x: p99<1s", "GET x: p99<1s", ": p99<1s",   "/x: rate>=95%", "p99<1 parsec",
};

static void parses_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++) {
        const good_case *c = &GOOD[i];
        slo s;
        char err[300] = "";
        if (slo_parse(c->in, &s, err, sizeof err)) {
            print_error("'%s': %s\n", c->in, err);
            fail();
        }
        assert_string_equal(s.method, c->method);
        assert_string_equal(s.route, c->route);
        assert_int_equal(s.metric, c->metric);
        assert_int_equal(s.op, c->op);
        assert_true(fabs(s.pct - c->pct) < 1e-9);
        assert_true(fabs(s.threshold - c->threshold) < 1e-9 * (1 + c->threshold));
    }
}

static void rejects_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        slo s;
        char err[300] = "";
        if (slo_parse(BAD[i], &s, err, sizeof err) == 0) {
            print_error("'%s' was accepted\n", BAD[i]);
            fail();
        }
        assert_non_null(strstr(err, "--slo"));
    }
}

static void judges(void **state)
{
    (void)state;
    slo s;
    char err[200], buf[64];
    assert_int_equal(slo_parse("p99<250ms", &s, err, sizeof err), 0);
    assert_true(slo_holds(&s, 249999));
    assert_false(slo_holds(&s, 250000));
    assert_string_equal(slo_format(&s, 212400, buf, sizeof buf), "212.400ms");
    assert_int_equal(slo_parse("p99<=250ms", &s, err, sizeof err), 0);
    assert_true(slo_holds(&s, 250000));
    assert_int_equal(slo_parse("rate>=95%", &s, err, sizeof err), 0);
    assert_true(slo_holds(&s, 0.95));
    assert_false(slo_holds(&s, 0.9499));
    assert_string_equal(slo_format(&s, 0.5, buf, sizeof buf), "50%");
    assert_int_equal(slo_parse("error_rate<0.1%", &s, err, sizeof err), 0);
    assert_true(slo_holds(&s, 0.0009));
    assert_false(slo_holds(&s, 0.001));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(parses_good), cmocka_unit_test(rejects_bad),
                                       cmocka_unit_test(judges)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
