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
        else if (mi->down_until > tdtime_mono_us())
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
