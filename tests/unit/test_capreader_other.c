/* capreader on what other WARC writers produce: .warc.gz one member per record (wget, warcio, jwarc,
 * Heritrix) and a whole file in one member, cut and damaged members, WARC/1.0 <uri> targets, the
 * response before its request (warcio), WARC-Concurrent-To on the request, pairing by adjacent
 * WARC-Target-URI, shadow responses, dns: records, and the bounded look-ahead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <zlib.h>

#include "capfixture.h"
#include "capreader.h"
#include "warc.h"

static void gz_append(tdbuf *out, const char *data, size_t n)
{
    z_stream zs = {0};
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t bound = deflateBound(&zs, n) + 64;
    assert_int_equal(tdbuf_reserve(out, bound), 0);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)bound;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out->len += bound - zs.avail_out;
    deflateEnd(&zs);
}

/* A WARC/1.0 record, as wget and warcio write them. */
static void rec(tdbuf *o, const char *type, const char *id, const char *to, const char *uri, const char *block)
{
    tdbuf_printf(o, "WARC/1.0\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%s>\r\nWARC-Date: 2026-12-02T00:42:44Z\r\n",
                 type, id);
    if (to)
        tdbuf_printf(o, "WARC-Concurrent-To: <urn:uuid:%s>\r\n", to);
    if (uri)
        tdbuf_printf(o, "WARC-Target-URI: %s\r\n", uri);
    if (!strcmp(type, "request") || !strcmp(type, "response"))
        tdbuf_printf(o, "Content-Type: application/http; msgtype=%s\r\n", type);
    tdbuf_printf(o, "Content-Length: %zu\r\n\r\n%s\r\n\r\n", strlen(block), block);
}

#define REQ(path) "GET " path " HTTP/1.1\r\nHost: a.test\r\n\r\n"
#define RESP(body) "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" body

/* The wget shape: warcinfo, request, response naming it, ..., then metadata and resource records. */
static void wget_shape(tdbuf *recs[], size_t *n)
{
    static tdbuf r[8];
    for (int i = 0; i < 8; i++)
        tdbuf_init(&r[i], 0);
    rec(&r[0], "warcinfo", "0", NULL, NULL, "software: Wget/1.21.3\r\n");
    rec(&r[1], "request", "1", NULL, "<http://a.test/>", REQ("/"));
    rec(&r[2], "response", "2", "1", "<http://a.test/>", RESP("a"));
    rec(&r[3], "request", "3", NULL, "<http://a.test/b>", REQ("/b"));
    rec(&r[4], "response", "4", "3", "<http://a.test/b>", RESP("b"));
    rec(&r[5], "metadata", "5", NULL, "<metadata://gnu.org/software/wget/warc/MANIFEST.txt>", "x");
    rec(&r[6], "resource", "6", NULL, "<metadata://gnu.org/software/wget/warc/wget_arguments.txt>", "y");
    rec(&r[7], "revisit", "7", NULL, "<http://a.test/>", "");
    for (int i = 0; i < 8; i++)
        recs[i] = &r[i];
    *n = 8;
}

static capreader *open_bytes(char *dir, const char *name, const tdbuf *b)
{
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(fx_write_file(path, b->data, b->len), 0);
    capreader *r = capreader_open(path, NULL, err, sizeof err);
    assert_non_null(r);
    return r;
}

static void expect_wget(capreader *r)
{
    exchange x;
    assert_int_equal(capreader_next(r, &x), 1);
    assert_string_equal(x.target_uri, "http://a.test/"); /* no <> */
    assert_non_null(x.response);
    assert_memory_equal(x.response + x.response_len - 1, "a", 1);
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 1);
    assert_string_equal(x.target_uri, "http://a.test/b");
    assert_memory_equal(x.response + x.response_len - 1, "b", 1);
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 0);
    capreader_skips k = {0};
    capreader_skipped(r, &k);
    assert_int_equal(k.warcinfo, 1);
    assert_int_equal(k.metadata, 1);
    assert_int_equal(k.resource, 1);
    assert_int_equal(k.revisit, 1);
    char what[256];
    assert_string_equal(capreader_skips_describe(&k, what, sizeof what), "1 metadata, 1 resource, 1 revisit");
    assert_int_equal(capreader_truncated(r), 0);
}

