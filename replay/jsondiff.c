/* jsondiff: a parallel recursive walk with an explicit path stack (for JSONPath names and --ignore). */
#include "jsondiff.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSONDIFF_MAX_DEPTH 64

typedef struct walk {
    const jsondiff_opts *o;
    jsondiff_emit_fn emit;
    void *ud;
    jsonpath_step path[JSONDIFF_MAX_DEPTH + 1];
    size_t depth, max_depth;
    size_t count;
    int stop;
} walk;

static void report(walk *w, const json_t *e, const json_t *a)
{
    char p[512];
    jsonpath_format(w->path, w->depth, p, sizeof p);
    w->count++;
    if (w->emit(w->ud, p, e, a))
        w->stop = 1;
}

static int scalars_equal(const json_t *e, const json_t *a)
{
    if (json_is_number(e) && json_is_number(a)) {
        if (json_is_integer(e) && json_is_integer(a))
            return json_integer_value(e) == json_integer_value(a);
        return json_number_value(e) == json_number_value(a);
    }
    if (json_typeof(e) != json_typeof(a))
        return 0;
    if (json_is_string(e))
        return json_string_length(e) == json_string_length(a) &&
               !memcmp(json_string_value(e), json_string_value(a), json_string_length(e));
    return 1; /* true, false, null of the same type */
}

static void walk_node(walk *w, const json_t *e, const json_t *a)
{
    if (w->stop)
        return;
    if (w->depth && jsonpath_set_match(w->o ? w->o->ignore : NULL, w->path, w->depth))
        return;
    if (!e || !a) {
        report(w, e, a);
        return;
    }
    if (json_is_object(e) && json_is_object(a) && w->depth < w->max_depth) {
        const char *k;
        json_t *ev;
        json_object_foreach((json_t *)e, k, ev)
        {
            w->path[w->depth].key = k;
            w->depth++;
            walk_node(w, ev, json_object_get(a, k));
            w->depth--;
            if (w->stop)
                return;
        }
        json_t *av;
        json_object_foreach((json_t *)a, k, av)
        {
            if (json_object_get(e, k))
                continue;
            w->path[w->depth].key = k;
            w->depth++;
            walk_node(w, NULL, av);
            w->depth--;
            if (w->stop)
                return;
        }
        return;
    }
    if (json_is_array(e) && json_is_array(a) && w->depth < w->max_depth) {
        size_t ne = json_array_size(e), na = json_array_size(a), n = ne > na ? ne : na;
        for (size_t i = 0; i < n && !w->stop; i++) {
            w->path[w->depth].key = NULL;
            w->path[w->depth].index = i;
            w->depth++;
            walk_node(w, json_array_get(e, i), json_array_get(a, i));
            w->depth--;
        }
        return;
    }
    if (json_is_object(e) || json_is_array(e) || json_is_object(a) || json_is_array(a)) {
        /* containers of different kinds, or too deep: equal only when identical */
        if (!json_equal((json_t *)e, (json_t *)a))
            report(w, e, a);
        return;
    }
    if (scalars_equal(e, a))
        return;
    if (w->o && w->o->equiv && w->o->equiv(w->o->equiv_ud, e, a))
        return;
    report(w, e, a);
}

size_t jsondiff(const json_t *expected, const json_t *actual, const jsondiff_opts *opts, jsondiff_emit_fn emit,
                void *emit_ud)
{
    walk *w = calloc(1, sizeof *w);
    if (!w)
        return 0;
    w->o = opts;
    w->emit = emit;
    w->ud = emit_ud;
    w->max_depth = opts && opts->max_depth && opts->max_depth < JSONDIFF_MAX_DEPTH ? opts->max_depth
                                                                                   : JSONDIFF_MAX_DEPTH;
    walk_node(w, expected, actual);
    size_t n = w->count;
    free(w);
    return n;
}

char *jsondiff_text(const json_t *v, size_t max)
{
    char *s;
    if (json_is_real(v)) {
        /* the shortest text that reads back as the same double (47.6, not 47.600000000000001) */
        char buf[40];
        double d = json_real_value(v);
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        s = strdup(buf);
    } else {
        s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : strdup("(missing)");
    }
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (max > 4 && n > max)
        memcpy(s + max - 3, "...", 4);
    return s;
}

const char *jsondiff_scalar_text(const json_t *v, char *buf, size_t bufsz)
{
    if (json_is_integer(v)) {
        snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_string(v))
        return json_string_value(v);
    return NULL;
}
