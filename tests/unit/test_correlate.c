/* correlate: the scan keeps only values a response handed out and a later request reused (not words,
 * not values the client made up first); learning maps them to the destination's values; requests are
 * rewritten in path segments, query values, JSON bodies and headers; equiv accepts mapped values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "replay/correlate.h"

static json_t *J(const char *s)
{
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    return j;
}

/* The recorded conversation: POST creates trip 7 and hands out a token; later requests reuse both. */
static correlate *scanned(void)
{
    correlate *c = correlate_new();
    assert_non_null(c);
    const char *h1[] = {"Content-Type: application/json", "X-Client: client-42-made-up"};
    const char *b1 = "{\"userId\":\"u1\",\"ref\":\"client-42-made-up\"}";
    correlate_scan_request(c, "/api/trips", h1, 2, b1, strlen(b1));
    /* keys are never values: "k9" below is a key only */
    const char *r1 = "{\"id\":7,\"userId\":\"u1\",\"status\":\"ok\",\"token\":\"tok-\\u0061bcdef0123456789\",\"count\":3,"
                     "\"k9\":[1.5,{\"k9\":null}]}";
    correlate_scan_response(c, r1, strlen(r1), "/api/trips/7");
    const char *h2[] = {"Authorization: Bearer tok-abcdef0123456789", "Host: x"};
    correlate_scan_request(c, "/api/trips/7?status=ok&owner=u1", h2, 2, "{\"trip\":7,\"status\":\"ok\"}", strlen("{\"trip\":7,\"status\":\"ok\"}"));
    correlate_scan_request(c, "http://host:80/api/trips/7/points?x=k9&y=1.5", NULL, 0, NULL, 0);
    correlate_scan_done(c);
    return c;
}

static void scan_keeps_handed_out_and_reused(void **state)
{
    (void)state;
    correlate *c = scanned();
    /* 7 (id, reused in the path) and the token (reused in a header); not "ok" (a word), not "u1"
     * (the client sent it first), not 3 (never reused) */
    assert_int_equal(correlate_candidates(c), 2);
    json_t *rec = J("{\"id\":7,\"status\":\"ok\",\"token\":\"tok-abcdef0123456789\",\"count\":3}");
    json_t *act = J("{\"id\":1007,\"status\":\"OK\",\"token\":\"tok-zzz\",\"count\":4}");
    assert_int_equal(correlate_learn(c, rec, act, NULL, NULL), 2);
    assert_string_equal(correlate_lookup(c, "7"), "1007");
    assert_string_equal(correlate_lookup(c, "tok-abcdef0123456789"), "tok-zzz");
    assert_null(correlate_lookup(c, "ok"));
    assert_null(correlate_lookup(c, "3"));
    /* first mapping wins */
    json_t *act2 = J("{\"id\":2007}");
    assert_int_equal(correlate_learn(c, rec, act2, NULL, NULL), 0);
    assert_string_equal(correlate_lookup(c, "7"), "1007");
    json_decref(rec);
    json_decref(act);
    json_decref(act2);
    correlate_free(c);
    correlate_free(NULL);
}

static void rewrites(void **state)
{
    (void)state;
    correlate *c = scanned();
    char *s = correlate_rewrite_target(c, "/api/trips/7");
    assert_null(s); /* nothing learned yet */
    correlate_learn(c, NULL, NULL, "/api/trips/7", "/api/trips/1007");
    assert_string_equal(correlate_lookup(c, "7"), "1007");
    s = correlate_rewrite_target(c, "/api/trips/7/points?trip=7&7=x&n=17");
    assert_string_equal(s, "/api/trips/1007/points?trip=1007&7=x&n=17");
    free(s);
    assert_null(correlate_rewrite_target(c, "/api/trips/17"));

    json_t *rec = J("{\"token\":\"tok-abcdef0123456789\"}"), *act = J("{\"token\":\"tok-new\"}");
    correlate_learn(c, rec, act, NULL, NULL);
    json_decref(rec);
    json_decref(act);
    s = correlate_rewrite_header(c, "Authorization: Bearer tok-abcdef0123456789");
    assert_string_equal(s, "Authorization: Bearer tok-new");
    free(s);
    s = correlate_rewrite_header(c, "X-Trip: 7");
    assert_string_equal(s, "X-Trip: 1007");
    free(s);
    assert_null(correlate_rewrite_header(c, "X-Trip: 8"));

    char *body;
    size_t len;
    const char *b = "{\"trip\":7,\"ids\":[7,\"7\",8],\"nested\":{\"t\":\"tok-abcdef0123456789\"}}";
    assert_int_equal(correlate_rewrite_body(c, b, strlen(b), &body, &len), 1);
    json_t *got = J(body), *want = J("{\"trip\":1007,\"ids\":[1007,\"1007\",8],\"nested\":{\"t\":\"tok-new\"}}");
    assert_true(json_equal(got, want));
    assert_int_equal(len, strlen(body));
    free(body);
    json_decref(got);
    json_decref(want);
    assert_int_equal(correlate_rewrite_body(c, "not json 7", 10, &body, &len), 0);
    assert_null(body);

    assert_true(correlate_equiv(c, "7", "1007"));
    assert_false(correlate_equiv(c, "7", "1008"));
    assert_false(correlate_equiv(c, "8", "8"));
    correlate_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_keeps_handed_out_and_reused),
        cmocka_unit_test(rewrites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
