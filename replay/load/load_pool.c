/* load_pool: arena blocks of 1 MiB (bigger pieces get a block of their own) and an open-addressed table
 * of (hash, pointer, length) over the interned copies. */
#include "load_pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK (1u << 20)
#define MAX_INTERNED (1u << 22)

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
} block;

typedef struct entry {
    const unsigned char *p; /* NULL: empty */
    size_t len;
    uint64_t h;
} entry;

struct load_pool {
    block *head;
    size_t bytes;
    entry *tab;
    size_t cap, n;
};

load_pool *load_pool_new(void)
{
    return calloc(1, sizeof(load_pool));
}

void load_pool_free(load_pool *p)
{
    if (!p)
        return;
    for (block *b = p->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(p->tab);
    free(p);
}

size_t load_pool_bytes(const load_pool *p)
{
    return p->bytes;
}

void *load_pool_copy(load_pool *p, const void *data, size_t n)
{
    size_t need = (n + 1 + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
    block *b = p->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > BLOCK / 4 ? need : BLOCK;
        block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        p->bytes += cap;
        if (cap == need && b) { /* a big piece: its own block, behind the current one */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            p->head = nb;
        }
        b = nb;
    }
    unsigned char *out = b->data + b->used;
    b->used += need;
    if (n && data)
        memcpy(out, data, n);
    out[n] = '\0';
    return out;
}

static uint64_t hash(const unsigned char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h ? h : 1;
}

static int grow(load_pool *p)
{
    size_t ncap = p->cap ? p->cap * 2 : 4096;
    entry *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return -1;
    for (size_t i = 0; i < p->cap; i++) {
        if (!p->tab[i].p)
            continue;
        size_t j = (size_t)p->tab[i].h & (ncap - 1);
        while (nt[j].p)
            j = (j + 1) & (ncap - 1);
        nt[j] = p->tab[i];
    }
    free(p->tab);
    p->tab = nt;
    p->cap = ncap;
    return 0;
}

const void *load_pool_intern(load_pool *p, const void *data, size_t n)
{
    const unsigned char *d = data;
    uint64_t h = hash(d, n);
    if (p->cap) {
        for (size_t i = (size_t)h & (p->cap - 1); p->tab[i].p; i = (i + 1) & (p->cap - 1))
            if (p->tab[i].h == h && p->tab[i].len == n && !memcmp(p->tab[i].p, d, n))
                return p->tab[i].p;
    }
    void *copy = load_pool_copy(p, data, n);
    if (!copy || p->n >= MAX_INTERNED)
        return copy; /* full: a plain copy, correct, just not shared */
    if ((p->n + 1) * 2 > p->cap && grow(p) < 0)
        return copy;
    size_t i = (size_t)h & (p->cap - 1);
    while (p->tab[i].p)
        i = (i + 1) & (p->cap - 1);
    p->tab[i] = (entry){copy, n, h};
    p->n++;
    return copy;
}
