/* proxy_record: a mutex-protected ring of exchange pointers. Workers hold the mutex only to store one
 * pointer; the writer swaps out a batch at a time, so contention stays tiny. The queue is bounded by both
 * count and bytes so that a stalled disk cannot grow memory without bound.
 *
 * Hand-off in batches: a worker does not wake the writer for each exchange (a futex wake and a context
 * switch per record cost more than queueing it). The writer wakes every REC_POLL_US on its own
 * (REC_POLL_BUSY_US while its last look found records), or when the queue passes REC_WAKE_COUNT records
 * or REC_WAKE_BYTES, takes everything queued, and writes each batch with one pwrite (capwriter's deferred
 * writes). At most REC_POLL_US plus one batch's writing stands between an exchange and the kernel: far
 * inside the one second a kill -9 may lose.
 *
 * Why the short busy poll: the writer's batch is a burst of CPU (~6 us an exchange) that the forwarding
 * threads, the clients and the upstream on the same cores wait behind. At a steady 5 000 req/s a 20 ms
 * poll made 100-exchange bursts of ~0.6 ms, and the p99 the recording proxy added went from 0.26-0.47
 * ms (recording off) to 0.83-1.07; a 2 ms poll gave 0.33-0.36 (1 ms: 0.46-0.59, the wake-ups cost more
 * than they save). The writer's priority made no difference (nice 10, SCHED_BATCH). Idle, the writer
 * still wakes 50 times a second, not 500.
 *
 * And back: written exchanges return to the workers for reuse (proxy_record_spare.c), so that the
 * writer never frees a worker's memory. */
#include "proxy_record.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "capwriter.h"
#include "proxy_log.h"
#include "proxy_mirror_cmp.h"
#include "proxy_redact.h"
#include "proxy_record_spare.h"
#include "tdnum.h"
#include "tdtime.h"

#define REC_QUEUE_CAP 8192
#define REC_QUEUE_BYTES (256u * 1024 * 1024)
#define REC_BATCH 256                      /* exchanges per pwrite at most */
#define REC_BATCH_BYTES (4u * 1024 * 1024) /* and their recorded bytes */
#define REC_POLL_US 20000                  /* the writer looks at the queue this often */
#define REC_POLL_BUSY_US 2000              /* ... or this often while there is traffic */
#define REC_WAKE_COUNT 512                 /* ... or sooner when this many wait */
#define REC_WAKE_BYTES (8u * 1024 * 1024)  /* ... or this many bytes */
#define REC_TICK_US 100000

struct proxy_record {
    const proxy_config *cfg;
    proxy_metrics *m;
    proxy_redact *redact;
    proxy_mirror_cmp *cmp; /* --mirror-record: primary vs shadow, on this thread */
    capwriter *w;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    exchange **ring;
    size_t head, count, bytes;
    int stop;
    atomic_int rotate_req;
    proxy_record_spare *spare; /* written exchanges on their way back to the workers */
};

void proxy_record_exchange_free(exchange *x)
{
    if (!x)
        return;
    exchange_clear(x);
    free(x);
}

static size_t rec_size(const exchange *x)
{
    return sizeof *x + x->request_len + x->response_len + exchange_shadow_bytes(x);
}

exchange *proxy_record_reuse(proxy_record *r, proxy_record_spares *s, tdbuf *rq, tdbuf *rs, char **addr)
{
    return proxy_record_spare_take(r->spare, s, rq, rs, addr);
}

void proxy_record_spares_release(proxy_record *r, proxy_record_spares *s)
{
    if (r)
        proxy_record_spare_release(r->spare, s);
}

int proxy_record_wants(const proxy_record *r, const char *target, uint64_t *rnd)
{
    const proxy_config *cfg = r->cfg;
    if (cfg->has_skip_path && regexec(&cfg->skip_path, target, 0, NULL, 0) == 0)
        return 0;
    if (cfg->has_record_path && regexec(&cfg->record_path, target, 0, NULL, 0) != 0)
        return 0;
    if (cfg->sample_pct >= 100.0)
        return 1;
    if (cfg->sample_pct <= 0.0)
        return 0;
    return tdnum_draw_percent(rnd) < cfg->sample_pct; /* rnd: this worker's own state */
}

