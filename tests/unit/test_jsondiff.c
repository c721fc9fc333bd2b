/* jsondiff: a case table of document pairs and the exact differences expected (paths, values),
 * --ignore applied during the walk, the equiv hook, early stop, large objects in another key order,
 * text that is not JSON, and the one-pass check for equal documents against the walk alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondiff.h"

typedef struct collect {
    char text[2048];
    size_t n, stop_after;
} collect;

static int emit(void *ud, const char *path, const char *e, const char *a)
{
    collect *c = ud;
    size_t l = strlen(c->text);
    snprintf(c->text + l, sizeof c->text - l, "%s%s=%s>%s", l ? "; " : "", path, e ? e : "(missing)",
             a ? a : "(missing)");
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static jsondiff_ctx *g_ctx;

static int free_ctx(void **state)
{
    (void)state;
    jsondiff_ctx_free(g_ctx);
    g_ctx = NULL;
    return 0;
}

static const char *run(const char *exp, const char *act, const char *const *ignore, jsondiff_equiv_fn eq,
                       collect *c)
{
    jsonpath_set *ig = jsonpath_set_new();
    char err[128];
    for (; ignore && *ignore; ignore++)
        assert_int_equal(jsonpath_set_add(ig, *ignore, err, sizeof err), 0);
    jsondiff_opts o = {.ignore = ig, .equiv = eq};
    if (!g_ctx)
        g_ctx = jsondiff_ctx_new(); /* reused across calls, as check does */
    long n = jsondiff(g_ctx, exp, strlen(exp), act, strlen(act), &o, emit, c);
    assert_int_equal(n, (long)c->n);
    jsonpath_set_free(ig);
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
        /* containers of different kinds, null vs value; texts shown compact */
        {"{\"x\":[1]}", "{\"x\":{\"0\" : 1}}", "$.x=[1]>{\"0\":1}"},
        {"{\"x\":[1, 2]}", "{\"x\": \"[1, 2]\"}", "$.x=[1,2]>\"[1, 2]\""},
        /* strings compare unescaped; numbers as written when shown */
        {"[\"caf\\u00e9\", \"a\\/b\"]", "[\"caf\xc3\xa9\", \"a/b\"]", ""},
        {"[\"a\\nb\"]", "[\"a b\"]", "$[0]=\"a\\nb\">\"a b\""},
        /* an escaped NUL is a character like any other: what follows it still counts */
        {"[\"a\\u0000b\"]", "[\"a\\u0000c\"]", "$[0]=\"a\\u0000b\">\"a\\u0000c\""},
        {"[\"a\\u0000b\"]", "[\"a\\u0000\"]", "$[0]=\"a\\u0000b\">\"a\\u0000\""},
        {"[1e2, 0.5, -0]", "[100, 5e-1, 0]", ""},
        {"{\"d\":47.6}", "{\"d\":47.60001}", "$.d=47.6>47.60001"},
        {"{\"x\":null}", "{\"x\":0}", "$.x=null>0"},
        {"{\"odd key\":1}", "{\"odd key\":2}", "$['odd key']=1>2"},
        {"\"s\"", "\"t\"", "$=\"s\">\"t\""},
        {"{\"big\":9007199254740993}", "{\"big\":9007199254740992}", "$.big=9007199254740993>9007199254740992"},
        /* the one-pass check for equal documents (jsoneq) must leave every doubt to the walk: duplicate
         * keys pair up as the walk pairs them, reordered and respaced documents are equal, a trailing
         * comma or a bad escape in the answer is not JSON */
        {"{\"a\":1,\"a\":2}", "{\"a\":2,\"a\":1}", "$.a=1>2; $.a=2>1"},
        {"{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}", ""},
        {"{\"a\":{\"b\":[1,{\"c\":\"x\"}]},\"d\":[]}", " {\n \"d\" : [ ] ,\"a\":{\"b\":[1.0, {\"c\":\"\\u0078\"}]}} ", ""},
        {"{\"a\":[1,2]}", "{\"a\":[1,2,3]}", "$.a[2]=(missing)>3"},
        {"{\"a\":{}}", "{\"a\":{\"b\":1}}", "$.a.b=(missing)>1"},
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

static int equiv_42_1042(void *ud, const char *key, int is_int, const char *e, const char *a)
{
    (void)ud;
    /* the hook is told which member and what type */
    return key && !strcmp(key, "id") && is_int && !strcmp(e, "42") && !strcmp(a, "1042");
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
    char longdoc[600];
    snprintf(longdoc, sizeof longdoc, "{\"s\":\"%0400d\"}", 7);
    collect c4 = {0};
    run(longdoc, "{\"s\":1}", NULL, NULL, &c4);
    assert_non_null(strstr(c4.text, "...>1"));
    assert_true(strlen(c4.text) < 250);
    char buf[32];
    json_t *i = json_integer(-5);
    assert_string_equal(jsondiff_scalar_text(i, buf, sizeof buf), "-5");
    json_decref(i);
    assert_null(jsondiff_scalar_text(json_true(), buf, sizeof buf));
}

