/* capwriter: round trips (with and without dictionary), zstd CLI compatibility, rotation, write-error
 * recovery, the one-second hold of the dictionary mode. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "capfixture.h"
#include "capreader.h"
#include "capset.h"
#include "capwriter.h"
#include "capwriter_int.h" /* the reservoir's cap */

/* Reads path back and checks it holds exchanges 0..n-1 of the fixture set, byte for byte. */
static void check_file(const char *path, unsigned n, int want_dict)
{
    char err[512];
    capreader *r = capreader_open(path, NULL, err, sizeof err);
    assert_non_null(r);
    exchange got, want;
    unsigned i = 0;
    int rc;
    while ((rc = capreader_next(r, &got)) == 1) {
        assert_true(i < n);
        fx_make(&want, i);
        const char *d = fx_diff(&want, &got);
        if (d)
            fail_msg("exchange %u differs in %s", i, d);
        assert_true(strncmp(got.record_id, "urn:uuid:", 9) == 0);
        exchange_clear(&want);
        exchange_clear(&got);
        i++;
    }
    if (rc < 0)
        fail_msg("%s", capreader_error(r));
    assert_int_equal(i, n);
    assert_int_equal(capreader_truncated(r), 0);
    assert_int_equal(capreader_has_dictionary(r), want_dict);
    const warc_record *wi = capreader_warcinfo(r);
    assert_non_null(wi);
    assert_non_null(strstr(wi->block, "software: tapedeck/"));
    assert_non_null(strstr(wi->block, "format: WARC File Format 1.1\r\n"));
    assert_non_null(strstr(wi->block, "start-time: "));
    capreader_free(r);
}

static void write_n(capwriter *w, unsigned from, unsigned n)
{
    char err[512];
    if (fx_write_n(w, from, n, err, sizeof err) != 0)
        fail_msg("write: %s", err);
}

static void roundtrip(int dict, unsigned n, int want_dict)
{
    char *dir = fx_tmpdir(), path[4200], err[512];
    snprintf(path, sizeof path, "%s/one.warc.zst", dir);
    capwriter_opts o = {.path = path, .no_dictionary = !dict, .dict_records = 40, .upstream = "http://127.0.0.1:9000",
                        .info = "sampling: 100%\r\n"};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    if (!w)
        fail_msg("%s", err);
    write_n(w, 0, n);
    assert_int_equal(capwriter_flush(w, err, sizeof err), 0);
    capwriter_stats st;
    capwriter_get_stats(w, &st);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    check_file(path, n, want_dict);
    capreader *r = capreader_open(path, NULL, err, sizeof err);
    warc_record rec;
    assert_int_equal(capreader_next_record(r, &rec), 1);
    assert_string_equal(warc_record_type(&rec), "warcinfo");
    assert_non_null(strstr(rec.block, "upstream: http://127.0.0.1:9000\r\n"));
    assert_non_null(strstr(rec.block, "sampling: 100%\r\n"));
    warc_record_clear(&rec);
    capreader_free(r);
    assert_int_equal(st.exchanges, n);
    assert_int_equal(st.records, 1 + n + n - (n + 1) / 8);
    assert_int_equal(st.write_errors, 0);
    fx_rmdir(dir);
}

/* defer_writes: frames reach the file only at capwriter_commit (one write), whole and readable. */
static void deferred_writes_wait_for_commit(void **state)
{
    char *dir = fx_tmpdir(), path[4200], err[512];
    snprintf(path, sizeof path, "%s/defer.warc.zst", dir);
    capwriter_opts o = {.path = path, .no_dictionary = 1, .defer_writes = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    if (!w)
        fail_msg("%s", err);
    struct stat sb;
    write_n(w, 0, 10);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    assert_int_equal(capwriter_commit(w, err, sizeof err), 0);
    assert_int_equal(stat(path, &sb), 0);
    off_t after_first = sb.st_size;
    assert_true(after_first > 0);
    capwriter_stats st;
    capwriter_get_stats(w, &st);
    assert_int_equal(st.records, 1 + 20 - 11 / 8);
    write_n(w, 10, 5);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, after_first);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0); /* close commits the rest */
    check_file(path, 15, 0);
    fx_rmdir(dir);
}

static void roundtrip_plain(void **state)
{
    roundtrip(0, 300, 0);
}

static void roundtrip_dictionary(void **state)
{
    roundtrip(1, 300, 1);
}

/* Fewer exchanges than a dictionary needs: the file is written plain, and still reads. */
static void roundtrip_dictionary_too_few(void **state)
{
    roundtrip(1, 3, 0);
}

