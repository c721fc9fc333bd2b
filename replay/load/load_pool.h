/* load_pool: where a load run keeps its requests — an arena (large blocks, bump allocation, freed at once)
 * with interning, so that a capture of millions of requests costs its distinct bytes: a header line that
 * every request repeats (User-Agent, Accept, a token) is stored once, and so is a whole header list that
 * requests share. Not thread-safe; everything it returns lives until load_pool_free. */
#ifndef TAPEDECK_LOAD_POOL_H
#define TAPEDECK_LOAD_POOL_H

#include <stddef.h>

typedef struct load_pool load_pool;

load_pool *load_pool_new(void);         /* NULL when out of memory */
void load_pool_free(load_pool *p);      /* NULL is a no-op */
/* A copy of n bytes (NUL added; data NULL: room for n, unset), aligned for pointers. NULL when out of
 * memory. */
void *load_pool_copy(load_pool *p, const void *data, size_t n);
/* The one stored copy of these n bytes (NUL added): equal inputs give the same pointer, as long as
 * the intern table has room (then a plain copy). NULL when out of memory. */
const void *load_pool_intern(load_pool *p, const void *data, size_t n);
size_t load_pool_bytes(const load_pool *p); /* arena bytes allocated */

#endif
