/* capwriter: which records are sampled for the next segment's dictionary (cw_sampling): none in a single
 * file, none far from a size limit, all near it and without limits; a rotation that comes while the
 * reservoir is short still gets a dictionary (the next segment holds its first records). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "capfixture.h"
#include "capset.h"
#include "capwriter.h"
#include "capwriter_int.h" /* the reservoir and the hold */

static void write_n(capwriter *w, unsigned from, unsigned n)
{
    char err[512];
    if (fx_write_n(w, from, n, err, sizeof err) != 0)
        fail_msg("write: %s", err);
}

/* Every exchange 0..n-1 of the fixture set, in order, from the folder's segments; each segment has a
 * dictionary. */
static void check_dir(const char *dir, unsigned n)
{
    char err[512], *args[] = {(char *)dir};
    capset *s = capset_open(args, 1, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    exchange got, want;
    unsigned i = 0;
    int rc;
    while ((rc = capset_next(s, &got)) == 1) {
        fx_make(&want, i++);
        const char *d = fx_diff(&want, &got);
        if (d)
            fail_msg("exchange %u differs in %s", i - 1, d);
        exchange_clear(&want);
        exchange_clear(&got);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, n);
    capset_free(s);
}

static void single_file_samples_nothing(void **state)
{
    char *dir = fx_tmpdir(), path[4200], err[512];
    snprintf(path, sizeof path, "%s/one.warc.zst", dir);
    capwriter_opts o = {.path = path, .dict_records = 40};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    write_n(w, 0, 200);
    assert_int_equal(w->holding, 0); /* the dictionary is built */
    assert_int_equal(w->n_resv, 0);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    fx_rmdir(dir);
}

/* Far from the size limit nothing is sampled; a rotation then (SIGHUP) finds no reservoir, so the next
 * segment holds its first records and builds its dictionary from them. */
static void far_from_limit_then_rotation(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    capwriter_opts o = {.dir = dir, .rotate_bytes = (uint64_t)1 << 30, .dict_records = 40};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    write_n(w, 0, 200);
    assert_int_equal(w->holding, 0);
    assert_int_equal(w->n_resv, 0);
    assert_int_equal(capwriter_rotate(w, err, sizeof err), 0);
    assert_int_equal(w->holding, 1);
    write_n(w, 200, 100);
    assert_int_equal(w->holding, 0);
    assert_non_null(w->dict);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    check_dir(dir, 300);
    fx_rmdir(dir);
}

/* Near the size limit records are sampled, and the segment the limit opens needs no hold. */
static void near_limit_samples(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    capwriter_opts o = {.dir = dir, .rotate_bytes = 200000, .dict_records = 40};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    write_n(w, 0, 100);
    assert_int_equal(w->holding, 0);
    assert_true(w->n_resv > 0);
    capwriter_stats st;
    unsigned i = 100;
    for (capwriter_get_stats(w, &st); st.segments == 0 && i < 20000; capwriter_get_stats(w, &st), i++)
        write_n(w, i, 1);
    assert_int_equal(st.segments, 1);
    assert_int_equal(w->holding, 0); /* the dictionary came from the reservoir */
    write_n(w, i, 10);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    check_dir(dir, i + 10);
    fx_rmdir(dir);
}

/* Without limits every record is sampled: a rotation can only come unannounced. */
static void no_limits_samples(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    capwriter_opts o = {.dir = dir, .dict_records = 40};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    write_n(w, 0, 100);
    assert_true(w->n_resv > 0);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    fx_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_file_samples_nothing),
        cmocka_unit_test(far_from_limit_then_rotation),
        cmocka_unit_test(near_limit_samples),
        cmocka_unit_test(no_limits_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
