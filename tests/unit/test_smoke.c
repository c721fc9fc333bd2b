/* Placeholder removed once module tests exist: checks the test harness links cmocka. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static void harness_runs(void **state)
{
    (void)state;
    assert_int_equal(1 + 1, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(harness_runs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
