/* capwriter_raw: the XXH64 against zstd's own frame checksum, raw-block frames decoded by libzstd (block
 * boundaries, content size, checksum), the compressibility probe, and a capture mixing raw and
 * compressed frames read back whole, with and without a dictionary, and checked by `zstd -t`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include <cmocka.h>

#include "capreader.h"
#include "capwriter.h"
#include "capwriter_int.h"

static uint64_t rng = 88172645463325252ull;
static void fill_random(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        p[i] = (char)(rng >> 24);
    }
}

static void xxh64_matches_zstd_checksum(void **state)
{
    (void)state;
    assert_true(cw_xxh64("", 0) == 0xEF46DB3751D8E999ull); /* the specification's empty-input value */
    static const size_t lens[] = {1, 3, 4, 7, 8, 31, 32, 33, 63, 100, 1000, 65536 + 7};
    char *buf = malloc(70000), *z = malloc(ZSTD_compressBound(70000));
    assert_non_null(buf);
    assert_non_null(z);
    fill_random(buf, 70000);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = ZSTD_compress2(c, z, ZSTD_compressBound(70000), buf, lens[i]);
        assert_false(ZSTD_isError(n));
        const unsigned char *t = (const unsigned char *)z + n - 4;
        uint32_t want = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
        assert_int_equal((uint32_t)cw_xxh64(buf, lens[i]), want);
    }
    ZSTD_freeCCtx(c);
    free(buf);
    free(z);
}

static void raw_frames_decode(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 16384, 131072, 131073, 300000};
    char *buf = malloc(300000), *back = malloc(300000);
    assert_non_null(buf);
    assert_non_null(back);
    fill_random(buf, 300000);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        tdbuf f;
        tdbuf_init(&f, 0);
        assert_int_equal(tdbuf_append(&f, "x", 1), 0); /* appended after what out holds */
        assert_int_equal(cw_raw_frame(buf, lens[i], &f), CAPWRITER_OK);
        const char *fr = f.data + 1;
        size_t flen = f.len - 1;
        assert_int_equal(ZSTD_findFrameCompressedSize(fr, flen), flen);
        assert_int_equal(ZSTD_getFrameContentSize(fr, flen), lens[i]);
        assert_int_equal(ZSTD_getDictID_fromFrame(fr, flen), 0);
        assert_int_equal(ZSTD_decompress(back, 300000, fr, flen), lens[i]);
        assert_memory_equal(back, buf, lens[i]);
        f.data[f.len - 1] ^= 1; /* the checksum is checked */
        assert_true(ZSTD_isError(ZSTD_decompress(back, 300000, fr, flen)));
        tdbuf_free(&f);
    }
    free(buf);
    free(back);
}

static void probe_tells_random_from_text(void **state)
{
    (void)state;
    size_t n = 65536;
    char *buf = malloc(n);
    assert_non_null(buf);
    fill_random(buf, n);
    assert_true(cw_incompressible(buf, n));
    assert_false(cw_incompressible(buf, 8192)); /* too small to bother */
    for (size_t i = 0; i < n; i++) /* JSON-like text */
        buf[i] = "{\"id\":12345,\"name\":\"trip\",\"ok\":true}"[i % 36];
    assert_false(cw_incompressible(buf, n));
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fill_random(buf, n);
    for (size_t i = 0; i < n; i++)
        buf[i] = b64[(unsigned char)buf[i] % 64];
    assert_false(cw_incompressible(buf, n)); /* 6 bits a byte: Huffman still pays */
    free(buf);
}

/* Exchange i: a random 64 KiB body on even i, a small JSON body on odd i. */
static void make_x(exchange *x, unsigned i, char *body)
{
    char head[128];
    size_t blen = 65536;
    if (i % 2)
        blen = (size_t)snprintf(body, 64, "{\"n\":%u,\"pad\":\"....\"}", i);
    else
        fill_random(body, blen);
    int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", blen);
    exchange_init(x);
    x->conn_id = 1;
    x->conn_seq = i;
    x->req_start_us = 1767225600000000LL + i;
    assert_int_equal(exchange_set_str(&x->target_uri, "http://api.test/x"), 0);
    assert_int_equal(exchange_set_buf(&x->request, &x->request_len, "GET /x HTTP/1.1\r\nHost: api.test\r\n\r\n", 35), 0);
    char *resp = malloc((size_t)hl + blen);
    assert_non_null(resp);
    memcpy(resp, head, (size_t)hl);
    memcpy(resp + hl, body, blen);
    assert_int_equal(exchange_set_buf(&x->response, &x->response_len, resp, (size_t)hl + blen), 0);
    free(resp);
}

static void mixed_capture_reads_back(int no_dict)
{
    char path[] = "/tmp/td-raw-XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    capwriter_opts o = {.path = path, .no_dictionary = no_dict, .level = 1, .defer_writes = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    char *body = malloc(65536);
    assert_non_null(body);
    uint64_t seed = rng;
    enum { N = 40 };
    for (unsigned i = 0; i < N; i++) {
        exchange x;
        make_x(&x, i, body);
        assert_int_equal(capwriter_write(w, &x, err, sizeof err), 0);
        if (i % 8 == 7)
            assert_int_equal(capwriter_commit(w, err, sizeof err), 0);
        exchange_clear(&x);
    }
    capwriter_stats st;
    assert_int_equal(capwriter_flush(w, err, sizeof err), 0);
    capwriter_get_stats(w, &st);
    assert_true(st.bytes_out > (N / 2) * 65536u); /* the random bodies are stored, not squeezed */
    assert_int_equal(capwriter_close(w, err, sizeof err), 0);

    rng = seed; /* the same bodies again, to compare */
    capreader *r = capreader_open(path, NULL, err, sizeof err);
    assert_non_null(r);
    exchange got, want;
    unsigned i = 0;
    int rc;
    while ((rc = capreader_next(r, &got)) == 1) {
        assert_true(i < N);
        make_x(&want, i, body);
        assert_int_equal(got.response_len, want.response_len);
        assert_memory_equal(got.response, want.response, want.response_len);
        exchange_clear(&want);
        exchange_clear(&got);
        i++;
    }
    if (rc < 0)
        fail_msg("%s", capreader_error(r));
    assert_int_equal(i, N);
    assert_int_equal(capreader_truncated(r), 0);
    capreader_free(r);
    if (no_dict) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "zstd -q -t '%s'", path);
        assert_int_equal(system(cmd), 0);
    }
    free(body);
    unlink(path);
}

static void mixed_capture_plain(void **state)
{
    (void)state;
    mixed_capture_reads_back(1);
}

static void mixed_capture_dictionary(void **state)
{
    (void)state;
    mixed_capture_reads_back(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xxh64_matches_zstd_checksum), cmocka_unit_test(raw_frames_decode),
        cmocka_unit_test(probe_tells_random_from_text), cmocka_unit_test(mixed_capture_plain),
        cmocka_unit_test(mixed_capture_dictionary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
