/* connmap: linear probing over a power-of-two table, grown at half full (tombstones counted, so a table
 * that sees many removals is rebuilt instead of filling with them). */
#include "connmap.h"

#include <stdlib.h>

static char tomb_;
#define TOMB ((void *)&tomb_)

static size_t slot(const connmap *m, uint64_t k)
{
    return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 17) & (m->cap - 1);
}

static int alloc_table(connmap *m, size_t cap)
{
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    m->cap = cap;
    m->used = 0;
    if (!m->keys || !m->vals) {
        connmap_clear(m);
        return -1;
    }
    return 0;
}

int connmap_init(connmap *m)
{
    return alloc_table(m, 1024);
}

void connmap_clear(connmap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->used = 0;
}

void *connmap_get(const connmap *m, uint64_t k)
{
    for (size_t i = slot(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (!m->vals[i])
            return NULL;
        if (m->vals[i] != TOMB && m->keys[i] == k)
            return m->vals[i];
    }
}

static void insert(connmap *m, uint64_t k, void *v)
{
    size_t i = slot(m, k);
    while (m->vals[i] && m->vals[i] != TOMB)
        i = (i + 1) & (m->cap - 1);
    if (!m->vals[i])
        m->used++;
    m->keys[i] = k;
    m->vals[i] = v;
}

int connmap_put(connmap *m, uint64_t k, void *v)
{
    if ((m->used + 1) * 2 > m->cap) {
        size_t live = 0;
        for (size_t i = 0; i < m->cap; i++)
            live += m->vals[i] && m->vals[i] != TOMB;
        connmap old = *m;
        /* mostly tombstones: rebuild at the same size; else double */
        if (alloc_table(m, live * 4 < old.cap ? old.cap : old.cap * 2) < 0) {
            *m = old;
            return -1;
        }
        for (size_t i = 0; i < old.cap; i++)
            if (old.vals[i] && old.vals[i] != TOMB)
                insert(m, old.keys[i], old.vals[i]);
        connmap_clear(&old);
    }
    insert(m, k, v);
    return 0;
}

void connmap_del(connmap *m, uint64_t k)
{
    for (size_t i = slot(m, k); m->vals[i]; i = (i + 1) & (m->cap - 1))
        if (m->vals[i] != TOMB && m->keys[i] == k) {
            m->vals[i] = TOMB;
            return;
        }
}
