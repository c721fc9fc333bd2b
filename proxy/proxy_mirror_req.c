/* proxy_mirror_req: the copy of a client request being built for the shadow: whether this request is
 * mirrored at all (method, sampling, caps, a shadow known to be down) and the bytes appended as the
 * request streams through, within the per-worker caps. proxy_mirror.c sends it. */
#include "proxy_mirror_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "httpmsg_facts.h"
#include "tdnum.h"
#include "tdtime.h"

void pmirror_req_free(pmirror_req *r)
{
    pmirror *mi = r->mi;
    pmirror_join_fail(r, ""); /* not sent, or dropped: the exchange is recorded without this answer */
    mi->held -= r->held;
    pm_mirror_held(mi->m, -(int64_t)r->held);
    mi->inflight--;
    if (r->buf)
        evbuffer_free(r->buf);
    free(r);
}

void pmirror_req_skip(pmirror_req *r, pm_mirror_skip why)
{
    pm_mirror_skipped(r->mi->m, why);
    pmirror_req_free(r);
}

pmirror_req *pmirror_begin(pmirror *mi, const char *method, int upgrade, int keep_alive, int64_t content_length,
                           size_t head_len)
{
    pm_mirror_skip why;
    if (upgrade) {
        why = PM_MSKIP_UPGRADE;
    } else if (!mi->writes && !httpmsg_method_is_safe(method)) {
        why = PM_MSKIP_METHOD;
    } else {
        if (!(tdnum_draw_percent(&mi->rnd) < mi->percent)) /* its own state, independent of --sample's */
            why = PM_MSKIP_SAMPLED_OUT;
        else if (content_length > PMIRROR_MAX_BODY)
            why = PM_MSKIP_TOO_LARGE;
        else if (mi->pools[0].down_until > tdtime_mono_us())
            why = PM_MSKIP_SHADOW_DOWN;
        else if (mi->inflight >= PMIRROR_MAX_INFLIGHT || mi->held + head_len > PMIRROR_MAX_HELD)
            why = PM_MSKIP_QUEUE_FULL;
        else
            goto take;
    }
    pm_mirror_skipped(mi->m, why);
    return NULL;
take:;
    pmirror_req *r = calloc(1, sizeof *r);
    if (!r || !(r->buf = evbuffer_new())) {
        free(r);
        pm_mirror_skipped(mi->m, PM_MSKIP_NOMEM);
        return NULL;
    }
    r->mi = mi;
    r->pool = &mi->pools[0];
    r->head_len = head_len;
    r->keep_alive = keep_alive;
    snprintf(r->method, sizeof r->method, "%s", method);
    mi->inflight++;
    return r;
}

int pmirror_req_append(pmirror_req *r, const void *p, size_t n)
{
    pmirror *mi = r->mi;
    size_t have = evbuffer_get_length(r->buf);
    if (have + n > r->head_len + PMIRROR_MAX_BODY) {
        pmirror_req_skip(r, PM_MSKIP_TOO_LARGE);
        return -1;
    }
    if (mi->held + n > PMIRROR_MAX_HELD) {
        pmirror_req_skip(r, PM_MSKIP_QUEUE_FULL);
        return -1;
    }
    if (evbuffer_add(r->buf, p, n) != 0) {
        pmirror_req_skip(r, PM_MSKIP_NOMEM);
        return -1;
    }
    r->held += n;
    mi->held += n;
    pm_mirror_held(mi->m, (int64_t)n);
    return 0;
}

void pmirror_req_abort(pmirror_req *r)
{
    if (r)
        pmirror_req_skip(r, PM_MSKIP_INCOMPLETE);
}

pmirror_req *pmirror_req_clone(pmirror_req *r, mpool *to)
{
    pmirror *mi = r->mi;
    size_t n = evbuffer_get_length(r->buf);
    if (mi->inflight >= PMIRROR_MAX_INFLIGHT || mi->held + n > PMIRROR_MAX_HELD || to->down_until > tdtime_mono_us()) {
        pm_mirror_skipped(mi->m, to->down_until > tdtime_mono_us() ? PM_MSKIP_SHADOW_DOWN : PM_MSKIP_QUEUE_FULL);
        return NULL;
    }
    pmirror_req *c = calloc(1, sizeof *c);
    if (!c || !(c->buf = evbuffer_new())) {
        free(c);
        pm_mirror_skipped(mi->m, PM_MSKIP_NOMEM);
        return NULL;
    }
    *c = (pmirror_req){.mi = mi, .pool = to, .buf = c->buf, .head_len = r->head_len, .keep_alive = r->keep_alive};
    memcpy(c->method, r->method, sizeof c->method);
    mi->inflight++;
    /* copied, not referenced: the original's chains are moved into a socket as it is sent */
    const unsigned char *p = evbuffer_pullup(r->buf, -1);
    if ((!p && n) || evbuffer_add(c->buf, p, n) != 0) {
        pmirror_req_skip(c, PM_MSKIP_NOMEM);
        return NULL;
    }
    c->held = evbuffer_get_length(c->buf);
    mi->held += c->held;
    pm_mirror_held(mi->m, (int64_t)c->held);
    if (r->join) {
        c->join = r->join;
        pmirror_join_add(c->join);
    }
    return c;
}