static void gzip_members(void **state)
{
    char *dir = fx_tmpdir();
    tdbuf *recs[8], plain, members, whole;
    size_t n;
    wget_shape(recs, &n);
    tdbuf_init(&plain, 0);
    tdbuf_init(&members, 0);
    tdbuf_init(&whole, 0);
    for (size_t i = 0; i < n; i++) {
        tdbuf_append(&plain, recs[i]->data, recs[i]->len);
        gz_append(&members, recs[i]->data, recs[i]->len);
    }
    gz_append(&whole, plain.data, plain.len);

    capreader *r = open_bytes(dir, "m.warc.gz", &members);
    expect_wget(r);
    assert_string_equal(capreader_kind(r), "gzip");
    capreader_free(r);
    r = open_bytes(dir, "w.warc.gz", &whole); /* a whole file in one member */
    expect_wget(r);
    capreader_free(r);
    r = open_bytes(dir, "p.warc", &plain);
    expect_wget(r);
    capreader_free(r);

    /* raw records come out byte for byte as stored, with their member's offset */
    r = open_bytes(dir, "m2.warc.gz", &members);
    const char *d;
    size_t len;
    uint64_t off, want_off = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(capreader_next_raw(r, &d, &len, &off), 1);
        assert_int_equal(len, recs[i]->len);
        assert_memory_equal(d, recs[i]->data, len);
        assert_int_equal(off, want_off);
        tdbuf one;
        tdbuf_init(&one, 0);
        gz_append(&one, recs[i]->data, recs[i]->len);
        want_off += one.len;
        tdbuf_free(&one);
    }
    assert_int_equal(capreader_next_raw(r, &d, &len, &off), 0);
    capreader_free(r);

    /* cut inside the last member: the records before it read, the cut is counted */
    tdbuf cut;
    tdbuf_init(&cut, 0);
    tdbuf_append(&cut, members.data, members.len - 5);
    r = open_bytes(dir, "cut.warc.gz", &cut);
    exchange x;
    assert_int_equal(capreader_next(r, &x), 1);
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 1);
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 0);
    assert_true(capreader_truncated(r) > 0);
    capreader_free(r);

    /* a damaged member in the middle: an error naming the member's offset, after what came before */
    tdbuf bad;
    tdbuf_init(&bad, 0);
    size_t third = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 3)
            third = bad.len;
        gz_append(&bad, recs[i]->data, recs[i]->len);
    }
    bad.data[third + 14] ^= 0x55;
    r = open_bytes(dir, "bad.warc.gz", &bad);
    assert_int_equal(capreader_next(r, &x), 1);
    exchange_clear(&x);
    assert_true(capreader_next(r, &x) < 0);
    char want[64];
    snprintf(want, sizeof want, "offset %zu: ", third);
    assert_non_null(strstr(capreader_error(r), want));
    capreader_free(r);

    for (size_t i = 0; i < n; i++)
        tdbuf_free(recs[i]);
    tdbuf_free(&plain);
    tdbuf_free(&members);
    tdbuf_free(&whole);
    tdbuf_free(&cut);
    tdbuf_free(&bad);
    fx_rmdir(dir);
}

