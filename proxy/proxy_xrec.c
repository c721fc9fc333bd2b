/* proxy_xrec: bounded appends and the hand-over of a recorded exchange. */
#include "proxy_xrec.h"

#include "proxy_record.h"

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
        x->response = tdbuf_steal(rs, &x->response_len);
    }
    if (!x->request || (!error && !x->response))
        goto nomem;
    return x;
nomem:
    proxy_record_exchange_free(x);
    return NULL;
}
