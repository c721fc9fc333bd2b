/* check_item: one recorded exchange through `check` — turn the recorded request into what is sent,
 * and, once every copy of the response is in, decode, correlate, diff, set noise apart and count. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_int.h"
#include "decode.h"
#include "httpmsg.h"
#include "httpmsg_facts.h"
#include "report.h"
#include "route.h"

#define CHECK_MAX_REPORTED_DIFFS 1000 /* diffs listed in the report; all are counted */
#define CHECK_MAX_NOISE_KINDS 500

static int pend_add(check_run *r, const check_item *it, cmp_list *diffs);

static int set_by_flag(const check_opts *o, const char *line)
{
    const char *colon = strchr(line, ':');
    size_t n = colon ? (size_t)(colon - line) : strlen(line);
    for (size_t i = 0; i < o->n_set_header; i++)
        if (!strncasecmp(o->set_header[i], line, n) && o->set_header[i][n] == ':')
            return 1;
    return 0;
}

int check_item_prepare(check_run *r, check_item *it, exchange *xin, char *err, size_t errlen)
{
    const check_opts *o = r->o;
    memset(it, 0, sizeof *it);
    it->xbuf = *xin; /* moved: the item owns the exchange from now on */
    exchange_init(xin);
    exchange *x = it->x = &it->xbuf;
    it->index = x->id ? (size_t)(x->id - 1) : 0;
    it->run = r;
    httpmsg m;
    if (httpmsg_parse(&m, HTTPMSG_REQUEST, x->request ? x->request : "", x->request_len, NULL, err, errlen) !=
        HTTPMSG_OK) {
        /* An unparseable recorded request cannot be replayed faithfully: skip it, say so once. */
        it->skip = 1;
        return 0;
    }
    snprintf(it->method, sizeof it->method, "%s", m.head.method);
    it->target = strdup(m.head.url ? m.head.url : "/");
    it->body = malloc(m.body_len + 1);
    it->headers = calloc(m.head.n_headers + o->n_set_header + 1, sizeof(char *));
    if (!it->target || !it->body || !it->headers)
        goto oom;
    memcpy(it->body, m.body ? m.body : "", m.body_len);
    it->body[m.body_len] = '\0';
    it->body_len = m.body_len;
    for (size_t i = 0; i < m.head.n_headers; i++) {
        const httpmsg_header *h = &m.head.headers[i];
        if (httpmsg_header_is_replay_skipped(h->name, h->name_len))
            continue;
        char *line = httpmsg_header_line(h);
        if (!line)
            goto oom;
        if (set_by_flag(o, line)) {
            free(line);
            continue;
        }
        it->headers[it->n_headers++] = line;
    }
    for (size_t i = 0; i < o->n_set_header; i++)
        if (!(it->headers[it->n_headers++] = strdup(o->set_header[i])))
            goto oom;
    if (route_normalise(it->target, it->route, sizeof it->route) < 0)
        snprintf(it->route, sizeof it->route, "(long path)");
    httpmsg_clear(&m);
    /* The raw request is not needed any more (the parts above are what is sent): free it now, so a
     * large capture costs its responses and one copy of its requests, not two. */
    exchange_release_request(x);

    /* Filters, then what cannot be compared. */
    int keep = o->n_methods == 0;
    for (size_t i = 0; i < o->n_methods; i++)
        keep |= !strcasecmp(o->methods[i], it->method);
    if (keep && o->has_path_re)
        keep = regexec(&o->path_re, it->target, 0, NULL, 0) == 0;
    if (!keep || !x->response || !x->response_len || !strcasecmp(it->method, "CONNECT"))
        it->skip = 1;
    else if (httpmsg_raw_status(x->response, x->response_len) == 101)
        it->skip = 1; /* an Upgrade: the tunnel that followed is not HTTP */
    it->bytes = sizeof *it + strlen(it->target) + it->body_len + x->response_len;
    for (size_t i = 0; i < it->n_headers; i++)
        it->bytes += strlen(it->headers[i]) + sizeof(char *);
    return 0;
oom:
    httpmsg_clear(&m);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void check_item_free(check_item *it)
{
    free(it->target);
    free(it->body);
    for (size_t i = 0; i < it->n_headers; i++)
        free(it->headers[i]);
    free(it->headers);
    check_item_release_copies(it);
    for (int c = 0; c < COPY_N; c++)
        free(it->copy[c].error);
    if (it->diffs) {
        cmp_list_clear(it->diffs);
        free(it->diffs);
    }
    exchange_clear(&it->xbuf);
    memset(it, 0, sizeof *it);
}

void check_item_release_copies(check_item *it)
{
    for (int c = 0; c < COPY_N; c++) {
        free(it->copy[c].raw);
        it->copy[c].raw = NULL;
        it->copy[c].raw_len = 0;
    }
}

int check_req_build(const check_item *it, correlate *corr, check_req *q)
{
    memset(q, 0, sizeof *q);
    q->hdr_ptrs = calloc(it->n_headers + 1, sizeof(char *));
    q->owned_headers = calloc(it->n_headers + 1, sizeof(char *));
    if (!q->hdr_ptrs || !q->owned_headers) {
        check_req_free(q);
        return -1;
    }
    q->req.method = it->method;
    q->req.target = it->target;
    q->req.body = it->body;
    q->req.body_len = it->body_len;
    if (corr && correlate_mappings(corr)) {
        if ((q->target = correlate_rewrite_target(corr, it->target)))
            q->req.target = q->target;
        size_t bl;
        if (correlate_rewrite_body(corr, it->body, it->body_len, &q->body, &bl) == 1) {
            q->req.body = q->body;
            q->req.body_len = bl;
        }
    }
    for (size_t i = 0; i < it->n_headers; i++) {
        char *rw = corr && correlate_mappings(corr) ? correlate_rewrite_header(corr, it->headers[i]) : NULL;
        q->owned_headers[i] = rw;
        q->hdr_ptrs[i] = rw ? rw : it->headers[i];
    }
    q->req.headers = q->hdr_ptrs;
    q->req.n_headers = it->n_headers;
    return 0;
}

void check_req_free(check_req *q)
{
    free(q->target);
    free(q->body);
    for (size_t i = 0; q->owned_headers && q->hdr_ptrs && q->hdr_ptrs[i]; i++)
        free(q->owned_headers[i]);
    free(q->owned_headers);
    free((void *)q->hdr_ptrs);
    memset(q, 0, sizeof *q);
}


void check_scan_item(check_run *r, const check_item *it)
{
    correlate *cs[2] = {r->corr_target, r->corr_baseline};
    for (int k = 0; k < 2; k++)
        if (cs[k] && it->target)
            correlate_scan_request(cs[k], it->index, it->target, (const char *const *)it->headers, it->n_headers,
                                   it->body, it->body_len);
}

void check_count(check_run *r, json_t *ep, const char *key)
{
    report_count(report_totals(r->report), key, 1);
    if (ep)
        report_count(ep, key, 1);
}

uint64_t check_total(const check_run *r, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(report_totals(r->report), key));
    return v > 0 ? (uint64_t)v : 0;
}

