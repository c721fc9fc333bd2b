/* httpmsg: a case table of requests and responses, each fed whole, split at every offset and byte by
 * byte, which must all give the same transcript (http-parser's test_scan idea); the smuggling vectors,
 * each refused with the right status; pipelining with a pause; the one-shot parse. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg.h"

/* ---- a transcript of what the callbacks saw ---- */
typedef struct rec {
    char out[8192];
    size_t len;
    const char *method; /* for responses: the method of the request answered */
    int pause_after;    /* on_complete returns 1 after this many messages (0 = never) */
    int completed;
} rec;

static void put(rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->out + r->len, sizeof r->out - r->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof r->out - r->len);
    r->len += (size_t)n;
}

static int on_head(void *ctx, const httpmsg_head *h)
{
    rec *r = ctx;
    if (h->type == HTTPMSG_REQUEST)
        put(r, "H %s %s %d.%d", h->method, h->url, h->http_major, h->http_minor);
    else
        put(r, "H %d %s %d.%d", h->status, h->reason, h->http_major, h->http_minor);
    put(r, " cl=%lld%s%s%s%s", (long long)h->content_length, h->chunked ? " chunked" : "",
        h->keep_alive ? " ka" : "", h->upgrade ? " upgrade" : "", h->expect_continue ? " expect" : "");
    for (size_t i = 0; i < h->n_headers; i++)
        put(r, " [%s=%s]", h->headers[i].name, h->headers[i].value);
    put(r, "\n");
    return 0;
}

static int on_body(void *ctx, const char *at, size_t len)
{
    rec *r = ctx;
    put(r, "%.*s", (int)len, at);
    return 0;
}

static int on_complete(void *ctx)
{
    rec *r = ctx;
    put(r, "|C\n");
    r->completed++;
    return r->pause_after && r->completed >= r->pause_after ? 1 : 0;
}

static const httpmsg_callbacks cbs = {on_head, on_body, on_complete};

/* Feeds raw in pieces cut at the given offsets (sorted, may be empty), then EOF. */
static void feed(rec *r, httpmsg_type type, const char *raw, size_t len, const size_t *cuts, size_t ncuts)
{
    httpmsg_parser *p = httpmsg_parser_new(type, &cbs, r, NULL);
    assert_non_null(p);
    if (r->method)
        httpmsg_parser_set_request_method(p, r->method);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        ssize_t n = httpmsg_parser_execute(p, raw + at, end - at);
        if (n < 0) {
            put(r, "E%d\n", (int)-n);
            httpmsg_parser_free(p);
            return;
        }
        /* an upgrade stops the parser: the rest is another protocol */
        if ((size_t)n < end - at) {
            put(r, "STOP@%zu\n", at + (size_t)n);
            httpmsg_parser_free(p);
            return;
        }
        at = end;
    }
    int e = httpmsg_parser_eof(p);
    if (e < 0)
        put(r, "EOF-E%d\n", -e);
    httpmsg_parser_free(p);
}

typedef struct tcase {
    const char *name;
    httpmsg_type type;
    const char *method; /* responses: request method */
    const char *raw;
    const char *want; /* transcript */
} tcase;

#define REQ HTTPMSG_REQUEST
#define RESP HTTPMSG_RESPONSE

