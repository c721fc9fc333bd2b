/* Unit tests for captures/redact: headers, JSON bodies (plain, chunked, gzip), queries, cookies, forms;
 * equal values give equal tokens everywhere; malformed bodies are replaced whole; the key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include <cmocka.h>

#include "httpmsg.h"
#include "redact.h"

static redact *mk(const char *const *flags)
{
    redact *r = redact_new();
    assert_non_null(r);
    char err[256];
    for (size_t i = 0; flags[i]; i += 2)
        assert_int_equal(redact_add_flag(r, flags[i], flags[i + 1], err, sizeof err), REDACT_OK);
    return r;
}

/* Redacts msg; returns the new message (malloc'ed, NUL-terminated) or NULL when unchanged. */
static char *run(redact *r, int is_req, const char *msg, size_t len, char **list, int *whole)
{
    char *out = NULL;
    size_t outlen = 0;
    int rc = redact_message(r, is_req, msg, len, &out, &outlen, list, whole);
    assert_true(rc == 0 || rc == 1);
    if (rc == 0)
        return NULL;
    char *s = malloc(outlen + 1);
    assert_non_null(s);
    memcpy(s, out, outlen);
    s[outlen] = '\0';
    free(out);
    return s;
}

/* The stored message must parse as HTTP with a body of Content-Length bytes. */
static void assert_valid(const char *m, int is_req, const char *want_body)
{
    httpmsg hm;
    char err[128];
    assert_int_equal(httpmsg_parse(&hm, is_req ? HTTPMSG_REQUEST : HTTPMSG_RESPONSE, m, strlen(m), NULL, err,
                                   sizeof err),
                     HTTPMSG_OK);
    assert_true(hm.complete);
    if (want_body)
        assert_string_equal(hm.body, want_body);
    httpmsg_clear(&hm);
}

static void tok(redact *r, const char *v, char *out)
{
    redact_token(r, v, strlen(v), out, REDACT_TOKEN_MAX);
}

static void json_keeps_types_and_tokens_match(void **state)
{
    (void)state;
    const char *flags[] = {"redact-json", "$.password", "redact-json", "$..id", "redact-json", "$.card",
                           "redact-query", "id", NULL};
    redact *r = mk(flags);
    const char *body = "{\"user\":\"ann\",\"password\":\"hunter2\",\"id\":42,\"items\":[{\"id\":\"a\\u0062c\"}],"
                       "\"card\":{\"no\":\"card-QQQ\"},\"ok\":true}";
    char msg[512];
    snprintf(msg, sizeof msg, "POST /login?id=42&x=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    char *list = NULL;
    int whole = -1;
    char *out = run(r, 1, msg, strlen(msg), &list, &whole);
    assert_non_null(out);
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(out, "QQQ")); /* secrets here hold letters no token has (tokens: digits, hex) */
    assert_int_equal(whole, 0);
    char t42[REDACT_TOKEN_MAX], tpw[REDACT_TOKEN_MAX], tabc[REDACT_TOKEN_MAX], tq[64];
    tok(r, "42", t42);
    tok(r, "hunter2", tpw);
    tok(r, "abc", tabc); /* the unescaped text is hashed */
    assert_int_equal(strlen(t42), 15);
    char want[768];
    snprintf(want, sizeof want, "{\"user\":\"ann\",\"password\":\"%s\",\"id\":%s,\"items\":[{\"id\":\"%s\"}],", tpw, t42,
             tabc);
    assert_non_null(strstr(out, want)); /* string stays a string, number a number, order kept */
    assert_non_null(strstr(out, "\"ok\":true}"));
    assert_null(strstr(out, "\"no\"")); /* a matched object becomes one string token */
    snprintf(tq, sizeof tq, "?id=%s&x=1 ", t42); /* the query's 42 gives the JSON's token */
    assert_non_null(strstr(out, tq));
    assert_string_equal(list, "json:$.password, json:$..id, json:$.card, query:id");
    const char *b = strstr(out, "\r\n\r\n") + 4;
    assert_valid(out, 1, b);
    free(list);
    free(out);
    redact_free(r);
}

