/* proxy_mirror_req: the copy of a client request being built for the shadow: whether this request is
 * mirrored at all (method, sampling, caps, a shadow known to be down) and the bytes appended as the
 * request streams through, within the per-worker caps. proxy_mirror.c sends it. */
#include "proxy_mirror_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg_facts.h"
#include "tdnum.h"
#include "tdtime.h"

proxy_mirror_req *proxy_mirror_req_alloc(proxy_mirror *mi)
{
    proxy_mirror_req *r = mi->spare;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (r)
            tdbuf_init(&r->buf, 0);
        return r;
    }
    mi->spare = r->next;
    mi->n_spare--;
    tdbuf buf = r->buf;
    *r = (proxy_mirror_req){.buf = buf};
    tdbuf_reset(&r->buf);
    return r;
}

void proxy_mirror_req_free_spares(proxy_mirror *mi)
{
    while (mi->spare) {
        proxy_mirror_req *r = mi->spare;
        mi->spare = r->next;
        tdbuf_free(&r->buf);
        free(r);
    }
    mi->n_spare = 0;
}

void proxy_mirror_req_free(proxy_mirror_req *r)
{
    proxy_mirror *mi = r->mi;
    proxy_mirror_join_fail(r, ""); /* not sent, or dropped: the exchange is recorded without this answer */
    mi->held -= r->held;
    proxy_metrics_mirror_held(mi->m, -(int64_t)r->held);
    mi->inflight--;
    if (r->buf.cap > PROXY_MIRROR_SPARE_BUF)
        tdbuf_free(&r->buf);
    if (mi->n_spare >= PROXY_MIRROR_SPARE_MAX) {
        tdbuf_free(&r->buf);
        free(r);
        return;
    }
    r->next = mi->spare;
    mi->spare = r;
    mi->n_spare++;
}

void proxy_mirror_req_skip(proxy_mirror_req *r, proxy_metrics_mirror_skip why)
{
    proxy_metrics_mirror_skipped(r->mi->m, why);
    proxy_mirror_req_free(r);
}

/* Cut to fit, as the request's method is only logged and compared with "HEAD". */
static void mirror_req_set_method(proxy_mirror_req *r, const char *method)
{
    size_t n = strlen(method);
    if (n >= sizeof r->method)
        n = sizeof r->method - 1;
    memcpy(r->method, method, n);
    r->method[n] = '\0';
}

proxy_mirror_req *proxy_mirror_req_begin(proxy_mirror *mi, const char *method, int upgrade, int keep_alive,
                                         int64_t content_length, size_t head_len)
{
    proxy_metrics_mirror_skip why;
    if (upgrade) {
        why = PROXY_METRICS_MSKIP_UPGRADE;
    } else if (!mi->writes && !httpmsg_method_is_safe(method)) {
        why = PROXY_METRICS_MSKIP_METHOD;
    } else {
        if (!(tdnum_draw_percent(&mi->rnd) < mi->percent)) /* its own state, independent of --sample's */
            why = PROXY_METRICS_MSKIP_SAMPLED_OUT;
        else if (content_length > PROXY_MIRROR_MAX_BODY)
            why = PROXY_METRICS_MSKIP_TOO_LARGE;
        else if (mi->pools[0].down_until > tdtime_mono_us())
            why = PROXY_METRICS_MSKIP_SHADOW_DOWN;
        else if (mi->inflight >= PROXY_MIRROR_MAX_INFLIGHT || mi->held + head_len > PROXY_MIRROR_MAX_HELD)
            why = PROXY_METRICS_MSKIP_QUEUE_FULL;
        else
            goto take;
    }
    proxy_metrics_mirror_skipped(mi->m, why);
    return NULL;
take:;
    proxy_mirror_req *r = proxy_mirror_req_alloc(mi);
    /* room for the head and a declared body up to 64 KiB at once while the worker's budget has it (a
     * longer body, or a client slow to send it, grows the buffer only as bytes arrive) */
    size_t want = head_len + (content_length > 0 ? (size_t)(content_length < 65536 ? content_length : 65536) : 0);
    if (mi->held + want > PROXY_MIRROR_MAX_HELD)
        want = head_len;
    if (r)
        r->mi = mi;
    if (!r || tdbuf_reserve(&r->buf, want) != 0) {
        if (r) {
            tdbuf_free(&r->buf);
            free(r);
        }
        proxy_metrics_mirror_skipped(mi->m, PROXY_METRICS_MSKIP_NOMEM);
        return NULL;
    }
    r->pool = &mi->pools[0];
    r->head_len = head_len;
    r->keep_alive = keep_alive;
    r->pipeline = keep_alive && httpmsg_method_is_safe(method);
    mirror_req_set_method(r, method);
    mi->inflight++;
    return r;
}

int proxy_mirror_req_append(proxy_mirror_req *r, const void *p, size_t n)
{
    proxy_mirror *mi = r->mi;
    size_t have = r->buf.len;
    if (have + n > r->head_len + PROXY_MIRROR_MAX_BODY) {
        proxy_mirror_req_skip(r, PROXY_METRICS_MSKIP_TOO_LARGE);
        return -1;
    }
    if (mi->held + n > PROXY_MIRROR_MAX_HELD) {
        proxy_mirror_req_skip(r, PROXY_METRICS_MSKIP_QUEUE_FULL);
        return -1;
    }
    if (tdbuf_append(&r->buf, p, n) != 0) {
        proxy_mirror_req_skip(r, PROXY_METRICS_MSKIP_NOMEM);
        return -1;
    }
    r->held += n;
    mi->held += n;
    proxy_metrics_mirror_held(mi->m, (int64_t)n);
    return 0;
}

void proxy_mirror_req_abort(proxy_mirror_req *r)
{
    if (r)
        proxy_mirror_req_skip(r, PROXY_METRICS_MSKIP_INCOMPLETE);
}

proxy_mirror_req *proxy_mirror_req_clone(proxy_mirror_req *r, mpool *to)
{
    proxy_mirror *mi = r->mi;
    size_t n = r->buf.len;
    if (mi->inflight >= PROXY_MIRROR_MAX_INFLIGHT || mi->held + n > PROXY_MIRROR_MAX_HELD ||
        to->down_until > tdtime_mono_us()) {
        proxy_metrics_mirror_skipped(mi->m, to->down_until > tdtime_mono_us()
                                                ? PROXY_METRICS_MSKIP_SHADOW_DOWN
                                                : PROXY_METRICS_MSKIP_QUEUE_FULL);
        return NULL;
    }
    proxy_mirror_req *c = proxy_mirror_req_alloc(mi);
    if (!c) {
        proxy_metrics_mirror_skipped(mi->m, PROXY_METRICS_MSKIP_NOMEM);
        return NULL;
    }
    c->mi = mi;
    c->pool = to;
    c->head_len = r->head_len;
    c->keep_alive = r->keep_alive;
    c->pipeline = r->pipeline;
    memcpy(c->method, r->method, sizeof c->method);
    mi->inflight++;
    if (tdbuf_append(&c->buf, r->buf.data, n) != 0) {
        proxy_mirror_req_skip(c, PROXY_METRICS_MSKIP_NOMEM);
        return NULL;
    }
    c->held = n;
    mi->held += c->held;
    proxy_metrics_mirror_held(mi->m, (int64_t)c->held);
    if (r->join) {
        c->join = r->join;
        proxy_mirror_join_add(c->join);
    }
    return c;
}
