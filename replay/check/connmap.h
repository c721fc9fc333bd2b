/* connmap: recorded connection id (non-zero uint64) -> pointer, an open-addressed hash table. check keeps
 * the group of every recorded connection with exchanges in its read window here. Zero-initialised is not
 * usable: connmap_init first. The map does not own the pointers. */
#ifndef TAPEDECK_CONNMAP_H
#define TAPEDECK_CONNMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct connmap {
    uint64_t *keys;
    void **vals;      /* NULL: empty slot; a tombstone marks a removed one */
    size_t cap, used; /* used: live entries + tombstones */
} connmap;

int connmap_init(connmap *m);          /* 0 or -1 (out of memory) */
void connmap_clear(connmap *m);        /* frees the table (not the values); NULL-safe on a zeroed map */
void *connmap_get(const connmap *m, uint64_t k);
int connmap_put(connmap *m, uint64_t k, void *v); /* k must be absent; 0 or -1 (out of memory) */
void connmap_del(connmap *m, uint64_t k);

#endif
