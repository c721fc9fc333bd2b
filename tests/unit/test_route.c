/* route_normalise: ids become {id}, the query goes, absolute URIs become paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"

static const struct {
    const char *in, *out;
} cases[] = {
    {"/api/trips/42", "/api/trips/{id}"},
    {"/api/trips/42?x=1", "/api/trips/{id}"},
    {"/api/trips/42/stops/7", "/api/trips/{id}/stops/{id}"},
    {"/api/trips/0b8e7f4a-3c2d-4e1f-9a8b-7c6d5e4f3a2b", "/api/trips/{id}"},
    {"/api/trips/0B8E7F4A-3C2D-4E1F-9A8B-7C6D5E4F3A2B/x", "/api/trips/{id}/x"},
    {"/blob/5f2a9c0e", "/blob/{id}"},
    {"/blob/5f2a9c0", "/blob/5f2a9c0"},     /* 7 hex digits: too short */
    {"/blob/deadbeef", "/blob/deadbeef"},   /* hex, but no digit: a word */
    {"/blob/facade00", "/blob/{id}"},
    {"/v2/users", "/v2/users"},
    {"/api/trips/", "/api/trips/"},
    {"/", "/"},
    {"", "/"},
    {"*", "*"},
    {"http://127.0.0.1:9000/api/trips/9?q", "/api/trips/{id}"},
    {"https://example.com", "/"},
    {"https://example.com?x=1", "/"},
    {"/a/b#frag", "/a/b"},
    {"/path/with:colon/12", "/path/with:colon/{id}"},
    {"/redirect?to=http://x/1", "/redirect"},
};

static void table(void **state)
{
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = route_normalise(cases[i].in, out, sizeof out);
        if (n < 0 || strcmp(out, cases[i].out) != 0)
            fail_msg("route_normalise(\"%s\") = \"%s\", want \"%s\"", cases[i].in, n < 0 ? "(error)" : out,
                     cases[i].out);
        assert_int_equal(n, (int)strlen(cases[i].out));
    }
}

static void too_small(void **state)
{
    char out[8];
    assert_int_equal(route_normalise("/api/trips/42", out, sizeof out), -1);
    assert_int_equal(route_normalise("/a/1", out, sizeof out), 7);
    assert_string_equal(out, "/a/{id}");
    assert_int_equal(route_normalise("/a", out, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