static void pairing_orders(void **state)
{
    char *dir = fx_tmpdir();
    tdbuf b;
    tdbuf_init(&b, 0);
    rec(&b, "response", "r1", "q1", "http://a.test/1", RESP("1")); /* warcio: response first */
    rec(&b, "request", "q1", "r1", "http://a.test/1", REQ("/1"));
    rec(&b, "request", "q2", "r2", "http://a.test/2", REQ("/2")); /* only the request names its partner */
    rec(&b, "response", "r2", NULL, "http://a.test/2", RESP("2"));
    rec(&b, "request", "q3", NULL, "http://a.test/3", REQ("/3")); /* neither: adjacent, same URI */
    rec(&b, "response", "r3", NULL, "http://a.test/3", RESP("3"));
    rec(&b, "response", "r3b", "q3", "http://a.test/3", RESP("s")); /* a second answer: extra */
    /* a shadow's answer (--mirror-record) written before the primary one: never taken for it */
    tdbuf_puts(&b, "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:s6>\r\n"
                   "WARC-Concurrent-To: <urn:uuid:q6>\r\nWARC-Tapedeck-Role: shadow\r\n"
                   "WARC-Target-URI: http://a.test/6\r\nContent-Length: 39\r\n\r\n"
                   "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nS\r\n\r\n");
    rec(&b, "request", "q6", NULL, "http://a.test/6", REQ("/6"));
    rec(&b, "response", "r6", "q6", "http://a.test/6", RESP("6"));
    rec(&b, "response", "dns", NULL, "dns:a.test", "20261202 a.test. 300 IN A 127.0.0.1");
    rec(&b, "response", "r9", "q9", "http://a.test/9", RESP("9")); /* its request is not in the file */
    rec(&b, "request", "q4", NULL, "http://a.test/4", REQ("/4")); /* no response at all */
    rec(&b, "response", "r5", NULL, "http://a.test/5", RESP("5")); /* adjacent, but another URI */
    capreader *r = open_bytes(dir, "o.warc", &b);
    exchange x;
    const char *want[] = {"1", "2", "3", "6"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(capreader_next(r, &x), 1);
        assert_non_null(x.response);
        assert_memory_equal(x.response + x.response_len - 1, want[i], 1);
        assert_memory_equal(x.request + 4, "/", 1);
        assert_memory_equal(x.request + 5, want[i], 1);
        exchange_clear(&x);
    }
    /* a response without its request: listed with a GET rebuilt from its URI */
    assert_int_equal(capreader_next(r, &x), 1);
    assert_string_equal(x.target_uri, "http://a.test/9");
    assert_non_null(x.response);
    assert_int_equal(x.request_len, strlen("GET /9 HTTP/1.1\r\nHost: a.test\r\n\r\n"));
    assert_memory_equal(x.request, "GET /9 HTTP/1.1\r\nHost: a.test\r\n\r\n", x.request_len);
    assert_true(x.req_start_us > 0); /* from the response's WARC-Date */
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 1);
    assert_string_equal(x.target_uri, "http://a.test/4");
    assert_null(x.response);
    assert_string_equal(x.error, "no response recorded");
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 1);
    assert_string_equal(x.target_uri, "http://a.test/5");
    assert_memory_equal(x.response + x.response_len - 1, "5", 1);
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 0);
    capreader_skips k = {0};
    capreader_skipped(r, &k);
    assert_int_equal(k.extras, 2);
    assert_int_equal(k.not_http, 1);
    assert_int_equal(k.orphans, 0);
    assert_int_equal(k.rebuilt, 2);
    capreader_free(r);

    /* the look-ahead is bounded: 100 responses before 100 requests in reverse order; those whose
     * partner is beyond the window are told apart, not held without limit */
    tdbuf_reset(&b);
    char id[32], to[32];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "s%d", i);
        snprintf(to, sizeof to, "q%d", 99 - i);
        rec(&b, "response", id, to, "http://a.test/x", RESP("x"));
    }
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "q%d", i);
        rec(&b, "request", id, NULL, "http://a.test/x", REQ("/x"));
    }
    r = open_bytes(dir, "far.warc", &b);
    int got = 0, paired = 0, rc;
    while ((rc = capreader_next(r, &x)) == 1) {
        got++;
        paired += x.response != NULL;
        exchange_clear(&x);
    }
    assert_int_equal(rc, 0);
    /* every request comes out once, and every response: paired, or with a rebuilt request */
    memset(&k, 0, sizeof k);
    capreader_skipped(r, &k);
    assert_true(k.rebuilt > 0 && k.rebuilt < 100);
    assert_int_equal(got, 100 + (int)k.rebuilt);
    assert_int_equal(paired, 100); /* 100 responses, each in one exchange */
    capreader_free(r);
    tdbuf_free(&b);
    fx_rmdir(dir);
}

