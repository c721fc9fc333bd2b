/* shadow_cmd: the verdict on a shadowed capture (see shadow_cmd.h). Streams the capture; each exchange with a
 * shadow answer is judged at once, and those with diffs are kept until the end, when every route's noise
 * (primary vs baseline, over the whole capture) is known and set apart, as check does. */
#include "shadow_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capreader.h"
#include "capset.h"
#include "check_compare.h"
#include "hist.h"
#include "httpmsg.h"
#include "report.h"
#include "route.h"
#include "shadow_opts.h"

#define SHADOW_MAX_LISTED 1000 /* diffs listed in the report (all are counted) */
#define SHADOW_MAX_NOISE 4096  /* (route, field) noise entries kept */

typedef struct sh_route {
    char method[24], route[256];
    json_t *ep; /* borrowed from the report */
    hist *prim, *shd;
} sh_route;

typedef struct sh_held { /* an exchange with diffs, judged at the end */
    uint64_t id;
    sh_route *rt;
    char *target;
    cmp_list *diffs;
} sh_held;

typedef struct sh_noise {
    char method[24], route[256], where[256];
    uint64_t count; /* exchanges where it was set aside */
} sh_noise;

typedef struct sh_run {
    const check_opts *o;
    cmp_cfg cfg;
    json_t *report;
    hist *prim, *shd;
    sh_route **routes;
    size_t n_routes;
    sh_held *held;
    size_t n_held, cap_held;
    sh_noise *noise;
    size_t n_noise;
    uint64_t requests, matched, diffs, noisy, errors, baseline_errors, unshadowed, skipped, listed, with_baseline;
} sh_run;

static sh_route *route_get(sh_run *r, const char *method, const char *route)
{
    for (size_t i = 0; i < r->n_routes; i++)
        if (!strcmp(r->routes[i]->route, route) && !strcmp(r->routes[i]->method, method))
            return r->routes[i];
    sh_route **nr = realloc(r->routes, (r->n_routes + 1) * sizeof *nr);
    if (!nr)
        return NULL;
    r->routes = nr;
    sh_route *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    snprintf(t->method, sizeof t->method, "%s", method);
    snprintf(t->route, sizeof t->route, "%s", route);
    t->ep = report_endpoint(r->report, method, route);
    t->prim = hist_new();
    t->shd = hist_new();
    r->routes[r->n_routes++] = t;
    if (!t->ep || !t->prim || !t->shd)
        return NULL;
    return t;
}

static sh_noise *find_noise(sh_run *r, const char *route, const char *nw)
{
    for (size_t i = 0; i < r->n_noise; i++)
        if (!strcmp(r->noise[i].where, nw) && !strcmp(r->noise[i].route, route))
            return &r->noise[i];
    return NULL;
}

static void add_noise(sh_run *r, const char *method, const char *route, const char *where)
{
    char nw[256];
    cmp_norm_where(where, nw, sizeof nw);
    if (find_noise(r, route, nw))
        return;
    if (r->n_noise >= SHADOW_MAX_NOISE)
        return;
    if (r->n_noise % 64 == 0) {
        sh_noise *n = realloc(r->noise, (r->n_noise + 64) * sizeof *n);
        if (!n)
            return;
        r->noise = n;
    }
    memset(&r->noise[r->n_noise], 0, sizeof r->noise[0]);
    snprintf(r->noise[r->n_noise].method, sizeof r->noise[0].method, "%s", method);
    snprintf(r->noise[r->n_noise].route, sizeof r->noise[0].route, "%s", route);
    snprintf(r->noise[r->n_noise].where, sizeof r->noise[0].where, "%s", nw);
    r->n_noise++;
}

static void list_diff(sh_run *r, uint64_t id, const sh_route *rt, const char *target, const char *where,
                      const char *expected, const char *actual)
{
    char idbuf[32];
    if (r->listed++ >= SHADOW_MAX_LISTED)
        return;
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)id);
    report_add_diff(r->report, idbuf, rt->method, target, rt->route, where, expected, actual);
}

static void count(sh_run *r, sh_route *rt, const char *key, uint64_t *total)
{
    (*total)++;
    report_count(rt->ep, key, 1);
}

