/* warc: record parse/format, measuring, ids, warcinfo, the exchange mapping and its payload digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "capfixture.h"
#include "warc.h"

static const char REC[] = "WARC/1.1\r\n"
                          "WARC-Type: response\r\n"
                          "warc-record-id: <urn:uuid:00000000-0000-4000-8000-000000000000>\r\n"
                          "X-Folded: one\r\n"
                          "  two\r\n"
                          "Content-Length: 5\r\n"
                          "\r\n"
                          "a\0b\r\n"
                          "\r\n\r\n";

static void folded_fields(void **state)
{
    (void)state;
    static const char rec[] = "WARC/1.0\n"
                              "A: 1\n"
                              "B:\n"
                              "\t x\n"
                              "  \ty z\n"
                              "C:   3  \n"
                              "Content-Length: 0\n"
                              "\n"
                              "\n\n";
    warc_record r;
    char err[128];
    assert_int_equal(warc_record_parse(&r, rec, sizeof rec - 1, err, sizeof err), WARC_OK);
    assert_string_equal(r.version, "WARC/1.0");
    assert_int_equal(r.n_fields, 4);
    assert_string_equal(warc_record_get(&r, "a"), "1");
    assert_string_equal(warc_record_get(&r, "b"), " x y z");
    assert_string_equal(warc_record_get(&r, "c"), "3");
    assert_string_equal(warc_record_get(&r, "content-length"), "0");
    warc_record_clear(&r);
}

static void parse_and_format(void **state)
{
    warc_record r;
    char err[128];
    size_t len = sizeof REC - 1, hl, total;
    assert_int_equal(warc_record_measure(REC, len, &hl, &total), 1);
    assert_int_equal(total, len);
    assert_int_equal(warc_record_parse(&r, REC, len, err, sizeof err), WARC_OK);
    assert_string_equal(r.version, "WARC/1.1");
    assert_string_equal(warc_record_type(&r), "response");
    assert_string_equal(warc_record_get(&r, "WARC-Record-ID"), "<urn:uuid:00000000-0000-4000-8000-000000000000>");
    assert_string_equal(warc_record_get(&r, "x-folded"), "one two");
    assert_string_equal(warc_record_get(&r, "X-FOLDED"), "one two");
    assert_null(warc_record_get(&r, "X-Folde")); /* names match whole, case folded for letters only */
    assert_null(warc_record_get(&r, "X-Foldedx"));
    assert_null(warc_record_get(&r, "X\rFolded"));
    assert_null(warc_record_get(&r, "WARC\rType"));
    assert_null(warc_record_get(&r, "WARC-Date"));
    assert_int_equal(r.block_len, 5);
    assert_memory_equal(r.block, "a\0b\r\n", 5);
    tdbuf out;
    tdbuf_init(&out, 0);
    assert_int_equal(warc_record_format(&r, &out), WARC_OK);
    warc_record r2;
    assert_int_equal(warc_record_parse(&r2, out.data, out.len, err, sizeof err), WARC_OK);
    assert_int_equal(r2.n_fields, r.n_fields);
    assert_memory_equal(r2.block, r.block, 5);
    warc_record_clear(&r2);
    warc_record_clear(&r);
    tdbuf_free(&out);
}

static const struct {
    const char *name, *data;
    int measure; /* expected warc_record_measure result */
    int parse;   /* expected warc_record_parse result */
} bad_cases[] = {
    {"incomplete head", "WARC/1.1\r\nContent-Length: 3\r\n", 0, WARC_EPARSE},
    {"not warc", "HTTP/1.1 200 OK\r\n\r\n", -1, WARC_EPARSE},
    {"no length", "WARC/1.1\r\nWARC-Type: x\r\n\r\n", -1, WARC_EPARSE},
    {"negative length", "WARC/1.1\r\nContent-Length: -3\r\n\r\nabc\r\n\r\n", -1, WARC_EPARSE},
    {"short block", "WARC/1.1\r\nContent-Length: 10\r\n\r\nabc\r\n\r\n", 1, WARC_EPARSE},
    {"no trailer", "WARC/1.1\r\nContent-Length: 3\r\n\r\nabcXXXX", 1, WARC_EPARSE},
    {"bad line", "WARC/1.1\r\nno colon here\r\nContent-Length: 0\r\n\r\n\r\n\r\n", 1, WARC_EPARSE},
    {"prefix", "WAR", 0, WARC_EPARSE},
};

