/* capwriter under write errors in dictionary mode: the file header (dictionary frame + warcinfo) that
 * failed to reach the disk is written with the next exchange that does, so the file stays a valid
 * capture with its dictionary. Runs in a child: the file size limit is per process. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>

#include <cmocka.h>

#include "capfixture.h"
#include "capreader.h"
#include "capwriter.h"

static int child(const char *path)
{
    char err[512];
    capwriter_opts o = {.path = path, .dict_records = 40};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    if (!w)
        return 10;
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl, tiny;
    getrlimit(RLIMIT_FSIZE, &rl);
    tiny.rlim_cur = 512;
    tiny.rlim_max = rl.rlim_max;
    if (setrlimit(RLIMIT_FSIZE, &tiny) != 0)
        return 11;
    int failed = 0;
    /* 40 records are held, then the release (dictionary, warcinfo, held records) fails, and so does every
     * exchange after it. */
    for (unsigned i = 0; i < 30; i++) {
        exchange x;
        fx_make(&x, i);
        if (capwriter_write(w, &x, err, sizeof err) != 0)
            failed++;
        exchange_clear(&x);
    }
    struct stat sb;
    if (failed < 2 || stat(path, &sb) != 0 || sb.st_size != 0)
        return 12;
    /* Still failing: nothing partial stays behind. */
    exchange x;
    fx_make(&x, 30);
    if (capwriter_write(w, &x, err, sizeof err) == 0 || stat(path, &sb) != 0 || sb.st_size != 0)
        return 13;
    exchange_clear(&x);
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 14;
    for (unsigned i = 100; i < 110; i++) {
        fx_make(&x, i);
        if (capwriter_write(w, &x, err, sizeof err) != 0)
            return 15;
        exchange_clear(&x);
    }
    capwriter_stats st;
    capwriter_get_stats(w, &st);
    if (st.exchanges != 10 || st.write_errors != (uint64_t)failed + 1)
        return 16;
    return capwriter_close(w, err, sizeof err) == 0 ? 0 : 17;
}

static void header_written_after_errors(void **state)
{
    char *dir = fx_tmpdir(), path[1024], err[512];
    snprintf(path, sizeof path, "%s/hdr.warc.zst", dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child(path));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    capreader *r = capreader_open(path, NULL, err, sizeof err);
    assert_non_null(r);
    exchange got, want;
    unsigned i = 100;
    int rc;
    while ((rc = capreader_next(r, &got)) == 1) {
        fx_make(&want, i);
        if (fx_diff(&want, &got))
            fail_msg("exchange %u differs in %s", i, fx_diff(&want, &got));
        exchange_clear(&want);
        exchange_clear(&got);
        i++;
    }
    if (rc < 0)
        fail_msg("%s", capreader_error(r));
    assert_int_equal(i, 110);
    assert_int_equal(capreader_has_dictionary(r), 1);
    assert_non_null(capreader_warcinfo(r));
    assert_int_equal(capreader_truncated(r), 0);
    capreader_free(r);
    fx_rmdir(dir);
}

/* Exchanges in a capture: -1 on a read error or a skipped tail. */
static int count_exchanges(const char *path)
{
    char err[512];
    capreader *r = capreader_open(path, NULL, err, sizeof err);
    if (!r)
        return -1;
    exchange x;
    int rc, n = 0;
    while ((rc = capreader_next(r, &x)) == 1) {
        exchange_clear(&x);
        n++;
    }
    if (rc < 0 || capreader_truncated(r) != 0)
        n = -1;
    capreader_free(r);
    return n;
}

/* A real full disk: a 128 KiB tmpfs in a private mount namespace (gone when the child exits). */
static int enospc_child(const char *dir)
{
    char err[512], path[1200], filler[1200];
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tapedeck-test", dir, "tmpfs", 0, "size=128k") != 0)
        return 77;
    snprintf(filler, sizeof filler, "%s/filler", dir);
    snprintf(path, sizeof path, "%s/cap.warc.zst", dir);
    int fd = open(filler, O_WRONLY | O_CREAT, 0600);
    char block[4096] = {0};
    for (int i = 0; fd >= 0 && i < 16; i++)
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
            return 20;
    close(fd);
    capwriter_opts o = {.path = path, .no_dictionary = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    if (!w)
        return 21;
    int ok = 0, full = 0;
    for (unsigned i = 0; i < 5000 && full < 3; i++) {
        exchange x;
        fx_make(&x, i % 8 == 5 ? 0 : i);
        if (capwriter_write(w, &x, err, sizeof err) == 0)
            ok++;
        else if (strstr(err, strerror(ENOSPC)))
            full++;
        else
            return 22;
        exchange_clear(&x);
    }
    if (full < 3 || ok == 0)
        return 23;
    if (count_exchanges(path) != ok)
        return 24; /* only whole frames on disk */
    if (unlink(filler) != 0)
        return 25;
    for (unsigned i = 0; i < 5; i++) {
        exchange x;
        fx_make(&x, 0);
        if (capwriter_write(w, &x, err, sizeof err) != 0)
            return 26;
        exchange_clear(&x);
    }
    if (capwriter_close(w, err, sizeof err) != 0)
        return 27;
    return count_exchanges(path) == ok + 5 ? 0 : 28;
}

static void full_disk_recovers(void **state)
{
    char *dir = fx_tmpdir();
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(enospc_child(dir));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        fx_rmdir(dir);
        skip(); /* no permission to mount a tmpfs here: the RLIMIT_FSIZE tests cover the same path */
    }
    assert_int_equal(WEXITSTATUS(status), 0);
    fx_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_written_after_errors),
        cmocka_unit_test(full_disk_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
