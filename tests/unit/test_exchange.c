/* exchange: the owner API — heap new/free (NULL-safe), releasing one message early, deep copy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "exchange.h"

static void owns_and_releases(void **state)
{
    (void)state;
    exchange_free(NULL);
    exchange *x = exchange_new();
    assert_non_null(x);
    assert_int_equal(exchange_set_buf(&x->request, &x->request_len, "GET / HTTP/1.1\r\n\r\n", 18), 0);
    assert_int_equal(exchange_set_buf(&x->response, &x->response_len, "HTTP/1.1 204 No\r\n\r\n", 19), 0);
    assert_int_equal(exchange_set_str(&x->target_uri, "http://a/"), 0);
    exchange copy;
    assert_int_equal(exchange_copy(&copy, x), 0);
    exchange_release_request(x);
    assert_null(x->request);
    assert_int_equal(x->request_len, 0);
    assert_non_null(x->response); /* the other message stays */
    exchange_release_response(x);
    assert_null(x->response);
    assert_int_equal(x->response_len, 0);
    exchange_release_response(x); /* twice is fine */
    assert_string_equal(x->target_uri, "http://a/");
    exchange_free(x);
    assert_memory_equal(copy.request, "GET / HTTP/1.1\r\n\r\n", 18);
    exchange_clear(&copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(owns_and_releases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
