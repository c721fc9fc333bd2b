/* proxy_worker: a thread running one event_base. The base has no lock (EVENT_BASE_FLAG_NOLOCK): only
 * its thread touches it, and the lock libevent otherwise takes around every event operation was some
 * twenty mutex round trips per proxied request. Cross-thread requests (drain, stop, a new upstream)
 * are bits in `wake`, with a write to an eventfd the base reads. */
#include "proxy_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "proxy_conn.h"
#include "proxy_front.h"
#include "proxy_log.h"
#include "tdtime.h"

#define WORKER_POOL_IDLE_US (30ll * 1000000) /* below common upstream keep-alive timeouts (nginx: 75 s) */
#define WORKER_POOL_MAX 1024

enum { WORKER_WAKE_DRAIN = 1u, WORKER_WAKE_STOP = 2u, WORKER_WAKE_UPSTREAM = 4u };

struct proxy_worker {
    int idx;
    proxy_wctx ctx;
    pthread_t th;
    int started;
    struct evconnlistener *lst;
    evutil_socket_t listen_fd;
    struct event *ev_wake, *ev_deadline, *ev_resume;
    int wake_fd;          /* eventfd: the other threads' requests, read by ev_wake */
    atomic_uint wake;     /* WORKER_WAKE_* bits not yet handled */
    void (*on_exit)(void *);
    void *arg;
    int64_t last_accept_log;
};

static void worker_check_done(proxy_wctx *ctx)
{
    if (ctx->draining && ctx->n_conns == 0)
        event_base_loopbreak(ctx->base);
}

static void worker_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                          void *arg)
{
    proxy_worker *w = arg;
    if (w->ctx.draining) {
        evutil_closesocket(fd);
        return;
    }
    if (proxy_front_needed(&w->ctx))
        proxy_front_accept(&w->ctx, fd, sa, salen);
    else
        proxy_conn_accept(&w->ctx, fd, sa, salen);
}

/* accept() failing (EMFILE, ENFILE, ENOMEM) would spin: pause accepting for a moment. */
static void worker_accept_error(struct evconnlistener *l, void *arg)
{
    proxy_worker *w = arg;
    int e = EVUTIL_SOCKET_ERROR();
    int64_t now = tdtime_mono_us();
    if (now - w->last_accept_log >= 10ll * 1000000) { /* one line per 10 s, not one per retry */
        w->last_accept_log = now;
        proxy_log(PROXY_LOG_WARN, "worker %d: accept: %s; pausing accepts for 100 ms", w->idx,
                  evutil_socket_error_to_string(e));
    }
    evconnlistener_disable(l);
    struct timeval tv = {0, 100000};
    evtimer_add(w->ev_resume, &tv);
}

static void worker_resume(evutil_socket_t fd, short what, void *arg)
{
    proxy_worker *w = arg;
    if (w->lst && !w->ctx.draining)
        evconnlistener_enable(w->lst);
}

static void worker_deadline(evutil_socket_t fd, short what, void *arg)
{
    proxy_worker *w = arg;
    if (w->ctx.n_conns)
        proxy_log(PROXY_LOG_WARN, "worker %d: drain deadline passed, closing %zu connection(s)", w->idx,
                  w->ctx.n_conns);
    proxy_conn_close_all(&w->ctx);
    proxy_front_close_all(&w->ctx);
    event_base_loopbreak(w->ctx.base);
}

static void worker_drain(evutil_socket_t fd, short what, void *arg)
{
    proxy_worker *w = arg;
    if (w->ctx.draining)
        return;
    w->ctx.draining = 1;
    if (w->lst) {
        evconnlistener_free(w->lst);
        w->lst = NULL;
    }
    struct timeval tv = {(time_t)(w->ctx.cfg->drain_timeout_us / 1000000),
                         (suseconds_t)(w->ctx.cfg->drain_timeout_us % 1000000)};
    evtimer_add(w->ev_deadline, &tv);
    proxy_conn_drain_all(&w->ctx);
    proxy_front_drain_all(&w->ctx);
    worker_check_done(&w->ctx);
}

static void worker_stop(evutil_socket_t fd, short what, void *arg)
{
    proxy_worker *w = arg;
    w->ctx.draining = 1;
    proxy_conn_close_all(&w->ctx);
    proxy_front_close_all(&w->ctx);
    event_base_loopbreak(w->ctx.base);
}

static void worker_upstream(evutil_socket_t fd, short what, void *arg)
{
    proxy_worker *w = arg;
    proxy_relay_current_target(&w->ctx); /* refreshes and retires idle connections to the old upstream */
}

static void worker_wake(evutil_socket_t fd, short what, void *arg)
{
    proxy_worker *w = arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        proxy_log(PROXY_LOG_WARN, "worker %d: reading its wake-up eventfd: %s", w->idx, strerror(errno));
    unsigned bits = atomic_exchange(&w->wake, 0u);
    if (bits & WORKER_WAKE_UPSTREAM)
        worker_upstream(-1, 0, w);
    if (bits & WORKER_WAKE_DRAIN)
        worker_drain(-1, 0, w);
    if (bits & WORKER_WAKE_STOP)
        worker_stop(-1, 0, w);
}