static void bad_records(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        warc_record r;
        char err[128] = "";
        size_t len = strlen(bad_cases[i].data);
        int m = warc_record_measure(bad_cases[i].data, len, NULL, NULL);
        if (m != bad_cases[i].measure)
            fail_msg("%s: measure %d, want %d", bad_cases[i].name, m, bad_cases[i].measure);
        assert_int_equal(warc_record_parse(&r, bad_cases[i].data, len, err, sizeof err), bad_cases[i].parse);
        assert_true(err[0] != '\0');
        assert_null(r.fields);
    }
}

static void record_ids(void **state)
{
    char a[64], b[64];
    warc_new_record_id(a, sizeof a);
    warc_new_record_id(b, sizeof b);
    assert_int_equal(strlen(a), 45);
    assert_int_equal(strncmp(a, "urn:uuid:", 9), 0);
    assert_int_equal(a[9 + 14], '4');                 /* version 4 */
    assert_non_null(strchr("89ab", a[9 + 19]));       /* RFC 4122 variant */
    assert_string_not_equal(a, b);
    /* Many in a row stay distinct and keep the layout. */
    char prev[64];
    snprintf(prev, sizeof prev, "%s", b);
    for (int i = 0; i < 100000; i++) {
        warc_new_record_id(a, sizeof a);
        assert_string_not_equal(a, prev);
        assert_int_equal(a[9 + 14], '4');
        snprintf(prev, sizeof prev, "%s", a);
    }
}

/* A forked child must not repeat its parent's ids (a proxy forking workers after writing a record). */
static void record_ids_after_fork(void **state)
{
    char before[64], parent[64], child[64] = "";
    int fds[2];
    warc_new_record_id(before, sizeof before);
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char id[64];
        warc_new_record_id(id, sizeof id);
        ssize_t k = write(fds[1], id, strlen(id) + 1);
        _exit(k > 0 ? 0 : 1);
    }
    close(fds[1]);
    assert_true(read(fds[0], child, sizeof child - 1) > 0);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    warc_new_record_id(parent, sizeof parent);
    assert_string_not_equal(child, parent);
    /* The child's id does not share the parent's per-thread prefix either. */
    assert_false(strncmp(child, parent, 9 + 23) == 0);
}

static void warcinfo(void **state)
{
    tdbuf out;
    warc_record r;
    char err[128];
    tdbuf_init(&out, 0);
    assert_int_equal(warc_format_warcinfo(&out, "/d/x-20261124T235630Z-0000.warc.zst", "upstream: http://u\r\n"), 0);
    assert_int_equal(warc_record_parse(&r, out.data, out.len, err, sizeof err), WARC_OK);
    assert_string_equal(warc_record_type(&r), "warcinfo");
    assert_string_equal(warc_record_get(&r, "WARC-Filename"), "x-20261124T235630Z-0000.warc.zst");
    assert_string_equal(warc_record_get(&r, "Content-Type"), "application/warc-fields");
    assert_non_null(strstr(r.block, "software: tapedeck/"));
    assert_non_null(strstr(r.block, "upstream: http://u\r\n"));
    warc_record_clear(&r);
    tdbuf_free(&out);
}

/* Formats x and parses its request (and response) records. */
static void format_parse(const exchange *x, warc_record *req, warc_record *resp)
{
    tdbuf a, b;
    char err[128];
    tdbuf_init(&a, 0);
    tdbuf_init(&b, 0);
    assert_int_equal(warc_format_exchange(x, &a, &b), WARC_OK);
    assert_int_equal(warc_record_parse(req, a.data, a.len, err, sizeof err), WARC_OK);
    memset(resp, 0, sizeof *resp);
    if (b.len)
        assert_int_equal(warc_record_parse(resp, b.data, b.len, err, sizeof err), WARC_OK);
    tdbuf_free(&a);
    tdbuf_free(&b);
}

static int count_field(const warc_record *r, const char *name)
{
    int n = 0;
    for (size_t i = 0; i < r->n_fields; i++)
        n += !strcasecmp(r->fields[i].name, name);
    return n;
}

