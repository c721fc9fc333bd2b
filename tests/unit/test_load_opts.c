/* load_opts' --start-at (RFC 3339 with Z or an offset, fractions, Unix seconds; everything else refused)
 * and load_pool (interned copies are shared, plain ones are not, everything NUL-terminated). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "load_opts.h"
#include "load_pool.h"

static void start_at_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t us; /* -1: refused */
    } cases[] = {
        {"1796205600", 1796205600000000},
        {"1796205600.25", 1796205600250000},
        {"2026-12-02T10:00:00Z", 1796205600000000},
        {"2026-12-02T10:00:00.5Z", 1796205600500000},
        {"2026-12-02T11:00:00+01:00", 1796205600000000},
        {"2026-12-02T05:30:00.000001-04:30", 1796205600000001},
        {"2026-12-02t10:00:00z", 1796205600000000},
        {"2026-12-02 10:00:00Z", 1796205600000000},
        {"2026-12-02T10:00:00", -1},     /* no zone: ambiguous */
        {"2026-12-02T10:00:00+1:00", -1},
        {"next tuesday", -1},
        {"", -1},
        {"-5", -1},
        {"0", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = 0;
        int rc = load_parse_start_at(cases[i].in, &us);
        if (cases[i].us < 0) {
            assert_int_equal(rc, -1);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(us, cases[i].us);
        }
    }
}

static void pool_interns(void **state)
{
    (void)state;
    load_pool *p = load_pool_new();
    assert_non_null(p);
    const char *a = load_pool_intern(p, "Accept: */*", 11);
    const char *b = load_pool_intern(p, "Accept: */*", 11);
    const char *c = load_pool_intern(p, "Accept: */*x", 11); /* the same 11 bytes */
    const char *d = load_pool_intern(p, "Accept: text/html", 17);
    assert_ptr_equal(a, b);
    assert_ptr_equal(a, c);
    assert_ptr_not_equal(a, d);
    assert_string_equal(d, "Accept: text/html");
    char *e = load_pool_copy(p, "x", 1), *f = load_pool_copy(p, "x", 1);
    assert_ptr_not_equal(e, f);
    assert_string_equal(e, "x");
    /* a piece bigger than a block, and room without data */
    static char big[3u << 20];
    memset(big, 'b', sizeof big);
    char *g = load_pool_copy(p, big, sizeof big);
    assert_non_null(g);
    assert_int_equal(g[sizeof big], '\0');
    assert_memory_equal(g, big, sizeof big);
    char *h = load_pool_copy(p, NULL, 5);
    assert_non_null(h);
    assert_int_equal(h[5], '\0');
    /* thousands of distinct strings stay distinct and readable */
    char buf[32];
    const char *first = NULL;
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof buf, "v%d", i);
        const char *s = load_pool_intern(p, buf, (size_t)n);
        assert_string_equal(s, buf);
        if (i == 0)
            first = s;
    }
    assert_ptr_equal(load_pool_intern(p, "v0", 2), first);
    assert_true(load_pool_bytes(p) >= sizeof big);
    load_pool_free(p);
    load_pool_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_at_forms),
        cmocka_unit_test(pool_interns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
