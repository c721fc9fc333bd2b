/* proxy_xrec: bounded appends and the hand-over of a recorded exchange. */
#include "proxy_xrec.h"

#include <stdlib.h>
#include <string.h>

#include "proxy_conn.h"
#include "proxy_record.h"

exchange *proxy_xrec_begin(struct proxy_wctx *w, const char *path, tdbuf *rq, tdbuf *rs, uint64_t conn_id,
                           uint64_t conn_seq, int64_t req_start_us, const char *peer, const char *proto)
{
    if (!w->rec)
        return NULL;
    if (!proxy_record_wants(w->rec, path, &w->rnd)) {
        proxy_metrics_sampled_out(w->m);
        return NULL;
    }
    /* a written exchange back from the writer, with its buffers: no malloc, no realloc growth */
    char *addr = NULL;
    exchange *x = proxy_record_reuse(w->rec, &w->spares, rq, rs, &addr);
    if (!x) {
        if (!(x = malloc(sizeof *x))) {
            proxy_metrics_dropped(w->m, PROXY_METRICS_DROP_NOMEM);
            return NULL;
        }
        exchange_init(x);
        tdbuf_init(rq, 0);
        tdbuf_init(rs, 0);
    }
    x->conn_id = conn_id;
    x->conn_seq = conn_seq;
    x->req_start_us = req_start_us;
    if (addr && strcmp(addr, peer) == 0) {
        x->client_addr = addr; /* the same client as the record this exchange held before */
        addr = NULL;
    }
    free(addr);
    if ((!x->client_addr && exchange_set_str(&x->client_addr, peer) != 0) ||
        exchange_set_str(&x->protocol, proto) != 0) {
        proxy_record_exchange_free(x);
        tdbuf_free(rq);
        tdbuf_free(rs);
        proxy_metrics_dropped(w->m, PROXY_METRICS_DROP_NOMEM);
        return NULL;
    }
    return x;
}

int proxy_xrec_append(exchange *x, uint64_t max_body, tdbuf *b, uint64_t *body_rec, size_t head_len,
                      const char *p, size_t n, unsigned trunc_flag)
{
    size_t h = head_len < n ? head_len : n;
    uint64_t room = max_body - *body_rec;
    size_t body = n - h, take = body < room ? body : (size_t)room;
    if (tdbuf_append(b, p, h + take) != 0)
        return -1;
    *body_rec += take;
    if (take < body)
        x->truncated |= trunc_flag;
    return 0;
}

exchange *proxy_xrec_finish(exchange *x, tdbuf *rq, tdbuf *rs, const char *error)
{
    x->request = tdbuf_steal(rq, &x->request_len);
    if (error) {
        tdbuf_free(rs);
        if (exchange_set_str(&x->error, error) != 0)
            goto nomem;
    } else {
        /* a buffer sized for a larger answer than came (proxy_conn_rec.c) gives its rest back: a
         * queued record holds what it records, not what was guessed */
        if (rs->data && rs->cap > 2 * rs->len + 4096) {
            char *p = realloc(rs->data, rs->len + 1);
            if (p) {
                rs->data = p;
                rs->cap = rs->len + 1;
            }
        }
        x->response = tdbuf_steal(rs, &x->response_len);
    }
    if (!x->request || (!error && !x->response))
        goto nomem;
    return x;
nomem:
    proxy_record_exchange_free(x);
    return NULL;
}
