/* strmap: an open-addressed hash table (FNV-1a, linear probing, load <= 0.7) of owned strings. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t slot(const strmap *m, const char *k)
{
    size_t i = (size_t)hash_str(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k))
        i = (i + 1) & (m->cap - 1);
    return i;
}

const char *strmap_get(const strmap *m, const char *k, int *found)
{
    *found = 0;
    if (!m->cap)
        return NULL;
    size_t i = slot(m, k);
    if (!m->keys[i])
        return NULL;
    *found = 1;
    return m->vals[i];
}

int strmap_put(strmap *m, const char *k, const char *v)
{
    if ((m->n + 1) * 10 > m->cap * 7) {
        if (m->n >= STRMAP_MAX_ENTRIES)
            return 0;
        size_t ncap = m->cap ? m->cap * 2 : 64;
        strmap nm = {calloc(ncap, sizeof(char *)), calloc(ncap, sizeof(char *)), ncap, 0};
        if (!nm.keys || !nm.vals) {
            free(nm.keys);
            free(nm.vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t j = slot(&nm, m->keys[i]);
            nm.keys[j] = m->keys[i];
            nm.vals[j] = m->vals[i];
            nm.n++;
        }
        free(m->keys);
        free(m->vals);
        *m = nm;
    }
    size_t i = slot(m, k);
    if (m->keys[i])
        return 0;
    char *kc = strdup(k), *vc = v ? strdup(v) : NULL;
    if (!kc || (v && !vc)) {
        free(kc);
        free(vc);
        return -1;
    }
    m->keys[i] = kc;
    m->vals[i] = vc;
    m->n++;
    return 1;
}

void strmap_free(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->keys[i]);
        free(m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
