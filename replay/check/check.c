/* check: the integration gate. Loads the capture, groups exchanges by recorded connection, replays the
 * groups in parallel (each group in its recorded order, one exchange at a time, on a connection of its
 * own that is closed when the group ends), and judges each response against the recording
 * (check_item). Exit 0 pass, 1 diffs over the limit, 2 trouble. */
#include "check.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capset.h"
#include "check_int.h"
#include "httpmsg_facts.h"
#include "td_assert.h"
#include "report.h"
#include "tdtime.h"

static void start_next_groups(check_run *r);
static void submit_copy(check_run *r, check_item *it, int which);

/* Sends the group's current exchange, unless it is a write and an earlier recorded write has not
 * finished: then the group is parked (it does not count as active) until that write is done. */
static void group_send(check_run *r, check_group *g)
{
    size_t i = g->idx[g->next];
    check_item *it = &r->items[i];
    if (!httpmsg_method_is_safe(it->method) && r->write_next < r->n_writes && r->writes[r->write_next] != i) {
        TD_ASSERT(!g->parked && r->active_groups > 0);
        g->parked = 1;
        r->active_groups--;
        return;
    }
    /* A write goes only as the earliest unfinished one in recorded order. */
    TD_ASSERT(httpmsg_method_is_safe(it->method) || (r->write_next < r->n_writes && r->writes[r->write_next] == i));
    submit_copy(r, it, COPY_TARGET);
    if (r->o->baseline && !r->fatal[0])
        submit_copy(r, it, COPY_BASELINE);
}

/* A write finished: the next one in recorded order may go, if its group is waiting for it. */
static void writes_advance(check_run *r)
{
    while (r->write_next < r->n_writes && r->items[r->writes[r->write_next]].finished)
        r->write_next++;
    if (r->write_next == r->n_writes)
        return;
    check_item *w = &r->items[r->writes[r->write_next]];
    check_group *g = w->group;
    TD_ASSERT(r->write_next < r->n_writes);
    if (g->parked && g->idx[g->next] == r->writes[r->write_next]) {
        g->parked = 0;
        r->active_groups++;
        group_send(r, g);
    }
}

static void item_done(check_run *r, check_item *it)
{
    TD_ASSERT(!it->finished && it->pending == 0 && !it->group->parked);
    check_item_finish(r, it);
    r->n_finished++;
    /* Judged: the recorded response and the answers are not needed any more. */
    exchange_release_response(it->x);
    check_item_release_copies(it);
    it->finished = 1;
    check_group *g = it->group;
    g->next++;
    if (r->fatal[0])
        return;
    if (!httpmsg_method_is_safe(it->method))
        writes_advance(r);
    /* The next exchange of this connection, skipping those not replayed. */
    while (g->next < g->n && r->items[g->idx[g->next]].skip)
        g->next++;
    if (g->next < g->n) {
        group_send(r, g);
        if (!g->parked)
            return;
    } else {
        /* The group is done: its lane goes back to the free stack, its slot to the next group. */
        TD_ASSERT(r->lanes[g->lane].busy && r->n_free < r->n_lanes && r->active_groups > 0);
        r->lanes[g->lane].busy = 0;
        r->free_lanes[r->n_free++] = (size_t)g->lane;
        r->active_groups--;
    }
    start_next_groups(r);
    if (!r->active_groups)
        event_base_loopbreak(r->base);
}

#define NOISE_GAP_US 10000

static void send_second_copy(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    check_item *it = arg;
    check_run *r = it->run;
    it->pending--; /* submit_copy counts it again */
    if (!r->fatal[0])
        submit_copy(r, it, COPY_TARGET2);
}

