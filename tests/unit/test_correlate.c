/* correlate: the scan notes which request first sent each id-like value; a value of response i is a
 * candidate only when first sent by a later request (handed out, then reused — not a word, not a value
 * the client made up); learning maps candidates to the destination's values (first mapping wins);
 * requests are rewritten in path segments, query values, JSON bodies and headers; the equiv hook learns
 * and accepts mapped values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "correlate.h"

static json_t *J(const char *s)
{
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    return j;
}

/* The recorded conversation: request 0 creates trip 7 (response 0 hands out 7 and a token); requests
 * 1 and 2 reuse them. "u1" and "client-42-made-up" come from the client in request 0. */
static correlate *scanned(void)
{
    correlate *c = correlate_new();
    assert_non_null(c);
    const char *h0[] = {"Content-Type: application/json", "X-Client: client-42-made-up"};
    const char *b0 = "{\"userId\":\"u1\",\"ref\":\"client-42-made-up\",\"k9\":[1.5,{\"k9\":null}]}";
    correlate_scan_request(c, 0, "/api/trips", h0, 2, b0, strlen(b0));
    const char *h1[] = {"Authorization: Bearer tok-\\u0061bcdef0123456789", "Host: x"};
    const char *b1 = "{\"trip\":7,\"status\":\"ok\",\"t\":\"tok-\\u0061bcdef0123456789\"}";
    correlate_scan_request(c, 1, "/api/trips/7?status=ok&owner=u1", h1, 2, b1, strlen(b1));
    correlate_scan_request(c, 2, "http://host:80/api/trips/7/points?x=k9&y=1.5", NULL, 0, NULL, 0);
    correlate_scan_done(c);
    return c;
}

/* The same conversation scanned on demand: a source that feeds one request a call. */
typedef struct lazy_src {
    correlate *c;
    int next, calls;
} lazy_src;

static int lazy_more(void *ud)
{
    lazy_src *l = ud;
    l->calls++;
    if (l->next == 0) {
        const char *b0 = "{\"userId\":\"u1\",\"ref\":\"client-42-made-up\"}";
        correlate_scan_request(l->c, 0, "/api/trips", NULL, 0, b0, strlen(b0));
    } else if (l->next == 1) {
        correlate_scan_request(l->c, 1, "/api/trips/7?status=ok&owner=u1", NULL, 0, NULL, 0);
    } else if (l->next == 2) {
        correlate_scan_request(l->c, 2, "/api/trips/9", NULL, 0, NULL, 0);
    } else {
        return 0;
    }
    l->next++;
    return 1;
}

static void scan_on_demand(void **state)
{
    (void)state;
    correlate *c = correlate_new();
    assert_non_null(c);
    lazy_src l = {c, 0, 0};
    correlate_set_source(c, lazy_more, &l);
    /* a word is never looked for: nothing read */
    assert_false(correlate_is_candidate(c, 0, "ok"));
    assert_int_equal(l.calls, 0);
    /* 7 is first sent by request 1: the scan reads as far as that, no further */
    assert_true(correlate_is_candidate(c, 0, "7"));
    assert_int_equal(l.next, 2);
    assert_false(correlate_is_candidate(c, 1, "7"));
    assert_false(correlate_is_candidate(c, 0, "u1")); /* already seen in request 0 */
    assert_int_equal(l.next, 2);
    /* a value nobody sends takes the scan to its end, once */
    assert_false(correlate_is_candidate(c, 0, "id-never-sent-1"));
    assert_int_equal(l.next, 3);
    int calls = l.calls;
    assert_false(correlate_is_candidate(c, 0, "id-never-sent-2"));
    assert_int_equal(l.calls, calls);
    assert_true(correlate_is_candidate(c, 1, "9"));
    correlate_free(c);
}

