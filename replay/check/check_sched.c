/* check_sched: the replay of `check`, streaming. The capture is read as the replay goes into a bounded
 * window (CHECK_WINDOW_ITEMS exchanges, CHECK_WINDOW_BYTES) of exchanges read and not yet judged; each
 * is grouped by recorded connection as it is read, and freed once judged, so memory does not grow with
 * the capture's length. A group replays in recorded order on a lane (a connection of its own); groups
 * run in parallel up to --concurrency; writes keep their global recorded order.
 *
 * Why the window cannot deadlock: the oldest exchange in it always progresses. Everything of its group
 * before it is judged, so it heads its group's queue; every write before it is judged, so if it is a
 * write it heads the write order; its group is replaying or waiting for a slot, and slots belong to
 * groups that have work in flight (idle and parked groups give theirs up). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capfeed.h"
#include "check_int.h"
#include "connmap.h"
#include "httpmsg_facts.h"
#include "td_assert.h"
#include "tdtime.h"

static void submit_copy(check_run *r, check_item *it, int which);
static void group_send(check_run *r, check_group *g);

static void fail(check_run *r, const char *why)
{
    if (!r->fatal[0])
        snprintf(r->fatal, sizeof r->fatal, "%s", why);
    event_base_loopbreak(r->base);
}

static void wait_push(check_run *r, check_group *g)
{
    g->state = GROUP_WAITING;
    g->next_wait = NULL;
    if (r->wait_tail)
        r->wait_tail->next_wait = g;
    else
        r->wait_head = g;
    r->wait_tail = g;
}

static void idle_unlink(check_run *r, check_group *g)
{
    if (g->prev_idle)
        g->prev_idle->next_idle = g->next_idle;
    else
        r->idle_head = g->next_idle;
    if (g->next_idle)
        g->next_idle->prev_idle = g->prev_idle;
    else
        r->idle_tail = g->prev_idle;
    g->prev_idle = g->next_idle = NULL;
    r->n_idle--;
}

/* The group is over (nothing queued, nothing in flight): its lane is free again. Its connection stays
 * open until another group takes the lane (which asks for a new one) or the run ends. */
static void group_end(check_run *r, check_group *g)
{
    if (g->lane >= 0) {
        r->lanes[g->lane].busy = 0;
        r->free_lanes[r->n_free++] = (size_t)g->lane;
    }
    if (g->known)
        connmap_del(r->gmap, g->conn);
    if (g == r->seq_group)
        r->seq_group = NULL;
    if (g->prev_all)
        g->prev_all->next_all = g->next_all;
    else
        r->all_groups = g->next_all;
    if (g->next_all)
        g->next_all->prev_all = g->prev_all;
    r->live_groups--;
    free(g);
}

/* Nothing of the group is left to send for now: it waits for more of its exchanges, keeping its lane,
 * unless the capture is read to the end (then it is over). Too many idle: the oldest is over. */
static void group_idle(check_run *r, check_group *g)
{
    if (r->eof || !g->known) {
        group_end(r, g);
        return;
    }
    g->state = GROUP_IDLE;
    g->prev_idle = r->idle_tail;
    g->next_idle = NULL;
    if (r->idle_tail)
        r->idle_tail->next_idle = g;
    else
        r->idle_head = g;
    r->idle_tail = g;
    r->n_idle++;
    if (r->n_idle > CHECK_MAX_IDLE) {
        check_group *old = r->idle_head;
        idle_unlink(r, old);
        group_end(r, old);
    }
}

/* One exchange read: into its group's queue (a new group waits for a slot; an idle one wakes). */
static int place(check_run *r, check_item *it)
{
    uint64_t conn = it->x->conn_id;
    check_group *g = r->o->sequential ? r->seq_group : conn ? connmap_get(r->gmap, conn) : NULL;
    if (!g) {
        if (!(g = calloc(1, sizeof *g)))
            return -1;
        g->conn = conn;
        g->lane = -1;
        g->known = !r->o->sequential && conn != 0;
        if (g->known && connmap_put(r->gmap, conn, g) < 0) {
            free(g);
            return -1;
        }
        if (r->o->sequential)
            r->seq_group = g;
        g->next_all = r->all_groups;
        if (r->all_groups)
            r->all_groups->prev_all = g;
        r->all_groups = g;
        r->live_groups++;
        wait_push(r, g);
    } else if (g->state == GROUP_IDLE) {
        idle_unlink(r, g);
        wait_push(r, g);
    }
    it->group = g;
    it->next = NULL;
    if (g->tail)
        g->tail->next = it;
    else
        g->head = it;
    g->tail = it;
    if (it->is_write) {
        if (r->writes_tail)
            r->writes_tail->next_write = it;
        else
            r->writes_head = it;
        r->writes_tail = it;
    }
    return 0;
}