static void chunked_and_gzip_are_decoded(void **state)
{
    (void)state;
    const char *flags[] = {"redact-json", "$.token", NULL};
    redact *r = mk(flags);
    /* chunked, split inside the secret */
    const char *chunked = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n9\r\n{\"token\":\r\n8\r\n\"s3cret\"\r\n1\r\n}\r\n0\r\n\r\n";
    char *out = run(r, 0, chunked, strlen(chunked), NULL, NULL);
    assert_non_null(out);
    assert_null(strstr(out, "s3cret"));
    assert_null(strstr(out, "chunked"));
    char t[REDACT_TOKEN_MAX], want[128];
    tok(r, "s3cret", t);
    snprintf(want, sizeof want, "{\"token\":\"%s\"}", t);
    assert_valid(out, 0, want);
    free(out);

    /* gzip: stored decoded, Content-Encoding dropped */
    char body[] = "{\"token\":\"s3cret\",\"n\":1}";
    unsigned char gz[256];
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)body;
    z.avail_in = (uInt)strlen(body);
    z.next_out = gz;
    z.avail_out = sizeof gz;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t gzlen = sizeof gz - z.avail_out;
    deflateEnd(&z);
    char msg[512];
    int hl = snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nVary: Accept-Encoding\r\n\r\n", gzlen);
    memcpy(msg + hl, gz, gzlen);
    out = run(r, 0, msg, (size_t)hl + gzlen, NULL, NULL);
    assert_non_null(out);
    assert_null(strstr(out, "Content-Encoding"));
    assert_non_null(strstr(out, "Vary: Accept-Encoding\r\n"));
    snprintf(want, sizeof want, "{\"token\":\"%s\",\"n\":1}", t);
    assert_valid(out, 0, want);
    free(out);

    /* nothing to replace: the recorded bytes stay, chunked and all */
    const char *other = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "2\r\n{}\r\n0\r\n\r\n";
    assert_null(run(r, 0, other, strlen(other), NULL, NULL));
    redact_free(r);
}

static void malformed_bodies_are_replaced_whole(void **state)
{
    (void)state;
    const char *flags[] = {"redact-json", "$.password", NULL};
    redact *r = mk(flags);
    const char *bad = "POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n"
                      "{\"password\":\"hunter2\",,}";
    char *list = NULL;
    int whole = 0;
    char *out = run(r, 1, bad, strlen(bad), &list, &whole);
    assert_non_null(out);
    assert_null(strstr(out, "hunter2"));
    assert_int_equal(whole, 1);
    assert_string_equal(list, "body");
    const char *b = strstr(out, "\r\n\r\n") + 4;
    assert_true(!strncmp(b, "hmac-sha256:", 12)); /* malformed stays malformed: a replay hits the same path */
    assert_valid(out, 1, b);
    free(list);
    free(out);
    /* a corrupt gzip body too */
    const char *badgz = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                        "Content-Length: 10\r\n\r\nhunter2xyz";
    whole = 0;
    out = run(r, 0, badgz, strlen(badgz), NULL, &whole);
    assert_non_null(out);
    assert_int_equal(whole, 1);
    assert_null(strstr(out, "hunter2"));
    free(out);
    /* not JSON by its type: untouched */
    const char *text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nhunter2";
    assert_null(run(r, 0, text, strlen(text), NULL, NULL));
    redact_free(r);
}

static void cookies_forms_headers(void **state)
{
    (void)state;
    const char *flags[] = {"redact-cookie", "sid", "redact-form", "pass word", "redact-header", "authorization",
                           "redact-query", "token", NULL};
    redact *r = mk(flags);
    const char *req = "POST /f?token=abc%20def HTTP/1.1\r\nAuthorization: Bearer xyz\r\n"
                      "Cookie: theme=dark; sid=\"S1\"; x=2\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      "Content-Length: 27\r\n\r\nuser=ann&pass+word=hunter2";
    char *list = NULL;
    char *out = run(r, 1, req, strlen(req), &list, NULL);
    assert_non_null(out);
    char ts[REDACT_TOKEN_MAX], tp[REDACT_TOKEN_MAX], ta[REDACT_TOKEN_MAX], tq[REDACT_TOKEN_MAX], want[256];
    tok(r, "S1", ts);
    tok(r, "hunter2", tp);
    tok(r, "Bearer xyz", ta);
    tok(r, "abc def", tq); /* decoded */
    snprintf(want, sizeof want, "Cookie: theme=dark; sid=\"%s\"; x=2\r\n", ts);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "Authorization: %s\r\n", ta);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "POST /f?token=%s HTTP/1.1\r\n", tq);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "user=ann&pass+word=%s", tp);
    assert_valid(out, 1, want);
    assert_string_equal(list, "form:pass word, query:token, header:authorization, cookie:sid");
    free(list);
    free(out);
    const char *resp = "HTTP/1.1 200 OK\r\nSet-Cookie: sid=S1; Path=/; HttpOnly\r\nSet-Cookie: other=1\r\n"
                       "Content-Length: 0\r\n\r\n";
    out = run(r, 0, resp, strlen(resp), NULL, NULL);
    assert_non_null(out);
    snprintf(want, sizeof want, "Set-Cookie: sid=%s; Path=/; HttpOnly\r\nSet-Cookie: other=1\r\n", ts);
    assert_non_null(strstr(out, want)); /* the response's cookie gives the request's token */
    free(out);
    redact_free(r);
}

