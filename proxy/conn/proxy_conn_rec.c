/* proxy_conn_rec: the recorded copy of the exchange in flight on a client connection: what is kept
 * (head always, bodies up to --max-body), and the hand-over to the recorder when the exchange ends.
 * Part of proxy_conn (shares proxy_conn_int.h). */
#include "proxy_conn_int.h"

#include <stdlib.h>
#include <string.h>

#include "proxy_xrec.h"
#include "td_assert.h"

void proxy_conn_rec_drop(proxy_conn *c, proxy_metrics_drop_reason why)
{
    TD_ASSERT(c->rs_pend == 0); /* bytes read into rsbuf are forwarded before anything is appended */
    proxy_metrics_dropped(c->w->m, why);
    proxy_record_exchange_free(c->x);
    c->x = NULL;
    tdbuf_free(&c->rqbuf);
    tdbuf_free(&c->rsbuf);
}

int proxy_conn_rec_append(proxy_conn *c, tdbuf *b, uint64_t *body_rec, size_t head_len, const char *p,
                          size_t n, unsigned trunc_flag)
{
    if (!c->x)
        return 0;
    if (proxy_xrec_append(c->x, c->w->cfg->max_body, b, body_rec, head_len, p, n, trunc_flag) != 0) {
        proxy_conn_rec_drop(c, PROXY_METRICS_DROP_NOMEM);
        return -1;
    }
    return 0;
}

void proxy_conn_rec_finish(proxy_conn *c, const char *error)
{
    if (!c->x)
        return;
    if (!error)
        c->w->rs_hint = c->rsbuf.len;
    exchange *x = proxy_xrec_finish(c->x, &c->rqbuf, &c->rsbuf, error);
    c->x = NULL;
    c->rs_pend = 0;
    if (!x) {
        proxy_metrics_dropped(c->w->m, PROXY_METRICS_DROP_NOMEM);
        return;
    }
    if (!proxy_conn_mirror_take(c, x))
        proxy_record_push(c->w->rec, x);
}

void proxy_conn_rec_begin(proxy_conn *c)
{
    exchange *x = proxy_xrec_begin(c->w, c->url, &c->rqbuf, &c->rsbuf, c->id, c->seq, c->t0_wall, c->peer,
                                   c->proto);
    if (!x)
        return;
    x->target_uri = c->target_uri;
    c->target_uri = NULL;
    c->x = x;
    c->rq_body_rec = c->rs_body_rec = 0;
    c->rs_pend = 0;
}

/* ---- the response read straight into rsbuf (proxy_sock's sink) ----
 * Copying every response byte from the socket's input into the record cost a memcpy of each body (64 KiB
 * for a 64 KiB response, the recording worker's largest cost) and kept two buffers of it hot. When the
 * record will hold the bytes anyway, the upstream's reads land in rsbuf, and proxy_relay_process
 * forwards them to the client from there (c->rs_pend: read, not yet parsed or forwarded). Two reads
 * qualify, each while nothing else of the response waits (the sock asks only with its input empty):
 * the response's first read, when rsbuf (a written record's buffer back from the writer) has a large
 * read's room already, and the rest of a Content-Length body the record will hold whole, exactly that
 * many bytes. Anything else reads into the input and is copied as before. */
#define REC_SINK_MIN (32 * 1024) /* a first read into rsbuf only with this much room (big responses) */

static char *rec_sink_get(void *ctx, size_t *len)
{
    proxy_conn *c = ctx;
    uint64_t max_body = c->w->cfg->max_body;
    if (!c->x || c->rs_pend || c->tunnel || evbuffer_get_length(c->rhold) > 0)
        return NULL;
    size_t want;
    if (c->sstate == RS_HEAD) {
        if (c->from_up != 0)
            return NULL;
        /* no written record's buffer to hand: a fresh one when the last response here was large
         * (its size is reserved later anyway; a small answer gives the rest back, proxy_xrec_finish) */
        if (c->rsbuf.cap < c->rsbuf.len + 1 + REC_SINK_MIN && c->rsbuf.len == 0 && c->w->rs_hint >= REC_SINK_MIN)
            (void)tdbuf_reserve(&c->rsbuf, c->w->rs_hint);
        if (c->rsbuf.cap < c->rsbuf.len + 1 + REC_SINK_MIN)
            return NULL;
        want = c->rsbuf.cap - c->rsbuf.len - 1; /* the NUL's byte stays */
    } else if (c->sstate == RS_BODY) {
        if (c->r_cl < 0 || (uint64_t)c->r_cl > max_body || c->rs_body_rec >= (uint64_t)c->r_cl ||
            (c->x->truncated & EXCHANGE_TRUNC_RESPONSE))
            return NULL;
        want = (size_t)((uint64_t)c->r_cl - c->rs_body_rec);
        if (tdbuf_reserve(&c->rsbuf, want) != 0)
            return NULL;
    } else {
        return NULL;
    }
    *len = want;
    return c->rsbuf.data + c->rsbuf.len;
}

static void rec_sink_got(void *ctx, size_t n)
{
    proxy_conn *c = ctx;
    c->rsbuf.len += n;
    c->rsbuf.data[c->rsbuf.len] = '\0';
    c->rs_pend += n;
}

void proxy_conn_rec_sink(proxy_conn *c, proxy_sock *up)
{
    if (c->x)
        proxy_sock_set_sink(up, rec_sink_get, rec_sink_got);
}

void proxy_conn_rec_direct(proxy_conn *c, size_t off, size_t n, size_t head)
{
    uint64_t room = c->w->cfg->max_body - c->rs_body_rec;
    size_t body = n - head;
    if (body > room) { /* past --max-body: forwarded, not kept */
        c->rsbuf.len = off + head + (size_t)room;
        c->rsbuf.data[c->rsbuf.len] = '\0';
        c->x->truncated |= EXCHANGE_TRUNC_RESPONSE;
        body = (size_t)room;
    }
    c->rs_body_rec += body;
}
