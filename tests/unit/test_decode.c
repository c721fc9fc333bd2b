/* decode: content codings (gzip, deflate zlib-wrapped and raw, br, stacked, identity) on blobs made by a
 * real encoder (node's zlib), corrupt input and the size cap; whole responses (chunked + gzip, HEAD,
 * HTTP/2-style head-only) through decode_response. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/decode.h"

static const char PLAIN[] = "{\"trip\":{\"id\":42,\"name\":\"br body\"}}";

static size_t unhex(const char *h, char *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (char)v;
    }
    return n;
}

static void codings_decode(void **state)
{
    (void)state;
    static const struct {
        const char *coding, *hex;
    } cases[] = {
        {"gzip", "1f8b0800000000000003ab562a29ca2c50b2aa56ca4c51b23231d251ca4bcc4d55b2524a2a5248ca4fa954aaad05001da3f6c723000000"},
        {"x-gzip", "1f8b0800000000000003ab562a29ca2c50b2aa56ca4c51b23231d251ca4bcc4d55b2524a2a5248ca4fa954aaad05001da3f6c723000000"},
        {"deflate", "789cab562a29ca2c50b2aa56ca4c51b23231d251ca4bcc4d55b2524a2a5248ca4fa954aaad0500c3a30b10"},
        {"Deflate", "ab562a29ca2c50b2aa56ca4c51b23231d251ca4bcc4d55b2524a2a5248ca4fa954aaad0500"}, /* raw deflate */
        {"br", "0b11807b2274726970223a7b226964223a34322c226e616d65223a22627220626f6479227d7d03"},
        /* applied gzip first, then br: undone in reverse */
        {"gzip, br", "0b1b801f8b0800000000000003ab562a29ca2c50b2aa56ca4c51b23231d251ca4bcc4d55b2524a2a5248ca4fa954aaad05001da3f6c72300000003"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[256], err[128];
        size_t n = unhex(cases[i].hex, in);
        char *out = NULL;
        size_t outlen = 0;
        assert_int_equal(decode_content(cases[i].coding, in, n, &out, &outlen, 1 << 20, err, sizeof err), 0);
        assert_non_null(out);
        assert_int_equal(outlen, strlen(PLAIN));
        assert_memory_equal(out, PLAIN, outlen);
        free(out);
    }
    /* a compressible body through brotli */
    char in[64], err[128];
    size_t n = unhex("1bc101f81da9539fbb701546976364705906b216bc0503e75a1c", in);
    char *out = NULL;
    size_t outlen = 0;
    assert_int_equal(decode_content("br", in, n, &out, &outlen, 1 << 20, err, sizeof err), 0);
    assert_int_equal(outlen, 450);
    assert_memory_equal(out, "tapedeck tapedeck ", 18);
    free(out);
    /* identity: nothing to do */
    assert_int_equal(decode_content("identity", "abc", 3, &out, &outlen, 10, err, sizeof err), 0);
    assert_null(out);
}

static void bad_input_and_limits(void **state)
{
    (void)state;
    char in[256], err[128];
    char *out = NULL;
    size_t outlen;
    size_t n = unhex("1f8b0800000000000003ab562a29ca2c50b2aa56ca4c51b23231d251ca4bcc4d55b2524a2a5248ca4fa954aaad05001da3f6c723000000", in);
    /* cut short */
    assert_int_equal(decode_content("gzip", in, n / 2, &out, &outlen, 1 << 20, err, sizeof err), DECODE_ECODING);
    assert_non_null(strstr(err, "gzip"));
    /* over the cap */
    assert_int_equal(decode_content("gzip", in, n, &out, &outlen, 10, err, sizeof err), DECODE_ETOOBIG);
    /* unknown coding, and garbage */
    assert_int_equal(decode_content("compress", in, n, &out, &outlen, 1 << 20, err, sizeof err), DECODE_ECODING);
    assert_non_null(strstr(err, "compress"));
    assert_int_equal(decode_content("br", "garbage!", 8, &out, &outlen, 1 << 20, err, sizeof err), DECODE_ECODING);
    assert_int_equal(decode_content("deflate", "garbage!", 8, &out, &outlen, 1 << 20, err, sizeof err), DECODE_ECODING);
}

static void whole_responses(void **state)
{
    (void)state;
    char gz[256], raw[1024], err[128];
    size_t n = unhex("1f8b0800000000000003ab562a29ca2c50b2aa56ca4c51b23231d251ca4bcc4d55b2524a2a5248ca4fa954aaad05001da3f6c723000000", gz);
    /* chunked + gzip, split in two chunks */
    int len = snprintf(raw, sizeof raw,
                       "HTTP/1.1 200 OK\r\nContent-Type: Application/JSON; charset=utf-8\r\n"
                       "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n", (size_t)10);
    memcpy(raw + len, gz, 10);
    len += 10;
    len += snprintf(raw + len, sizeof raw - (size_t)len, "\r\n%zx\r\n", n - 10);
    memcpy(raw + len, gz + 10, n - 10);
    len += (int)(n - 10);
    len += snprintf(raw + len, sizeof raw - (size_t)len, "\r\n0\r\n\r\n");
    decode_msg m;
    assert_int_equal(decode_response(&m, raw, (size_t)len, 0, "GET", err, sizeof err), 0);
    assert_int_equal(m.status, 200);
    assert_string_equal(m.media_type, "application/json");
    assert_int_equal(m.body_len, strlen(PLAIN));
    assert_string_equal(m.body, PLAIN);
    assert_false(m.truncated);
    decode_msg_clear(&m);

    /* HEAD: Content-Length without a body */
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nContent-Type: text/plain\r\n\r\n";
    assert_int_equal(decode_response(&m, head, strlen(head), 0, "HEAD", err, sizeof err), 0);
    assert_int_equal(m.body_len, 0);
    decode_msg_clear(&m);

    /* HTTP/2 as the engine hands it over: a head, then the body as-is */
    const char *h2 = "HTTP/2.0 404 \r\ncontent-type: text/html\r\n\r\nnot here";
    size_t hl = strstr(h2, "\r\n\r\n") + 4 - h2;
    assert_int_equal(decode_response(&m, h2, strlen(h2), hl, "GET", err, sizeof err), 0);
    assert_int_equal(m.status, 404);
    assert_string_equal(m.media_type, "text/html");
    assert_string_equal(m.body, "not here");
    decode_msg_clear(&m);

    /* a body cut by the recorder's --max-body is kept, flagged */
    const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    assert_int_equal(decode_response(&m, cut, strlen(cut), 0, "GET", err, sizeof err), 0);
    assert_true(m.truncated);
    decode_msg_clear(&m);

    /* garbage */
    assert_int_equal(decode_response(&m, "HELLO", 5, 0, "GET", err, sizeof err), DECODE_EPARSE);
    decode_msg_clear(&m);

    char mt[32];
    decode_media_type(" Text/HTML ;charset=x", 21, mt, sizeof mt);
    assert_string_equal(mt, "text/html");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codings_decode),
        cmocka_unit_test(bad_input_and_limits),
        cmocka_unit_test(whole_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
