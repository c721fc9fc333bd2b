/* capreader: a file cut at every offset, damaged frames, plain WARC, pairing, limits, junk input. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <zstd.h>

#include "capfixture.h"
#include "capreader.h"
#include "capwriter.h"
#include "warc.h"

typedef struct fixture_file {
    char *dir;
    char path[1024];
    char *data;
    size_t len;
    size_t bounds[512]; /* frame ends; bounds[0] = 0 */
    int is_record[512]; /* frame i (ending at bounds[i + 1]) holds a record */
    size_t nframes;
} fixture_file;

static void make_file(fixture_file *f, int dict, unsigned n)
{
    char err[512];
    f->dir = fx_tmpdir();
    snprintf(f->path, sizeof f->path, "%s/cap.warc.zst", f->dir);
    capwriter_opts o = {.path = f->path, .no_dictionary = !dict, .dict_records = 40};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    for (unsigned i = 0; i < n; i++) {
        exchange x;
        fx_make(&x, i);
        assert_int_equal(capwriter_write(w, &x, err, sizeof err), 0);
        exchange_clear(&x);
    }
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    f->data = fx_read_file(f->path, &f->len);
    assert_non_null(f->data);
    /* Walk the frames independently of the reader. */
    size_t off = 0;
    f->nframes = 0;
    f->bounds[0] = 0;
    while (off < f->len) {
        const unsigned char *p = (const unsigned char *)f->data + off;
        uint32_t magic = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        size_t sz;
        if (magic == 0x184D2A5Du) {
            sz = 8 + ((size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 | (size_t)p[7] << 24);
            f->is_record[f->nframes] = 0;
        } else {
            sz = ZSTD_findFrameCompressedSize(p, f->len - off);
            assert_false(ZSTD_isError(sz));
            f->is_record[f->nframes] = 1;
        }
        off += sz;
        assert_true(f->nframes < 511);
        f->bounds[++f->nframes] = off;
    }
    assert_int_equal(off, f->len);
    assert_int_equal(f->is_record[0], !dict); /* a dictionary frame comes first, or the warcinfo */
}

static void free_file(fixture_file *f)
{
    free(f->data);
    fx_rmdir(f->dir);
}

/* Reads every record of path: returns the count, or -1 - count on an error (message in err). */
static int read_records(const char *path, uint64_t *truncated, char *err, size_t errlen)
{
    capreader *r = capreader_open(path, NULL, err, errlen);
    if (!r)
        return -1000000;
    warc_record rec;
    int rc, n = 0;
    while ((rc = capreader_next_record(r, &rec)) == 1) {
        warc_record_clear(&rec);
        n++;
    }
    if (truncated)
        *truncated = capreader_truncated(r);
    if (rc < 0)
        snprintf(err, errlen, "%s", capreader_error(r));
    capreader_free(r);
    return rc < 0 ? -1 - n : n;
}

static void cut_everywhere(int dict)
{
    fixture_file f;
    char err[1024], cut_path[1100];
    make_file(&f, dict, 24);
    snprintf(cut_path, sizeof cut_path, "%s/cut.warc.zst.part", f.dir);
    int fd = open(cut_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f.data, f.len), (ssize_t)f.len);
    size_t step_after = 2048;
    /* Under the sanitizers every run is ~10x slower: sample the middle more sparsely there. */
    size_t stride = getenv("TAPEDECK_ASAN") ? 11 : 3;
    for (size_t cut = f.len + 1; cut-- > 0;) {
        /* Every offset near the start and around each frame end; every stride-th byte elsewhere. */
        int near = cut < step_after;
        for (size_t k = 0; k <= f.nframes && !near; k++)
            near = cut + 3 >= f.bounds[k] && cut <= f.bounds[k] + 3;
        if (!near && cut % stride != 0)
            continue;
        assert_int_equal(ftruncate(fd, (off_t)cut), 0);
        int want = 0;
        size_t last = 0;
        for (size_t k = 0; k < f.nframes && f.bounds[k + 1] <= cut; k++) {
            want += f.is_record[k];
            last = f.bounds[k + 1];
        }
        uint64_t trunc = 0;
        int got = read_records(cut_path, &trunc, err, sizeof err);
        if (got != want || trunc != cut - last)
            fail_msg("cut at %zu of %zu: %d records (want %d), %llu skipped (want %zu): %s", cut, f.len, got, want,
                     (unsigned long long)trunc, cut - last, got < 0 ? err : "");
    }
    close(fd);
    free_file(&f);
}