static void item_release(check_run *r, check_item *it)
{
    r->live_items--;
    r->live_bytes -= it->bytes;
    check_item_free(it);
    free(it);
}

int check_sched_fill(check_run *r)
{
    char err[512];
    size_t window = r->o->read_window ? r->o->read_window : CHECK_WINDOW_ITEMS;
    while (!r->eof && r->live_items < window && r->live_bytes < CHECK_WINDOW_BYTES) {
        exchange x;
        exchange_init(&x);
        int rc = capfeed_next(r->feed, &x);
        if (rc < 0) {
            snprintf(err, sizeof err, "%s", capfeed_error(r->feed));
            fail(r, err);
            return -1;
        }
        if (rc == 0) {
            r->eof = 1;
            /* what waits idle for more of its connection waits in vain */
            while (r->idle_head) {
                check_group *g = r->idle_head;
                idle_unlink(r, g);
                group_end(r, g);
            }
            break;
        }
        check_item *it = malloc(sizeof *it);
        if (!it) {
            exchange_clear(&x);
            fail(r, "out of memory");
            return -1;
        }
        if (check_item_prepare(r, it, &x, err, sizeof err) < 0) {
            check_item_free(it); /* it owns the exchange now */
            free(it);
            fail(r, err);
            return -1;
        }
        r->n_items++;
        if (it->skip) {
            r->n_skipped++;
            check_item_free(it);
            free(it);
            continue;
        }
        it->is_write = !httpmsg_method_is_safe(it->method);
        r->live_items++;
        r->live_bytes += it->bytes;
        if (place(r, it) < 0) {
            item_release(r, it);
            fail(r, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Sends the group's next exchange, unless it is a write and an earlier recorded write is not judged:
 * then the group is parked (off its slot) until that write is done. */
static void group_send(check_run *r, check_group *g)
{
    check_item *it = g->head;
    TD_ASSERT(it && g->state == GROUP_ACTIVE && !g->cur && g->lane >= 0);
    if (it->is_write && r->writes_head != it) {
        TD_ASSERT(r->active_groups > 0);
        g->state = GROUP_PARKED;
        r->active_groups--;
        return;
    }
    g->head = it->next;
    if (!g->head)
        g->tail = NULL;
    g->cur = it;
    submit_copy(r, it, COPY_TARGET);
    if (r->o->baseline && !r->fatal[0])
        submit_copy(r, it, COPY_BASELINE);
}

/* A write is judged: the next one in recorded order may go, if its group is parked waiting for it. */
static void writes_advance(check_run *r, check_item *done)
{
    TD_ASSERT(r->writes_head == done); /* a write goes only at the head of the write order */
    if (r->writes_head == done) {
        r->writes_head = done->next_write;
        if (!r->writes_head)
            r->writes_tail = NULL;
    }
    check_item *w = r->writes_head;
    if (!w)
        return;
    check_group *g = w->group;
    if (g->state == GROUP_PARKED && g->head == w) {
        g->state = GROUP_ACTIVE;
        r->active_groups++;
        group_send(r, g);
    }
}

static void item_done(check_run *r, check_item *it)
{
    TD_ASSERT(!it->pending && it->group->cur == it && it->group->state == GROUP_ACTIVE);
    check_item_finish(r, it);
    r->n_finished++;
    check_group *g = it->group;
    g->cur = NULL;
    int was_write = it->is_write;
    if (was_write)
        writes_advance(r, it); /* before the item goes: it may head the write order */
    item_release(r, it);
    if (r->fatal[0])
        return;
    if (check_sched_fill(r) < 0) /* room in the window: read on (this may queue more for g) */
        return;
    if (g->state == GROUP_ACTIVE && g->head) {
        group_send(r, g);
    } else if (g->state == GROUP_ACTIVE) {
        TD_ASSERT(r->active_groups > 0);
        r->active_groups--;
        group_idle(r, g);
    }
    check_sched_start(r);
    if (!r->active_groups && !r->wait_head && (r->eof || !r->live_items))
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
    if (which == COPY_TARGET && r->o->learn_noise && c->ok && !it->is_write) {
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
        fail(r, "out of memory");
        return;
    }
    check_copy *c = &it->copy[which];
    c->item = it;
    c->which = which;
    c->used = 1;
    it->pending++;
    if (which == COPY_TARGET)
        r->n_replayed++;
    /* A recorded connection gets a connection of its own: new at its first exchange; closed after its
     * last when the capture is read to the end and nothing more of it can come (after the
     * --learn-noise second copy, when one will follow); otherwise when its lane is reused or at the end. */
    check_group *g = it->group;
    int dest = which == COPY_BASELINE;
    if (g->known) {
        q.req.fresh_connection = !g->opened[dest];
        int last = r->eof && !g->head;
        int second_follows = which == COPY_TARGET && r->o->learn_noise && !it->is_write;
        q.req.close_connection = last && !second_follows;
    }
    g->opened[dest] = 1;
    engine *e = dest ? r->lanes[g->lane].baseline : r->lanes[g->lane].target;
    if (engine_submit(e, &q.req, on_response, c) < 0) {
        it->pending--;
        char why[400];
        snprintf(why, sizeof why, "could not start a request to %s", which == COPY_BASELINE ? r->o->baseline : r->o->target);
        fail(r, why);
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

/* A lane for a group starting: a free one, or a new one. -1 when out of memory. */
static int lane_take(check_run *r)
{
    if (r->n_free)
        return (int)r->free_lanes[--r->n_free];
    if (r->n_lanes == r->cap_lanes) {
        size_t ncap = r->cap_lanes ? r->cap_lanes * 2 : 16;
        check_lane *nl = realloc(r->lanes, ncap * sizeof *nl);
        if (!nl)
            return -1;
        r->lanes = nl;
        size_t *nf = realloc(r->free_lanes, ncap * sizeof *nf);
        if (!nf)
            return -1;
        r->free_lanes = nf;
        memset(r->lanes + r->cap_lanes, 0, (ncap - r->cap_lanes) * sizeof *nl);
        r->cap_lanes = ncap;
    }
    return (int)r->n_lanes++;
}

void check_sched_start(check_run *r)
{
    size_t limit = r->o->sequential ? 1 : (size_t)r->o->concurrency;
    while (!r->fatal[0] && r->active_groups < limit && r->wait_head) {
        check_group *g = r->wait_head;
        r->wait_head = g->next_wait;
        if (!r->wait_head)
            r->wait_tail = NULL;
        if (g->lane < 0) {
            int l = lane_take(r);
            if (l < 0 || lane_open(r, &r->lanes[l]) < 0) {
                fail(r, "out of memory");
                return;
            }
            /* a reused lane's connection belongs to the group before: this one asks for its own */
            g->lane = l;
            r->lanes[l].busy = 1;
        }
        g->state = GROUP_ACTIVE;
        r->active_groups++;
        group_send(r, g);
    }
}

int check_sched_init(check_run *r)
{
    if (!(r->gmap = calloc(1, sizeof *r->gmap)) || connmap_init(r->gmap) < 0)
        return -1;
    /* lane 0 first: setup makes its engines before anything is sent, to refuse a bad target early */
    int l = lane_take(r);
    if (l != 0)
        return -1;
    r->free_lanes[r->n_free++] = 0;
    return 0;
}

static void free_item_chain(check_run *r, check_item *it)
{
    while (it) {
        check_item *next = it->next;
        item_release(r, it);
        it = next;
    }
}

static void group_free(check_run *r, check_group *g)
{
    free_item_chain(r, g->head);
    if (g->cur)
        item_release(r, g->cur);
    free(g);
}

void check_sched_free(check_run *r)
{
    while (r->all_groups) { /* a run stopped early */
        check_group *g = r->all_groups;
        r->all_groups = g->next_all;
        group_free(r, g);
    }
    if (r->gmap) {
        connmap_clear(r->gmap);
        free(r->gmap);
    }
    for (size_t l = 0; l < r->n_lanes; l++) {
        engine_free(r->lanes[l].target);
        engine_free(r->lanes[l].baseline);
    }
    free(r->lanes);
    free(r->free_lanes);
}