static void on_response(void *user, const engine_response *resp)
{
    check_copy *c = user;
    check_item *it = c->item;
    int which = c->which;
    check_run *r = it->run;
    c->done = 1;
    c->ok = resp->ok;
    c->kind = resp->error_kind;
    c->service_us = resp->done_us - resp->sent_us;
    if (resp->ok) {
        c->raw = malloc(resp->raw_len + 1);
        if (c->raw) {
            memcpy(c->raw, resp->raw, resp->raw_len);
            c->raw[resp->raw_len] = '\0';
            c->raw_len = resp->raw_len;
            c->head_only = resp->http_version == 20 ? resp->head_len : 0;
        } else {
            c->ok = 0;
            c->error = strdup("out of memory");
        }
    } else {
        free(c->error);
        c->error = strdup(resp->error ? resp->error : "transport failure");
        if (resp->error_kind == ENGINE_ERR_CONNECT && !r->fatal[0]) {
            snprintf(r->fatal, sizeof r->fatal, "%s %s unreachable: %s",
                     which == COPY_BASELINE ? "baseline" : "target",
                     which == COPY_BASELINE ? r->o->baseline : r->o->target, resp->error);
            event_base_loopbreak(r->base);
        }
    }
    it->pending--;
    if (r->fatal[0])
        return;
    /* --learn-noise: the second copy goes out once the first is in, and at least NOISE_GAP_US after it
     * was sent, so that a clock with millisecond resolution has moved. Only safe methods are sent
     * twice: a second POST would create a second object and change every answer after it. */
    if (which == COPY_TARGET && r->o->learn_noise && c->ok && httpmsg_method_is_safe(it->method)) {
        int64_t wait = resp->sent_us + NOISE_GAP_US - tdtime_mono_us();
        struct timeval tv = {0, wait > 0 ? (long)wait : 0};
        it->pending++; /* the second copy, from now on */
        if (wait <= 0 || event_base_once(r->base, -1, EV_TIMEOUT, send_second_copy, it, &tv) < 0)
            send_second_copy(-1, 0, it);
        return;
    }
    if (!it->pending)
        item_done(r, it);
}

static void submit_copy(check_run *r, check_item *it, int which)
{
    check_req q;
    correlate *corr = which == COPY_BASELINE ? r->corr_baseline : r->corr_target;
    if (check_req_build(it, corr, &q) < 0) {
        snprintf(r->fatal, sizeof r->fatal, "out of memory");
        event_base_loopbreak(r->base);
        return;
    }
    check_copy *c = &it->copy[which];
    c->item = it;
    c->which = which;
    c->used = 1;
    it->pending++;
    if (which == COPY_TARGET)
        r->n_replayed++;
    /* A recorded connection gets a connection of its own: new at its first exchange, closed after its
     * last (after the --learn-noise second copy, when one will follow). */
    check_group *g = it->group;
    int dest = which == COPY_BASELINE;
    if (g->known) {
        q.req.fresh_connection = !g->opened[dest];
        int last = g->next == g->last;
        int second_follows = which == COPY_TARGET && r->o->learn_noise && httpmsg_method_is_safe(it->method);
        q.req.close_connection = last && !second_follows;
    }
    g->opened[dest] = 1;
    engine *e = dest ? r->lanes[g->lane].baseline : r->lanes[g->lane].target;
    if (engine_submit(e, &q.req, on_response, c) < 0) {
        it->pending--;
        snprintf(r->fatal, sizeof r->fatal, "could not start a request to %s",
                 which == COPY_BASELINE ? r->o->baseline : r->o->target);
        event_base_loopbreak(r->base);
    }
    check_req_free(&q);
}

/* The lane's engines, made on first use (max 1 connection each). 0 or -1. */
static int lane_open(check_run *r, check_lane *ln)
{
    const check_opts *o = r->o;
    char err[256];
    engine_opts eo = {.target = o->target, .timeout_ms = o->timeout_ms, .http2 = o->http2,
                      .insecure = o->insecure, .max_connections = 1,
                      .kind = o->engine_curl ? ENGINE_CURL : ENGINE_AUTO};
    if (!ln->target && !(ln->target = engine_new(r->base, &eo, err, sizeof err)))
        return -1;
    eo.target = o->baseline;
    if (o->baseline && !ln->baseline && !(ln->baseline = engine_new(r->base, &eo, err, sizeof err)))
        return -1;
    return 0;
}

