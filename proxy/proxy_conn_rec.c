/* proxy_conn_rec: the recorded copy of the exchange in flight on a client connection: what is kept
 * (head always, bodies up to --max-body), and the hand-over to the recorder when the exchange ends.
 * Part of proxy_conn (shares proxy_conn_int.h). */
#include "proxy_conn_int.h"

#include <stdlib.h>
#include <string.h>

#include "proxy_xrec.h"

void pconn_record_drop(pconn *c, pm_drop_reason why)
{
    pm_dropped(c->w->m, why);
    proxy_exchange_free(c->x);
    c->x = NULL;
    tdbuf_free(&c->rqbuf);
    tdbuf_free(&c->rsbuf);
}

int pconn_record_append(pconn *c, tdbuf *b, uint64_t *body_rec, size_t head_len, const char *p, size_t n,
                        unsigned trunc_flag)
{
    if (!c->x)
        return 0;
    if (proxy_xrec_append(c->x, c->w->cfg->max_body, b, body_rec, head_len, p, n, trunc_flag) != 0) {
        pconn_record_drop(c, PM_DROP_NOMEM);
        return -1;
    }
    return 0;
}

void pconn_record_finish(pconn *c, const char *error)
{
    if (!c->x)
        return;
    exchange *x = proxy_xrec_finish(c->x, &c->rqbuf, &c->rsbuf, error);
    c->x = NULL;
    if (!x) {
        pm_dropped(c->w->m, PM_DROP_NOMEM);
        return;
    }
    if (!pconn_mirror_take(c, x))
        proxy_recorder_push(c->w->rec, x);
}

void pconn_record_begin(pconn *c)
{
    proxy_wctx *w = c->w;
    if (!w->rec)
        return;
    if (!proxy_recorder_wants(w->rec, c->url, &w->rnd)) {
        pm_sampled_out(w->m);
        return;
    }
    exchange *x = malloc(sizeof *x);
    if (!x) {
        pm_dropped(w->m, PM_DROP_NOMEM);
        return;
    }
    exchange_init(x);
    x->conn_id = c->id;
    x->conn_seq = c->seq;
    x->req_start_us = c->t0_wall;
    if (exchange_set_str(&x->client_addr, c->peer) != 0 || exchange_set_str(&x->protocol, c->proto) != 0) {
        proxy_exchange_free(x);
        pm_dropped(w->m, PM_DROP_NOMEM);
        return;
    }
    x->target_uri = c->target_uri;
    c->target_uri = NULL;
    c->x = x;
    tdbuf_init(&c->rqbuf, 0);
    tdbuf_init(&c->rsbuf, 0);
    c->rq_body_rec = c->rs_body_rec = 0;
}
