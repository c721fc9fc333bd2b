/* jsondiff: structural comparison of two JSON documents (jansson): object key order is ignored, numbers
 * compare by value (1 == 1.0), arrays by position. Each difference is reported with the JSONPath of the
 * node, the expected and the actual value (NULL when the node is missing on that side). Nodes matched
 * by the ignore set are skipped with their subtree; scalar pairs the equiv hook accepts (correlated
 * ids) are not differences. */
#ifndef TAPEDECK_JSONDIFF_H
#define TAPEDECK_JSONDIFF_H

#include <stddef.h>
#include <jansson.h>

#include "jsonpath.h"

/* Called per difference; path is valid during the call. Return 0 to go on, 1 to stop the walk. */
typedef int (*jsondiff_emit_fn)(void *ud, const char *path, const json_t *expected, const json_t *actual);
/* 1 when expected and actual scalars count as equal although they differ (may be NULL). */
typedef int (*jsondiff_equiv_fn)(void *ud, const json_t *expected, const json_t *actual);

typedef struct jsondiff_opts {
    const jsonpath_set *ignore; /* may be NULL */
    jsondiff_equiv_fn equiv;    /* may be NULL */
    void *equiv_ud;
    size_t max_depth;           /* 0 = 64: deeper subtrees compare as one value */
} jsondiff_opts;

/* Returns the number of differences emitted (stopping early when emit returns 1). opts may be NULL. */
size_t jsondiff(const json_t *expected, const json_t *actual, const jsondiff_opts *opts, jsondiff_emit_fn emit,
                void *emit_ud);

/* Short JSON text of a value for reports: compact, cut at max bytes with "..." (out is malloc'ed; NULL
 * value gives "(missing)"). NULL when out of memory. */
char *jsondiff_text(const json_t *v, size_t max);

/* Same scalar text correlation keys use: integers in decimal, strings as-is; NULL for other types. */
const char *jsondiff_scalar_text(const json_t *v, char *buf, size_t bufsz);

#endif