static void start_next_groups(check_run *r)
{
    size_t limit = r->o->sequential ? 1 : (size_t)r->o->concurrency;
    while (!r->fatal[0] && r->active_groups < limit && r->next_group < r->n_groups) {
        check_group *g = &r->groups[r->next_group++];
        while (g->next < g->n && r->items[g->idx[g->next]].skip)
            g->next++;
        if (g->next >= g->n)
            continue;
        size_t l = r->n_free ? r->free_lanes[--r->n_free] : r->lanes_used++;
        if (l >= r->n_lanes || lane_open(r, &r->lanes[l]) < 0) {
            if (!r->fatal[0])
                snprintf(r->fatal, sizeof r->fatal, "out of memory");
            event_base_loopbreak(r->base);
            return;
        }
        TD_ASSERT(!r->lanes[l].busy);
        r->lanes[l].busy = 1;
        g->lane = (int)l;
        r->active_groups++;
        group_send(r, g);
    }
}

static int cmp_conn(const void *a, const void *b, void *ctx)
{
    const check_run *r = ctx;
    const exchange *x = r->items[*(const size_t *)a].x, *y = r->items[*(const size_t *)b].x;
    if (x->conn_id != y->conn_id)
        return x->conn_id < y->conn_id ? -1 : 1;
    if (x->conn_seq != y->conn_seq)
        return x->conn_seq < y->conn_seq ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_first_id(const void *a, const void *b)
{
    const check_group *g = a, *h = b;
    return g->idx[0] < h->idx[0] ? -1 : g->idx[0] > h->idx[0];
}

/* Groups: one per recorded connection (an unknown connection, id 0, is one group per exchange), ordered
 * by their first exchange; --sequential: one group holding everything in recorded order. */
static int build_groups(check_run *r)
{
    size_t n = r->n_items;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    r->groups = calloc(n ? n : 1, sizeof *r->groups);
    if (!order || !r->groups) {
        free(order);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (r->o->sequential) {
        r->groups[0].idx = order;
        r->groups[0].n = n;
        r->n_groups = n ? 1 : 0;
    } else {
        qsort_r(order, n, sizeof *order, cmp_conn, r);
        size_t i = 0;
        while (i < n) {
            size_t j = i + 1;
            uint64_t conn = r->items[order[i]].x->conn_id;
            while (conn && j < n && r->items[order[j]].x->conn_id == conn)
                j++;
            check_group *g = &r->groups[r->n_groups++];
            g->idx = malloc((j - i) * sizeof *g->idx);
            if (!g->idx) {
                free(order);
                return -1;
            }
            memcpy(g->idx, order + i, (j - i) * sizeof *g->idx);
            g->n = j - i;
            i = j;
        }
        free(order);
        qsort(r->groups, r->n_groups, sizeof *r->groups, cmp_first_id);
    }
    for (size_t g = 0; g < r->n_groups; g++) {
        check_group *gr = &r->groups[g];
        for (size_t k = 0; k < gr->n; k++) {
            r->items[gr->idx[k]].group = gr;
            if (!r->items[gr->idx[k]].skip)
                gr->last = k;
        }
        gr->known = !r->o->sequential && gr->n && r->items[gr->idx[0]].x->conn_id != 0;
    }
    return 0;
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    check_run *r = arg;
    fprintf(stderr, "\rcheck: %zu/%zu exchanges, %llu differ%s, %llu errors ", r->n_finished,
            r->n_items - r->n_skipped, (unsigned long long)(check_total(r, "diffs") + r->unjudged),
            r->o->baseline || r->o->learn_noise ? " (noise not yet set apart)" : "",
            (unsigned long long)check_total(r, "errors"));
}

static void run_free(check_run *r)
{
    for (size_t i = 0; i < r->n_items; i++)
        check_item_free(&r->items[i]);
    free(r->items);
    if (r->o && r->o->sequential) {
        if (r->n_groups)
            free(r->groups[0].idx);
    } else {
        for (size_t g = 0; g < r->n_groups; g++)
            free(r->groups[g].idx);
    }
    free(r->groups);
    for (size_t l = 0; l < r->n_lanes; l++) {
        engine_free(r->lanes[l].target);
        engine_free(r->lanes[l].baseline);
    }
    free(r->lanes);
    free(r->free_lanes);
    free(r->writes);
    correlate_free(r->corr_target);
    correlate_free(r->corr_baseline);
    if (r->base)
        event_base_free(r->base);
    capset_free_all(r->xs, r->n_xs);
    json_decref(r->report);
    hist_free(r->service);
    free(r->noise_list);
    free(r->rnoise);
    jsondiff_ctx_free(r->cfg.jd);
}

/* Everything up to the replay: capture, items, groups, correlation scan, engines. 0 or -1 (err). */
static int run_setup(check_run *r, char *err, size_t errlen)
{
    const check_opts *o = r->o;
    if (capset_load_all(o->captures, o->n_captures, &r->xs, &r->n_xs, err, errlen) < 0)
        return -1;
    r->items = calloc(r->n_xs ? r->n_xs : 1, sizeof *r->items);
    if (!r->items)
        goto oom;
    r->n_items = r->n_xs;
    for (size_t i = 0; i < r->n_xs; i++) {
        if (check_item_prepare(r, &r->items[i], &r->xs[i], err, errlen) < 0)
            return -1;
        r->n_skipped += r->items[i].skip;
    }
    if (build_groups(r) < 0)
        goto oom;
    r->cfg.ignore = o->ignore;
    r->cfg.ignore_header = o->ignore_header;
    r->cfg.n_ignore_header = o->n_ignore_header;
    r->cfg.compare_header = o->compare_header;
    r->cfg.n_compare_header = o->n_compare_header;
    if (!(r->cfg.jd = jsondiff_ctx_new()))
        goto oom;
    if (o->correlate && !o->no_diff) {
        if (!(r->corr_target = correlate_new()))
            goto oom;
        check_scan_correlation(r, r->corr_target);
        if (o->baseline) {
            if (!(r->corr_baseline = correlate_new()))
                goto oom;
            check_scan_correlation(r, r->corr_baseline);
        }
    }
    r->base = event_base_new();
    r->report = report_new("check", o->target);
    r->service = hist_new();
    if (!r->base || !r->report || !r->service)
        goto oom;
    /* A parked group keeps its lane (its connection) and leaves its slot to another group, so there
     * may be up to one lane per group. */
    r->n_lanes = r->n_groups ? r->n_groups : 1;
    r->lanes = calloc(r->n_lanes, sizeof *r->lanes);
    r->free_lanes = calloc(r->n_lanes, sizeof *r->free_lanes);
    r->writes = calloc(r->n_items ? r->n_items : 1, sizeof *r->writes);
    if (!r->lanes || !r->free_lanes || !r->writes)
        goto oom;
    r->lanes_used = 1; /* lane 0 is opened below */
    r->free_lanes[r->n_free++] = 0;
    for (size_t i = 0; i < r->n_items; i++)
        if (!r->items[i].skip && !httpmsg_method_is_safe(r->items[i].method))
            r->writes[r->n_writes++] = i;
    /* The first lane now: a target URL that cannot work is bad input, said before anything is sent. */
    engine_opts eo = {.target = o->target, .timeout_ms = o->timeout_ms, .http2 = o->http2,
                      .insecure = o->insecure, .max_connections = 1,
                      .kind = o->engine_curl ? ENGINE_CURL : ENGINE_AUTO};
    if (!(r->lanes[0].target = engine_new(r->base, &eo, err, errlen)))
        return -1;
    if (o->baseline) {
        eo.target = o->baseline;
        if (!(r->lanes[0].baseline = engine_new(r->base, &eo, err, errlen)))
            return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void finish_report(check_run *r, int pass, double rate)
{
    const check_opts *o = r->o;
    json_t *rep = r->report;
    report_set_latency(rep, r->service, r->service);
    double secs = (double)(r->t1_us - r->t0_us) / 1e6;
    double rps = secs > 0 ? (double)check_total(r, "requests") / secs : 0;
    report_set_rate(rep, rps, rps);
    char expr[96], observed[64];
    snprintf(expr, sizeof expr, "max_diff_rate=%s", o->max_diff_rate_text);
    snprintf(observed, sizeof observed, "%.3g%%", rate * 100);
    report_add_gate(rep, expr, observed, pass, "exchanges with a diff or a transport error, of those replayed");
    json_t *nl = json_array();
    for (size_t i = 0; nl && i < r->n_noise; i++)
        json_array_append_new(nl, json_pack("{s:s,s:s,s:s,s:I}", "method", r->noise_list[i].method, "route",
                                            r->noise_list[i].route, "where", r->noise_list[i].where, "count",
                                            (json_int_t)r->noise_list[i].count));
    report_check_extras x = {
        .max_diff_rate = o->max_diff_rate_text,
        .baseline = o->baseline,
        .learn_noise = o->learn_noise,
        .correlated = r->corr_target ? (long long)correlate_mappings(r->corr_target) : -1,
        .show_diffs = o->show_diffs,
        .skipped = r->n_skipped,
        .baseline_errors = r->baseline_errors,
        .duration_s = secs,
        .noise_method = o->baseline ? (o->learn_noise ? "baseline+learn" : "baseline") : o->learn_noise ? "learn" : "none",
        .noise = nl,
    };
    report_set_check_extras(rep, &x);
    report_set_verdict(rep, pass);
}

int check_main(int argc, char **argv)
{
    check_opts o;
    char err[512] = "";
    int prc = check_opts_parse(&o, argc, argv, err, sizeof err);
    if (prc == CHECK_OPTS_HELP)
        check_usage(stdout);
    else if (prc == CHECK_OPTS_VERSION)
        printf("tapedeck-replay %s\n", TAPEDECK_VERSION);
    else if (prc)
        fprintf(stderr, "tapedeck-replay check: %s\n", err);
    if (prc) {
        check_opts_free(&o);
        return prc > 0 ? 0 : 2;
    }
    check_run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    int status = 2;
    struct event *prog = NULL;
    if (run_setup(&r, err, sizeof err) < 0) {
        fprintf(stderr, "tapedeck-replay check: %s\n", err);
        goto out;
    }
    int progress = o.progress < 0 ? isatty(2) : o.progress;
    if (progress) {
        prog = event_new(r.base, -1, EV_PERSIST, on_progress, &r);
        struct timeval tv = {0, 200000};
        if (prog)
            event_add(prog, &tv);
    }
    if (r.n_items == r.n_skipped) {
        /* An empty gate would pass without looking at anything: most likely a wrong filter or file. */
        fprintf(stderr, "tapedeck-replay check: nothing to replay: %zu exchange%s in the capture, none selected "
                        "(filters --method/--path, or no recorded response to compare with)\n",
                r.n_items, r.n_items == 1 ? "" : "s");
        goto out;
    }
    r.t0_us = tdtime_mono_us();
    start_next_groups(&r);
    if (r.active_groups && !r.fatal[0])
        event_base_dispatch(r.base);
    r.t1_us = tdtime_mono_us();
    /* A run that was not stopped judged every exchange it selected, and every write in order. */
    TD_ASSERT(r.fatal[0] || (r.active_groups == 0 && r.n_finished + r.n_skipped == r.n_items &&
                             r.write_next == r.n_writes));
    check_classify(&r);
    if (progress)
        fprintf(stderr, "\r%60s\r", "");
    if (r.fatal[0]) {
        fprintf(stderr, "tapedeck-replay check: %s\n", r.fatal);
        goto out;
    }
    uint64_t requests = check_total(&r, "requests");
    double rate = requests ? (double)(check_total(&r, "diffs") + check_total(&r, "errors")) / (double)requests : 0;
    int pass = rate <= o.max_diff_rate + 1e-12;
    finish_report(&r, pass, rate);
    report_print_text(r.report, stdout);
    if (report_write_files(r.report, o.report_json, o.junit, o.html, err, sizeof err) < 0) {
        fprintf(stderr, "tapedeck-replay check: %s\n", err);
        goto out;
    }
    status = pass ? 0 : 1;
out:
    if (prog)
        event_free(prog);
    run_free(&r);
    check_opts_free(&o);
    return status;
}
