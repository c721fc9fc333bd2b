/* jsonpath: the --ignore subset compiled and matched against concrete paths (case table), bad
 * expressions refused with the offset, and path formatting for reports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"

/* A concrete path written as "a.b.0.c" (digits = array index). */
static size_t mkpath(const char *spec, jsonpath_step *out, char bufs[][32])
{
    size_t n = 0;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", spec);
    for (char *save, *t = strtok_r(tmp, ".", &save); t; t = strtok_r(NULL, ".", &save), n++) {
        if (t[0] >= '0' && t[0] <= '9') {
            out[n].key = NULL;
            out[n].index = (size_t)atoi(t);
        } else {
            snprintf(bufs[n], 32, "%s", t);
            out[n].key = bufs[n];
        }
    }
    return n;
}

static void matching(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *path;
        int match;
    } cases[] = {
        {"$.a.b", "a.b", 1},         {"$.a.b", "a", 0},           {"$.a.b", "a.b.c", 0},
        {"$.a[*].b", "a.0.b", 1},    {"$.a[*].b", "a.7.b", 1},    {"$.a[*].b", "a.b", 0},
        {"$.a[0]", "a.0", 1},        {"$.a[0]", "a.1", 0},        {"$.a[0].x", "a.0.x", 1},
        {"$..b", "b", 1},            {"$..b", "a.b", 1},          {"$..b", "a.3.x.b", 1},
        {"$..b", "a.b.c", 0},        {"$..b.c", "x.b.c", 1},      {"$..b.c", "x.b.d", 0},
        {"$['odd key']", "odd key", 1}, {"$[\"q\"].r", "q.r", 1}, {"$.*", "anything", 1},
        {"$.a.*.c", "a.x.c", 1},     {"$.a.*.c", "a.4.c", 1},     {"$.requestId", "requestId", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jsonpath_set *s = jsonpath_set_new();
        char err[200], bufs[16][32];
        jsonpath_step p[16];
        assert_int_equal(jsonpath_set_add(s, cases[i].expr, err, sizeof err), 0);
        size_t n = mkpath(cases[i].path, p, bufs);
        if (jsonpath_set_match(s, p, n) != cases[i].match)
            fail_msg("%s vs %s: expected %d", cases[i].expr, cases[i].path, cases[i].match);
        jsonpath_set_free(s);
    }
    assert_false(jsonpath_set_match(NULL, NULL, 0));
}

static void bad_expressions(void **state)
{
    (void)state;
    static const char *bad[] = {"a.b", "$", "$.", "$..", "$[", "$[x]", "$['open]", "$.a[1", "$a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jsonpath_set *s = jsonpath_set_new();
        char err[200] = "";
        if (jsonpath_set_add(s, bad[i], err, sizeof err) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(err, bad[i]));
        assert_non_null(strstr(err, "offset"));
        assert_int_equal(jsonpath_set_count(s), 0);
        jsonpath_set_free(s);
    }
    jsonpath_set_free(NULL);
}

static void formatting(void **state)
{
    (void)state;
    jsonpath_step p[4] = {{"trips", 0}, {NULL, 3}, {"odd key", 0}, {"9lives", 0}};
    char out[64];
    assert_string_equal(jsonpath_format(p, 2, out, sizeof out), "$.trips[3]");
    assert_string_equal(jsonpath_format(p, 4, out, sizeof out), "$.trips[3]['odd key']['9lives']");
    assert_string_equal(jsonpath_format(p, 0, out, sizeof out), "$");
    char small[12];
    jsonpath_format(p, 4, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_string_equal(small + sizeof small - 4, "...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matching),
        cmocka_unit_test(bad_expressions),
        cmocka_unit_test(formatting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