static void zstd_cli_decodes_plain_file(void **state)
{
    char *dir = fx_tmpdir(), path[1024], cmd[4400], err[512];
    snprintf(path, sizeof path, "%s/cli.warc.zst", dir);
    capwriter_opts o = {.path = path, .no_dictionary = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    write_n(w, 0, 40);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    snprintf(cmd, sizeof cmd, "zstd -dc '%s' > '%s.warc'", path, path);
    assert_int_equal(system(cmd), 0);
    char wpath[4300];
    snprintf(wpath, sizeof wpath, "%s.warc", path);
    size_t len;
    char *text = fx_read_file(wpath, &len);
    assert_non_null(text);
    assert_true(len > 8 && !memcmp(text, "WARC/1.1\r\n", 10));
    /* 1 warcinfo + 40 requests + 35 responses (every 8th exchange has none). */
    unsigned records = 0;
    for (char *p = text; (p = memmem(p, len - (size_t)(p - text), "\r\nWARC-Type: ", 13)) != NULL; p++)
        records++;
    assert_int_equal(records, 1 + 40 + 35);
    free(text);
    /* The decoded plain WARC reads back the same. */
    check_file(wpath, 40, 0);
    fx_rmdir(dir);
}

static void rotation_by_size(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    capwriter_opts o = {.dir = dir, .prefix = "edge", .rotate_bytes = 20000, .dict_records = 30};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    assert_non_null(strstr(capwriter_path(w), ".warc.zst.part"));
    write_n(w, 0, 400);
    capwriter_stats st;
    capwriter_get_stats(w, &st);
    assert_true(st.segments >= 2);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);

    DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[4400];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_null(strstr(de->d_name, ".part"));
        assert_int_equal(strncmp(de->d_name, "edge-", 5), 0);
        files++;
    }
    closedir(d);
    assert_true(files >= 3);

    char *args[] = {dir};
    capset *s = capset_open(args, 1, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(capset_nfiles(s), files);
    exchange got, want;
    unsigned i = 0;
    int rc;
    while ((rc = capset_next(s, &got)) == 1) {
        fx_make(&want, i);
        assert_int_equal(got.id, i + 1);
        const char *df = fx_diff(&want, &got);
        if (df)
            fail_msg("exchange %u differs in %s", i, df);
        exchange_clear(&want);
        exchange_clear(&got);
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, 400);
    capset_free(s);
    fx_rmdir(dir);
}

/* In a child (the file size limit is per process): fill the file to its limit, check that writes fail
 * and the file is cut back, lift the limit, and write again. */