/* WARC heads whose lines end in LF alone (and LF LF after the block), and a last record without
 * its trailer: read, not refused. */
static void lf_heads(void **state)
{
    char *dir = fx_tmpdir();
    tdbuf b;
    tdbuf_init(&b, 0);
    const char *req = REQ("/lf"), *resp = RESP("z");
    tdbuf_printf(&b, "WARC/1.0\nWARC-Type: request\nWARC-Record-ID: <urn:uuid:q>\nWARC-Target-URI: http://a.test/lf\n"
                     "Content-Length: %zu\n\n%s\n\n", strlen(req), req);
    tdbuf_printf(&b, "WARC/1.0\nWARC-Type: response\nWARC-Record-ID: <urn:uuid:r>\nWARC-Concurrent-To: <urn:uuid:q>\n"
                     "WARC-Target-URI: http://a.test/lf\nContent-Length: %zu\n\n%s", strlen(resp), resp);
    capreader *r = open_bytes(dir, "lf.warc", &b);
    exchange x;
    assert_int_equal(capreader_next(r, &x), 1);
    assert_string_equal(x.target_uri, "http://a.test/lf");
    assert_int_equal(x.request_len, strlen(req));
    assert_non_null(x.response);
    assert_int_equal(x.response_len, strlen(resp));
    exchange_clear(&x);
    assert_int_equal(capreader_next(r, &x), 0);
    assert_int_equal(capreader_truncated(r), 0);
    capreader_free(r);
    tdbuf_free(&b);
    fx_rmdir(dir);
}

/* The look-ahead's byte count goes down as exchanges go out: far more bytes than the limit, in
 * order, all pair (a count that only grew made every request past the limit lose its response). */
static void lookahead_bytes(void **state)
{
    char *dir = fx_tmpdir(), path[1200], err[512], id[32], to[32];
    tdbuf b, body;
    tdbuf_init(&b, 0);
    tdbuf_init(&body, 0);
    tdbuf_puts(&body, "HTTP/1.1 200 OK\r\nContent-Length: 8000\r\n\r\n");
    for (int i = 0; i < 8000; i++)
        tdbuf_append(&body, "x", 1);
    for (int i = 0; i < 200; i++) { /* 1.6 MB of responses, 64 KiB of look-ahead */
        snprintf(id, sizeof id, "q%d", i);
        snprintf(to, sizeof to, "r%d", i);
        rec(&b, "request", id, NULL, "http://a.test/x", REQ("/x"));
        rec(&b, "response", to, id, "http://a.test/x", body.data);
    }
    snprintf(path, sizeof path, "%s/big.warc", dir);
    assert_int_equal(fx_write_file(path, b.data, b.len), 0);
    capreader_opts o = {.lookahead_bytes = 64 << 10};
    capreader *r = capreader_open(path, &o, err, sizeof err);
    assert_non_null(r);
    exchange x;
    int n = 0, paired = 0;
    while (capreader_next(r, &x) == 1) {
        n++;
        paired += x.response != NULL;
        exchange_clear(&x);
    }
    assert_int_equal(n, 200);
    assert_int_equal(paired, 200);
    capreader_free(r);
    tdbuf_free(&b);
    tdbuf_free(&body);
    fx_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gzip_members),
        cmocka_unit_test(lf_heads),
        cmocka_unit_test(lookahead_bytes),
        cmocka_unit_test(pairing_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