/* Both answers decoded: compare, learn the route's noise from the baseline, keep or count. */
static void judge_decoded(sh_run *r, const exchange *x, sh_route *rt, const char *method, const char *target,
                          decode_msg *rec, decode_msg *act)
{
    const exchange_shadow *sh = exchange_shadow_get(x, EXCHANGE_SHADOW);
    const exchange_shadow *bl = exchange_shadow_get(x, EXCHANGE_SHADOW_BASELINE);
    int trusted = !rec->truncated && !act->truncated && !(x->truncated & EXCHANGE_TRUNC_RESPONSE) && !sh->truncated;
    cmp_list diffs, noise;
    memset(&diffs, 0, sizeof diffs);
    memset(&noise, 0, sizeof noise);
    cmp_responses(rec, act, trusted, &r->cfg, NULL, &diffs);
    if (bl) {
        char err[256];
        decode_msg base;
        r->with_baseline++;
        if (bl->response && !decode_response(&base, bl->response, bl->response_len, 0, method, err, sizeof err)) {
            cmp_responses(rec, &base, trusted && !bl->truncated && !base.truncated, &r->cfg, NULL, &noise);
            decode_msg_clear(&base);
        } else {
            r->baseline_errors++;
        }
    }
    for (size_t i = 0; i < noise.n; i++)
        add_noise(r, rt->method, rt->route, noise.v[i].where);
    cmp_list_clear(&noise);
    if (!diffs.total) {
        count(r, rt, "matched", &r->matched);
        return;
    }
    if (r->n_held == r->cap_held) {
        size_t nc = r->cap_held ? r->cap_held * 2 : 64;
        sh_held *nh = realloc(r->held, nc * sizeof *nh);
        if (nh) {
            r->held = nh;
            r->cap_held = nc;
        }
    }
    cmp_list *kept = r->n_held < r->cap_held ? malloc(sizeof *kept) : NULL;
    char *t = kept ? strdup(target) : NULL;
    if (!t) { /* out of memory: a diff counted as one rather than lost */
        free(kept);
        count(r, rt, "diffs", &r->diffs);
        cmp_list_clear(&diffs);
        return;
    }
    *kept = diffs;
    r->held[r->n_held++] = (sh_held){x->id, rt, t, kept};
}

static void judge(sh_run *r, const exchange *x)
{
    const check_opts *o = r->o;
    const exchange_shadow *sh = exchange_shadow_get(x, EXCHANGE_SHADOW);
    if (!sh) {
        r->unshadowed++;
        return;
    }
    char err[256], method[24], route[256];
    httpmsg m;
    if (httpmsg_parse(&m, HTTPMSG_REQUEST, x->request ? x->request : "", x->request_len, NULL, err, sizeof err)) {
        r->skipped++;
        return;
    }
    snprintf(method, sizeof method, "%s", m.head.method ? m.head.method : "");
    char *target = strdup(m.head.url ? m.head.url : "/");
    httpmsg_clear(&m);
    if (!target)
        return;
    int keep = o->n_methods == 0;
    for (size_t i = 0; i < o->n_methods; i++)
        keep |= !strcasecmp(o->methods[i], method);
    if (keep && o->has_path_re)
        keep = regexec(&o->path_re, target, 0, NULL, 0) == 0;
    if (!keep || !x->response) { /* filtered out, or production failed: nothing to compare with */
        r->skipped++;
        free(target);
        return;
    }
    if (route_normalise(target, route, sizeof route) < 0)
        snprintf(route, sizeof route, "%.200s", target);
    sh_route *rt = route_get(r, method, route);
    if (!rt) {
        free(target);
        return;
    }
    count(r, rt, "requests", &r->requests);
    if (x->req_start_us && x->resp_end_us > x->req_start_us) {
        hist_record(rt->prim, x->resp_end_us - x->req_start_us);
        hist_record(r->prim, x->resp_end_us - x->req_start_us);
    }
    decode_msg rec, act;
    if (!sh->response) {
        count(r, rt, "errors", &r->errors);
        list_diff(r, x->id, rt, target, "transport", "an answer", sh->error ? sh->error : "no answer");
    } else if (decode_response(&rec, x->response, x->response_len, 0, method, err, sizeof err)) {
        count(r, rt, "errors", &r->errors);
        list_diff(r, x->id, rt, target, "recorded response", "readable", err);
    } else {
        if (sh->sent_us && sh->resp_end_us > sh->sent_us) {
            hist_record(rt->shd, sh->resp_end_us - sh->sent_us);
            hist_record(r->shd, sh->resp_end_us - sh->sent_us);
        }
        if (decode_response(&act, sh->response, sh->response_len, 0, method, err, sizeof err)) {
            count(r, rt, "diffs", &r->diffs);
            list_diff(r, x->id, rt, target, "response", "a decodable response", err);
        } else {
            judge_decoded(r, x, rt, method, target, &rec, &act);
            decode_msg_clear(&act);
        }
        decode_msg_clear(&rec);
    }
    free(target);
}