static void truncated_plain(void **state)
{
    cut_everywhere(0);
}

static void truncated_dictionary(void **state)
{
    cut_everywhere(1);
}

/* A file cut between a request frame and its response frame gives the request without response. */
static void truncated_between_request_and_response(void **state)
{
    fixture_file f;
    char err[512], cut_path[1100];
    make_file(&f, 0, 3);
    /* frames: warcinfo, req0, resp0, req1, resp1, ... keep warcinfo + req0 + resp0 + req1 */
    snprintf(cut_path, sizeof cut_path, "%s/cut.warc.zst", f.dir);
    assert_int_equal(fx_write_file(cut_path, f.data, f.bounds[4]), 0);
    capreader *r = capreader_open(cut_path, NULL, err, sizeof err);
    assert_non_null(r);
    exchange x;
    assert_int_equal(capreader_next(r, &x), 1);
    assert_non_null(x.response);
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 1);
    assert_null(x.response);
    assert_string_equal(x.error, "no response recorded");
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 0);
    assert_int_equal(capreader_truncated(r), 0);
    capreader_free(r);
    free_file(&f);
}

/* A body that itself contains a whole zstd frame (a .zst download, stored as is), in the last frame of a
 * file cut short: still a truncated tail, not damage. */
static void truncated_frame_with_embedded_zstd(void **state)
{
    char *dir = fx_tmpdir(), path[1100], err[512];
    snprintf(path, sizeof path, "%s/emb.warc.zst", dir);
    unsigned char noise[9000], inner[1024];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)((s = s * 1103515245u + 12345u) >> 23);
    for (size_t i = 0; i < sizeof inner; i++)
        inner[i] = (unsigned char)((s = s * 1103515245u + 12345u) >> 23);
    size_t zn = ZSTD_compress(noise + 4000, 2000, inner, sizeof inner, 1);
    assert_false(ZSTD_isError(zn));
    capwriter_opts o = {.path = path, .no_dictionary = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    exchange x;
    fx_make(&x, 0);
    assert_int_equal(capwriter_write(w, &x, err, sizeof err), 0);
    tdbuf resp;
    tdbuf_init(&resp, 0);
    tdbuf_printf(&resp, "HTTP/1.1 200 OK\r\nContent-Type: application/zstd\r\nContent-Length: %zu\r\n\r\n", sizeof noise);
    tdbuf_append(&resp, noise, sizeof noise);
    free(x.response);
    x.response = tdbuf_steal(&resp, &x.response_len);
    assert_int_equal(capwriter_write(w, &x, err, sizeof err), 0);
    exchange_clear(&x);
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);
    size_t len;
    char *data = fx_read_file(path, &len);
    assert_non_null(data);
    /* Cut 100 bytes before the end: inside the last (response) frame, after the embedded frame. */
    const unsigned char magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    char *emb = memmem(data + len / 2, len - len / 2, magic, 4);
    assert_non_null(emb); /* the inner frame is stored verbatim */
    assert_true((size_t)(emb - data) + zn < len - 100);
    assert_int_equal(truncate(path, (off_t)(len - 100)), 0);
    uint64_t skipped = 0;
    int got = read_records(path, &skipped, err, sizeof err);
    if (got != 4)
        fail_msg("got %d records: %s", got, err);
    assert_true(skipped > 9000);
    free(data);
    fx_rmdir(dir);
}

static void flip_and_read(fixture_file *f, size_t pos, char *err, size_t errlen, int *got)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/flip.warc.zst", f->dir);
    f->data[pos] ^= 0x5a;
    assert_int_equal(fx_write_file(p, f->data, f->len), 0);
    f->data[pos] ^= 0x5a;
    *got = read_records(p, NULL, err, errlen);
}

