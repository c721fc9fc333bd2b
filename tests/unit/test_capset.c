/* capset: folder expansion, time order from segment names, numbering across files, truncated tails,
 * load_all, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "capfixture.h"
#include "capset.h"
#include "capwriter.h"

/* Writes exchanges [from, from+n) into dir/name; cut > 0 removes that many bytes from the end. */
static void write_named(const char *dir, const char *name, unsigned from, unsigned n, size_t cut)
{
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    capwriter_opts o = {.path = path, .no_dictionary = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    for (unsigned i = from; i < from + n; i++) {
        exchange x;
        fx_make(&x, i);
        assert_int_equal(capwriter_write(w, &x, err, sizeof err), 0);
        exchange_clear(&x);
    }
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    if (cut) {
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(truncate(path, st.st_size - (off_t)cut), 0);
    }
}

static void folder_in_time_order(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    /* Created out of order on purpose: the names decide. */
    write_named(dir, "p-20261124T235630Z-0001.warc.zst.part", 10, 6, 9);
    write_named(dir, "p-20261124T235630Z-0000.warc.zst", 5, 5, 0);
    write_named(dir, "p-20261124T235629Z-0007.warc.zst", 0, 5, 0);
    char notes[1200];
    snprintf(notes, sizeof notes, "%s/notes.txt", dir);
    assert_int_equal(fx_write_file(notes, "x", 1), 0);

    char *args[] = {dir};
    capset *s = capset_open(args, 1, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(capset_nfiles(s), 3);
    assert_non_null(strstr(capset_file(s, 0), "235629Z-0007"));
    assert_non_null(strstr(capset_file(s, 1), "235630Z-0000"));
    assert_non_null(strstr(capset_file(s, 2), "235630Z-0001"));
    assert_null(capset_file(s, 3));
    exchange got, want;
    unsigned i = 0;
    int rc;
    while ((rc = capset_next(s, &got)) == 1) {
        assert_int_equal(got.id, i + 1);
        fx_make(&want, i);
        /* The cut removed the last response: that exchange comes back without it. */
        if (i == 15) {
            assert_null(got.response);
        } else if (fx_diff(&want, &got)) {
            fail_msg("exchange %u differs in %s", i, fx_diff(&want, &got));
        }
        exchange_clear(&want);
        exchange_clear(&got);
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, 16);
    assert_true(capset_truncated_bytes(s) > 0);
    capset_free(s);
    fx_rmdir(dir);
}

static void files_and_load_all(void **state)
{
    char *dir = fx_tmpdir(), err[512], a[1200], b[1200];
    write_named(dir, "b.warc.zst", 3, 3, 0);
    write_named(dir, "a.warc.zst", 0, 3, 0);
    snprintf(a, sizeof a, "%s/a.warc.zst", dir);
    snprintf(b, sizeof b, "%s/b.warc.zst", dir);
    /* a is named twice (itself and through the folder): it is read once. */
    char *args[] = {b, a, dir};
    exchange *xs = NULL;
    size_t n = 0;
    assert_int_equal(capset_load_all(args, 3, &xs, &n, err, sizeof err), 0);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        exchange want;
        fx_make(&want, (unsigned)i);
        assert_int_equal(xs[i].id, i + 1);
        assert_null(fx_diff(&want, &xs[i]));
        exchange_clear(&want);
    }
    capset_free_all(xs, n);
    fx_rmdir(dir);
}

static void errors(void **state)
{
    char *dir = fx_tmpdir(), err[512], bad[1200];
    char *args[] = {dir};
    assert_null(capset_open(args, 1, err, sizeof err));
    assert_non_null(strstr(err, dir));
    assert_non_null(strstr(err, "no capture files"));
    char *missing[] = {"/nonexistent/capture.warc.zst"};
    assert_null(capset_open(missing, 1, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/capture.warc.zst"));
    assert_null(capset_open(NULL, 0, err, sizeof err));

    snprintf(bad, sizeof bad, "%s/bad.warc.zst", dir);
    assert_int_equal(fx_write_file(bad, "garbage, not zstd", 17), 0);
    char *badarg[] = {bad};
    capset *s = capset_open(badarg, 1, err, sizeof err);
    assert_non_null(s);
    exchange x;
    assert_true(capset_next(s, &x) < 0);
    assert_non_null(strstr(capset_error(s), bad));
    assert_true(capset_next(s, &x) < 0); /* stays failed */
    capset_free(s);
    exchange *xs;
    size_t n;
    assert_true(capset_load_all(badarg, 1, &xs, &n, err, sizeof err) < 0);
    assert_non_null(strstr(err, "offset 0"));
    fx_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(folder_in_time_order),
        cmocka_unit_test(files_and_load_all),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
