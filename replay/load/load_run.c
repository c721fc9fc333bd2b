/* load_run: the open-loop sender (see load_run.h). */
#include "load_run.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "load_sched.h"
#include "tdtime.h"

#define BATCH 20000               /* due items handled per timer callback before yielding to I/O */
/* At most one timer wake-up per WAKE_GAP_US: a request may leave up to this late (a tenth of the 1 ms
 * the schedule is meant to be kept to), and above 1/WAKE_GAP_US req/s one wake-up sends several. A
 * wake-up per request (timer re-armed, loop asleep and woken: two syscalls and a context switch, dear
 * in a VM) was over half of the replayer's CPU per request below its top rate, and at 80% of that rate
 * left it no idle time: every stall then queued requests behind busy connections, milliseconds of send
 * lag. Sends falling due between wake-ups also leave whenever a response wakes the loop (on_done). */
#define WAKE_GAP_US 100
#define MAX_QUEUE (4u << 20)      /* due requests waiting for an in-flight slot */
#define UNREACHABLE_AFTER 20      /* connect failures with no response at all: the target is down */

typedef struct run run;

typedef struct rctx { /* one request in flight on one side */
    run *r;
    size_t idx;
    int64_t due; /* µs from start */
    int side;    /* 0 target, 1 baseline */
    struct rctx *next_free;
} rctx;

typedef struct qitem {
    size_t idx;
    int64_t due;
} qitem;

struct run {
    const load_opts *o;
    const load_set *set;
    load_result *res;
    struct event_base *base;
    engine *eng[2];
    int nsides;
    load_sched *s;
    struct event *timer, *tick, *sigint, *sigterm;
    int tfd;          /* the send timer: a timerfd of our own, armed only when its instant changes */
    int64_t armed;    /* monotonic µs it is armed for; 0 disarmed, -1 fired (re-arm) */
    int64_t last_wake; /* monotonic µs of its last wake-up */
    int64_t t0; /* monotonic µs at the start */
    int have_next;
    size_t next_idx;
    int64_t next_due;
    rctx *ctxs, *free_ctx;
    size_t inflight; /* contexts in flight, both sides */
    size_t side_inflight[2];
    size_t max_inflight; /* per side: --max-inflight, lowered to what the open-file limit allows */
    qitem *q;
    size_t qhead, qlen, qcap;
    uint64_t pairs; /* alternates which side goes first */
    int stopping;
    int progress;
    uint64_t connect_failures;
};

static int64_t now_rel(const run *r)
{
    return tdtime_mono_us() - r->t0;
}

static void finish_if_done(run *r)
{
    if ((r->stopping || !r->have_next) && r->qlen == 0 && r->inflight == 0)
        event_base_loopbreak(r->base);
}

static void stop(run *r)
{
    r->stopping = 1;
    r->have_next = 0;
    r->qlen = 0;
    event_base_loopbreak(r->base); /* what is in flight is cancelled by engine_free */
}

static void on_done(void *user, const engine_response *resp);

static void submit_side(run *r, size_t idx, int64_t due, int side)
{
    const load_req *q = &r->set->reqs[idx];
    rctx *c = r->free_ctx;
    load_stats *st = side ? &r->res->base : &r->res->cand;
    if (!c) { /* cannot happen: contexts are sized for max_inflight on every side */
        load_stats_record(st, q->route, due, 0, "client: no request slot", 0, 0);
        return;
    }
    r->free_ctx = c->next_free;
    c->r = r;
    c->idx = idx;
    c->due = due;
    c->side = side;
    engine_request er = {.method = r->set->methods[q->method], .target = q->target, .headers = q->headers,
                         .n_headers = q->n_headers, .body = load_req_body(q), .body_len = q->body_len};
    if (engine_submit(r->eng[side], &er, on_done, c) < 0) {
        c->next_free = r->free_ctx;
        r->free_ctx = c;
        load_stats_record(st, q->route, due, 0, "client: could not start the request (out of memory?)", 0, 0);
        return;
    }
    r->inflight++;
    if (++r->side_inflight[side] > r->res->inflight_peak)
        r->res->inflight_peak = r->side_inflight[side];
}

