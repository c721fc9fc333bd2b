/* proxy_record_spare: the return trip of written exchanges. The writer pushes each written batch as a
 * bundle on a lock-free stack (`spent`); a worker takes all of it with one atomic exchange, uses its
 * exchanges up one record at a time, and pushes the empty bundles on a second stack (`empty`) that the
 * writer takes whole in turn. Both stacks are pushed with compare-and-swap and only ever popped whole,
 * so there is no ABA problem and nobody waits. What waits on `spent` is bounded by SPARE_BYTES; past it
 * (or for a message past SPARE_MAX) the writer frees the exchange itself, as it always did. */
#include "proxy_record_spare.h"

#include <stdatomic.h>
#include <stdlib.h>

#define SPARE_BUNDLE 256                  /* exchanges per bundle */
#define SPARE_BYTES (16u * 1024 * 1024)   /* bytes waiting for reuse, at most */
#define SPARE_MAX (1u * 1024 * 1024)      /* larger messages are freed, not kept */

typedef struct proxy_record_bundle {
    struct proxy_record_bundle *next;
    size_t n, bytes; /* bytes: what the n exchanges count in the bound */
    exchange *x[SPARE_BUNDLE];
} bundle;

struct proxy_record_spare {
    _Atomic(bundle *) spent; /* writer -> workers: written exchanges */
    _Atomic(bundle *) empty; /* workers -> writer: bundles used up */
    bundle *wfree;           /* the writer's own empty bundles */
    atomic_size_t bytes;     /* held by the bundles on spent (one atomic add and subtract per bundle,
                              * not per exchange: the counter's cache line is shared by the threads) */
};

static void stack_push(_Atomic(bundle *) *top, bundle *b)
{
    bundle *old = atomic_load_explicit(top, memory_order_relaxed);
    do
        b->next = old;
    while (!atomic_compare_exchange_weak_explicit(top, &old, b, memory_order_release, memory_order_relaxed));
}

static bundle *stack_take_all(_Atomic(bundle *) *top)
{
    return atomic_exchange_explicit(top, NULL, memory_order_acquire);
}

static size_t spare_size(const exchange *x)
{
    return sizeof *x + x->request_len + x->response_len;
}

static void x_free(exchange *x)
{
    exchange_clear(x);
    free(x);
}

/* Frees a chain of bundles and the exchanges in them from index `from` of the first on. */
static void bundles_free(bundle *b, size_t from)
{
    while (b) {
        bundle *next = b->next;
        for (size_t i = from; i < b->n; i++)
            x_free(b->x[i]);
        free(b);
        b = next;
        from = 0;
    }
}

proxy_record_spare *proxy_record_spare_new(void)
{
    proxy_record_spare *sp = calloc(1, sizeof *sp);
    if (sp) {
        atomic_init(&sp->spent, NULL);
        atomic_init(&sp->empty, NULL);
        atomic_init(&sp->bytes, 0);
    }
    return sp;
}

void proxy_record_spare_free(proxy_record_spare *sp)
{
    if (!sp)
        return;
    bundles_free(stack_take_all(&sp->spent), 0);
    bundles_free(stack_take_all(&sp->empty), 0);
    bundles_free(sp->wfree, 0);
    free(sp);
}

static bundle *bundle_get(proxy_record_spare *sp)
{
    if (!sp->wfree)
        sp->wfree = stack_take_all(&sp->empty);
    bundle *b = sp->wfree;
    if (b)
        sp->wfree = b->next;
    else
        b = malloc(sizeof *b);
    if (b)
        b->n = b->bytes = 0;
    return b;
}

void proxy_record_spare_return(proxy_record_spare *sp, exchange **xs, size_t n, int drop_messages)
{
    bundle *b = NULL;
    size_t held = atomic_load_explicit(&sp->bytes, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        exchange *x = xs[i];
        if (drop_messages) {
            free(x->request);
            free(x->response);
            x->request = x->response = NULL;
            x->request_len = x->response_len = 0;
        }
        size_t sz = spare_size(x);
        if (b && b->n == SPARE_BUNDLE) {
            atomic_fetch_add_explicit(&sp->bytes, b->bytes, memory_order_relaxed);
            stack_push(&sp->spent, b);
            b = NULL;
        }
        if (!b)
            b = bundle_get(sp);
        if (!b || x->request_len > SPARE_MAX || x->response_len > SPARE_MAX ||
            held + sz > SPARE_BYTES) {
            x_free(x);
            continue;
        }
        held += sz;
        b->bytes += sz;
        b->x[b->n++] = x;
    }
    if (b && b->n) {
        atomic_fetch_add_explicit(&sp->bytes, b->bytes, memory_order_relaxed);
        stack_push(&sp->spent, b);
    } else if (b) {
        b->next = sp->wfree;
        sp->wfree = b;
    }
}

/* A tdbuf_steal'd buffer of len bytes has room for len + 1 (the NUL). */
static void buf_adopt(tdbuf *b, char *p, size_t len)
{
    tdbuf_free(b);
    if (!p)
        return;
    b->data = p;
    b->cap = len + 1;
    p[0] = '\0';
}

exchange *proxy_record_spare_take(proxy_record_spare *sp, proxy_record_spares *s, tdbuf *rq, tdbuf *rs,
                                  char **addr)
{
    while (!s->b || s->i == s->b->n) {
        if (s->b) {
            bundle *done = s->b;
            s->b = done->next;
            done->n = 0;
            stack_push(&sp->empty, done);
        } else if (!(s->b = stack_take_all(&sp->spent))) {
            return NULL;
        } else {
            size_t taken = 0; /* the worker's now: out of the bound */
            for (bundle *t = s->b; t; t = t->next)
                taken += t->bytes;
            atomic_fetch_sub_explicit(&sp->bytes, taken, memory_order_relaxed);
        }
        s->i = 0;
    }
    exchange *x = s->b->x[s->i++];
    buf_adopt(rq, x->request, x->request_len);
    buf_adopt(rs, x->response, x->response_len);
    *addr = x->client_addr;
    x->request = x->response = x->client_addr = NULL;
    exchange_clear(x); /* the rest (target URI, error, shadow answers) is freed on this thread */
    return x;
}

void proxy_record_spare_release(proxy_record_spare *sp, proxy_record_spares *s)
{
    bundles_free(s->b, s->i);
    s->b = NULL;
    s->i = 0;
}