static const tcase cases[] = {
    {"get", REQ, NULL, "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept:  */*  \r\n\r\n",
     "H GET /a?b=1 1.1 cl=-1 ka [Host=x] [Accept=*/*]\n|C\n"},
    {"leading empty line", REQ, NULL, "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "H GET / 1.1 cl=-1 ka [Host=x]\n|C\n"},
    {"bare LF lines", REQ, NULL, "GET / HTTP/1.1\nHost: x\n\n", "H GET / 1.1 cl=-1 ka [Host=x]\n|C\n"},
    {"post content-length", REQ, NULL, "POST /t HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
     "H POST /t 1.1 cl=5 ka [Content-Length=5]\nhello|C\n"},
    {"post chunked with trailer", REQ, NULL,
     "POST /t HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n"
     "X-Sum: 1\r\n\r\n",
     "H POST /t 1.1 cl=-1 chunked ka [Transfer-Encoding=chunked]\nabc0123456789abcdef|C\n"},
    {"http/1.0 close", REQ, NULL, "GET / HTTP/1.0\r\n\r\n", "H GET / 1.0 cl=-1\n|C\n"},
    {"connection close", REQ, NULL, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
     "H GET / 1.1 cl=-1 [Connection=close]\n|C\n"},
    {"expect continue", REQ, NULL, "PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
     "H PUT /u 1.1 cl=2 ka expect [Expect=100-continue] [Content-Length=2]\nok|C\n"},
    {"pipelined", REQ, NULL, "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /3 HTTP/1.1\r\n\r\n",
     "H GET /1 1.1 cl=-1 ka\n|C\nH POST /2 1.1 cl=1 ka [Content-Length=1]\nx|C\nH GET /3 1.1 cl=-1 ka\n|C\n"},
    {"upgrade", REQ, NULL, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
     "H GET /ws 1.1 cl=-1 ka upgrade [Upgrade=websocket] [Connection=Upgrade]\n|C\nSTOP@61\n"},
    {"connect", REQ, NULL, "CONNECT h:443 HTTP/1.1\r\n\r\n\x16\x03", "H CONNECT h:443 1.1 cl=-1 ka upgrade\n|C\nSTOP@26\n"},
    {"cut head", REQ, NULL, "GET / HTTP/1.1\r\nHost", "EOF-E400\n"},
    {"cut body", REQ, NULL, "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc",
     "H POST / 1.1 cl=9 ka [Content-Length=9]\nabcEOF-E400\n"},

    {"response cl", RESP, "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
     "H 200 OK 1.1 cl=2 ka [Content-Length=2]\nhi|C\n"},
    {"response close-delimited", RESP, "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
     "H 200 OK 1.1 cl=-1 [Content-Type=text/plain]\nuntil close|C\n"},
    {"response chunked", RESP, "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     "H 200 OK 1.1 cl=-1 chunked ka [Transfer-Encoding=chunked]\nhello|C\n"},
    {"head response", RESP, "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
     "H 200 OK 1.1 cl=100 ka [Content-Length=100]\n|C\n"},
    {"204", RESP, "GET", "HTTP/1.1 204 No Content\r\n\r\n", "H 204 No Content 1.1 cl=-1 ka\n|C\n"},
    {"204 claiming chunked", RESP, "GET", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
     "H 204 No Content 1.1 cl=-1 chunked ka [Transfer-Encoding=chunked]\n|C\n"},
    {"304 with length", RESP, "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
     "H 304 Not Modified 1.1 cl=10 ka [Content-Length=10]\n|C\n"},
    {"100 then 200", RESP, "POST", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
     "H 100 Continue 1.1 cl=-1 ka\n|C\nH 201 Created 1.1 cl=0 ka [Content-Length=0]\n|C\n"},
    {"101", RESP, "GET", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81",
     "H 101 Switching Protocols 1.1 cl=-1 ka upgrade [Upgrade=websocket] [Connection=Upgrade]\n|C\nSTOP@77\n"},
    {"connect 200", RESP, "CONNECT", "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03",
     "H 200 Connection established 1.1 cl=-1 upgrade\n|C\nSTOP@39\n"},
    {"gzip transfer coding refused", RESP, "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz",
     "E501\n"},
    /* plain field lines between the ones http-parser interprets, kept in order; http-parser reports an
     * empty value late, after the line that follows it */
    {"plain lines between framing ones", RESP, "GET",
     "HTTP/1.1 200 OK\r\nServer: s\r\nConnection:\r\nX-A:\t a b \r\nContent-Length: 1\r\nDate: d\xe9\r\nX-E:\r\n"
     "Connection: close\r\n\r\nz",
     "H 200 OK 1.1 cl=1 [Server=s] [Connection=] [X-A=a b] [Content-Length=1] [Date=d\xe9] [X-E=] "
     "[Connection=close]\nz|C\n"},
    {"special names in any case are read", RESP, "GET",
     "HTTP/1.1 200 OK\r\nX: 1\r\ntRANSFER-eNCODING: chunked\r\nY: 2\r\n\r\n1\r\na\r\n0\r\n\r\n",
     "H 200 OK 1.1 cl=-1 chunked ka [X=1] [tRANSFER-eNCODING=chunked] [Y=2]\na|C\n"},
    {"DEL in a plain-looking value refused", RESP, "GET", "HTTP/1.1 200 OK\r\nServer: a\x7f\r\n\r\n", "E400\n"},
    {"control byte in a plain-looking value refused", RESP, "GET", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n",
     "E400\n"},
    {"separator in a field name refused", REQ, NULL, "GET / HTTP/1.1\r\nX(a): b\r\n\r\n", "E400\n"},
};

static void run_case(const tcase *c, const size_t *cuts, size_t ncuts, const char *how)
{
    rec r = {.method = c->method};
    feed(&r, c->type, c->raw, strlen(c->raw), cuts, ncuts);
    if (strcmp(r.out, c->want) != 0) {
        print_error("case '%s' fed %s:\n got: %s\nwant: %s\n", c->name, how, r.out, c->want);
        fail();
    }
}

static void case_table_whole_and_split(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const tcase *c = &cases[k];
        size_t len = strlen(c->raw);
        run_case(c, NULL, 0, "whole");
        for (size_t i = 1; i < len; i++) {
            char how[32];
            snprintf(how, sizeof how, "split at %zu", i);
            run_case(c, &i, 1, how);
        }
        size_t *cuts = malloc(len * sizeof *cuts);
        assert_non_null(cuts);
        for (size_t i = 0; i + 1 < len; i++)
            cuts[i] = i + 1;
        run_case(c, cuts, len ? len - 1 : 0, "byte by byte");
        free(cuts);
    }
}

/* ---- smuggling and limits: each refused with its status, however the bytes arrive ---- */
typedef struct badcase {
    const char *name;
    httpmsg_type type;
    const char *raw;
    int status;
} badcase;

static const badcase bad[] = {
    {"CL with TE", REQ, "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", -400},
    {"TE with CL", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", -400},
    {"duplicate equal CL", REQ, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", -400},
    {"conflicting CL", REQ, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy", -400},
    {"CL list", REQ, "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\nx", -400},
    {"negative CL", REQ, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -400},
    {"CL overflow", REQ, "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", -400},
    {"TE gzip,chunked", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", -501},
    {"TE final gzip", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", -400},
    {"TE gzip only", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", -400},
    {"TE identity", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", -400},
    {"TE xchunked", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", -400},
    {"TE chunked twice", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     -400},
    {"TE chunked,chunked", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", -400},
    {"TE chunked then gzip field", REQ,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", -400},
    {"TE empty", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", -400},
    {"TE chunked params", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", -400},
    {"TE vertical tab", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n", -400},
    {"TE in HTTP/1.0", REQ, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", -400},
    {"space before colon", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", -400},
    {"tab before colon", REQ, "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", -400},
    {"space before colon, response", RESP, "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi", -400},
    {"obs-fold", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n chunked\r\n\r\n", -400},
    {"obs-fold tab", REQ, "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", -400},
    {"NUL in head", REQ, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", -400},
    {"bare CR in head", REQ, "GET / HTTP/1.1\r\nX: a\rb: c\r\n\r\n", -400},
    {"bad chunk size", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -400},
    {"chunk size overflow", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
     -400},
    {"chunk size space first", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n",
     -400},
    {"LF in chunk ext", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a\nb\r\nabc\r\n0\r\n\r\n", -400},
    {"bare LF chunk size", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", -400},
    {"chunk data too long", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", -400},
    {"bare LF in trailer", REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\nZ: 1\r\n\r\n", -400},
    {"two Host fields", REQ, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400},
    {"empty CL", REQ, "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", -400},
    {"response status 99", RESP, "HTTP/1.1 099 Odd\r\n\r\n", -400},
    {"HTTP/0.9", REQ, "GET /\r\n\r\n", -400},
    {"HTTP/2.0 text", REQ, "GET / HTTP/2.0\r\n\r\n", -400},
    {"bad method", REQ, "G@T / HTTP/1.1\r\n\r\n", -400},
    {"response CL with TE", RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", -400},
    {"response duplicate CL", RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", -400},
    {"response bad chunk", RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2x\r\nhi\r\n", -400},
};

static int count_status(httpmsg_parser *p, const char *raw, size_t len, size_t cut)
{
    ssize_t n = httpmsg_parser_execute(p, raw, cut);
    if (n >= 0)
        n = httpmsg_parser_execute(p, raw + cut, len - cut);
    if (n >= 0)
        n = httpmsg_parser_eof(p);
    return n < 0 ? (int)n : 0;
}

static void smuggling_vectors_refused(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const badcase *c = &bad[k];
        size_t len = strlen(c->raw);
        if (!strcmp(c->name, "NUL in head"))
            len = strlen(c->raw) + 1 + strlen(c->raw + strlen(c->raw) + 1);
        for (size_t cut = 0; cut <= len; cut++) {
            rec r = {.method = "GET"};
            httpmsg_parser *p = httpmsg_parser_new(c->type, &cbs, &r, NULL);
            assert_non_null(p);
            int st = count_status(p, c->raw, len, cut);
            if (st != c->status) {
                print_error("case '%s' cut at %zu: got %d (%s), want %d\n", c->name, cut, st,
                            httpmsg_parser_error(p), c->status);
                fail();
            }
            httpmsg_parser_free(p);
        }
    }
}

static void limits_give_431(void **state)
{
    (void)state;
    httpmsg_limits lim = {.max_head = 200, .max_headers = 4};
    char big[512];
    snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX: %0300d\r\n\r\n", 0);
    rec r = {0};
    httpmsg_parser *p = httpmsg_parser_new(REQ, &cbs, &r, &lim);
    assert_int_equal(httpmsg_parser_execute(p, big, strlen(big)), HTTPMSG_ETOOLARGE);
    assert_non_null(strstr(httpmsg_parser_error(p), "200"));
    httpmsg_parser_free(p);

    const char *many = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n";
    p = httpmsg_parser_new(REQ, &cbs, &r, &lim);
    assert_int_equal(httpmsg_parser_execute(p, many, strlen(many)), HTTPMSG_ETOOLARGE);
    httpmsg_parser_free(p);

    /* exactly max_head bytes pass, one more does not */
    httpmsg_limits lim2 = {.max_head = 40, .max_headers = 4};
    const char *h40 = "GET / HTTP/1.1\r\nX: 0123456789abcdefg\r\n\r\n";
    assert_int_equal(strlen(h40), 40);
    p = httpmsg_parser_new(REQ, &cbs, &r, &lim2);
    assert_int_equal(httpmsg_parser_execute(p, h40, 40), 40);
    httpmsg_parser_free(p);
    const char *h41 = "GET / HTTP/1.1\r\nX: 0123456789abcdefgh\r\n\r\n";
    for (size_t cut = 0; cut <= 41; cut++) {
        p = httpmsg_parser_new(REQ, &cbs, &r, &lim2);
        ssize_t n = httpmsg_parser_execute(p, h41, cut);
        if (n >= 0)
            n = httpmsg_parser_execute(p, h41 + cut, 41 - cut);
        assert_int_equal(n, HTTPMSG_ETOOLARGE);
        httpmsg_parser_free(p);
    }

    const char *four = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    p = httpmsg_parser_new(REQ, &cbs, &r, &lim);
    assert_int_equal(httpmsg_parser_execute(p, four, strlen(four)), (ssize_t)strlen(four));
    httpmsg_parser_free(p);
}

static void pause_and_resume(void **state)
{
    (void)state;
    const char *raw = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n";
    rec r = {.pause_after = 1};
    httpmsg_parser *p = httpmsg_parser_new(REQ, &cbs, &r, NULL);
    ssize_t n = httpmsg_parser_execute(p, raw, strlen(raw));
    assert_int_equal(n, 19); /* stopped right after the first message */
    assert_int_equal(r.completed, 1);
    assert_int_equal(httpmsg_parser_execute(p, raw + n, strlen(raw) - (size_t)n), 0); /* still paused */
    httpmsg_parser_resume(p);
    r.pause_after = 0;
    assert_int_equal(httpmsg_parser_execute(p, raw + n, strlen(raw) - (size_t)n), (ssize_t)strlen(raw) - n);
    assert_int_equal(r.completed, 2);
    assert_string_equal(r.out, "H GET /1 1.1 cl=-1 ka\n|C\nH GET /2 1.1 cl=-1 ka\n|C\n");
    httpmsg_parser_free(p);
}

/* A head is gathered a few KiB at a time: one that spans several steps parses whole, the body after a
 * short head is not taken into the head, and one past max_head is still refused with 431. */
static void long_head_in_one_call(void **state)
{
    (void)state;
    static char msg[80 * 1024];
    int hl = snprintf(msg, sizeof msg, "POST / HTTP/1.1\r\nContent-Length: 3\r\nX: %06000d\r\n\r\nabc", 0);
    rec r = {0};
    httpmsg_parser *p = httpmsg_parser_new(REQ, &cbs, &r, NULL);
    assert_int_equal(httpmsg_parser_execute(p, msg, (size_t)hl), hl);
    assert_int_equal(r.completed, 1);
    assert_non_null(strstr(r.out, "\nabc|C\n"));
    httpmsg_parser_free(p);
    memset(msg, 0, sizeof msg);
    int n = snprintf(msg, sizeof msg, "GET / HTTP/1.1\r\nX: %070000d\r\n\r\n", 0);
    p = httpmsg_parser_new(REQ, &cbs, &r, NULL);
    assert_int_equal(httpmsg_parser_execute(p, msg, (size_t)n), HTTPMSG_ETOOLARGE);
    assert_non_null(strstr(httpmsg_parser_error(p), "65536"));
    httpmsg_parser_free(p);
}

/* A reused parser (the proxy's per-worker spares) behaves as a new one: after an error, in the middle
 * of a chunked body, or after a HEAD response, the next message parses for the new ctx. */
static void reuse_is_new(void **state)
{
    (void)state;
    rec r1 = {0}, r2 = {0};
    httpmsg_parser *p = httpmsg_parser_new(HTTPMSG_RESPONSE, &cbs, &r1, NULL);
    httpmsg_parser_set_request_method(p, "HEAD");
    const char *dup = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
    assert_true(httpmsg_parser_execute(p, dup, strlen(dup)) < 0);
    httpmsg_parser_reuse(p, &r2);
    assert_string_equal(httpmsg_parser_error(p), "no error");
    const char *cut = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
    assert_int_equal(httpmsg_parser_execute(p, cut, strlen(cut)), (ssize_t)strlen(cut));
    assert_string_equal(r2.out, "H 200 OK 1.1 cl=-1 chunked ka [Transfer-Encoding=chunked]\nab"); /* r2's */
    httpmsg_parser_reuse(p, &r1);
    memset(&r1, 0, sizeof r1);
    /* no HEAD any more: the body is read; and no chunk state left over from the cut message */
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    assert_int_equal(httpmsg_parser_execute(p, ok, strlen(ok)), (ssize_t)strlen(ok));
    assert_int_equal(r1.completed, 1);
    assert_string_equal(r1.out, "H 200 OK 1.1 cl=2 ka [Content-Length=2]\nhi|C\n");
    httpmsg_parser_free(p);
}

/* A client takes "gzip, chunked" (framed by the chunked, the gzip left to the reader) when asked; the
 * default, the proxy's, refuses it with 501. */
static void accept_codings_for_clients(void **state)
{
    (void)state;
    const char *raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\n\r\n";
    httpmsg_limits lim = {.accept_codings = true};
    rec r = {0};
    httpmsg_parser *p = httpmsg_parser_new(HTTPMSG_RESPONSE, &cbs, &r, &lim);
    assert_int_equal(httpmsg_parser_execute(p, raw, strlen(raw)), (ssize_t)strlen(raw));
    assert_int_equal(r.completed, 1);
    assert_non_null(strstr(r.out, "chunked"));
    assert_non_null(strstr(r.out, "abc|C"));
    httpmsg_parser_free(p);
    rec r2 = {0};
    p = httpmsg_parser_new(HTTPMSG_RESPONSE, &cbs, &r2, NULL);
    assert_int_equal(httpmsg_parser_execute(p, raw, strlen(raw)), HTTPMSG_EUNSUPPORTED);
    httpmsg_parser_free(p);
    /* a malformed list stays refused */
    const char *twice = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n0\r\n\r\n";
    rec r3 = {0};
    p = httpmsg_parser_new(HTTPMSG_RESPONSE, &cbs, &r3, &lim);
    assert_true(httpmsg_parser_execute(p, twice, strlen(twice)) < 0);
    httpmsg_parser_free(p);
}

/* ---- one-shot ---- */
static void oneshot_chunked(void **state)
{
    (void)state;
    const char *raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                      "4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
    httpmsg m;
    char err[128];
    assert_int_equal(httpmsg_parse(&m, RESP, raw, strlen(raw), "GET", err, sizeof err), HTTPMSG_OK);
    assert_int_equal(m.head.status, 200);
    assert_true(m.head.chunked);
    assert_true(m.complete);
    assert_int_equal(m.consumed, strlen(raw));
    assert_int_equal(m.body_len, 7);
    assert_string_equal(m.body, "{\"a\":1}");
    char ct[64];
    assert_int_equal(httpmsg_header_value(&m.head, "content-type", ct, sizeof ct), 1);
    assert_string_equal(ct, "application/json");
    assert_null(httpmsg_find_header(&m.head, "Content-Length"));
    httpmsg_clear(&m);
}

static void oneshot_cut_and_interim(void **state)
{
    (void)state;
    httpmsg m;
    char err[128];
    const char *cut = "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234";
    assert_int_equal(httpmsg_parse(&m, REQ, cut, strlen(cut), NULL, err, sizeof err), HTTPMSG_OK);
    assert_false(m.complete);
    assert_int_equal(m.body_len, 5);
    assert_string_equal(m.head.method, "POST");
    assert_string_equal(m.head.url, "/x");
    httpmsg_clear(&m);

    const char *chunk_cut = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
    assert_int_equal(httpmsg_parse(&m, RESP, chunk_cut, strlen(chunk_cut), "GET", err, sizeof err), HTTPMSG_OK);
    assert_false(m.complete);
    assert_string_equal(m.body, "hel");
    httpmsg_clear(&m);

    const char *interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                          "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
    assert_int_equal(httpmsg_parse(&m, RESP, interim, strlen(interim), "GET", err, sizeof err), HTTPMSG_OK);
    assert_int_equal(m.head.status, 404);
    assert_string_equal(m.head.reason, "Not Found");
    assert_true(m.complete);
    assert_string_equal(m.body, "no!");
    httpmsg_clear(&m);

    const char *close_delim = "HTTP/1.0 200 OK\r\n\r\nall of it";
    assert_int_equal(httpmsg_parse(&m, RESP, close_delim, strlen(close_delim), "GET", err, sizeof err),
                     HTTPMSG_OK);
    assert_true(m.complete);
    assert_string_equal(m.body, "all of it");
    httpmsg_clear(&m);

    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n";
    assert_int_equal(httpmsg_parse(&m, RESP, head, strlen(head), "HEAD", err, sizeof err), HTTPMSG_OK);
    assert_true(m.complete);
    assert_int_equal(m.body_len, 0);
    assert_int_equal(m.head.content_length, 50);
    httpmsg_clear(&m);
}

static void oneshot_errors(void **state)
{
    (void)state;
    httpmsg m;
    char err[128];
    const char *smuggle = "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_int_equal(httpmsg_parse(&m, REQ, smuggle, strlen(smuggle), NULL, err, sizeof err), HTTPMSG_EBAD);
    assert_non_null(strstr(err, "Content-Length"));
    assert_null(m.body);
    assert_int_equal(httpmsg_parse(&m, REQ, "GET / HT", 8, NULL, err, sizeof err), HTTPMSG_EBAD);
    assert_int_equal(httpmsg_parse(&m, REQ, "", 0, NULL, err, sizeof err), HTTPMSG_EBAD);
    httpmsg_clear(&m); /* harmless on a zeroed message */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case_table_whole_and_split), cmocka_unit_test(smuggling_vectors_refused),
        cmocka_unit_test(limits_give_431),           cmocka_unit_test(pause_and_resume), cmocka_unit_test(reuse_is_new), cmocka_unit_test(long_head_in_one_call),
        cmocka_unit_test(oneshot_chunked),           cmocka_unit_test(oneshot_cut_and_interim),
        cmocka_unit_test(oneshot_errors),            cmocka_unit_test(accept_codings_for_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