static void send_now(run *r, size_t idx, int64_t due)
{
    int64_t now = now_rel(r);
    hist_record(r->res->lag, now - due);
    if (r->res->sent == 0)
        r->res->first_send_us = now;
    r->res->last_send_us = now;
    r->res->sent++;
    if (r->nsides == 2) { /* same moment, alternating order so neither side is always second */
        int first = (int)(r->pairs++ & 1);
        submit_side(r, idx, due, first);
        submit_side(r, idx, due, !first);
    } else {
        submit_side(r, idx, due, 0);
    }
}

/* HTTP/1.1 carries one request per connection at a time, and the engine has a connection for each of
 * --max-inflight: more in flight would only queue inside the engine, where the wait would count as
 * service time. So a request goes out when a slot is free; until then it waits here, and the wait is
 * measured as send lag. */
static int has_slot(const run *r)
{
    return r->inflight + (size_t)r->nsides <= r->max_inflight * (size_t)r->nsides;
}

static void dispatch(run *r, size_t idx, int64_t due)
{
    if (r->qlen == 0 && has_slot(r)) {
        send_now(r, idx, due);
        return;
    }
    if (r->qlen == r->qcap) {
        size_t ncap = r->qcap ? r->qcap * 2 : 1024;
        qitem *nq = ncap <= MAX_QUEUE ? malloc(ncap * sizeof *nq) : NULL;
        if (!nq) { /* the client itself is overwhelmed: count it, never wait silently */
            load_stats_record(&r->res->cand, r->set->reqs[idx].route, due, 0, "client: send queue full", 0, 0);
            return;
        }
        for (size_t i = 0; i < r->qlen; i++)
            nq[i] = r->q[(r->qhead + i) % r->qcap];
        free(r->q);
        r->q = nq;
        r->qhead = 0;
        r->qcap = ncap;
    }
    r->q[(r->qhead + r->qlen++) % r->qcap] = (qitem){idx, due};
}

static void drain_queue(run *r)
{
    while (r->qlen && has_slot(r)) {
        qitem it = r->q[r->qhead];
        r->qhead = (r->qhead + 1) % r->qcap;
        r->qlen--;
        send_now(r, it.idx, it.due);
    }
}

/* libevent's precise timers would do the job but re-program their timerfd on every turn of the loop,
 * response or not (libevent 2.1, epoll backend): that is one more syscall per turn. This one is set
 * only when the next wake-up moves. */
static void arm_timer(run *r)
{
    int64_t at = 0;
    if (r->have_next) {
        at = r->t0 + r->next_due;
        if (at < r->last_wake + WAKE_GAP_US)
            at = r->last_wake + WAKE_GAP_US;
        if (at <= 0)
            at = 1;
    }
    if (at == r->armed)
        return;
    r->armed = at;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(at / 1000000);
    its.it_value.tv_nsec = (long)(at % 1000000) * 1000;
    timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL); /* also clears a past expiry */
}

static void fetch_next(run *r)
{
    r->have_next = !r->stopping && load_sched_next(r->s, &r->next_idx, &r->next_due);
}

