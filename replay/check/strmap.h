/* strmap: a string -> string hash table that owns copies of its keys and values. Used by correlate for
 * the values seen in recorded requests and the map learned during a replay. Zero-initialised = empty. */
#ifndef TAPEDECK_STRMAP_H
#define TAPEDECK_STRMAP_H

#include <stddef.h>

#define STRMAP_MAX_ENTRIES (1u << 22) /* caps memory on huge captures: later keys are not added */

typedef struct strmap {
    char **keys;
    char **vals;
    size_t cap, n;
} strmap;

/* The value stored for k (NULL when absent or stored as NULL); *found says which. Borrowed. */
const char *strmap_get(const strmap *m, const char *k, int *found);
/* Adds copies of k and v (v may be NULL) unless k is present. 1 added, 0 present or full, -1 out of
 * memory (m unchanged). */
int strmap_put(strmap *m, const char *k, const char *v);
/* Frees every key and value; m is empty again. */
void strmap_free(strmap *m);

#endif
