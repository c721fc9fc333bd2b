/* proxy_mirror_cmp, the live shadow signal: a case table of primary and shadow answers and what
 * /metrics counts for each. Answers the same byte for byte except in fields the comparison does not
 * look at are equal without being decoded; the same bytes framed or coded another way (chunked vs
 * Content-Length, gzip vs identity) are decoded and compared as they decode, and so are different bytes
 * that decode the same (chunked vs Content-Length, JSON key order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy_mirror_cmp.h"

#define GZ_A1 "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xab\x56\x4a\x54\xb2\x32\xac\x05\x00\xaf\xac\x1b\x56\x07\x00\x00\x00"
#define JSON_HEAD "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"

static const struct {
    const char *name, *prim, *shadow; /* shadow NULL: the copy got no answer */
    size_t prim_len, shadow_len;      /* 0: strlen */
    int compared, status, body, errors;
} cases[] = {
    {"the same but the date", JSON_HEAD "Date: Mon, 01 Dec 2026 10:00:00 GMT\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
     JSON_HEAD "Date: Mon, 01 Dec 2026 10:00:01 GMT\r\nContent-Length: 7\r\n\r\n{\"a\":1}", 0, 0, 1, 0, 0, 0},
    {"one byte of the body", JSON_HEAD "Content-Length: 7\r\n\r\n{\"a\":1}", JSON_HEAD "Content-Length: 7\r\n\r\n{\"a\":2}",
     0, 0, 1, 0, 1, 0},
    {"the status", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
     0, 0, 1, 1, 0, 0},
    {"gzip vs the gzip bytes as identity", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 27\r\n\r\n" GZ_A1,
     "HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n" GZ_A1, 63 + 27, 39 + 27, 1, 0, 1, 0},
    {"gzip vs what it inflates to", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 27\r\n\r\n" GZ_A1,
     "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}", 63 + 27, 0, 1, 0, 0, 0},
    {"chunked vs the chunks as a body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 0, 0, 1, 0, 1, 0},
    {"chunked vs the same body by length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 0, 1, 0, 0, 0},
    {"JSON keys in another order", JSON_HEAD "Content-Length: 13\r\n\r\n{\"a\":1,\"b\":2}",
     JSON_HEAD "Content-Length: 13\r\n\r\n{\"b\":2,\"a\":1}", 0, 0, 1, 0, 0, 0},
    /* body_sig finds the framing fields by the colon where their names end, in any case */
    {"fields that only start like Content-Length", "HTTP/1.1 200 OK\r\nContent-Location: /a\r\ncontent-length: 2\r\n\r\nok",
     "HTTP/1.1 200 OK\r\nContent-Lengths: 9\r\nContent-Length: 2\r\nContent-Location: /b\r\n\r\nok", 0, 0, 1, 0, 0, 0},
    {"lower-case chunked vs the chunks as a body", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     "HTTP/1.1 200 OK\r\nTRANSFER-ENCODINGS: chunked\r\nContent-Length: 15\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 0, 0, 1, 0, 1, 0},
    {"no answer", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", NULL, 0, 0, 0, 0, 0, 1},
};

/* The value of series NAME for GET /x in what c renders (0 when absent). */
static unsigned long long counted(proxy_mirror_cmp *c, const char *name)
{
    tdbuf b;
    char key[160];
    tdbuf_init(&b, 0);
    assert_int_equal(proxy_mirror_cmp_render(c, &b), 0);
    snprintf(key, sizeof key, "tapedeck_proxy_shadow_%s_total{method=\"GET\",route=\"/x\"} ", name);
    const char *p = b.data ? strstr(b.data, key) : NULL;
    unsigned long long n = p ? strtoull(p + strlen(key), NULL, 10) : 0;
    tdbuf_free(&b);
    return n;
}

static void compare_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proxy_mirror_cmp *c = proxy_mirror_cmp_new();
        assert_non_null(c);
        exchange x;
        exchange_init(&x);
        const char *req = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_int_equal(exchange_set_buf(&x.request, &x.request_len, req, strlen(req)), 0);
        assert_int_equal(exchange_set_str(&x.target_uri, "http://a/x"), 0);
        size_t pl = cases[i].prim_len ? cases[i].prim_len : strlen(cases[i].prim);
        assert_int_equal(exchange_set_buf(&x.response, &x.response_len, cases[i].prim, pl), 0);
        exchange_shadow *sh = exchange_shadow_slot(&x, EXCHANGE_SHADOW);
        assert_non_null(sh);
        sh->present = 1;
        if (cases[i].shadow) {
            size_t sl = cases[i].shadow_len ? cases[i].shadow_len : strlen(cases[i].shadow);
            assert_int_equal(exchange_set_buf(&sh->response, &sh->response_len, cases[i].shadow, sl), 0);
        } else {
            assert_int_equal(exchange_set_str(&sh->error, "reset"), 0);
        }
        proxy_mirror_cmp_exchange(c, &x);
        unsigned long long got[4] = {counted(c, "compared"), counted(c, "status_mismatch"), counted(c, "body_mismatch"),
                                     counted(c, "errors")};
        int want[4] = {cases[i].compared, cases[i].status, cases[i].body, cases[i].errors};
        for (int k = 0; k < 4; k++)
            if (got[k] != (unsigned long long)want[k])
                fail_msg("%s: counter %d is %llu, want %d", cases[i].name, k, got[k], want[k]);
        exchange_clear(&x);
        proxy_mirror_cmp_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(compare_cases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
