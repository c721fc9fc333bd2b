/* proxy_mirror: the shadow client. A request copy (proxy_mirror_req) is built by the client connection while
 * the request streams through, then placed here on one of the shadow's connections (proxy_mirror_conn.c):
 * behind a copy queued in the same loop turn (HTTP/1.1 pipelining, so both leave in one write), else on an
 * idle connection, else on a new one, else pipelined behind the fewest copies; when every connection is
 * full it waits in the pool's queue. Only copies of safe, kept-alive requests share a connection. The
 * connections written to in a loop turn are written once, by an event made active with the first (it
 * runs after the events already active in that turn: the client reads that produced the copies). */
#include "proxy_mirror.h"

#include <stdlib.h>

#include <event2/event.h>

#include "proxy_mirror_int.h"
#include "tdtime.h"

/* ---- where a copy goes ---- */

/* Fails r at once: the shadow refused a connection just before (counted). */
static void pool_fail_down(proxy_mirror_req *r)
{
    proxy_metrics_mirror_failed(r->mi->m, PROXY_METRICS_UPERR_CONNECT);
    proxy_mirror_join_fail(r, "not sent: the shadow refused a connection just before");
    proxy_mirror_req_free(r);
}

/* The connection to put r on without opening one: an idle one, else the shortest pipeline that takes
 * it. NULL when none does. */
static mconn *pool_pick(mpool *pl, const proxy_mirror_req *r)
{
    mconn *best = NULL;
    for (mconn *mc = pl->conns; mc; mc = mc->next) {
        if (!proxy_mirror_conn_takes(mc, r))
            continue;
        if (!mc->head)
            return mc;
        if (!best || mc->depth < best->depth)
            best = mc;
    }
    return best;
}

void proxy_mirror_pool_pump(mpool *pl)
{
    if (pl->pumping)
        return;
    pl->pumping = 1;
    while (pl->pending) {
        proxy_mirror_req *r = pl->pending;
        int down = pl->down_until > tdtime_mono_us();
        mconn *mc = down ? NULL : pool_pick(pl, r);
        if (!down && !mc && pl->n_conns >= PROXY_MIRROR_MAX_CONNS)
            break;
        pl->pending = r->next;
        if (!pl->pending)
            pl->pending_tail = NULL;
        r->next = NULL;
        if (down)
            pool_fail_down(r); /* holding them would only hold memory */
        else if (mc)
            proxy_mirror_conn_queue(mc, r);
        else
            proxy_mirror_conn_open(pl, r);
    }
    pl->pumping = 0;
}

void proxy_mirror_pool_requeue(proxy_mirror_req *r, proxy_metrics_uperr_kind kind, const char *what)
{
    mpool *pl = r->pool;
    if (r->requeued) {
        proxy_metrics_mirror_failed(r->mi->m, kind);
        proxy_mirror_join_fail(r, what);
        proxy_mirror_req_free(r);
        return;
    }
    r->requeued = 1;
    if (pl->serial_until && pl->serial_until > tdtime_mono_us())
        r->pipeline = 0;
    r->next = pl->pending;
    pl->pending = r;
    if (!pl->pending_tail)
        pl->pending_tail = r;
}

void proxy_mirror_pool_submit(proxy_mirror_req *r)
{
    mpool *pl = r->pool;
    proxy_mirror *mi = pl->mi;
    if (pl->serial_until && r->pipeline && pl->serial_until > tdtime_mono_us())
        r->pipeline = 0; /* a pipelined connection failed lately */
    if (!pl->pending) {
        /* batched: behind a copy of this loop turn, one write for both */
        for (mconn *mc = mi->dirty; mc; mc = mc->flush_next) {
            if (mc->pool == pl && mc->head && proxy_mirror_conn_takes(mc, r)) {
                proxy_mirror_conn_queue(mc, r);
                return;
            }
        }
        mconn *mc = pool_pick(pl, r);
        if (mc && !mc->head) {
            proxy_mirror_conn_queue(mc, r);
            return;
        }
        if (pl->n_conns < PROXY_MIRROR_MAX_CONNS) {
            if (pl->down_until > tdtime_mono_us())
                pool_fail_down(r);
            else
                proxy_mirror_conn_open(pl, r);
            return;
        }
        if (mc) {
            proxy_mirror_conn_queue(mc, r);
            return;
        }
    }
    if (pl->pending_tail)
        pl->pending_tail->next = r;
    else
        pl->pending = r;
    pl->pending_tail = r;
}

