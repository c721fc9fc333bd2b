/* Unit tests for proxy_redact: keyed hashes replace named header values in recorded heads only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/proxy_redact.h"

static char *dup_msg(const char *s, size_t *len)
{
    *len = strlen(s);
    char *p = malloc(*len + 1);
    assert_non_null(p);
    memcpy(p, s, *len + 1);
    return p;
}

static void replaces_values(void **state)
{
    (void)state;
    const char *names[] = {"Authorization", "cookie"};
    char err[128];
    proxy_redact *r = proxy_redact_new(names, 2, NULL, err, sizeof err);
    assert_non_null(r);
    size_t len;
    char *m = dup_msg("GET / HTTP/1.1\r\nHost: a\r\nauthorization:  Bearer secret-token \r\n"
                      "Cookie: s=1\r\nX-Keep: Bearer secret-token\r\n\r\nAuthorization: body-not-head",
                      &len);
    assert_int_equal(proxy_redact_apply(r, &m, &len), 1);
    assert_int_equal(strlen(m), len);
    assert_null(strstr(m, "secret-token\r\nCookie")); /* the header's value is gone */
    assert_non_null(strstr(m, "authorization:  hmac-sha256:")); /* name and spacing kept as sent */
    assert_non_null(strstr(m, "Cookie: hmac-sha256:"));
    assert_non_null(strstr(m, "X-Keep: Bearer secret-token\r\n")); /* other headers untouched */
    assert_non_null(strstr(m, "\r\n\r\nAuthorization: body-not-head")); /* the body is not a head */
    /* equal values, equal tokens (OWS around the value does not count) */
    size_t len2;
    char *m2 = dup_msg("POST /x HTTP/1.1\r\nAuthorization: Bearer secret-token\r\n\r\n", &len2);
    assert_int_equal(proxy_redact_apply(r, &m2, &len2), 1);
    char t1[64], t2[64];
    proxy_redact_token(r, "Bearer secret-token", 19, t1, sizeof t1);
    proxy_redact_token(r, "Bearer other", 12, t2, sizeof t2);
    assert_string_not_equal(t1, t2);
    assert_non_null(strstr(m, t1));
    assert_non_null(strstr(m2, t1));
    free(m);
    free(m2);
    /* nothing to redact: untouched, 0 */
    char *m3 = dup_msg("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &len);
    char *before = m3;
    assert_int_equal(proxy_redact_apply(r, &m3, &len), 0);
    assert_ptr_equal(m3, before);
    free(m3);
    proxy_redact_free(r);
}

static void key_file_makes_tokens_stable(void **state)
{
    (void)state;
    char path[] = "/tmp/tapedeck-redact-key-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "k3y", 3), 3);
    close(fd);
    const char *names[] = {"X-Api-Key"};
    char err[128], a[64], b[64], c[64];
    proxy_redact *r1 = proxy_redact_new(names, 1, path, err, sizeof err);
    proxy_redact *r2 = proxy_redact_new(names, 1, path, err, sizeof err);
    proxy_redact *r3 = proxy_redact_new(names, 1, NULL, err, sizeof err);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_non_null(r3);
    proxy_redact_token(r1, "v", 1, a, sizeof a);
    proxy_redact_token(r2, "v", 1, b, sizeof b);
    proxy_redact_token(r3, "v", 1, c, sizeof c);
    assert_string_equal(a, b);     /* same key file: same token across processes */
    assert_string_not_equal(a, c); /* random key: different */
    assert_int_equal(strlen(a), strlen("hmac-sha256:") + 32);
    proxy_redact_free(r1);
    proxy_redact_free(r2);
    proxy_redact_free(r3);
    unlink(path);
    assert_null(proxy_redact_new(names, 1, "/nonexistent/key", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/key"));
    proxy_redact_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replaces_values),
        cmocka_unit_test(key_file_makes_tokens_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
