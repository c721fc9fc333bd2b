/* tdbuf: growth, the cap, printf, steal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tdbuf.h"

static void append_and_terminate(void **state)
{
    tdbuf b;
    tdbuf_init(&b, 0);
    assert_int_equal(tdbuf_append(&b, "ab\0c", 4), TDBUF_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "ab\0c", 5); /* NUL after the bytes */
    for (int i = 0; i < 10000; i++)
        assert_int_equal(tdbuf_puts(&b, "xyz"), TDBUF_OK);
    assert_int_equal(b.len, 4 + 30000);
    assert_int_equal(b.data[b.len], '\0');
    tdbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_true(b.cap > 30000);
    tdbuf_free(&b);
    assert_null(b.data);
}

static void cap_is_enforced(void **state)
{
    tdbuf b;
    tdbuf_init(&b, 10);
    assert_int_equal(tdbuf_append(&b, "0123456789", 10), TDBUF_OK);
    assert_int_equal(tdbuf_append(&b, "x", 1), TDBUF_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_int_equal(tdbuf_printf(&b, "%d", 5), TDBUF_ETOOBIG);
    assert_int_equal(tdbuf_reserve(&b, (size_t)-1), TDBUF_ETOOBIG);
    assert_true(b.cap <= 11);
    tdbuf_free(&b);
}

static void printf_long_and_short(void **state)
{
    tdbuf b;
    tdbuf_init(&b, 0);
    assert_int_equal(tdbuf_printf(&b, "%s-%d", "a", 7), TDBUF_OK);
    char big[1000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(tdbuf_printf(&b, "[%s]", big), TDBUF_OK);
    assert_int_equal(b.len, 3 + 1001);
    assert_int_equal(strncmp(b.data, "a-7[qqq", 7), 0);
    assert_int_equal(b.data[b.len - 1], ']');
    size_t n;
    char *s = tdbuf_steal(&b, &n);
    assert_int_equal(n, 1004);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    s = tdbuf_steal(&b, &n); /* empty buffer: still a valid string */
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

/* tdbuf_u64_digits agrees with printf at every power of ten, either side of it, and on the extremes. */
static void u64_digits_like_printf(void **state)
{
    (void)state;
    char got[TDBUF_U64_DIGITS + 1], want[32];
    uint64_t p = 1;
    for (int k = 0; k < 20; k++, p *= 10) {
        for (int d = -1; d <= 1; d++) {
            uint64_t vals[] = {p + (uint64_t)(int64_t)d, UINT64_MAX, 1767225600123456u, 0};
            for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
                *tdbuf_u64_digits(got, vals[i]) = '\0';
                snprintf(want, sizeof want, "%llu", (unsigned long long)vals[i]);
                assert_string_equal(got, want);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_and_terminate),
        cmocka_unit_test(cap_is_enforced),
        cmocka_unit_test(printf_long_and_short),
        cmocka_unit_test(u64_digits_like_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