/* The end: each kept exchange's diffs minus its route's noise. */
static void classify(sh_run *r)
{
    for (size_t i = 0; i < r->n_held; i++) {
        sh_held *h = &r->held[i];
        cmp_list rn, moved;
        memset(&rn, 0, sizeof rn);
        memset(&moved, 0, sizeof moved);
        for (size_t k = 0; k < r->n_noise && rn.n < CMP_MAX_KEPT; k++)
            if (!strcmp(r->noise[k].route, h->rt->route))
                rn.v[rn.n++].where = r->noise[k].where;
        rn.total = rn.n;
        cmp_split_noise(h->diffs, &rn, &moved);
        if (moved.total)
            count(r, h->rt, "noise", &r->noisy);
        for (size_t k = 0; k < moved.n; k++) {
            char nw[256];
            cmp_norm_where(moved.v[k].where, nw, sizeof nw);
            sh_noise *e = find_noise(r, h->rt->route, nw);
            if (e)
                e->count++;
        }
        if (h->diffs->total) {
            count(r, h->rt, "diffs", &r->diffs);
            for (size_t k = 0; k < h->diffs->n; k++)
                list_diff(r, h->id, h->rt, h->target, h->diffs->v[k].where, h->diffs->v[k].expected,
                          h->diffs->v[k].actual);
        } else {
            count(r, h->rt, "matched", &r->matched);
        }
        cmp_list_clear(&moved);
        cmp_list_clear(h->diffs);
        free(h->diffs);
        free(h->target);
    }
    r->n_held = 0;
}

/* "tapedeck-shadow: URL" from the first file's warcinfo (tapedeck-proxy writes it), into out. */
static void shadow_url(const capset *s, char *out, size_t outsz)
{
    snprintf(out, outsz, "the recorded shadow");
    capreader *cr = capset_nfiles(s) ? capreader_open(capset_file(s, 0), NULL, NULL, 0) : NULL;
    warc_record rec;
    if (cr && capreader_next_record(cr, &rec) == 1) {
        const warc_record *wi = capreader_warcinfo(cr);
        const char *b = wi && wi->block ? wi->block : NULL, *p = b ? strstr(b, "tapedeck-shadow: ") : NULL;
        if (p) {
            p += 17;
            snprintf(out, outsz, "%.*s", (int)strcspn(p, "\r\n"), p);
        }
        warc_record_clear(&rec);
    }
    capreader_free(cr);
}

static int run(sh_run *r, char *err, size_t errlen)
{
    const check_opts *o = r->o;
    char url[512];
    capset *s = capset_open(o->captures, o->n_captures, err, errlen);
    if (!s)
        return -1;
    shadow_url(s, url, sizeof url);
    r->report = report_new("shadow", url);
    r->prim = hist_new();
    r->shd = hist_new();
    r->cfg = (cmp_cfg){.ignore = o->ignore, .ignore_header = o->ignore_header, .n_ignore_header = o->n_ignore_header,
                       .compare_header = o->compare_header, .n_compare_header = o->n_compare_header,
                       .jd = jsondiff_ctx_new()};
    if (!r->report || !r->prim || !r->shd || !r->cfg.jd) {
        snprintf(err, errlen, "out of memory");
        capset_free(s);
        return -1;
    }
    exchange x;
    int rc;
    while ((rc = capset_next(s, &x)) == 1) {
        judge(r, &x);
        exchange_clear(&x);
    }
    if (rc < 0)
        snprintf(err, errlen, "%s", capset_error(s));
    capset_free(s);
    return rc < 0 ? -1 : 0;
}