static void answer_not_json(void **state)
{
    (void)state;
    const char *bad[] = {"{\"a\":1,}", "{\"a\":\"\\q\"}", "{\"a\":1} x", "{\"a\":01}", "[1,]"};
    const char *exp[] = {"{\"a\":1}", "{\"a\":\"q\"}", "{\"a\":1}", "{\"a\":1}", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!g_ctx)
            g_ctx = jsondiff_ctx_new();
        collect c = {0};
        assert_int_equal(jsondiff(g_ctx, exp[i], strlen(exp[i]), bad[i], strlen(bad[i]), NULL, emit, &c),
                         JSONDIFF_EACTUAL);
    }
}

static void large_objects_and_not_json(void **state)
{
    (void)state;
    /* 300 keys, the actual in reverse order, one value changed, one key missing, one added */
    char *e = malloc(20000), *a = malloc(20000);
    size_t el = 0, al = 0;
    el += (size_t)sprintf(e + el, "{");
    al += (size_t)sprintf(a + al, "{");
    for (int i = 0; i < 300; i++)
        el += (size_t)sprintf(e + el, "%s\"k%03d\":%d", i ? "," : "", i, i);
    for (int i = 299; i >= 0; i--) {
        if (i == 5)
            continue;
        al += (size_t)sprintf(a + al, "\"k%03d\":%d,", i, i == 150 ? -1 : i);
    }
    al += (size_t)sprintf(a + al, "\"new\":true}");
    el += (size_t)sprintf(e + el, "}");
    collect c = {0};
    assert_string_equal(run(e, a, NULL, NULL, &c), "$.k005=5>(missing); $.k150=150>-1; $.new=(missing)>true");
    free(e);
    free(a);
    /* not JSON on either side */
    collect c2 = {0};
    assert_int_equal(jsondiff(NULL, "{\"a\":", 5, "{}", 2, NULL, emit, &c2), JSONDIFF_EEXPECTED);
    assert_int_equal(jsondiff(NULL, "{}", 2, "{} x", 4, NULL, emit, &c2), JSONDIFF_EACTUAL);
    assert_int_equal(jsondiff(NULL, "[01]", 4, "[1]", 3, NULL, emit, &c2), JSONDIFF_EEXPECTED);
    assert_int_equal(jsondiff(NULL, "[\"\\x\"]", 6, "[1]", 3, NULL, emit, &c2), JSONDIFF_EEXPECTED);
    /* too deep for the tokenizer */
    char deep[600];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    assert_int_equal(jsondiff(NULL, deep, 600, "[]", 2, NULL, emit, &c2), JSONDIFF_EEXPECTED);
    assert_int_equal(c2.n, 0);
    /* nesting past the path depth compares as written */
    collect c3 = {0};
    assert_int_equal(jsondiff(NULL, deep + 200, 200, deep + 200, 200, NULL, emit, &c3), 0);
}

/* The one-pass check (jsoneq) takes keys and scalars written as the expected text writes them by their
 * bytes alone; every pair here must get from jsondiff exactly what the walk alone gives (rc, paths,
 * values), whether jsoneq answers or leaves it to the walk: prefixes that go on (1.5 / 1.55, "ab" /
 * "abc"), other spellings of one value, escapes, reorderings at every level, text cut short. */
