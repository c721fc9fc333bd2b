/* jsonpath: the subset of JSONPath that --ignore takes, matched against the concrete path of a value
 * while two documents are walked: `$.a.b`, `$['a b']`, `$.a[*].b` (any index or key), `$.a[0]`, `$..b`
 * (key b at any depth), and combinations of them. A pattern matches a node exactly; the diff skips the
 * node's whole subtree. Also formats concrete paths for reports ($.trips[0].name, $['odd key']). */
#ifndef TAPEDECK_JSONPATH_H
#define TAPEDECK_JSONPATH_H

#include <stddef.h>

/* One step of a concrete path: a key (key != NULL) or an array index. Keys are borrowed. */
typedef struct jsonpath_step {
    const char *key;
    size_t index;
} jsonpath_step;

typedef struct jsonpath_set jsonpath_set;

jsonpath_set *jsonpath_set_new(void);   /* NULL when out of memory */
void jsonpath_set_free(jsonpath_set *s); /* NULL is a no-op */
/* Compile and add expr. 0, or -1 with the reason (naming expr and the offending offset) in err. */
int jsonpath_set_add(jsonpath_set *s, const char *expr, char *err, size_t errlen);
size_t jsonpath_set_count(const jsonpath_set *s);
/* 1 when some pattern matches the node at path[0..depth) exactly. s may be NULL (no match). */
int jsonpath_set_match(const jsonpath_set *s, const jsonpath_step *path, size_t depth);
/* The index (order of jsonpath_set_add) of the first pattern that matches the node exactly, or -1. */
long jsonpath_set_find(const jsonpath_set *s, const jsonpath_step *path, size_t depth);

/* Writes "$.a[0]['b c']" into out (cut to outsz-1 with "..." when too long). Returns out. */
char *jsonpath_format(const jsonpath_step *path, size_t depth, char *out, size_t outsz);

#endif
