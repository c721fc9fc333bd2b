/* capfeed: the read-ahead thread gives what capset_next gives, in the same order, whatever the queue's
 * bounds (one slot, a byte budget smaller than one exchange), then the end or the error; freed early it
 * stops cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "capfeed.h"
#include "capfixture.h"
#include "capset.h"
#include "capwriter.h"

#define N_EXCHANGES 700

static void write_capture(const char *path, unsigned n)
{
    char err[512];
    capwriter_opts o = {.path = path, .no_dictionary = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(fx_write_n(w, 0, n, err, sizeof err), 0);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
}

static capfeed *open_feed(const char *path, size_t items, size_t bytes)
{
    char err[512], *args[] = {(char *)path};
    capset *cs = capset_open(args, 1, err, sizeof err);
    assert_non_null(cs);
    capfeed *f = capfeed_open(cs, items, bytes, err, sizeof err);
    assert_non_null(f);
    return f;
}

/* items, bytes: the queue's bounds (0 = defaults) */
static void reads_all_in_order(size_t items, size_t bytes)
{
    char *dir = fx_tmpdir(), path[1200];
    snprintf(path, sizeof path, "%s/c.warc.zst", dir);
    write_capture(path, N_EXCHANGES);
    capfeed *f = open_feed(path, items, bytes);
    exchange got, want;
    unsigned i = 0;
    int rc;
    while ((rc = capfeed_next(f, &got)) == 1) {
        assert_int_equal(got.id, i + 1);
        fx_make(&want, i);
        if (fx_diff(&want, &got))
            fail_msg("exchange %u differs in %s", i, fx_diff(&want, &got));
        exchange_clear(&want);
        exchange_clear(&got);
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, N_EXCHANGES);
    assert_int_equal(capfeed_next(f, &got), 0); /* the end stays the end */
    capfeed_free(f);
    fx_rmdir(dir);
}

static void default_bounds(void **state)
{
    reads_all_in_order(0, 0);
}

static void one_slot(void **state)
{
    reads_all_in_order(1, 0);
}

static void small_queue(void **state)
{
    reads_all_in_order(9, 0);
}

static void byte_budget_under_one_exchange(void **state)
{
    reads_all_in_order(64, 100);
}

static void error_after_the_good_part(void **state)
{
    char *dir = fx_tmpdir(), path[1200];
    snprintf(path, sizeof path, "%s/c.warc.zst", dir);
    write_capture(path, 50);
    FILE *fp = fopen(path, "ab");
    assert_non_null(fp);
    /* a whole zstd frame header with garbage after it: corrupt, not a truncated tail */
    static const unsigned char junk[] = {0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    for (int k = 0; k < 200; k++)
        fwrite(junk, 1, sizeof junk, fp);
    fclose(fp);
    char err[512], *args[] = {path};
    capset *ref = capset_open(args, 1, err, sizeof err);
    assert_non_null(ref);
    exchange x;
    unsigned want = 0;
    int want_rc;
    while ((want_rc = capset_next(ref, &x)) == 1) {
        exchange_clear(&x);
        want++;
    }
    capfeed *f = open_feed(path, 4, 0);
    unsigned got = 0;
    int rc;
    while ((rc = capfeed_next(f, &x)) == 1) {
        exchange_clear(&x);
        got++;
    }
    assert_int_equal(want, 50);
    assert_true(want_rc < 0);
    assert_int_equal(got, want);
    assert_int_equal(rc, want_rc);
    assert_string_equal(capfeed_error(f), capset_error(ref));
    capset_free(ref);
    capfeed_free(f);
    fx_rmdir(dir);
}

static void freed_while_reading(void **state)
{
    char *dir = fx_tmpdir(), path[1200];
    snprintf(path, sizeof path, "%s/c.warc.zst", dir);
    write_capture(path, N_EXCHANGES);
    for (int k = 0; k < 20; k++) { /* the thread at every stage: asleep on a full queue, or mid-read */
        capfeed *f = open_feed(path, 3 + (size_t)k, 0);
        exchange x;
        for (int i = 0; i < k; i++) {
            assert_int_equal(capfeed_next(f, &x), 1);
            exchange_clear(&x);
        }
        capfeed_free(f); /* frees what was read ahead: the sanitizer run sees any leak */
    }
    capfeed_free(NULL);
    fx_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_bounds),        cmocka_unit_test(one_slot),
        cmocka_unit_test(small_queue),           cmocka_unit_test(byte_budget_under_one_exchange),
        cmocka_unit_test(error_after_the_good_part), cmocka_unit_test(freed_while_reading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