/* Hands over every request due by now (a bounded batch). */
static void send_due(run *r)
{
    int64_t now = now_rel(r);
    int n = 0;
    while (r->have_next && r->next_due <= now && n++ < BATCH) {
        if (r->res->scheduled == 0)
            r->res->first_due_us = r->next_due;
        r->res->last_due_us = r->next_due;
        r->res->scheduled++;
        dispatch(r, r->next_idx, r->next_due);
        fetch_next(r);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    run *r = arg;
    r->last_wake = tdtime_mono_us();
    r->armed = -1; /* expired: readable until set again */
    send_due(r);
    arm_timer(r);
    finish_if_done(r);
}

static void on_done(void *user, const engine_response *resp)
{
    rctx *c = user;
    run *r = c->r;
    const load_req *q = &r->set->reqs[c->idx];
    load_stats *st = c->side ? &r->res->base : &r->res->cand;
    int64_t due_abs = r->t0 + c->due;
    if (resp->ok)
        load_stats_record(st, q->route, c->due, resp->status ? resp->status : 1, NULL,
                          resp->done_us - due_abs, resp->done_us - resp->sent_us);
    else
        load_stats_record(st, q->route, c->due, 0, resp->error, 0, 0);
    c->next_free = r->free_ctx;
    r->free_ctx = c;
    r->inflight--;
    r->side_inflight[c->side]--;

    if (!resp->ok && resp->error_kind == ENGINE_ERR_CONNECT) {
        r->connect_failures++;
        if (st->responses == 0 && r->connect_failures >= UNREACHABLE_AFTER && !r->res->unreachable) {
            r->res->unreachable = 1;
            snprintf(r->res->reason, sizeof r->res->reason, "%s unreachable: %s",
                     c->side ? r->o->compare : r->o->target, resp->error ? resp->error : "connect failed");
            stop(r);
            return;
        }
    }
    if (!r->stopping) {
        drain_queue(r);
        /* the loop is awake anyway: what fell due meanwhile leaves now, not at the next wake-up (the
         * timer stays as it is; firing with less to do costs less than re-arming it here) */
        send_due(r);
    }
    finish_if_done(r);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    run *r = arg;
    const load_stats *st = &r->res->cand;
    double el = (double)now_rel(r) / 1e6;
    fprintf(stderr, "\r\033[K%6.1fs  sent %llu  %.1f req/s  p99 %.2f ms  errors %llu  in flight %zu%s", el,
            (unsigned long long)r->res->sent, el > 0 ? (double)r->res->sent / el : 0.0,
            (double)hist_percentile(st->lat, 99) / 1000.0,
            (unsigned long long)(st->errors + st->http_5xx), r->inflight / (size_t)r->nsides,
            r->qlen ? "  (waiting: target slower than the schedule)" : "");
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    run *r = arg;
    r->res->interrupted = 1;
    stop(r);
}

/* Requests in flight per side: --max-inflight, as far as the open-file limit allows a connection for
 * each (the soft limit is raised towards the hard one first; 64 descriptors stay for the rest). */
static size_t fit_open_files(const load_opts *o, int nsides)
{
    size_t want = (size_t)o->max_inflight;
    if (o->http2)
        return want; /* the connections are --connections, whatever is in flight */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    rlim_t need = (rlim_t)want * (rlim_t)nsides + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return want;
    size_t fit = rl.rlim_cur > 64 + (rlim_t)nsides ? (size_t)((rl.rlim_cur - 64) / (rlim_t)nsides) : 1;
    if (fit < want)
        fprintf(stderr, "tapedeck-replay load: the open-file limit (%llu) allows %zu requests in flight, not %zu\n",
                (unsigned long long)rl.rlim_cur, fit, want);
    return fit < want ? fit : want;
}

static int64_t expected_run_us(const load_opts *o, const load_set *set)
{
    if (o->duration_us)
        return o->duration_us;
    if (o->rate > 0)
        return (int64_t)((double)set->n * 1e6 / o->rate);
    int64_t lo = set->start_us[0], hi = set->start_us[0];
    for (size_t i = 1; i < set->n; i++) {
        if (set->start_us[i] < lo)
            lo = set->start_us[i];
        if (set->start_us[i] > hi)
            hi = set->start_us[i];
    }
    return (int64_t)((double)(hi - lo) / o->speed);
}

int load_run(const load_opts *o, const load_set *set, load_result *res, char *err, size_t errlen)
{
    run r;
    int rc = -1;
    struct event_config *cfg = NULL;
    memset(&r, 0, sizeof r);
    r.tfd = -1;
    memset(res, 0, sizeof *res);
    r.o = o;
    r.set = set;
    r.res = res;
    r.nsides = o->compare ? 2 : 1;
    res->has_base = r.nsides == 2;
    int64_t expect = expected_run_us(o, set);
    int64_t slice = tline_pick_slice(expect);
    int64_t block = expect / LOAD_BLOCKS + 1;
    if (!(res->lag = hist_new()) || load_stats_init(&res->cand, set->nroutes, slice, block) ||
        (res->has_base && load_stats_init(&res->base, set->nroutes, slice, block))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    load_sched_opts so = {o->speed, o->rate, o->duration_us, o->shard_k, o->shard_n};
    if (!(r.s = load_sched_new(set->start_us, set->conn, set->n, &so, err, errlen)))
        goto out;
    r.max_inflight = fit_open_files(o, r.nsides);
    size_t nctx = r.max_inflight * (size_t)r.nsides;
    if (!(r.ctxs = calloc(nctx, sizeof *r.ctxs))) {
        snprintf(err, errlen, "out of memory (--max-inflight %d)", o->max_inflight);
        goto out;
    }
    for (size_t i = 0; i < nctx; i++) {
        r.ctxs[i].next_free = r.free_ctx;
        r.free_ctx = &r.ctxs[i];
    }
    /* libevent's own timers (request timeouts, the progress tick) may be as coarse as epoll's
     * milliseconds: the schedule has its own timerfd (arm_timer) */
    if (!(cfg = event_config_new()) || !(r.base = event_base_new_with_config(cfg))) {
        snprintf(err, errlen, "cannot create the event loop");
        goto out;
    }
    const char *urls[2] = {o->target, o->compare};
    for (int i = 0; i < r.nsides; i++) {
        engine_opts eo = {0};
        eo.target = urls[i];
        eo.timeout_ms = (long)(o->timeout_us / 1000);
        /* HTTP/1.1: a connection per request in flight (opened as needed); h2 multiplexes on these */
        eo.max_connections = o->http2 ? o->connections : (int)r.max_inflight;
        eo.http2 = o->http2;
        eo.insecure = o->insecure;
        eo.kind = o->engine_curl ? ENGINE_CURL : ENGINE_AUTO;
        char e2[256];
        if (!(r.eng[i] = engine_new(r.base, &eo, e2, sizeof e2))) {
            snprintf(err, errlen, "%s: %s", urls[i], e2);
            goto out;
        }
    }
    r.progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    if ((r.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot create a timer: %s", strerror(errno));
        goto out;
    }
    if (!(r.timer = event_new(r.base, r.tfd, EV_READ | EV_PERSIST, on_timer, &r)) || event_add(r.timer, NULL) ||
        !(r.sigint = evsignal_new(r.base, SIGINT, on_signal, &r)) ||
        !(r.sigterm = evsignal_new(r.base, SIGTERM, on_signal, &r)) ||
        (r.progress && !(r.tick = event_new(r.base, -1, EV_PERSIST, on_tick, &r)))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    evsignal_add(r.sigint, NULL);
    evsignal_add(r.sigterm, NULL);
    if (r.tick) {
        struct timeval one = {1, 0};
        evtimer_add(r.tick, &one);
    }
    /* The schedule's instant 0 on the monotonic clock. --start-at pins it to a wall-clock instant, so
     * that shards on many machines (clocks kept by NTP) send one schedule: a start still to come is
     * waited for by the first timer; one already past makes what fell due meanwhile late, and the lag
     * says so (nothing is shifted). */
    int64_t wall = tdtime_now_us(), mono = tdtime_mono_us();
    res->started_wall_us = o->start_at_us ? o->start_at_us : wall;
    r.t0 = mono + (res->started_wall_us - wall);
    fetch_next(&r);
    if (r.have_next) {
        arm_timer(&r);
        event_base_dispatch(r.base);
    }
    res->elapsed_us = now_rel(&r);
    if (r.tick) {
        on_tick(-1, 0, &r);
        fputc('\n', stderr);
    }
    rc = 0;
out:
    for (int i = 0; i < 2; i++)
        engine_free(r.eng[i]); /* cancels what is still in flight after a stop */
    if (r.timer)
        event_free(r.timer);
    if (r.tfd >= 0)
        close(r.tfd);
    if (r.tick)
        event_free(r.tick);
    if (r.sigint)
        event_free(r.sigint);
    if (r.sigterm)
        event_free(r.sigterm);
    if (r.base)
        event_base_free(r.base);
    if (cfg)
        event_config_free(cfg);
    load_sched_free(r.s);
    free(r.ctxs);
    free(r.q);
    return rc;
}

void load_result_free(load_result *res)
{
    hist_free(res->lag);
    load_stats_free(&res->cand);
    if (res->has_base)
        load_stats_free(&res->base);
    memset(res, 0, sizeof *res);
}