static void norm_where(const char *w, char *out, size_t outsz)
{
    cmp_norm_where(w, out, outsz);
}

static void add_route_noise(check_run *r, const char *route, const char *where)
{
    char nw[256];
    norm_where(where, nw, sizeof nw);
    for (size_t k = 0; k < r->n_rnoise; k++)
        if (!strcmp(r->rnoise[k].where, nw) && !strcmp(r->rnoise[k].route, route))
            return;
    if (r->n_rnoise >= CHECK_MAX_NOISE_KINDS)
        return;
    if (r->n_rnoise == r->cap_rnoise) {
        size_t ncap = r->cap_rnoise ? r->cap_rnoise * 2 : 16;
        route_noise *nl = realloc(r->rnoise, ncap * sizeof *nl);
        if (!nl)
            return;
        r->rnoise = nl;
        r->cap_rnoise = ncap;
    }
    route_noise *e = &r->rnoise[r->n_rnoise++];
    snprintf(e->route, sizeof e->route, "%s", route);
    snprintf(e->where, sizeof e->where, "%s", nw);
}

/* The route's noise as a cmp_list view, for cmp_split_noise. */
static void route_noise_list(const check_run *r, const char *route, cmp_list *out)
{
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < r->n_rnoise && out->n < CMP_MAX_KEPT; k++)
        if (!strcmp(r->rnoise[k].route, route))
            out->v[out->n++].where = r->rnoise[k].where;
    out->total = out->n;
}