/* ---- writing, once per loop turn ---- */

void proxy_mirror_pool_dirty(mconn *mc)
{
    proxy_mirror *mi = mc->pool->mi;
    if (mc->dirty)
        return;
    if (!mi->dirty)
        event_active(mi->flush, EV_TIMEOUT, 1); /* runs after the events already active this turn */
    mc->dirty = 1;
    mc->flush_next = mi->dirty;
    mi->dirty = mc;
}

static void mirror_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    proxy_mirror *mi = arg;
    while (mi->dirty) {
        mconn *mc = mi->dirty;
        mi->dirty = mc->flush_next;
        mc->dirty = 0;
        mc->flush_next = NULL;
        proxy_mirror_conn_flush(mc); /* may free mc, or queue more (on the list again) */
    }
}

void proxy_mirror_submit(proxy_mirror_req *r)
{
    proxy_mirror *mi = r->mi;
    proxy_metrics_mirror_sent(mi->m);
    /* --mirror-baseline: the same bytes to the second shadow (a copy of its own, the same join) */
    proxy_mirror_req *b = mi->n_pools > 1 ? proxy_mirror_req_clone(r, &mi->pools[1]) : NULL;
    proxy_mirror_pool_submit(r);
    if (b)
        proxy_mirror_pool_submit(b);
}

/* ---- lifetime ---- */

proxy_mirror *proxy_mirror_new(struct event_base *base, proxy_upstream_target *shadow,
                               proxy_upstream_target *baseline, const proxy_config *cfg, proxy_metrics *m,
                               proxy_record *rec, uint64_t seed)
{
    proxy_mirror *mi = calloc(1, sizeof *mi);
    if (!mi)
        return NULL;
    mi->base = base;
    mi->m = m;
    mi->percent = cfg->mirror_pct;
    mi->writes = cfg->mirror_writes;
    mi->rec = cfg->mirror_record ? rec : NULL;
    mi->max_body = cfg->max_body;
    mi->rnd = seed ? seed : 0x9E3779B97F4A7C15ull;
    mi->flush = event_new(base, -1, 0, mirror_flush, mi);
    mi->scratch = malloc(PROXY_MIRROR_READ_MAX);
    if (!mi->flush || !mi->scratch) {
        if (mi->flush)
            event_free(mi->flush);
        free(mi->scratch);
        free(mi);
        return NULL;
    }
    proxy_upstream_target *t[EXCHANGE_N_SHADOW] = {shadow, baseline};
    for (int i = 0; i < EXCHANGE_N_SHADOW && t[i]; i++) {
        proxy_upstream_target_ref(t[i]);
        mi->pools[i].mi = mi;
        mi->pools[i].role = i;
        mi->pools[i].shadow = t[i];
        mi->n_pools = i + 1;
    }
    return mi;
}

void proxy_mirror_free(proxy_mirror *mi)
{
    if (!mi)
        return;
    for (int i = 0; i < mi->n_pools; i++) {
        mpool *pl = &mi->pools[i];
        while (pl->conns)
            proxy_mirror_conn_free(pl->conns);
        while (pl->pending) {
            proxy_mirror_req *r = pl->pending;
            pl->pending = r->next;
            proxy_mirror_req_free(r);
        }
    }
    proxy_mirror_req_free_spares(mi);
    proxy_mirror_join_free_spares(mi);
    for (int i = 0; i < mi->n_pools; i++)
        proxy_upstream_target_unref(mi->pools[i].shadow);
    event_free(mi->flush);
    free(mi->scratch);
    free(mi);
}