static void exchange_records(void **state)
{
    exchange x;
    warc_record req, resp;
    fx_make(&x, 7); /* interim 100,103 */
    format_parse(&x, &req, &resp);
    assert_string_equal(warc_record_type(&req), "request");
    assert_string_equal(warc_record_type(&resp), "response");
    assert_string_equal(warc_record_get(&req, "Content-Type"), "application/http;msgtype=request");
    assert_string_equal(warc_record_get(&resp, "Content-Type"), "application/http;msgtype=response");
    assert_string_equal(warc_record_get(&resp, "WARC-Concurrent-To"), warc_record_get(&req, "WARC-Record-ID"));
    assert_string_equal(warc_record_get(&resp, "WARC-Tapedeck-Interim"), "100,103");
    assert_string_equal(warc_record_get(&req, "WARC-Target-URI"), x.target_uri);
    assert_string_equal(warc_record_get(&req, "WARC-Date"), "2026-11-29T23:56:30.130456Z");
    assert_string_equal(warc_record_get(&req, "WARC-Tapedeck-Request-Start"), "1795996590130456");
    assert_non_null(warc_record_get(&resp, "WARC-Tapedeck-Response-First"));
    assert_non_null(warc_record_get(&resp, "WARC-Tapedeck-Response-End"));
    assert_null(warc_record_get(&req, "WARC-Tapedeck-Error"));
    assert_null(warc_record_get(&resp, "WARC-Truncated"));
    const char *once[] = {"WARC-Tapedeck-Conn", "WARC-Tapedeck-Seq", "WARC-Payload-Digest", "Content-Length",
                          "WARC-Record-ID", "WARC-Date"};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++) {
        assert_int_equal(count_field(&req, once[i]), 1);
        assert_int_equal(count_field(&resp, once[i]), 1);
    }
    exchange back;
    char err[128];
    assert_int_equal(warc_records_to_exchange(&req, &resp, &back, err, sizeof err), WARC_OK);
    assert_null(fx_diff(&x, &back));
    exchange_clear(&back);
    warc_record_clear(&req);
    warc_record_clear(&resp);
    exchange_clear(&x);
}

static void failed_and_truncated(void **state)
{
    exchange x;
    warc_record req, resp;
    fx_make(&x, 6);
    exchange_set_str(&x.error, "read: Connection reset\r\nInjected: yes");
    format_parse(&x, &req, &resp);
    assert_null(resp.version);
    assert_string_equal(warc_record_get(&req, "WARC-Tapedeck-Error"), "read: Connection reset  Injected: yes");
    assert_null(warc_record_get(&req, "Injected"));
    warc_record_clear(&req);
    exchange_clear(&x);

    fx_make(&x, 3);
    x.truncated |= EXCHANGE_TRUNC_REQUEST;
    format_parse(&x, &req, &resp);
    assert_string_equal(warc_record_get(&req, "WARC-Truncated"), "length");
    assert_string_equal(warc_record_get(&resp, "WARC-Truncated"), "length");
    warc_record_clear(&req);
    warc_record_clear(&resp);
    exchange_clear(&x);
}

static const struct {
    const char *resp, *digest;
} digest_cases[] = {
    {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello, world", "BHFH4TVKN2FOTR6SMELHCKIYJCBWITIH365HZP54JSFC4CBWBVNQ===="},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n",
     "BHFH4TVKN2FOTR6SMELHCKIYJCBWITIH365HZP54JSFC4CBWBVNQ===="},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\nc\r\nhello, world\r\n0\r\n\r\n",
     "BHFH4TVKN2FOTR6SMELHCKIYJCBWITIH365HZP54JSFC4CBWBVNQ===="},
    /* cut inside a chunk: the digest covers what arrived */
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "22UB6ISLX4XXYIV23W6V2QDTB2ZAZ6YLHV2OCDFLMF4IEFGKZ2YQ===="},
    {"HTTP/1.1 204 No Content\r\n\r\n", "4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ===="},
};

static void payload_digests(void **state)
{
    for (size_t i = 0; i < sizeof digest_cases / sizeof digest_cases[0]; i++) {
        exchange x;
        warc_record req, resp;
        char want[128];
        fx_make(&x, 0);
        exchange_set_buf(&x.response, &x.response_len, digest_cases[i].resp, strlen(digest_cases[i].resp));
        format_parse(&x, &req, &resp);
        snprintf(want, sizeof want, "sha256:%s", digest_cases[i].digest);
        assert_string_equal(warc_record_get(&resp, "WARC-Payload-Digest"), want);
        warc_record_clear(&req);
        warc_record_clear(&resp);
        exchange_clear(&x);
    }
}

/* The digest of resp when it is an exchange's response, alone. */
static void digest_alone(const char *resp, char *out, size_t outsz)
{
    exchange x;
    warc_record req, r;
    fx_make(&x, 0);
    exchange_set_buf(&x.response, &x.response_len, resp, strlen(resp));
    format_parse(&x, &req, &r);
    snprintf(out, outsz, "%s", warc_record_get(&r, "WARC-Payload-Digest"));
    warc_record_clear(&req);
    warc_record_clear(&r);
    exchange_clear(&x);
}

