/* httpmsg_facts: the method classes (TRACE is safe, RFC 9110 9.2.1), the header fields a replay never
 * re-sends, the raw status, and the lenient de-chunker the capture writer's digest uses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "httpmsg_facts.h"

static void method_classes(void **state)
{
    (void)state;
    static const struct { const char *m; int safe, idem; } T[] = {
        {"GET", 1, 1},   {"HEAD", 1, 1},   {"OPTIONS", 1, 1}, {"TRACE", 1, 1}, {"PUT", 0, 1},
        {"DELETE", 0, 1}, {"POST", 0, 0},  {"PATCH", 0, 0},   {"CONNECT", 0, 0}, {"get", 0, 0},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        assert_int_equal(httpmsg_method_is_safe(T[i].m), T[i].safe);
        assert_int_equal(httpmsg_method_is_idempotent(T[i].m), T[i].idem);
    }
}

static void replayed_headers(void **state)
{
    (void)state;
    static const char *const hop[] = {"Connection", "keep-alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
                                      "Transfer-Encoding", "Content-Length", "Expect", "HTTP2-Settings"};
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++) {
        assert_true(httpmsg_header_is_hop(hop[i], strlen(hop[i])));
        assert_true(httpmsg_header_is_replay_skipped(hop[i], strlen(hop[i])));
    }
    assert_false(httpmsg_header_is_hop("Host", 4));
    assert_true(httpmsg_header_is_conn_specific("Trailer", 7));
    assert_false(httpmsg_header_is_conn_specific("Content-Length", 14)); /* HTTP/2 keeps it */
    assert_true(httpmsg_header_is_replay_skipped("HOST", 4));
    assert_false(httpmsg_header_is_replay_skipped("Accept", 6));
    assert_false(httpmsg_header_is_hop("Content-Lengthy", 15));
    assert_false(httpmsg_header_is_hop("Content-Length", 7)); /* a prefix is not the name */
    assert_true(httpmsg_line_is("host: a", "Host"));
    assert_false(httpmsg_line_is("Hostname: a", "Host"));
    httpmsg_header h = {"X-A", 3, "b c", 3};
    char *line = httpmsg_header_line(&h);
    assert_string_equal(line, "X-A: b c");
    free(line);
}

static void raw_status(void **state)
{
    (void)state;
    assert_int_equal(httpmsg_raw_status("HTTP/1.1 101 Switching Protocols\r\n", 34), 101);
    assert_int_equal(httpmsg_raw_status("HTTP/1.0 200\r\n", 14), 200);
    assert_int_equal(httpmsg_raw_status("HTTP/1.1 404", 12), 404);
    assert_int_equal(httpmsg_raw_status("HTTP/1.1 20", 11), -1);
    assert_int_equal(httpmsg_raw_status("HTTP/1.1 2000 x", 15), -1);
    assert_int_equal(httpmsg_raw_status("ICY 200 OK", 10), -1);
    assert_int_equal(httpmsg_raw_status("HTTP/ 200", 9), -1);
    assert_int_equal(httpmsg_raw_status("", 0), -1);
}

static void collect(void *ctx, const char *d, size_t n)
{
    strncat(ctx, d, n);
}

static void dechunks_leniently(void **state)
{
    (void)state;
    static const struct { const char *in; int done; const char *out; } T[] = {
        {"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n", 1, "abcde"},
        {"3\nabc\n0\n\n", 1, "abc"},                  /* bare LF */
        {"A\r\n0123456789\r\n0\r\n", 1, "0123456789"}, /* hex, no trailer CRLF */
        {"5\r\nab", 0, "ab"},                         /* cut inside a chunk: what is there */
        {"3\r\nabc\r\n", 0, "abc"},                   /* no last chunk */
        {"zz\r\nabc", 0, ""},                         /* not a size */
        {"3", 0, ""},                                 /* no line end */
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        char out[64] = "";
        assert_int_equal(httpmsg_dechunk(T[i].in, strlen(T[i].in), collect, out), T[i].done);
        assert_string_equal(out, T[i].out);
    }
    const char *m = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
    size_t hl = httpmsg_raw_head_len(m, strlen(m));
    assert_int_equal(hl, strlen(m) - 5);
    assert_true(httpmsg_raw_chunked(m, hl));
    const char *n = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked, gzip\n\nxx";
    assert_false(httpmsg_raw_chunked(n, httpmsg_raw_head_len(n, strlen(n))));
    assert_int_equal(httpmsg_raw_head_len("no blank line", 13), 13);
}

/* httpmsg_raw_head_scan says what httpmsg_raw_head_len and httpmsg_raw_chunked say, for every prefix of
 * each message: heads cut anywhere, CRLF and bare LF, the last Transfer-Encoding field winning, a
 * chunked head with no body after it. */
static void head_scan_agrees(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked, gzip\n\nxx",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\nbody",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nTRANSFER-ENCODING:chunked \r\n\r\n5\r\nhello",
        "POST / HTTP/1.1\r\nHost: a\r\nTE: chunked\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "HTTP/1.1 204 No Content\n\r\n",
        "\r\n\r\n",
        "\n\n",
        "no blank line",
        "",
    };
    for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
        size_t n = strlen(msgs[k]);
        for (size_t cut = 0; cut <= n; cut++) {
            int chunked = -1;
            size_t hl = httpmsg_raw_head_scan(msgs[k], cut, &chunked);
            assert_int_equal(hl, httpmsg_raw_head_len(msgs[k], cut));
            assert_int_equal(chunked, hl < cut ? httpmsg_raw_chunked(msgs[k], hl) : 0);
            assert_int_equal(httpmsg_raw_head_scan(msgs[k], cut, NULL), hl);
        }
    }
    int chunked = 0;
    const char *m = msgs[0];
    assert_int_equal(httpmsg_raw_head_scan(m, strlen(m), &chunked), strlen(m) - 5);
    assert_int_equal(chunked, 1);
    m = msgs[2];
    assert_int_equal(httpmsg_raw_head_scan(m, strlen(m), &chunked), strlen(m) - 4);
    assert_int_equal(chunked, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(method_classes), cmocka_unit_test(replayed_headers), cmocka_unit_test(raw_status),
        cmocka_unit_test(dechunks_leniently), cmocka_unit_test(head_scan_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