/* From any thread. */
static void worker_post(proxy_worker *w, unsigned bit)
{
    atomic_fetch_or(&w->wake, bit);
    uint64_t one = 1;
    while (write(w->wake_fd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

static void *worker_main(void *arg)
{
    proxy_worker *w = arg;
    event_base_dispatch(w->ctx.base);
    proxy_conn_close_all(&w->ctx);
    proxy_front_close_all(&w->ctx);
    if (w->on_exit)
        w->on_exit(w->arg);
    return NULL;
}

proxy_worker *proxy_worker_new(int idx, const proxy_config *cfg, proxy_metrics *m, proxy_record *rec,
                               proxy_upstream_holder *targets, proxy_upstream_target *shadow,
                               proxy_upstream_target *shadow_baseline, proxy_tls *tls,
                               evutil_socket_t listen_fd, void (*on_exit)(void *), void *arg, char *err,
                               size_t errlen)
{
    proxy_worker *w = calloc(1, sizeof *w), *result = NULL;
    if (!w) {
        snprintf(err, errlen, "out of memory");
        evutil_closesocket(listen_fd);
        return NULL;
    }
    w->idx = idx;
    w->listen_fd = listen_fd;
    w->on_exit = on_exit;
    w->arg = arg;
    w->ctx.cfg = cfg;
    w->ctx.m = m;
    w->ctx.rec = rec;
    w->ctx.targets = targets;
    w->ctx.tls = tls;
    w->ctx.target = proxy_upstream_holder_get(targets);
    w->ctx.rnd = (uint64_t)tdtime_now_us() ^ ((uint64_t)(idx + 1) << 40) ^ 0x2545F4914F6CDD1Dull;
    w->ctx.on_conn_closed = worker_check_done;
    /* The changelist folds the enable/disable pairs bufferevents make within one loop turn (write
     * interest on every forwarded chunk) into at most one epoll_ctl. */
    w->wake_fd = -1;
    atomic_init(&w->wake, 0u);
    struct event_config *ec = event_config_new();
    if (ec) {
        event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
        w->ctx.base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    if (!w->ctx.base) {
        snprintf(err, errlen, "cannot create an event loop");
        evutil_closesocket(listen_fd);
        goto out;
    }
    w->ctx.pool = proxy_upstream_pool_new(w->ctx.base, WORKER_POOL_IDLE_US, WORKER_POOL_MAX);
    if (w->ctx.pool)
        proxy_upstream_pool_set_tls(w->ctx.pool, tls);
    if (shadow)
        w->ctx.mirror = proxy_mirror_new(w->ctx.base, shadow, shadow_baseline, cfg, m, rec,
                                         w->ctx.rnd * 0x9E3779B97F4A7C15ull + 1);
    w->lst = evconnlistener_new(w->ctx.base, worker_accept, w, LEV_OPT_CLOSE_ON_FREE, -1, listen_fd);
    if (!w->lst)
        evutil_closesocket(listen_fd);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->ev_wake = w->wake_fd >= 0 ? event_new(w->ctx.base, w->wake_fd, EV_READ | EV_PERSIST, worker_wake, w) : NULL;
    if (w->ev_wake && event_add(w->ev_wake, NULL) != 0) {
        event_free(w->ev_wake);
        w->ev_wake = NULL;
    }
    w->ev_deadline = evtimer_new(w->ctx.base, worker_deadline, w);
    w->ev_resume = evtimer_new(w->ctx.base, worker_resume, w);
    if (!w->ctx.pool || (shadow && !w->ctx.mirror) || !w->lst || !w->ev_wake || !w->ev_deadline || !w->ev_resume) {
        snprintf(err, errlen, "out of memory setting up worker %d", idx);
        goto out;
    }
    evconnlistener_set_error_cb(w->lst, worker_accept_error);
    result = w;
    w = NULL;
out:
    proxy_worker_free(w);
    return result;
}

int proxy_worker_start(proxy_worker *w)
{
    if (pthread_create(&w->th, NULL, worker_main, w) != 0)
        return -1;
    /* Named for top -H, perf and scripts/bench/proxy, which split the proxy's CPU by thread */
    char name[16];
    snprintf(name, sizeof name, "td-worker-%d", w->idx);
    (void)pthread_setname_np(w->th, name);
    w->started = 1;
    return 0;
}

void proxy_worker_drain(proxy_worker *w)
{
    worker_post(w, WORKER_WAKE_DRAIN);
}

void proxy_worker_stop(proxy_worker *w)
{
    worker_post(w, WORKER_WAKE_STOP);
}

void proxy_worker_notify_upstream(proxy_worker *w)
{
    worker_post(w, WORKER_WAKE_UPSTREAM);
}

void proxy_worker_join(proxy_worker *w)
{
    if (w && w->started) {
        pthread_join(w->th, NULL);
        w->started = 0;
    }
}

void proxy_worker_free(proxy_worker *w)
{
    if (!w)
        return;
    if (w->ctx.base) {
        proxy_conn_close_all(&w->ctx);
        proxy_front_close_all(&w->ctx);
    }
    if (w->lst)
        evconnlistener_free(w->lst);
    if (w->ev_wake)
        event_free(w->ev_wake);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    if (w->ev_deadline)
        event_free(w->ev_deadline);
    if (w->ev_resume)
        event_free(w->ev_resume);
    proxy_mirror_free(w->ctx.mirror); /* after the connections: they may hold request copies */
    proxy_record_spares_release(w->ctx.rec, &w->ctx.spares);
    proxy_conn_parsers_free(&w->ctx);
    proxy_conn_kits_free(&w->ctx);
    proxy_upstream_pool_free(w->ctx.pool);
    proxy_upstream_target_unref(w->ctx.target);
    if (w->ctx.base)
        event_base_free(w->ctx.base);
    free(w);
}
