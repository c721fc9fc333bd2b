/* proxy_mirror_join: --mirror-record. The answer a shadow gives to a copy is kept (head, body up to
 * --max-body) while it is parsed, and joined to the recorded exchange of the same request: the exchange
 * is queued for the writer once the primary exchange has ended and every shadow copy has its answer or
 * its failure, so the capture holds request, response, shadow response(s) together. Everything runs on
 * the worker's loop; nothing here waits: a join is held at most as long as the shadow's deadline
 * (PROXY_MIRROR_RESPONSE_US), and joins are bounded by the mirror's in-flight cap. */
#include "proxy_mirror_int.h"

#include <stdlib.h>
#include <string.h>

#include "proxy_record.h"
#include "tdtime.h"

struct proxy_mirror_join {
    proxy_mirror *mi;
    exchange *x;      /* the primary exchange, once ended (NULL: not recorded) */
    int primary_done;
    int waiting;      /* shadow answers still due */
    exchange_shadow sh[EXCHANGE_N_SHADOW];
    proxy_mirror_join *next_spare; /* the mirror's spare joins (join_done) */
};

/* j is done with: kept for the next join (as copies are, proxy_mirror_req_free) or freed. */
static void join_done(proxy_mirror_join *j)
{
    proxy_mirror *mi = j->mi;
    if (mi->n_spare_join >= PROXY_MIRROR_SPARE_MAX) {
        free(j);
        return;
    }
    j->next_spare = mi->spare_join;
    mi->spare_join = j;
    mi->n_spare_join++;
}

void proxy_mirror_join_free_spares(proxy_mirror *mi)
{
    while (mi->spare_join) {
        proxy_mirror_join *j = mi->spare_join;
        mi->spare_join = j->next_spare;
        free(j);
    }
    mi->n_spare_join = 0;
}

proxy_mirror_join *proxy_mirror_join_req(proxy_mirror_req *r)
{
    proxy_mirror *mi = r->mi;
    if (!mi->rec || r->join)
        return r->join;
    proxy_mirror_join *j = mi->spare_join;
    if (j) {
        mi->spare_join = j->next_spare;
        mi->n_spare_join--;
    } else if (!(j = malloc(sizeof *j))) {
        return NULL;
    }
    *j = (proxy_mirror_join){.mi = mi};
    j->waiting = 1;
    r->join = j;
    return j;
}

void proxy_mirror_join_add(proxy_mirror_join *j)
{
    j->waiting++;
}

/* Everything is in: the exchange goes to the writer with its shadows' answers. */
static void join_maybe_done(proxy_mirror_join *j)
{
    if (!j->primary_done || j->waiting > 0)
        return;
    exchange *x = j->x;
    for (int i = 0; i < EXCHANGE_N_SHADOW; i++) {
        exchange_shadow *s = &j->sh[i];
        exchange_shadow *d = x && s->present ? exchange_shadow_slot(x, i) : NULL;
        if (d) {
            *d = *s;
        } else {
            free(s->response);
            free(s->error);
        }
    }
    if (x)
        proxy_record_push(j->mi->rec, x);
    join_done(j);
}

void proxy_mirror_join_primary(proxy_mirror_join *j, exchange *x)
{
    if (!j)
        return;
    j->x = x;
    j->primary_done = 1;
    join_maybe_done(j);
}

static void join_put(proxy_mirror_join *j, int role, mconn *mc, int64_t sent_us, const char *error)
{
    exchange_shadow *s = &j->sh[role];
    if (!error) {
        s->present = 1;
        s->response = tdbuf_steal(&mc->kept, &s->response_len);
        if (!s->response)
            s->error = strdup("out of memory keeping the answer");
        s->truncated = mc->truncated;
        s->sent_us = sent_us;
        s->resp_first_us = mc->first_us;
        s->resp_end_us = tdtime_now_us();
    } else if (*error) {
        s->present = 1;
        s->error = strdup(error);
        s->sent_us = sent_us;
    }
    j->waiting--;
    join_maybe_done(j);
}

void proxy_mirror_join_answer(mconn *mc, proxy_mirror_req *r, const char *error)
{
    if (r && r->join) {
        proxy_mirror_join *j = r->join;
        r->join = NULL;
        join_put(j, r->pool->role, mc, r->sent_us, error);
    }
    proxy_mirror_join_keep_reset(mc);
    mc->first_us = 0;
}

void proxy_mirror_join_fail(proxy_mirror_req *r, const char *error)
{
    if (!r->join)
        return;
    proxy_mirror_join *j = r->join;
    r->join = NULL;
    join_put(j, r->pool->role, NULL, r->sent_us, error);
}

/* Bytes of the answer on mc that are kept: the head, the body up to --max-body. */
static uint64_t keep_limit(const mconn *mc)
{
    return mc->head_len ? mc->head_len + mc->pool->mi->max_body : UINT64_MAX;
}

void proxy_mirror_join_head(mconn *mc)
{
    if (!mc->head || !mc->head->join || mc->body_len < 0)
        return;
    /* The answer's size is known: its buffer is made that size once (doubling from 256 bytes took nine
     * reallocs for 64 KiB, and left it twice the size it needed on its way to the writer). */
    uint64_t lim = keep_limit(mc), total = mc->head_len + (uint64_t)mc->body_len;
    size_t want = (size_t)(total < lim ? total : lim);
    if (want > mc->kept.len && want <= PROXY_MIRROR_KEEP_MAX) {
        mc->kept.limit = want; /* tdbuf grows to its limit at most: exactly this */
        if (tdbuf_reserve(&mc->kept, want - mc->kept.len) != 0)
            mc->kept.limit = 0;
    }
}

char *proxy_mirror_join_room(mconn *mc, size_t *n)
{
    if (!mc->head || !mc->head->join || !mc->head_len || mc->body_len <= 0)
        return NULL;
    uint64_t end = mc->head_len + (uint64_t)mc->body_len;
    if (end > keep_limit(mc) || mc->seen >= end || end - mc->seen < PROXY_MIRROR_DIRECT_MIN ||
        mc->seen != mc->kept.len || tdbuf_reserve(&mc->kept, (size_t)(end - mc->seen)) != 0)
        return NULL;
    *n = (size_t)(end - mc->seen);
    return mc->kept.data + mc->kept.len;
}

void proxy_mirror_join_keep(mconn *mc, const char *p, size_t n)
{
    if (!mc->head || !mc->head->join || n == 0)
        return;
    if (!mc->first_us)
        mc->first_us = tdtime_now_us();
    uint64_t lim = keep_limit(mc);
    uint64_t from = mc->seen;
    mc->seen += n;
    if (from >= lim) {
        mc->truncated = 1;
        return;
    }
    size_t take = mc->seen > lim ? (size_t)(lim - from) : n;
    if (take < n)
        mc->truncated = 1;
    if (mc->kept.data && p == mc->kept.data + mc->kept.len && mc->kept.len + take < mc->kept.cap) {
        mc->kept.len += take; /* read in place (proxy_mirror_join_room) */
        mc->kept.data[mc->kept.len] = '\0';
    } else if (tdbuf_append(&mc->kept, p, take) != 0) {
        mc->truncated = 1; /* out of memory: what was kept stays, marked cut */
    }
}

void proxy_mirror_join_keep_reset(mconn *mc)
{
    tdbuf_reset(&mc->kept);
    mc->kept.limit = 0;
    mc->seen = 0;
    mc->head_len = 0;
    mc->truncated = 0;
}
