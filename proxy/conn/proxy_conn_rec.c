/* proxy_conn_rec: the recorded copy of the exchange in flight on a client connection: what is kept
 * (head always, bodies up to --max-body), and the hand-over to the recorder when the exchange ends.
 * Part of proxy_conn (shares proxy_conn_int.h). */
#include "proxy_conn_int.h"

#include <stdlib.h>
#include <string.h>

#include "proxy_xrec.h"

void proxy_conn_rec_drop(proxy_conn *c, proxy_metrics_drop_reason why)
{
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
    exchange *x = proxy_xrec_finish(c->x, &c->rqbuf, &c->rsbuf, error);
    c->x = NULL;
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
}