static void note_noise(check_run *r, const check_pending *it, const cmp_list *moved)
{
    for (size_t i = 0; i < moved->n; i++) {
        char nw[256];
        norm_where(moved->v[i].where, nw, sizeof nw);
        noise_agg *a = NULL;
        for (size_t k = 0; k < r->n_noise; k++)
            if (!strcmp(r->noise_list[k].where, nw) && !strcmp(r->noise_list[k].route, it->route) &&
                !strcmp(r->noise_list[k].method, it->method))
                a = &r->noise_list[k];
        if (!a) {
            if (r->n_noise >= CHECK_MAX_NOISE_KINDS)
                continue;
            if (r->n_noise == r->cap_noise) {
                size_t ncap = r->cap_noise ? r->cap_noise * 2 : 16;
                noise_agg *nl = realloc(r->noise_list, ncap * sizeof *nl);
                if (!nl)
                    return;
                r->noise_list = nl;
                r->cap_noise = ncap;
            }
            a = &r->noise_list[r->n_noise++];
            memset(a, 0, sizeof *a);
            snprintf(a->method, sizeof a->method, "%s", it->method);
            snprintf(a->route, sizeof a->route, "%s", it->route);
            snprintf(a->where, sizeof a->where, "%s", nw);
        }
        a->count++;
    }
}

/* Decode one copy; 0, or -1 with the reason in err (the caller reports it as a diff, or counts the copy
 * as a baseline error). */
static int decode_copy(const check_item *it, const check_copy *c, decode_msg *m, char *err, size_t errlen)
{
    return decode_response(m, c->raw, c->raw_len, c->head_only, it->method, err, errlen) ? -1 : 0;
}

void check_item_finish(check_run *r, check_item *it)
{
    const check_opts *o = r->o;
    check_copy *t = &it->copy[COPY_TARGET];
    json_t *ep = report_endpoint_at(r->report, &r->ep_index, it->method, it->route);
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)it->x->id);
    check_count(r, ep, "requests");
    if (t->ok)
        hist_record(r->service, t->service_us);
    if (!t->ok) {
        check_count(r, ep, "errors");
        if (r->diffs_listed++ < CHECK_MAX_REPORTED_DIFFS)
            report_add_diff(r->report, idbuf, it->method, it->target, it->route, "transport", "a response",
                            t->error ? t->error : "no response");
        return;
    }
    if (o->no_diff) {
        check_count(r, ep, "matched");
        return;
    }
    char err[256];
    decode_msg rec, act, other;
    memset(&other, 0, sizeof other);
    cmp_list diffs, noise;
    memset(&diffs, 0, sizeof diffs);
    memset(&noise, 0, sizeof noise);
    if (decode_response(&rec, it->x->response, it->x->response_len, 0, it->method, err, sizeof err)) {
        /* The recording itself cannot be read: nothing to compare with. */
        check_count(r, ep, "errors");
        if (r->diffs_listed++ < CHECK_MAX_REPORTED_DIFFS)
            report_add_diff(r->report, idbuf, it->method, it->target, it->route, "recorded response", "readable", err);
        return;
    }
    if (decode_copy(it, t, &act, err, sizeof err) < 0) {
        check_count(r, ep, "diffs");
        if (r->diffs_listed++ < CHECK_MAX_REPORTED_DIFFS)
            report_add_diff(r->report, idbuf, it->method, it->target, it->route, "response", "a decodable response", err);
        decode_msg_clear(&rec);
        return;
    }
    int body_trusted = !rec.truncated && !(it->x->truncated & EXCHANGE_TRUNC_RESPONSE);

    /* Correlation: values the destination handed out are learned while the bodies are walked (a mapped
     * id is not a diff); Location values are learned here, before the headers are compared. */
    size_t idx = it->index;
    char rloc[1024], aloc[1024];
    int has_rloc = httpmsg_header_value(&rec.msg.head, "Location", rloc, sizeof rloc);
    correlate_ref tref = {r->corr_target, idx, 1}, bref = {r->corr_baseline, idx, 1};
    if (r->corr_target && has_rloc && httpmsg_header_value(&act.msg.head, "Location", aloc, sizeof aloc) &&
        strcmp(rloc, aloc))
        correlate_learn_location(r->corr_target, idx, rloc, aloc);
    cmp_responses(&rec, &act, body_trusted, &r->cfg, r->corr_target ? &tref : NULL, &diffs);

    /* Noise: what differs between two answers that should have been the same. */
    check_copy *b = &it->copy[COPY_BASELINE], *t2 = &it->copy[COPY_TARGET2];
    if (b->used) {
        if (b->ok && !decode_copy(it, b, &other, err, sizeof err)) {
            if (r->corr_baseline && has_rloc &&
                httpmsg_header_value(&other.msg.head, "Location", aloc, sizeof aloc) && strcmp(rloc, aloc))
                correlate_learn_location(r->corr_baseline, idx, rloc, aloc);
            cmp_responses(&rec, &other, body_trusted, &r->cfg, r->corr_baseline ? &bref : NULL, &noise);
            decode_msg_clear(&other);
        } else {
            r->baseline_errors++;
        }
    }
    if (t2->used) {
        if (t2->ok && !decode_copy(it, t2, &other, err, sizeof err)) {
            cmp_responses(&act, &other, 1, &r->cfg, NULL, &noise);
            decode_msg_clear(&other);
        }
    }
    for (size_t i = 0; i < noise.n; i++)
        add_route_noise(r, it->route, noise.v[i].where);
    if (diffs.total) {
        if (pend_add(r, it, &diffs) < 0) {
            check_count(r, ep, "diffs");
        }
    } else {
        check_count(r, ep, "matched");
    }
    cmp_list_clear(&diffs);
    cmp_list_clear(&noise);
    decode_msg_clear(&rec);
    decode_msg_clear(&act);
}