static void finish(sh_run *r, int pass, double rate)
{
    const check_opts *o = r->o;
    report_set_latency(r->report, r->shd, r->shd);
    report_set_latency_named(r->report, "primary", r->prim);
    for (size_t i = 0; i < r->n_routes; i++) {
        report_set_latency(r->routes[i]->ep, r->routes[i]->shd, NULL);
        report_set_latency_named(r->routes[i]->ep, "primary", r->routes[i]->prim);
    }
    char expr[96], observed[64];
    snprintf(expr, sizeof expr, "max_diff_rate=%s", o->max_diff_rate_text);
    snprintf(observed, sizeof observed, "%.3g%%", rate * 100);
    report_add_gate(r->report, expr, observed, pass, "exchanges whose shadow answer differs or is missing, of those judged");
    json_t *t = report_totals(r->report);
    report_count(t, "requests", (json_int_t)r->requests);
    report_count(t, "matched", (json_int_t)r->matched);
    report_count(t, "diffs", (json_int_t)r->diffs);
    report_count(t, "noise", (json_int_t)r->noisy);
    report_count(t, "errors", (json_int_t)r->errors);
    json_t *nl = json_array();
    for (size_t i = 0; nl && i < r->n_noise; i++)
        if (r->noise[i].count)
            json_array_append_new(nl, json_pack("{s:s,s:s,s:s,s:I}", "method", r->noise[i].method, "route",
                                                r->noise[i].route, "where", r->noise[i].where, "count",
                                                (json_int_t)r->noise[i].count));
    report_check_extras x = {
        .max_diff_rate = o->max_diff_rate_text,
        .baseline = r->with_baseline ? "the recorded shadow-baseline answers" : NULL,
        .correlated = -1,
        .show_diffs = o->show_diffs,
        .skipped = r->skipped + r->unshadowed,
        .baseline_errors = r->baseline_errors,
        .noise_method = r->with_baseline ? "baseline" : "none",
        .noise = nl,
    };
    report_set_check_extras(r->report, &x);
    report_set_verdict(r->report, pass);
}

static void run_free(sh_run *r)
{
    for (size_t i = 0; i < r->n_routes; i++) {
        hist_free(r->routes[i]->prim);
        hist_free(r->routes[i]->shd);
        free(r->routes[i]);
    }
    free(r->routes);
    classify(r); /* frees what is still held (after an error) */
    free(r->held);
    free(r->noise);
    hist_free(r->prim);
    hist_free(r->shd);
    jsondiff_ctx_free(r->cfg.jd);
    json_decref(r->report);
}

int shadow_main(int argc, char **argv)
{
    check_opts o;
    int prc = shadow_opts_parse(&o, argc, argv);
    if (prc) {
        check_opts_free(&o);
        return prc > 0 ? 0 : 2;
    }
    sh_run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    char err[512] = "";
    int status = 2;
    if (run(&r, err, sizeof err) < 0) {
        fprintf(stderr, "tapedeck-replay shadow: %s\n", err);
        goto out;
    }
    if (!r.requests) {
        fprintf(stderr, "tapedeck-replay shadow: nothing to judge: %llu exchange(s) without a shadow answer, %llu "
                        "filtered out or without a production response (was the capture recorded with "
                        "tapedeck-proxy --mirror URL --mirror-record?)\n",
                (unsigned long long)r.unshadowed, (unsigned long long)r.skipped);
        goto out;
    }
    classify(&r);
    double rate = (double)(r.diffs + r.errors) / (double)r.requests;
    int pass = rate <= o.max_diff_rate;
    finish(&r, pass, rate);
    report_print_text(r.report, stdout);
    if (report_write_files(r.report, o.report_json, o.junit, o.html, err, sizeof err) < 0) {
        fprintf(stderr, "tapedeck-replay shadow: %s\n", err);
        goto out;
    }
    status = pass ? 0 : 1;
out:
    run_free(&r);
    check_opts_free(&o);
    return status;
}