static int write_error_child(const char *path)
{
    char err[512];
    capwriter_opts o = {.path = path, .no_dictionary = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    if (!w)
        return 10;
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    struct rlimit small = {30000, rl.rlim_max};
    if (setrlimit(RLIMIT_FSIZE, &small) != 0)
        return 11;
    unsigned ok = 0, failed = 0;
    for (unsigned i = 0; i < 200 && failed < 5; i++) {
        exchange x;
        fx_make(&x, i % 8 == 5 ? 0 : i); /* skip the 32 KiB header case: larger than the limit */
        if (capwriter_write(w, &x, err, sizeof err) == 0)
            ok++;
        else if (strstr(err, path) && strstr(err, "write"))
            failed++;
        else
            return 12;
        exchange_clear(&x);
    }
    if (failed == 0 || ok == 0)
        return 13;
    struct stat sb;
    if (stat(path, &sb) != 0 || sb.st_size > 30000)
        return 14;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 15;
    exchange x;
    fx_make(&x, 0);
    int rc = capwriter_write(w, &x, err, sizeof err);
    exchange_clear(&x);
    if (rc != 0)
        return 16;
    capwriter_stats st;
    capwriter_get_stats(w, &st);
    if (st.write_errors != failed || st.exchanges != ok + 1)
        return 17;
    if (capwriter_close(w, err, sizeof err) != 0)
        return 18;
    FILE *f = fopen("/dev/null", "w");
    if (f) {
        fprintf(f, "%u", ok);
        fclose(f);
    }
    return 0;
}

static void write_error_recovery(void **state)
{
    char *dir = fx_tmpdir(), path[4200], err[512];
    snprintf(path, sizeof path, "%s/full.warc.zst", dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(write_error_child(path));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* Every frame in the file is whole: it reads to the end with no error and nothing skipped. */
    capreader *r = capreader_open(path, NULL, err, sizeof err);
    assert_non_null(r);
    exchange x;
    int rc, n = 0;
    while ((rc = capreader_next(r, &x)) == 1) {
        exchange_clear(&x);
        n++;
    }
    if (rc < 0)
        fail_msg("%s", capreader_error(r));
    assert_int_equal(capreader_truncated(r), 0);
    assert_true(n >= 2);
    capreader_free(r);
    fx_rmdir(dir);
}

/* Dictionary mode holds the first records; a tick after one second must put them on disk. */
static void tick_releases_held_records(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    capwriter_opts o = {.dir = dir, .dict_records = 1000};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    write_n(w, 0, 12);
    struct stat sb;
    assert_int_equal(stat(capwriter_path(w), &sb), 0);
    assert_int_equal(sb.st_size, 0);
    struct timespec ts = {1, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(capwriter_tick(w, err, sizeof err), 0);
    assert_int_equal(stat(capwriter_path(w), &sb), 0);
    assert_true(sb.st_size > 0);
    /* The open .part file reads while the writer still has it. */
    char part[4200];
    snprintf(part, sizeof part, "%s", capwriter_path(w));
    check_file(part, 12, 1);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    fx_rmdir(dir);
}

/* A first second without traffic does not end the hold: the exchanges that come later are still held
 * and the segment gets its dictionary (it used to be released empty at the first tick, and the whole
 * segment was written without one). */
static void idle_start_keeps_the_dictionary(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    capwriter_opts o = {.dir = dir, .dict_records = 1000};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    struct timespec ts = {1, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(capwriter_tick(w, err, sizeof err), 0);
    write_n(w, 0, 12);
    struct stat sb;
    assert_int_equal(stat(capwriter_path(w), &sb), 0);
    assert_int_equal(sb.st_size, 0); /* still held */
    char part[4200];
    snprintf(part, sizeof part, "%s", capwriter_path(w));
    assert_int_equal(capwriter_flush(w, err, sizeof err), 0);
    check_file(part, 12, 1);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    fx_rmdir(dir);
}

/* Counts the files in dir whose name contains `part` (NULL = all), checking each is mode 0600. */
static int count_files(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || (part && !strstr(de->d_name, part)))
            continue;
        char p[4400];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        n++;
    }
    closedir(d);
    return n;
}

/* Explicit rotation; a second segment too short to train on reuses the first one's dictionary. */
static void rotate_reuses_dictionary(void **state)
{
    char *dir = fx_tmpdir(), err[512], first[4200];
    capwriter_opts o = {.dir = dir, .dict_records = 60};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    write_n(w, 0, 80);
    snprintf(first, sizeof first, "%s", capwriter_path(w));
    first[strlen(first) - 5] = '\0'; /* the name once closed */
    assert_int_equal(capwriter_rotate(w, err, sizeof err), 0);
    assert_string_not_equal(first, capwriter_path(w));
    write_n(w, 0, 3);
    char second[4200];
    snprintf(second, sizeof second, "%s", capwriter_path(w));
    second[strlen(second) - 5] = '\0';
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    assert_int_equal(count_files(dir, NULL), 2);
    assert_int_equal(count_files(dir, ".part"), 0);
    check_file(first, 80, 1);
    check_file(second, 3, 1);

    capwriter_opts single = {.path = first};
    w = capwriter_open(&single, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(capwriter_rotate(w, err, sizeof err), CAPWRITER_EINVAL);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    fx_rmdir(dir);
}

/* The first bytes of a file: its dictionary frame (up to n bytes), for comparing two segments'. */
static size_t read_head(const char *path, unsigned char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t k = fread(buf, 1, n, f);
    fclose(f);
    return k;
}

/* After a rotation the next segment's dictionary is built at once from the records of the one before (a
 * bounded reservoir of them): nothing is held, the first exchange is on disk without a tick, and the
 * dictionary is a new one (fitted to the last segment), not a copy of the first. */
static void rotation_carries_dictionary(void **state)
{
    char *dir = fx_tmpdir(), err[512], first[4200], second[4200];
    capwriter_opts o = {.dir = dir, .dict_records = 50};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    write_n(w, 0, 700); /* several MiB of records: the reservoir must stay within its cap */
    assert_true(w->resv.len > 0 && w->resv.len <= CW_RESV_LIMIT);
    snprintf(first, sizeof first, "%s", capwriter_path(w));
    first[strlen(first) - 5] = '\0';
    assert_int_equal(capwriter_rotate(w, err, sizeof err), 0);
    write_n(w, 700, 2);
    struct stat sb;
    assert_int_equal(stat(capwriter_path(w), &sb), 0);
    assert_true(sb.st_size > 0); /* not held: written at once */
    snprintf(second, sizeof second, "%s", capwriter_path(w));
    second[strlen(second) - 5] = '\0';
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    check_file(first, 700, 1);
    /* The second segment holds exchanges 700 and 701: read them back against the fixture. */
    capreader *r = capreader_open(second, NULL, err, sizeof err);
    assert_non_null(r);
    exchange got, want;
    for (unsigned i = 700; i < 702; i++) {
        assert_int_equal(capreader_next(r, &got), 1);
        fx_make(&want, i);
        const char *d = fx_diff(&want, &got);
        if (d)
            fail_msg("exchange %u differs in %s", i, d);
        exchange_clear(&want);
        exchange_clear(&got);
    }
    assert_int_equal(capreader_next(r, &got), 0);
    assert_int_equal(capreader_has_dictionary(r), 1);
    capreader_free(r);
    static unsigned char h1[1 << 16], h2[1 << 16];
    size_t n1 = read_head(first, h1, sizeof h1), n2 = read_head(second, h2, sizeof h2);
    assert_true(n1 > 8 && n2 > 8);
    assert_memory_equal(h1, "\x5d\x2a\x4d\x18", 4); /* the skippable dictionary frame leads both */
    assert_memory_equal(h2, "\x5d\x2a\x4d\x18", 4);
    assert_true(n1 != n2 || memcmp(h1, h2, n1) != 0);
    fx_rmdir(dir);
}

static void rotation_by_age(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    capwriter_opts o = {.dir = dir, .no_dictionary = 1, .rotate_age_us = 50000};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    struct timespec ts = {0, 80 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(capwriter_tick(w, err, sizeof err), 0);
    assert_int_equal(count_files(dir, NULL), 1); /* idle: replaced, not closed */
    write_n(w, 0, 2);
    nanosleep(&ts, NULL);
    assert_int_equal(capwriter_tick(w, err, sizeof err), 0);
    assert_int_equal(count_files(dir, NULL), 2);
    assert_int_equal(count_files(dir, ".part"), 1);
    capwriter_stats st;
    capwriter_get_stats(w, &st);
    assert_int_equal(st.segments, 1);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    assert_int_equal(count_files(dir, ".part"), 0);
    fx_rmdir(dir);
}

/* A writer killed with SIGKILL mid-stream leaves a .part file that reads cleanly up to the last whole
 * frame: never an error. */
static void killed_writer_leaves_readable_part(void **state)
{
    char *dir = fx_tmpdir(), err[512];
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        capwriter_opts o = {.dir = dir, .dict_records = 50};
        capwriter *w = capwriter_open(&o, err, sizeof err);
        if (!w)
            _exit(3);
        for (unsigned i = 0;; i++) {
            exchange x;
            fx_make(&x, i);
            capwriter_write(w, &x, err, sizeof err);
            exchange_clear(&x);
            if (i % 50 == 0)
                capwriter_tick(w, err, sizeof err);
        }
    }
    /* Wait until the file has data, then kill. */
    for (int tries = 0; tries < 200; tries++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        DIR *d = opendir(dir);
        struct dirent *de;
        off_t size = 0;
        while (d && (de = readdir(d)) != NULL) {
            char p[4400];
            struct stat sb;
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            if (de->d_name[0] != '.' && stat(p, &sb) == 0)
                size = sb.st_size;
        }
        if (d)
            closedir(d);
        if (size > 100000)
            break;
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    char *args[] = {dir};
    capset *s = capset_open(args, 1, err, sizeof err);
    assert_non_null(s);
    exchange x;
    int rc, n = 0;
    while ((rc = capset_next(s, &x)) == 1) {
        exchange_clear(&x);
        n++;
    }
    if (rc < 0)
        fail_msg("%s", capset_error(s));
    assert_true(n > 50);
    capset_free(s);
    fx_rmdir(dir);
}

static void bad_options(void **state)
{
    char err[256];
    capwriter_opts none = {0};
    assert_null(capwriter_open(&none, err, sizeof err));
    capwriter_opts nodir = {.dir = "/nonexistent/dir/for/tapedeck"};
    assert_null(capwriter_open(&nodir, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dir/for/tapedeck"));
    capwriter_close(NULL, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_plain),
        cmocka_unit_test(deferred_writes_wait_for_commit),
        cmocka_unit_test(roundtrip_dictionary),
        cmocka_unit_test(roundtrip_dictionary_too_few),
        cmocka_unit_test(zstd_cli_decodes_plain_file),
        cmocka_unit_test(rotation_by_size),
        cmocka_unit_test(write_error_recovery),
        cmocka_unit_test(tick_releases_held_records),
        cmocka_unit_test(idle_start_keeps_the_dictionary),
        cmocka_unit_test(rotate_reuses_dictionary),
        cmocka_unit_test(rotation_carries_dictionary),
        cmocka_unit_test(rotation_by_age),
        cmocka_unit_test(killed_writer_leaves_readable_part),
        cmocka_unit_test(bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