/* Sets the noise the route showed apart from p's diffs, counts and lists what is left; frees p's parts. */
static void judge_pending(check_run *r, check_pending *p)
{
    char idbuf[32];
    json_t *ep = report_endpoint_at(r->report, &r->ep_index, p->method, p->route);
    cmp_list rn, moved;
    memset(&moved, 0, sizeof moved);
    route_noise_list(r, p->route, &rn);
    cmp_list *d = p->diffs;
    cmp_split_noise(d, &rn, &moved);
    if (moved.total) {
        check_count(r, ep, "noise");
        note_noise(r, p, &moved);
    }
    if (d->total) {
        check_count(r, ep, "diffs");
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)p->id);
        for (size_t k = 0; k < d->n && r->diffs_listed < CHECK_MAX_REPORTED_DIFFS; k++, r->diffs_listed++)
            report_add_diff(r->report, idbuf, p->method, p->target, p->route, d->v[k].where, d->v[k].expected,
                            d->v[k].actual);
    } else {
        check_count(r, ep, "matched");
    }
    cmp_list_clear(&moved);
    cmp_list_clear(d);
    free(d);
    free(p->target);
    memset(p, 0, sizeof *p);
}

/* Keeps it's diffs (moved out of *diffs) for the end. With the list full, judges them now against the
 * noise found so far (what a route shows is mostly seen early). 0, or -1 when out of memory. */
static int pend_add(check_run *r, const check_item *it, cmp_list *diffs)
{
    check_pending p;
    memset(&p, 0, sizeof p);
    p.index = it->index;
    p.id = it->x->id;
    snprintf(p.method, sizeof p.method, "%s", it->method);
    snprintf(p.route, sizeof p.route, "%s", it->route);
    p.target = strdup(it->target ? it->target : "");
    p.diffs = malloc(sizeof *p.diffs);
    if (!p.target || !p.diffs) {
        free(p.target);
        free(p.diffs);
        return -1;
    }
    *p.diffs = *diffs;
    memset(diffs, 0, sizeof *diffs);
    /* Without a noise method no noise can turn up later: the verdict is final now. */
    if (r->n_pend >= CHECK_MAX_PENDING || (!r->o->baseline && !r->o->learn_noise)) {
        judge_pending(r, &p);
        return 0;
    }
    if (r->n_pend == r->cap_pend) {
        size_t ncap = r->cap_pend ? r->cap_pend * 2 : 64;
        check_pending *np = realloc(r->pend, ncap * sizeof *np);
        if (!np) {
            judge_pending(r, &p);
            return 0;
        }
        r->pend = np;
        r->cap_pend = ncap;
    }
    r->pend[r->n_pend++] = p;
    r->unjudged++;
    return 0;
}

static int cmp_pend(const void *a, const void *b)
{
    const check_pending *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

void check_classify(check_run *r)
{
    /* in recorded order, as the diffs are listed */
    if (r->n_pend)
        qsort(r->pend, r->n_pend, sizeof *r->pend, cmp_pend);
    for (size_t i = 0; i < r->n_pend; i++)
        judge_pending(r, &r->pend[i]);
    r->n_pend = 0;
    r->unjudged = 0;
}
