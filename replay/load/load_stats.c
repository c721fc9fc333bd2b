/* load_stats: measurements of one side of a load run. */
#include "load_stats.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int load_stats_init(load_stats *s, size_t nroutes, int64_t slice_us, int64_t block_us)
{
    memset(s, 0, sizeof *s);
    s->block_us = block_us > 0 ? block_us : 1;
    if (!(s->lat = hist_new()) || !(s->svc = hist_new()) || !(s->tl = tline_new(slice_us)) ||
        !(s->routes = calloc(nroutes ? nroutes : 1, sizeof *s->routes)))
        return -1;
    s->nroutes = nroutes;
    for (size_t i = 0; i < nroutes; i++)
        if (!(s->routes[i].lat = hist_new()) || !(s->routes[i].svc = hist_new()))
            return -1;
    return 0;
}

void load_stats_free(load_stats *s)
{
    hist_free(s->lat);
    hist_free(s->svc);
    for (int b = 0; b < LOAD_BLOCKS; b++)
        hist_free(s->blk[b]);
    tline_free(s->tl);
    if (s->routes)
        for (size_t i = 0; i < s->nroutes; i++) {
            hist_free(s->routes[i].lat);
            hist_free(s->routes[i].svc);
            for (int b = 0; b < LOAD_BLOCKS; b++)
                hist_free(s->routes[i].blk[b]);
        }
    free(s->routes);
    memset(s, 0, sizeof *s);
}

void load_stats_record(load_stats *s, uint32_t route, int64_t at_us, int status, const char *error,
                       int64_t latency_us, int64_t service_us)
{
    load_route_stats *r = &s->routes[route];
    s->requests++;
    r->requests++;
    if (status == 0) {
        s->errors++;
        r->errors++;
        if (!s->first_error[0])
            snprintf(s->first_error, sizeof s->first_error, "%s", error ? error : "transport failure");
        tline_record(s->tl, at_us, -1);
        return;
    }
    s->responses++;
    r->responses++;
    s->status[status > 0 && status < 600 ? status : 0]++;
    if (status >= 500) {
        s->http_5xx++;
        r->http_5xx++;
    }
    int64_t b = at_us / s->block_us;
    b = b < 0 ? 0 : b >= LOAD_BLOCKS ? LOAD_BLOCKS - 1 : b;
    hist *lat[4] = {s->lat, r->lat};
    size_t nl = 2;
    if (s->blk[b] || (s->blk[b] = hist_new())) /* out of memory: the block test has less to go on */
        lat[nl++] = s->blk[b];
    if (r->blk[b] || (r->blk[b] = hist_new()))
        lat[nl++] = r->blk[b];
    hist_record_all(lat, nl, latency_us); /* per response: the bucket found once, not four times */
    hist *svc[2] = {s->svc, r->svc};
    hist_record_all(svc, 2, service_us);
    tline_record(s->tl, at_us, latency_us);
}

static void set_blocks(json_t *obj, hist *const *blk)
{
    json_t *a = json_array();
    if (!a)
        return;
    for (int b = 0; b < LOAD_BLOCKS; b++)
        json_array_append_new(a, blk[b] ? hist_to_json(blk[b]) : json_null());
    json_object_set_new(json_object_get(obj, "histogram"), "latency_blocks", a);
}

static void counters(json_t *o, uint64_t req, uint64_t resp, uint64_t err, uint64_t s5)
{
    json_object_set_new(o, "requests", json_integer((json_int_t)req));
    json_object_set_new(o, "matched", json_integer((json_int_t)resp));
    json_object_set_new(o, "diffs", json_integer(0));
    json_object_set_new(o, "noise", json_integer(0));
    json_object_set_new(o, "errors", json_integer((json_int_t)err));
    json_object_set_new(o, "http_5xx", json_integer((json_int_t)s5));
}

int load_stats_to_json(const load_stats *s, const load_set *set, json_t *obj, json_t *report,
                       const char *baseline_key)
{
    json_t *totals = json_object();
    json_t *status = json_object();
    if (!totals || !status) {
        json_decref(totals);
        json_decref(status);
        return -1;
    }
    counters(totals, s->requests, s->responses, s->errors, s->http_5xx);
    report_set_key(obj, "totals", totals);
    for (int c = 0; c < 600; c++)
        if (s->status[c]) {
            char k[8];
            snprintf(k, sizeof k, "%d", c);
            json_object_set_new(status, c ? k : "other", json_integer((json_int_t)s->status[c]));
        }
    report_set_key(obj, "status", status);
    report_set_latency(obj, s->lat, s->svc);
    set_blocks(obj, s->blk);
    report_set_key(obj, "timeline", tline_to_json(s->tl));
    if (s->first_error[0])
        report_set_key(obj, "first_error", json_string(s->first_error));

    for (size_t i = 0; i < s->nroutes; i++) {
        const load_route_stats *r = &s->routes[i];
        if (!r->requests)
            continue;
        json_t *ep = report_endpoint(report, set->routes[i].method, set->routes[i].path);
        if (!ep)
            return -1;
        json_t *dst = ep;
        if (baseline_key) {
            dst = json_object();
            if (!dst || json_object_set_new(ep, baseline_key, dst))
                return -1;
        }
        counters(dst, r->requests, r->responses, r->errors, r->http_5xx);
        report_set_latency(dst, r->lat, r->svc);
        set_blocks(dst, r->blk);
    }
    return 0;
}