/* The damaged copy read without error: it must hold exactly the original exchanges. */
static void check_intact(fixture_file *f, unsigned n, size_t pos)
{
    char p[1100], err[512];
    snprintf(p, sizeof p, "%s/flip.warc.zst", f->dir);
    f->data[pos] ^= 0x5a;
    assert_int_equal(fx_write_file(p, f->data, f->len), 0);
    f->data[pos] ^= 0x5a;
    capreader *r = capreader_open(p, NULL, err, sizeof err);
    assert_non_null(r);
    exchange got, want;
    unsigned i = 0;
    while (capreader_next(r, &got) == 1) {
        fx_make(&want, i);
        if (fx_diff(&want, &got))
            fail_msg("flip at %zu: exchange %u silently differs in %s", pos, i, fx_diff(&want, &got));
        exchange_clear(&want);
        exchange_clear(&got);
        i++;
    }
    if (i != n)
        fail_msg("flip at %zu: %u exchanges without error, want %u", pos, i, n);
    capreader_free(r);
}

static void corrupt_middle_frame(void **state)
{
    for (int dict = 0; dict <= 1; dict++) {
        fixture_file f;
        char err[1024], want[64];
        make_file(&f, dict, 24);
        size_t k = f.nframes / 2;
        size_t start = f.bounds[k], end = f.bounds[k + 1];
        int before = 0;
        for (size_t i = 0; i < k; i++)
            before += f.is_record[i];
        int got;
        flip_and_read(&f, start + (end - start) / 2, err, sizeof err, &got);
        assert_int_equal(got, -1 - before);
        snprintf(want, sizeof want, ": offset %zu: ", start);
        if (!strstr(err, want) || !strstr(err, "flip.warc.zst"))
            fail_msg("error \"%s\" does not name the file and offset %zu", err, start);
        /* Any single damaged byte of that frame is an error, never a crash or silently wrong data. (A flip
         * can leave the content intact, e.g. another match offset into repetitive text: the checksum
         * then rightly passes, and the content must be exactly the original.) */
        size_t step = getenv("TAPEDECK_ASAN") ? 3 : 1;
        for (size_t pos = start; pos < end; pos += step) {
            flip_and_read(&f, pos, err, sizeof err, &got);
            if (got >= 0)
                check_intact(&f, 24, pos);
        }
        free_file(&f);
    }
}

/* A plain WARC with a request whose upstream failed, a pair, an orphan response, a metadata record,
 * and a request at the very end without response. */
static void pairing(void **state)
{
    char *dir = fx_tmpdir(), path[1100], err[512];
    tdbuf file, a, b;
    tdbuf_init(&file, 0);
    tdbuf_init(&a, 0);
    tdbuf_init(&b, 0);
    exchange x;
    fx_make(&x, 6); /* no response */
    assert_int_equal(warc_format_exchange(&x, &a, &b), 0);
    assert_int_equal(b.len, 0);
    tdbuf_append(&file, a.data, a.len);
    exchange_clear(&x);
    a.len = b.len = 0;
    fx_make(&x, 1);
    warc_format_exchange(&x, &a, &b);
    tdbuf_append(&file, a.data, a.len);
    tdbuf_append(&file, b.data, b.len);
    exchange_clear(&x);
    a.len = b.len = 0;
    fx_make(&x, 2);
    warc_format_exchange(&x, &a, &b);
    tdbuf_append(&file, b.data, b.len); /* orphan response */
    tdbuf_puts(&file, "WARC/1.1\r\nWARC-Type: metadata\r\nWARC-Record-ID: <urn:uuid:x>\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n");
    tdbuf_append(&file, a.data, a.len); /* request without response at the end */
    exchange_clear(&x);
    snprintf(path, sizeof path, "%s/p.warc", dir);
    assert_int_equal(fx_write_file(path, file.data, file.len), 0);

    capreader *r = capreader_open(path, NULL, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(capreader_next(r, &x), 1);
    assert_null(x.response);
    assert_string_equal(x.error, "connect: Connection refused");
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 1);
    assert_non_null(x.response);
    assert_null(x.error);
    exchange_clear(&x);
    /* the response came first (as warcio writes): still paired, through WARC-Concurrent-To */
    assert_int_equal(capreader_next(r, &x), 1);
    assert_non_null(x.response);
    assert_null(x.error);
    assert_int_equal(x.request_len, 35);
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 0);
    assert_int_equal(capreader_records(r), 6);
    capreader_skips k = {0};
    capreader_skipped(r, &k);
    assert_int_equal(k.metadata, 1);
    assert_int_equal(k.orphans, 0);
    assert_null(capreader_warcinfo(r));
    capreader_free(r);
    tdbuf_free(&file);
    tdbuf_free(&a);
    tdbuf_free(&b);
    fx_rmdir(dir);
}