static void exchange_uri_and_lists(void **state)
{
    (void)state;
    const char *flags[] = {"redact-query", "token", NULL};
    redact *r = mk(flags);
    exchange x;
    exchange_init(&x);
    const char *req = "GET /a?token=t1 HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal(exchange_set_str(&x.target_uri, "http://h/a?token=t1#frag"), 0);
    assert_int_equal(exchange_set_buf(&x.request, &x.request_len, req, strlen(req)), 0);
    assert_int_equal(exchange_set_str(&x.redacted_request, "header:Authorization"), 0);
    redact_counts c = {0, 0};
    assert_int_equal(redact_exchange(r, &x, &c), 1);
    assert_null(strstr(x.target_uri, "t1"));
    assert_non_null(strstr(x.target_uri, "#frag"));
    assert_null(strstr(x.request, "t1"));
    assert_string_equal(x.redacted_request, "header:Authorization, query:token");
    assert_null(x.redacted_response);
    assert_int_equal(c.exchanges, 1);
    /* twice: nothing left to replace (tokens are not secrets), the list unchanged */
    assert_int_equal(redact_exchange(r, &x, &c), 1); /* the token itself is hashed again */
    assert_string_equal(x.redacted_request, "header:Authorization, query:token");
    exchange_clear(&x);
    redact_free(r);
}

static void bad_rules_and_key_file(void **state)
{
    (void)state;
    char err[256];
    redact *r = redact_new();
    assert_non_null(r);
    assert_int_equal(redact_add(r, REDACT_JSON, "a.b", err, sizeof err), REDACT_EBAD);
    assert_non_null(strstr(err, "--redact-json"));
    assert_non_null(strstr(err, "a.b"));
    assert_int_equal(redact_add(r, REDACT_HEADER, "X: y", err, sizeof err), REDACT_EBAD);
    assert_int_equal(redact_add(r, REDACT_COOKIE, "a=b", err, sizeof err), REDACT_EBAD);
    assert_int_equal(redact_add_flag(r, "--redact-nothing", "x", err, sizeof err), 1);
    assert_int_equal(redact_key_file(r, "/nonexistent/key", err, sizeof err), REDACT_EBAD);
    assert_non_null(strstr(err, "/nonexistent/key"));

    char path[] = "/tmp/tapedeck-redact-key-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "k3y", 3), 3);
    close(fd);
    redact *r2 = redact_new(), *r3 = redact_new();
    assert_int_equal(redact_key_file(r, path, err, sizeof err), REDACT_OK);
    assert_int_equal(redact_key_file(r2, path, err, sizeof err), REDACT_OK);
    char a[REDACT_TOKEN_MAX], b[REDACT_TOKEN_MAX], c[REDACT_TOKEN_MAX];
    tok(r, "v", a);
    tok(r2, "v", b);
    tok(r3, "v", c);
    assert_string_equal(a, b);     /* same key file: same token across runs and tools */
    assert_string_not_equal(a, c); /* random key: another */
    assert_int_equal(strlen(a), strlen("hmac-sha256:") + 32);
    /* it is HMAC-SHA256 (the prefix of it), as the docs say: anyone with the key can check a token */
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65];
    HMAC(EVP_sha256(), "k3y", 3, (const unsigned char *)"v", 1, md, &mdlen);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(a + 12, hex);
    tok(r, "-17", a);
    assert_int_equal(strlen(a), 15);
    /* a key longer than SHA-256's block is hashed first (RFC 2104) */
    char big[200];
    memset(big, 'k', sizeof big);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, big, sizeof big), (ssize_t)sizeof big);
    close(fd);
    assert_int_equal(redact_key_file(r, path, err, sizeof err), REDACT_OK);
    tok(r, "v", a);
    HMAC(EVP_sha256(), big, sizeof big, (const unsigned char *)"v", 1, md, &mdlen);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(a + 12, hex);
    unlink(path);
    redact_free(r);
    redact_free(r2);
    redact_free(r3);
    redact_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_keeps_types_and_tokens_match),
        cmocka_unit_test(chunked_and_gzip_are_decoded),
        cmocka_unit_test(malformed_bodies_are_replaced_whole),
        cmocka_unit_test(cookies_forms_headers),
        cmocka_unit_test(exchange_uri_and_lists),
        cmocka_unit_test(bad_rules_and_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
