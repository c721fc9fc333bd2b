/* proxy_conn_mirror: the shadow copy of the request in flight on a client connection (--mirror). The
 * copy is the request exactly as received (head as sent, Host included; body chunked or not, as it came),
 * so the shadow sees what the primary saw. It is built while the request streams through and handed to
 * the worker's mirror client when the request is complete, whether or not the exchange is recorded.
 * Part of proxy_conn (shares proxy_conn_int.h). */
#include "proxy_conn_int.h"

#include <event2/buffer.h>

void proxy_conn_mirror_begin(proxy_conn *c)
{
    proxy_wctx *w = c->w;
    if (!w->mirror)
        return;
    proxy_conn_mirror_end(c, 0); /* a leftover copy (never expected) is not sent */
    c->mir =
        proxy_mirror_req_begin(w->mirror, c->method, c->req_upgrade, c->req_keepalive, c->q_cl, c->head_len);
    if (!c->mir)
        return;
    /* c->hold has the head and whatever body bytes the parser took in the same call */
    size_t n = evbuffer_get_length(c->hold);
    const unsigned char *p = evbuffer_pullup(c->hold, -1);
    if (!p && n) {
        proxy_mirror_req_abort(c->mir);
        c->mir = NULL;
        return;
    }
    if (proxy_mirror_req_append(c->mir, p, n) != 0)
        c->mir = NULL; /* over a cap: freed and counted */
}

void proxy_conn_mirror_body(proxy_conn *c, const void *p, size_t n)
{
    if (c->mir && proxy_mirror_req_append(c->mir, p, n) != 0)
        c->mir = NULL;
}

void proxy_conn_mirror_end(proxy_conn *c, int complete)
{
    proxy_mirror_req *r = c->mir;
    if (!complete && c->mir_join) {
        /* the exchange ended and its record was not handed over (dropped, refused): the join only
         * waits for the answers now, and records nothing */
        proxy_mirror_join_primary(c->mir_join, NULL);
        c->mir_join = NULL;
    }
    if (!r)
        return;
    c->mir = NULL;
    if (complete) {
        if (c->x && !c->mir_join)
            c->mir_join = proxy_mirror_join_req(r);
        proxy_mirror_submit(r);
    } else {
        proxy_mirror_req_abort(r);
    }
}

int proxy_conn_mirror_take(proxy_conn *c, exchange *x)
{
    proxy_mirror_join *j = c->mir_join;
    if (!j)
        return 0;
    c->mir_join = NULL;
    proxy_mirror_join_primary(j, x);
    return 1;
}