static void record_limit(void **state)
{
    fixture_file f;
    char err[512];
    make_file(&f, 0, 8); /* exchange 5 has a 32 KiB header */
    capreader_opts o = {.max_record = 8000};
    capreader *r = capreader_open(f.path, &o, err, sizeof err);
    assert_non_null(r);
    exchange x;
    int rc, n = 0;
    while ((rc = capreader_next(r, &x)) == 1) {
        exchange_clear(&x);
        n++;
    }
    assert_int_equal(rc, CAPREADER_ETOOBIG);
    assert_int_equal(n, 5);
    assert_non_null(strstr(capreader_error(r), "limit"));
    capreader_free(r);
    free_file(&f);
}

static const struct {
    const char *name;
    const char *data;
    size_t len;
    int want; /* records, or an error status */
} junk_cases[] = {
    {"empty", "", 0, 0},
    {"text", "hello world, not a capture\n", 27, CAPREADER_ECORRUPT},
    {"zstd magic only", "\x28\xb5\x2f\xfd", 4, 0},
    {"bad warc head", "WARC/1.1\r\nContent-Length: zz\r\n\r\n", 33, CAPREADER_ECORRUPT},
    {"cut warc", "WARC/1.1\r\nWARC-Type: request\r\nContent-Length: 100\r\n\r\nabc", 56, 0},
    {"huge skippable", "\x50\x2a\x4d\x18\xff\xff\xff\xff", 8, CAPREADER_ECORRUPT},
    {"bad dictionary", "\x5d\x2a\x4d\x18\x04\x00\x00\x00" "abcd", 12, CAPREADER_ECORRUPT},
};

static void junk_input(void **state)
{
    char *dir = fx_tmpdir(), path[1100], err[512];
    for (size_t i = 0; i < sizeof junk_cases / sizeof junk_cases[0]; i++) {
        snprintf(path, sizeof path, "%s/junk%zu.warc.zst", dir, i);
        assert_int_equal(fx_write_file(path, junk_cases[i].data, junk_cases[i].len), 0);
        int got = read_records(path, NULL, err, sizeof err);
        int want = junk_cases[i].want;
        if (want >= 0 ? got != want : got >= 0)
            fail_msg("%s: got %d, want %d (%s)", junk_cases[i].name, got, want, err);
        if (want < 0 && (!strstr(err, path) || !strstr(err, "offset")))
            fail_msg("%s: error \"%s\" does not name the file and offset", junk_cases[i].name, err);
    }
    /* A plain WARC cut inside its second record: the first reads, the rest is counted as skipped. */
    const char *two = "WARC/1.1\r\nWARC-Type: metadata\r\nContent-Length: 1\r\n\r\nx\r\n\r\n"
                      "WARC/1.1\r\nWARC-Type: metadata\r\nContent-Length: 9\r\n\r\nabc";
    snprintf(path, sizeof path, "%s/two.warc", dir);
    assert_int_equal(fx_write_file(path, two, strlen(two)), 0);
    uint64_t skipped = 0;
    assert_int_equal(read_records(path, &skipped, err, sizeof err), 1);
    assert_int_equal(skipped, strlen(two) - 57);
    assert_null(capreader_open("/nonexistent/x.warc.zst", NULL, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/x.warc.zst"));
    capreader_free(NULL);
    fx_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truncated_plain),
        cmocka_unit_test(truncated_dictionary),
        cmocka_unit_test(truncated_between_request_and_response),
        cmocka_unit_test(truncated_frame_with_embedded_zstd),
        cmocka_unit_test(corrupt_middle_frame),
        cmocka_unit_test(pairing),
        cmocka_unit_test(record_limit),
        cmocka_unit_test(junk_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