int proxy_record_push(proxy_record *r, exchange *x)
{
    size_t sz = rec_size(x);
    pthread_mutex_lock(&r->mu);
    if (r->stop || r->count >= REC_QUEUE_CAP || r->bytes + sz > REC_QUEUE_BYTES) {
        int stopped = r->stop;
        pthread_mutex_unlock(&r->mu);
        proxy_metrics_dropped(r->m, stopped ? PROXY_METRICS_DROP_SHUTDOWN : PROXY_METRICS_DROP_QUEUE_FULL);
        proxy_record_exchange_free(x);
        return -1;
    }
    r->ring[(r->head + r->count) % REC_QUEUE_CAP] = x;
    r->count++;
    r->bytes += sz;
    /* only the push that crosses a threshold wakes the writer; its poll takes the rest */
    if (r->count == REC_WAKE_COUNT || (r->bytes >= REC_WAKE_BYTES && r->bytes - sz < REC_WAKE_BYTES))
        pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

void proxy_record_rotate(proxy_record *r)
{
    if (!r)
        return;
    atomic_store(&r->rotate_req, 1);
    pthread_mutex_lock(&r->mu);
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

size_t proxy_record_depth(proxy_record *r)
{
    if (!r)
        return 0;
    pthread_mutex_lock(&r->mu);
    size_t n = r->count;
    pthread_mutex_unlock(&r->mu);
    return n;
}

proxy_mirror_cmp *proxy_record_shadow_cmp(proxy_record *r)
{
    return r ? r->cmp : NULL;
}

size_t proxy_record_capacity(const proxy_record *r)
{
    return r ? REC_QUEUE_CAP : 0;
}

/* The shadows' answers (--mirror-record) are redacted by the same rules as the response. 0 or -1. */
static int rec_redact_shadows(proxy_record *r, exchange *x)
{
    for (int i = 0; x->shadow && i < EXCHANGE_N_SHADOW; i++) {
        exchange_shadow *sh = &x->shadow[i];
        exchange t;
        exchange_init(&t);
        t.response = sh->response;
        t.response_len = sh->response_len;
        int rc = proxy_redact_apply(r->redact, &t);
        sh->response = t.response; /* replaced or not, the message is the shadow's again */
        sh->response_len = t.response_len;
        t.response = NULL;
        exchange_clear(&t);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Queues one exchange's frames in the capwriter; the writer thread only. Returns 1 queued (counted
 * when its batch is committed), 0 dropped (counted here). */
static int rec_write_one(proxy_record *r, exchange *x, int *failing)
{
    char err[256] = "";
    if (x->shadow)
        proxy_mirror_cmp_exchange(r->cmp, x); /* on the real answers, before anything is redacted */
    if (r->redact && (proxy_redact_apply(r->redact, x) < 0 || rec_redact_shadows(r, x) < 0)) {
        proxy_metrics_dropped(r->m, PROXY_METRICS_DROP_NOMEM);
        return 0;
    }
    int rc = capwriter_write(r->w, x, err, sizeof err);
    if (rc == CAPWRITER_OK)
        return 1;
    proxy_metrics_dropped(r->m, rc == CAPWRITER_EINVAL ? PROXY_METRICS_DROP_TOO_LARGE
                                : rc == CAPWRITER_ENOMEM ? PROXY_METRICS_DROP_NOMEM
                                                         : PROXY_METRICS_DROP_WRITE_ERROR);
    if (!*failing)
        proxy_log(PROXY_LOG_ERROR, "capture write failed, dropping records until it works: %s", err);
    *failing = 1;
    return 0;
}

/* Writes a batch's queued frames (one pwrite) and counts its n exchanges recorded or dropped. Failures
 * are logged once per run of failures, so a full disk does not flood stderr. */
static void rec_commit(proxy_record *r, size_t n, int *failing)
{
    char err[256] = "";
    int rc = capwriter_commit(r->w, err, sizeof err);
    if (rc == CAPWRITER_OK) {
        proxy_metrics_recorded_n(r->m, n);
        if (*failing && n > 0)
            proxy_log(PROXY_LOG_WARN, "capture writes work again");
        if (n > 0)
            *failing = 0;
        return;
    }
    for (size_t i = 0; i < n; i++)
        proxy_metrics_dropped(r->m, PROXY_METRICS_DROP_WRITE_ERROR);
    if (!*failing)
        proxy_log(PROXY_LOG_ERROR, "capture write failed, dropping records until it works: %s", err);
    *failing = 1;
}

static void rec_update_stats(proxy_record *r)
{
    capwriter_stats st;
    capwriter_get_stats(r->w, &st);
    proxy_metrics_capture_written(r->m, st.bytes_out, st.segments);
}

/* The worker wrote these bytes on its own core, so the writer's first touch of each line waits for it
 * (the head scan's memchr and the copy into the record were a seventh of the writer's samples on h2
 * traffic). Asking for the next exchange's first lines while this one is compressed hides most of that:
 * writer 4.86 -> 4.68 us an exchange, lower in 8 of 10 alternated h2load runs. A hint only: no fault. */
static void rec_prefetch(const exchange *x)
{
    for (size_t o = 0; o < x->request_len && o < 1024; o += 64)
        __builtin_prefetch(x->request + o);
    for (size_t o = 0; x->response && o < x->response_len && o < 1024; o += 64)
        __builtin_prefetch(x->response + o);
}

static void *rec_thread(void *arg)
{
    proxy_record *r = arg;
    /* The writer runs at the workers' priority. It used to yield (nice +10) so that forwarding came
     * first; on a saturated machine that starved it and about half the exchanges were dropped
     * (queue_full) while it had cycles to spare per exchange (~6 us). Forwarding is still never blocked:
     * a writer that falls behind fills its bounded queue, and exchanges are dropped and counted. */
    exchange *batch[REC_BATCH];
    int failing = 0, done = 0, busy = 0;
    int64_t last_tick = tdtime_mono_us();
    char err[256];
    while (!done) {
        size_t n = 0, bytes = 0;
        pthread_mutex_lock(&r->mu);
        if (r->count < REC_WAKE_COUNT && r->bytes < REC_WAKE_BYTES && !r->stop && !atomic_load(&r->rotate_req)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(busy ? REC_POLL_BUSY_US : REC_POLL_US) * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
        while (n < REC_BATCH && bytes < REC_BATCH_BYTES && r->count > 0) {
            batch[n] = r->ring[r->head];
            r->head = (r->head + 1) % REC_QUEUE_CAP;
            r->count--;
            size_t sz = rec_size(batch[n]);
            r->bytes -= sz;
            bytes += sz;
            n++;
        }
        done = r->stop && r->count == 0;
        busy = n > 0;
        pthread_mutex_unlock(&r->mu);

        size_t queued = 0;
        for (size_t i = 0; i < n; i++) {
            if (i + 1 < n)
                rec_prefetch(batch[i + 1]);
            queued += (size_t)rec_write_one(r, batch[i], &failing);
        }
        if (n > 0)
            rec_commit(r, queued, &failing);
        proxy_record_spare_return(r->spare, batch, n, r->redact != NULL);
        int64_t now = tdtime_mono_us();
        if (now - last_tick >= REC_TICK_US) {
            last_tick = now;
            if (capwriter_tick(r->w, err, sizeof err) != CAPWRITER_OK && !failing) {
                proxy_log(PROXY_LOG_ERROR, "capture flush failed: %s", err);
                failing = 1;
            }
            rec_update_stats(r);
        }
        if (atomic_exchange(&r->rotate_req, 0)) {
            if (capwriter_rotate(r->w, err, sizeof err) != CAPWRITER_OK)
                proxy_log(PROXY_LOG_ERROR, "capture rotation failed: %s", err);
            else
                proxy_log(PROXY_LOG_INFO, "capture rotated, now writing %s", capwriter_path(r->w));
            rec_update_stats(r);
        }
    }
    return NULL;
}

proxy_record *proxy_record_new(const proxy_config *cfg, proxy_metrics *m, const char *upstream,
                               char *err, size_t errlen)
{
    proxy_record *r = NULL, *result = NULL;
    char info[1024];
    r = calloc(1, sizeof *r);
    if (!r || !(r->ring = calloc(REC_QUEUE_CAP, sizeof *r->ring)) || !(r->spare = proxy_record_spare_new())) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    r->cfg = cfg;
    r->m = m;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (cfg->n_redact > 0 && !(r->redact = proxy_redact_new(cfg, m, err, errlen)))
        goto out;
    if (mkdir(cfg->capture_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "--capture-dir %s: %s", cfg->capture_dir, strerror(errno));
        goto out;
    }
    snprintf(info, sizeof info, "tapedeck-sample-percent: %g\r\ntapedeck-max-body: %llu\r\n%s%s%s%s%s%s",
             cfg->sample_pct, (unsigned long long)cfg->max_body,
             cfg->mirror_record ? "tapedeck-shadow: " : "", cfg->mirror_record ? cfg->mirror_url : "",
             cfg->mirror_record ? "\r\n" : "", cfg->mirror_baseline_url ? "tapedeck-shadow-baseline: " : "",
             cfg->mirror_baseline_url ? cfg->mirror_baseline_url : "", cfg->mirror_baseline_url ? "\r\n" : "");
    if (cfg->mirror_record && !(r->cmp = proxy_mirror_cmp_new())) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    capwriter_opts o = {
        .dir = cfg->capture_dir,
        .prefix = cfg->capture_prefix,
        .rotate_bytes = cfg->rotate_size,
        .rotate_age_us = cfg->rotate_age_us,
        .no_dictionary = cfg->no_dictionary,
        .no_payload_digest = cfg->no_payload_digest,
        .level = 1, /* the writer shares the CPU with forwarding: the fastest level, ratios come from
                     * the per-segment dictionary more than from the level */
        .upstream = upstream,
        .info = info,
        .defer_writes = 1, /* one pwrite per batch; rec_commit */
    };
    char werr[256] = "";
    r->w = capwriter_open(&o, werr, sizeof werr);
    if (!r->w) {
        snprintf(err, errlen, "--capture-dir %s: %s", cfg->capture_dir, werr);
        goto out;
    }
    if (pthread_create(&r->th, NULL, rec_thread, r) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        goto out;
    }
    (void)pthread_setname_np(r->th, "td-writer"); /* as the workers (proxy_worker_start) */
    r->started = 1;
    proxy_log(PROXY_LOG_INFO, "recording to %s", capwriter_path(r->w));
    result = r;
    r = NULL;
out:
    proxy_record_free(r);
    return result;
}

void proxy_record_free(proxy_record *r)
{
    if (!r)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->mu);
        r->stop = 1;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->th, NULL);
    }
    if (r->w) {
        char err[256] = "";
        rec_update_stats(r);
        if (capwriter_close(r->w, err, sizeof err) != CAPWRITER_OK)
            proxy_log(PROXY_LOG_ERROR, "closing the capture failed: %s", err);
    }
    if (r->ring) {
        for (size_t i = 0; i < r->count; i++)
            proxy_record_exchange_free(r->ring[(r->head + i) % REC_QUEUE_CAP]);
        free(r->ring);
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
    }
    proxy_record_spare_free(r->spare);
    proxy_redact_free(r->redact);
    proxy_mirror_cmp_free(r->cmp);
    free(r);
}
