/* jsondiff: structural comparison of two JSON documents given as text: object key order is ignored,
 * numbers compare by value (1 == 1.0), strings after unescaping, arrays by position. Each difference is
 * reported with the JSONPath of the node and the compact text of both sides (NULL when the node is
 * missing on that side). Nodes matched by the ignore set are skipped with their subtree; scalar pairs
 * the equiv hook accepts (correlated ids) are not differences.
 *
 * Built on jsontok (flat token arrays, no tree per document), with a context that keeps its buffers
 * between calls: `check` compares thousands of documents a second. */
#ifndef TAPEDECK_JSONDIFF_H
#define TAPEDECK_JSONDIFF_H

#include <stddef.h>
#include <jansson.h>

#include "td_status.h"

#include "jsonpath.h"

#define JSONDIFF_TEXT_MAX 200 /* characters of a value shown; longer ones end in "..." */

/* Per difference; strings valid during the call. Return 0 to go on, 1 to stop the walk. */
typedef int (*jsondiff_emit_fn)(void *ud, const char *path, const char *expected, const char *actual);
/* Scalars that differ: 1 when they count as equal anyway. Texts: strings unescaped, numbers as written.
 * key: the name of the nearest object member on the value's path ("tripIds" for $.tripIds[2]; NULL when
 * there is none); is_int: both are integers (otherwise both are strings). */
typedef int (*jsondiff_equiv_fn)(void *ud, const char *key, int is_int, const char *expected, const char *actual);

typedef struct jsondiff_opts {
    const jsonpath_set *ignore; /* may be NULL */
    jsondiff_equiv_fn equiv;    /* may be NULL */
    void *equiv_ud;
    int walk_only; /* tests: no one-pass check for equal documents first (the walk alone decides) */
} jsondiff_opts;

/* The sides that are not JSON are jsondiff's own conditions (see td_status.h). */
enum { JSONDIFF_EEXPECTED = TD_EOWN, JSONDIFF_EACTUAL = TD_EOWN - 1, JSONDIFF_ENOMEM = TD_ENOMEM };

typedef struct jsondiff_ctx jsondiff_ctx;
jsondiff_ctx *jsondiff_ctx_new(void);  /* NULL when out of memory */
void jsondiff_ctx_free(jsondiff_ctx *c); /* NULL is a no-op */

/* Compares e[0..el) (expected) with a[0..al). Returns the number of differences emitted (stopping early
 * when emit returns 1), or JSONDIFF_EEXPECTED / JSONDIFF_EACTUAL when that side is not JSON, or
 * JSONDIFF_ENOMEM. opts may be NULL. */
long jsondiff(jsondiff_ctx *c, const char *e, size_t el, const char *a, size_t al, const jsondiff_opts *opts,
              jsondiff_emit_fn emit, void *emit_ud);

/* Scalar text of a jansson value as correlation keys it: integers in decimal, strings as-is; NULL for
 * other types. */
const char *jsondiff_scalar_text(const json_t *v, char *buf, size_t bufsz);

#endif
