/* jsondiff: a case table of document pairs and the exact differences expected (paths, values),
 * --ignore applied during the walk, the equiv hook, and early stop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/jsondiff.h"

typedef struct collect {
    char text[2048];
    size_t n, stop_after;
} collect;

static int emit(void *ud, const char *path, const json_t *e, const json_t *a)
{
    collect *c = ud;
    char *es = jsondiff_text(e, 40), *as = jsondiff_text(a, 40);
    size_t l = strlen(c->text);
    snprintf(c->text + l, sizeof c->text - l, "%s%s=%s>%s", l ? "; " : "", path, es, as);
    free(es);
    free(as);
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static const char *run(const char *exp, const char *act, const char *const *ignore, jsondiff_equiv_fn eq,
                       collect *c)
{
    json_error_t je;
    json_t *e = json_loads(exp, JSON_DECODE_ANY, &je), *a = json_loads(act, JSON_DECODE_ANY, &je);
    assert_non_null(e);
    assert_non_null(a);
    jsonpath_set *ig = jsonpath_set_new();
    char err[128];
    for (; ignore && *ignore; ignore++)
        assert_int_equal(jsonpath_set_add(ig, *ignore, err, sizeof err), 0);
    jsondiff_opts o = {.ignore = ig, .equiv = eq};
    size_t n = jsondiff(e, a, &o, emit, c);
    assert_int_equal(n, c->n);
    jsonpath_set_free(ig);
    json_decref(e);
    json_decref(a);
    return c->text;
}

static void cases(void **state)
{
    (void)state;
    static const struct {
        const char *exp, *act, *want;
    } t[] = {
        /* key order ignored, numbers by value */
        {"{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2.0],\"a\":1.0}", ""},
        {"{\"a\":1}", "{\"a\":2}", "$.a=1>2"},
        {"{\"a\":1}", "{\"a\":\"1\"}", "$.a=1>\"1\""},
        {"{\"a\":1,\"b\":2}", "{\"a\":1}", "$.b=2>(missing)"},
        {"{\"a\":1}", "{\"a\":1,\"c\":true}", "$.c=(missing)>true"},
        /* arrays by position, length changes */
        {"[1,2,3]", "[1,3,2]", "$[1]=2>3; $[2]=3>2"},
        {"[1,2]", "[1]", "$[1]=2>(missing)"},
        {"{\"items\":[{\"id\":1,\"d\":0.5}]}", "{\"items\":[{\"id\":1,\"d\":0.25}]}", "$.items[0].d=0.5>0.25"},
        /* containers of different kinds, null vs value */
        {"{\"x\":[1]}", "{\"x\":{\"0\":1}}", "$.x=[1]>{\"0\":1}"},
        {"{\"x\":null}", "{\"x\":0}", "$.x=null>0"},
        {"{\"odd key\":1}", "{\"odd key\":2}", "$['odd key']=1>2"},
        {"\"s\"", "\"t\"", "$=\"s\">\"t\""},
        {"{\"big\":9007199254740993}", "{\"big\":9007199254740992}", "$.big=9007199254740993>9007199254740992"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        collect c = {0};
        const char *got = run(t[i].exp, t[i].act, NULL, NULL, &c);
        if (strcmp(got, t[i].want))
            fail_msg("case %zu: got '%s', want '%s'", i, got, t[i].want);
    }
}

static void ignore_paths(void **state)
{
    (void)state;
    const char *doc1 = "{\"requestId\":\"a\",\"meta\":{\"requestId\":\"x\",\"t\":1},\"items\":[{\"ts\":1,\"v\":1},{\"ts\":2,\"v\":2}]}";
    const char *doc2 = "{\"requestId\":\"b\",\"meta\":{\"requestId\":\"y\",\"t\":2},\"items\":[{\"ts\":9,\"v\":1},{\"ts\":8,\"v\":3}]}";
    collect c = {0};
    const char *ig1[] = {"$..requestId", "$.items[*].ts", NULL};
    assert_string_equal(run(doc1, doc2, ig1, NULL, &c), "$.meta.t=1>2; $.items[1].v=2>3");
    collect c2 = {0};
    const char *ig2[] = {"$.requestId", "$.meta", "$.items[1]", "$.items[0].ts", NULL};
    assert_string_equal(run(doc1, doc2, ig2, NULL, &c2), "");
}

static int equiv_42_1042(void *ud, const json_t *e, const json_t *a)
{
    (void)ud;
    return json_integer_value(e) == 42 && json_integer_value(a) == 1042;
}

static void equiv_and_stop(void **state)
{
    (void)state;
    collect c = {0};
    assert_string_equal(run("{\"id\":42,\"n\":1}", "{\"id\":1042,\"n\":1}", NULL, equiv_42_1042, &c), "");
    collect c2 = {0};
    assert_string_equal(run("{\"id\":42,\"n\":1}", "{\"id\":1043,\"n\":1}", NULL, equiv_42_1042, &c2), "$.id=42>1043");
    collect c3 = {.stop_after = 1};
    run("[1,2,3]", "[4,5,6]", NULL, NULL, &c3);
    assert_int_equal(c3.n, 1);
    /* text of long values is cut */
    json_t *s = json_string("0123456789012345678901234567890123456789");
    char *t = jsondiff_text(s, 10);
    assert_int_equal(strlen(t), 10);
    assert_string_equal(t + 7, "...");
    free(t);
    json_decref(s);
    char buf[32];
    json_t *i = json_integer(-5);
    assert_string_equal(jsondiff_scalar_text(i, buf, sizeof buf), "-5");
    json_decref(i);
    assert_null(jsondiff_scalar_text(json_true(), buf, sizeof buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cases),
        cmocka_unit_test(ignore_paths),
        cmocka_unit_test(equiv_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