static void candidates_and_learning(void **state)
{
    (void)state;
    correlate *c = scanned();
    /* handed out by response 0, reused later */
    assert_true(correlate_is_candidate(c, 0, "7"));
    assert_true(correlate_is_candidate(c, 0, "tok-abcdef0123456789")); /* JSON-unescaped */
    /* the client's own values; words; fractions; values never reused */
    assert_false(correlate_is_candidate(c, 0, "u1"));
    assert_false(correlate_is_candidate(c, 0, "client-42-made-up"));
    assert_false(correlate_is_candidate(c, 0, "ok"));
    assert_false(correlate_is_candidate(c, 0, "1.5"));
    assert_false(correlate_is_candidate(c, 0, "3"));
    /* 7 first appears in request 1: a candidate for responses 0 only, not for 1 or later */
    assert_false(correlate_is_candidate(c, 1, "7"));

    assert_int_equal(correlate_learn_value(c, 0, "7", "1007"), 1);
    assert_int_equal(correlate_learn_value(c, 0, "ok", "OK"), 0);
    assert_int_equal(correlate_learn_value(c, 0, "7", "2007"), 0); /* first mapping wins */
    assert_int_equal(correlate_learn_value(c, 0, "3", "4"), 0);
    assert_string_equal(correlate_lookup(c, "7"), "1007");
    assert_null(correlate_lookup(c, "ok"));
    assert_int_equal(correlate_mappings(c), 1);

    /* the equiv hook learns, then accepts the mapped value only */
    correlate_ref ref = {c, 0, 1};
    assert_true(correlate_equiv(&ref, "token", 0, "tok-abcdef0123456789", "tok-new"));
    assert_true(correlate_equiv(&ref, "id", 1, "7", "1007"));
    assert_false(correlate_equiv(&ref, "id", 1, "7", "1008"));
    assert_false(correlate_equiv(&ref, "status", 0, "ok", "OK"));
    correlate_ref noref = {c, 1, 0};
    assert_false(correlate_equiv(&noref, "id", 1, "8", "9"));
    correlate_free(c);
    correlate_free(NULL);
}

/* An integer that a later request happens to send (a count, a page size) is learned only from a member
 * named as an identifier: otherwise a changed count would be "mapped" and the regression hidden. */
static void integers_only_from_id_members(void **state)
{
    (void)state;
    correlate *c = correlate_new();
    assert_non_null(c);
    /* request 1 sends limit=3 and trips/55: both were handed out by response 0 */
    correlate_scan_request(c, 0, "/api/trips", NULL, 0, "", 0);
    correlate_scan_request(c, 1, "/api/trips/55?limit=3", NULL, 0, "", 0);
    correlate_scan_done(c);
    correlate_ref ref = {c, 0, 1};
    assert_false(correlate_equiv(&ref, "count", 1, "3", "4")); /* a real change stays a diff */
    assert_null(correlate_lookup(c, "3"));
    assert_false(correlate_equiv(&ref, NULL, 1, "3", "4"));
    assert_true(correlate_equiv(&ref, "tripId", 1, "55", "1"));
    assert_string_equal(correlate_lookup(c, "55"), "1");
    /* once mapped, the value is accepted wherever it appears */
    assert_true(correlate_equiv(&ref, "trip", 1, "55", "1"));
    correlate_free(c);
}

static void id_member_names(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        int id;
    } cases[] = {{"id", 1},        {"ID", 1},       {"tripId", 1},    {"trip_id", 1},  {"trip-id", 1},
                 {"tripIds", 1},   {"userUUID", 1}, {"uuid", 1},      {"apiKey", 1},   {"authToken", 1},
                 {"tokens", 1},    {"ref", 1},      {"slug", 1},      {"guid", 1},     {"paid", 0},
                 {"valid", 0},     {"monkey", 0},   {"count", 0},     {"distance", 0}, {"grid", 0},
                 {"", 0},          {"s", 0},        {"ids", 1},       {"preferred", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (correlate_id_key(cases[i].key) != cases[i].id)
            fail_msg("correlate_id_key(\"%s\") should be %d", cases[i].key, cases[i].id);
    assert_false(correlate_id_key(NULL));
}

static void rewrites(void **state)
{
    (void)state;
    correlate *c = scanned();
    assert_null(correlate_rewrite_target(c, "/api/trips/7")); /* nothing learned yet */
    assert_int_equal(correlate_learn_location(c, 0, "/api/trips/7", "/api/trips/1007"), 1);
    assert_string_equal(correlate_lookup(c, "7"), "1007");
    char *s = correlate_rewrite_target(c, "/api/trips/7/points?trip=7&7=x&n=17");
    assert_string_equal(s, "/api/trips/1007/points?trip=1007&7=x&n=17");
    free(s);
    assert_null(correlate_rewrite_target(c, "/api/trips/17"));

    correlate_learn_value(c, 0, "tok-abcdef0123456789", "tok-new");
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
    correlate_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(candidates_and_learning),
        cmocka_unit_test(scan_on_demand),
        cmocka_unit_test(rewrites),
        cmocka_unit_test(integers_only_from_id_members),
        cmocka_unit_test(id_member_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