static void fast_path_as_walk(void **state)
{
    (void)state;
    static const struct {
        const char *exp, *act, *want; /* want NULL: not JSON on the answer side */
    } t[] = {
        {"{\"a\":1,\"b\":{\"c\":[1,{\"d\":2,\"e\":3}]}}", "{\"b\":{\"c\":[1,{\"e\":3,\"d\":2}]},\"a\":1}", ""},
        {"[{\"seq\":0,\"lat\":47.6,\"lon\":-122.3},{\"seq\":1,\"lat\":47.7,\"lon\":-122.4}]",
         "[\n {\n  \"lat\": 47.6,\n  \"lon\": -122.3,\n  \"seq\": 0\n },\n {\n  \"lat\": 47.7,\n  \"lon\": -122.4,\n  \"seq\": 1\n }\n]", ""},
        {"{\"n\":1}", "{\"n\":1.0}", ""},
        {"{\"n\":1.0}", "{\"n\":1}", ""},
        {"{\"n\":1.5}", "{\"n\":1.55}", "$.n=1.5>1.55"},
        {"{\"n\":1.5}", "{\"n\":1.5e3}", "$.n=1.5>1.5e3"},
        {"{\"n\":1.5}", "{\"n\":1.5e0}", ""},
        {"{\"n\":1}", "{\"n\":10}", "$.n=1>10"},
        {"[1]", "[1e]", NULL},
        {"[1]", "[1.]", NULL},
        {"[1]", "[1-]", NULL},
        {"[-0]", "[0]", ""},
        {"[0]", "[-0.0]", ""},
        {"{\"s\":\"caf\\u00e9\"}", "{\"s\":\"caf\xc3\xa9\"}", ""},
        {"{\"s\":\"caf\xc3\xa9\"}", "{\"s\":\"caf\\u00e9\"}", ""},
        /* keys pair up as written (the walk's rule), escapes and all */
        {"{\"caf\\u00e9\":1}", "{\"caf\xc3\xa9\":1}", "$['caf\xc3\xa9']=1>(missing); $['caf\xc3\xa9']=(missing)>1"},
        {"{\"a\":1}", "{\"\\u0061\":1}", "$.a=1>(missing); $.a=(missing)>1"},
        {"{\"s\":\"ab\"}", "{\"s\":\"abc\"}", "$.s=\"ab\">\"abc\""},
        {"{\"s\":\"ab\"}", "{\"s\":\"ab\\\"\"}", "$.s=\"ab\">\"ab\\\"\""},
        {"{\"ab\":1}", "{\"abc\":1}", "$.ab=1>(missing); $.abc=(missing)>1"},
        {"{\"ab\":1,\"abc\":2}", "{\"abc\":2,\"ab\":1}", ""},
        /* one byte that differs, last, at every length the byte comparison takes apart (one difference
         * per case: any other would send the whole document to the walk) */
        {"[12]", "[13]", "$[0]=12>13"},
        {"[\"ab\"]", "[\"ac\"]", "$[0]=\"ab\">\"ac\""},
        {"[\"abcdefghij\"]", "[\"abcdefghiJ\"]", "$[0]=\"abcdefghij\">\"abcdefghiJ\""},
        {"[\"abcdefghijklmnopqrs\"]", "[\"abcdefghijklmnopqrS\"]", "$[0]=\"abcdefghijklmnopqrs\">\"abcdefghijklmnopqrS\""},
        {"{\"xy\":2}", "{\"xz\":2}", "$.xy=2>(missing); $.xz=(missing)>2"},
        {"{\"abcdefgh\":1}", "{\"abcdefgX\":1}", "$.abcdefgh=1>(missing); $.abcdefgX=(missing)>1"},
        {"{\"a\":true}", "{\"a\":truex}", NULL},
        {"{\"a\":true}", "{\"a\":false}", "$.a=true>false"},
        {"{\"a\":null}", "{\"a\":nul}", NULL},
        {"{\"a\":1}", "{\"a\":1", NULL},
        {"{\"a\":\"x\"}", "{\"a\":\"x", NULL},
        {"{\"a\":\"x\"}", "{\"a", NULL},
        {"{\"a\":1,\"a\":2}", "{\"a\":2,\"a\":1}", "$.a=1>2; $.a=2>1"},
        {"{\"a\":[1,2],\"b\":{}}", "{\"b\":{},\"a\":[1,2]}", ""},
        {"{\"a\":[1,2]}", "{\"a\":[1,2]} ", ""},
        {"{\"a\":[1,2]}", "{\"a\":[1,2]}]", NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        long rc[2];
        collect c[2];
        memset(c, 0, sizeof c);
        for (int walk_only = 0; walk_only < 2; walk_only++) {
            jsondiff_opts o = {.walk_only = walk_only};
            if (!g_ctx)
                g_ctx = jsondiff_ctx_new();
            rc[walk_only] = jsondiff(g_ctx, t[i].exp, strlen(t[i].exp), t[i].act, strlen(t[i].act), &o, emit,
                                     &c[walk_only]);
        }
        if (rc[0] != rc[1] || strcmp(c[0].text, c[1].text))
            fail_msg("case %zu: %ld '%s', the walk alone %ld '%s'", i, rc[0], c[0].text, rc[1], c[1].text);
        if (!t[i].want ? rc[0] != JSONDIFF_EACTUAL : strcmp(c[0].text, t[i].want) != 0)
            fail_msg("case %zu: got %ld '%s', want '%s'", i, rc[0], c[0].text, t[i].want ? t[i].want : "not JSON");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cases),
        cmocka_unit_test(ignore_paths),
        cmocka_unit_test(equiv_and_stop),
        cmocka_unit_test(large_objects_and_not_json),
        cmocka_unit_test(answer_not_json),
        cmocka_unit_test(fast_path_as_walk),
    };
    return cmocka_run_group_tests(tests, NULL, free_ctx);
}