/* A shadow answer's digest is its own payload's whatever the primary answered: the writer reuses the
 * primary's digest only when the payload bytes and their framing are the same (the last case carries
 * the bytes of a chunked body, framed by Content-Length: the same bytes, another payload). */
static void shadow_digests(void **state)
{
    const char *resps[sizeof digest_cases / sizeof digest_cases[0] + 2];
    size_t n = 0;
    for (; n < sizeof digest_cases / sizeof digest_cases[0]; n++)
        resps[n] = digest_cases[n].resp;
    resps[n++] = "HTTP/1.1 200 OK\r\nContent-Length: 24\r\nDate: x\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n";
    resps[n++] = "HTTP/1.1 200 OK\r\nDate: y\r\nContent-Length: 12\r\n\r\nhello, world";
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            char want[128], err[128];
            digest_alone(resps[j], want, sizeof want);
            exchange x;
            fx_make(&x, 0);
            exchange_set_buf(&x.response, &x.response_len, resps[i], strlen(resps[i]));
            exchange_shadow *sh = exchange_shadow_slot(&x, EXCHANGE_SHADOW);
            assert_non_null(sh);
            sh->present = 1;
            exchange_set_buf(&sh->response, &sh->response_len, resps[j], strlen(resps[j]));
            tdbuf a, b, shadow[EXCHANGE_N_SHADOW];
            tdbuf_init(&a, 0);
            tdbuf_init(&b, 0);
            for (int k = 0; k < EXCHANGE_N_SHADOW; k++)
                tdbuf_init(&shadow[k], 0);
            assert_int_equal(warc_format_exchange_shadow(&x, &a, &b, shadow, 0), WARC_OK);
            warc_record r;
            assert_int_equal(warc_record_parse(&r, shadow[0].data, shadow[0].len, err, sizeof err), WARC_OK);
            assert_string_equal(warc_record_get(&r, "WARC-Tapedeck-Role"), "shadow");
            assert_string_equal(warc_record_get(&r, "WARC-Payload-Digest"), want);
            warc_record_clear(&r);
            digest_alone(resps[i], want, sizeof want);
            assert_int_equal(warc_record_parse(&r, b.data, b.len, err, sizeof err), WARC_OK);
            assert_string_equal(warc_record_get(&r, "WARC-Payload-Digest"), want);
            warc_record_clear(&r);
            tdbuf_free(&a);
            tdbuf_free(&b);
            for (int k = 0; k < EXCHANGE_N_SHADOW; k++)
                tdbuf_free(&shadow[k]);
            exchange_clear(&x);
        }
}

/* WARC_FMT_NO_DIGEST: both records parse, carry everything else, and no WARC-Payload-Digest. */
static void no_digest_flag(void **state)
{
    exchange x;
    fx_make(&x, 3);
    tdbuf a, b;
    char err[128];
    tdbuf_init(&a, 0);
    tdbuf_init(&b, 0);
    assert_int_equal(warc_format_exchange_opts(&x, &a, &b, WARC_FMT_NO_DIGEST), WARC_OK);
    warc_record req, resp;
    assert_int_equal(warc_record_parse(&req, a.data, a.len, err, sizeof err), WARC_OK);
    assert_int_equal(warc_record_parse(&resp, b.data, b.len, err, sizeof err), WARC_OK);
    assert_null(warc_record_get(&req, "WARC-Payload-Digest"));
    assert_null(warc_record_get(&resp, "WARC-Payload-Digest"));
    assert_non_null(warc_record_get(&resp, "WARC-Concurrent-To"));
    assert_non_null(warc_record_get(&req, "WARC-Target-URI"));
    warc_record_clear(&req);
    warc_record_clear(&resp);
    tdbuf_free(&a);
    tdbuf_free(&b);
    exchange_clear(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_format), cmocka_unit_test(folded_fields), cmocka_unit_test(bad_records),      cmocka_unit_test(record_ids),
        cmocka_unit_test(record_ids_after_fork), cmocka_unit_test(warcinfo),         cmocka_unit_test(exchange_records), cmocka_unit_test(failed_and_truncated),
        cmocka_unit_test(payload_digests),  cmocka_unit_test(shadow_digests),
        cmocka_unit_test(no_digest_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
