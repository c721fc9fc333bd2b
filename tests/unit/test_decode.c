/* decode: whole responses (chunked + gzip, HEAD, HTTP/2-style head-only, cut short, not HTTP) through
 * decode_response. The codings themselves, corrupt input and the cap: test_content.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

static const char PLAIN[] = "{\"trip\":{\"id\":42,\"name\":\"br body\"}}";

static void whole_responses(void **state)
{
    (void)state;
    char raw[1024], err[128];
    /* PLAIN, gzipped by node's zlib */
    static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\x56\x2a\x29\xca\x2c\x50\xb2\xaa"
                             "\x56\xca\x4c\x51\xb2\x32\x31\xd2\x51\xca\x4b\xcc\x4d\x55\xb2\x52\x4a\x2a\x52"
                             "\x48\xca\x4f\xa9\x54\xaa\xad\x05\x00\x1d\xa3\xf6\xc7\x23\x00\x00\x00";
    size_t n = sizeof gz - 1;
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
        cmocka_unit_test(whole_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
