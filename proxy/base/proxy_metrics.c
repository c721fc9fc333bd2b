/* proxy_metrics: relaxed atomic counters. Exact cross-counter consistency is not needed for scraping, so
 * no locks: a worker pays one uncontended atomic add per event. */
#include "proxy_metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Latency buckets in microseconds (the exposition uses seconds). */
static const int64_t pm_buckets_us[] = {500,    1000,   2500,    5000,    10000,   25000,  50000,
                                        100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define PM_NBUCKETS (sizeof pm_buckets_us / sizeof pm_buckets_us[0])

static const char *const pm_drop_names[PROXY_METRICS_DROP__COUNT] = {"queue_full", "write_error", "too_large",
                                                                     "nomem", "no_writer"};
static const char *const pm_uperr_names[PROXY_METRICS_UPERR__COUNT] = {"connect", "connect_timeout",
                                                                       "timeout", "reset", "bad_response"};
static const char *const pm_mskip_names[PROXY_METRICS_MSKIP__COUNT] = {
    "sampled_out", "method", "upgrade", "too_large", "queue_full", "shadow_down", "incomplete", "nomem"};
static const char *const pm_reject_names[PROXY_METRICS_REJ__COUNT] = {"400", "408", "431", "501"};

static const char *const pm_tls_names[PROXY_METRICS_TLS__COUNT] = {"ok", "failed", "timeout", "closed"};
static const char *const pm_h2_names[PROXY_METRICS_H2__COUNT] = {
    "rapid_reset", "continuation", "header_list", "streams", "control_flood", "protocol", "messaging"};

struct proxy_metrics {
    atomic_uint_fast64_t conns_total, conns_open;
    atomic_uint_fast64_t requests, by_class[6]; /* [0] = closed without status, [1..5] = 1xx..5xx */
    atomic_uint_fast64_t bytes_in, bytes_out;
    atomic_uint_fast64_t uperr[PROXY_METRICS_UPERR__COUNT];
    atomic_uint_fast64_t up_new, up_reused;
    atomic_uint_fast64_t rejects[PROXY_METRICS_REJ__COUNT];
    atomic_uint_fast64_t recorded, sampled_out, dropped[PROXY_METRICS_DROP__COUNT];
    atomic_uint_fast64_t cap_bytes, cap_segments;
    atomic_uint_fast64_t redacted, redacted_bodies;
    atomic_uint_fast64_t lat_bucket[PM_NBUCKETS + 1], lat_sum_us, lat_count;
    atomic_int mirror_on;
    atomic_uint_fast64_t mir_sent, mir_conns, mir_resp[6], mir_failed[PROXY_METRICS_UPERR__COUNT],
        mir_skipped[PROXY_METRICS_MSKIP__COUNT];
    atomic_int_fast64_t mir_held;
    atomic_uint_fast64_t tls[PROXY_METRICS_TLS__COUNT], h2_streams, h2_refused[PROXY_METRICS_H2__COUNT];
};

#define PM_ADD(field, v) atomic_fetch_add_explicit(&(field), (v), memory_order_relaxed)
#define PM_GET(field) ((unsigned long long)atomic_load_explicit(&(field), memory_order_relaxed))

proxy_metrics *proxy_metrics_new(void)
{
    proxy_metrics *m = calloc(1, sizeof *m);
    return m; /* all-zero atomics are valid initial values */
}

void proxy_metrics_free(proxy_metrics *m)
{
    free(m);
}

void proxy_metrics_conn_open(proxy_metrics *m)
{
    PM_ADD(m->conns_total, 1);
    PM_ADD(m->conns_open, 1);
}

void proxy_metrics_conn_close(proxy_metrics *m)
{
    atomic_fetch_sub_explicit(&m->conns_open, 1, memory_order_relaxed);
}

void proxy_metrics_request(proxy_metrics *m, int status, int64_t latency_us)
{
    PM_ADD(m->requests, 1);
    int cls = status / 100;
    PM_ADD(m->by_class[cls >= 1 && cls <= 5 ? cls : 0], 1);
    if (latency_us < 0)
        latency_us = 0;
    size_t i = 0;
    while (i < PM_NBUCKETS && latency_us > pm_buckets_us[i])
        i++;
    PM_ADD(m->lat_bucket[i], 1);
    PM_ADD(m->lat_sum_us, (uint64_t)latency_us);
    PM_ADD(m->lat_count, 1);
}

void proxy_metrics_bytes(proxy_metrics *m, uint64_t from_clients, uint64_t to_clients)
{
    if (from_clients)
        PM_ADD(m->bytes_in, from_clients);
    if (to_clients)
        PM_ADD(m->bytes_out, to_clients);
}

void proxy_metrics_upstream_error(proxy_metrics *m, proxy_metrics_uperr_kind k)
{
    PM_ADD(m->uperr[k], 1);
}

void proxy_metrics_upstream_connect(proxy_metrics *m, int reused)
{
    if (reused)
        PM_ADD(m->up_reused, 1);
    else
        PM_ADD(m->up_new, 1);
}

void proxy_metrics_reject(proxy_metrics *m, proxy_metrics_reject_kind k)
{
    PM_ADD(m->rejects[k], 1);
}

void proxy_metrics_recorded(proxy_metrics *m)
{
    PM_ADD(m->recorded, 1);
}

void proxy_metrics_recorded_n(proxy_metrics *m, uint64_t n)
{
    PM_ADD(m->recorded, n);
}

void proxy_metrics_dropped(proxy_metrics *m, proxy_metrics_drop_reason r)
{
    PM_ADD(m->dropped[r], 1);
}

void proxy_metrics_sampled_out(proxy_metrics *m)
{
    PM_ADD(m->sampled_out, 1);
}

void proxy_metrics_capture_written(proxy_metrics *m, uint64_t bytes_out, uint64_t segments)
{
    atomic_store_explicit(&m->cap_bytes, bytes_out, memory_order_relaxed);
    atomic_store_explicit(&m->cap_segments, segments, memory_order_relaxed);
}

void proxy_metrics_mirror_enable(proxy_metrics *m)
{
    atomic_store_explicit(&m->mirror_on, 1, memory_order_relaxed);
}

void proxy_metrics_mirror_sent(proxy_metrics *m)
{
    PM_ADD(m->mir_sent, 1);
}

void proxy_metrics_mirror_connect(proxy_metrics *m)
{
    PM_ADD(m->mir_conns, 1);
}

void proxy_metrics_mirror_response(proxy_metrics *m, int status)
{
    int cls = status / 100;
    PM_ADD(m->mir_resp[cls >= 1 && cls <= 5 ? cls : 0], 1);
}

void proxy_metrics_mirror_failed(proxy_metrics *m, proxy_metrics_uperr_kind k)
{
    PM_ADD(m->mir_failed[k], 1);
}

void proxy_metrics_mirror_skipped(proxy_metrics *m, proxy_metrics_mirror_skip r)
{
    PM_ADD(m->mir_skipped[r], 1);
}

void proxy_metrics_mirror_held(proxy_metrics *m, int64_t delta)
{
    atomic_fetch_add_explicit(&m->mir_held, delta, memory_order_relaxed);
}

void proxy_metrics_redacted(proxy_metrics *m, uint64_t exchanges, uint64_t bodies_replaced)
{
    PM_ADD(m->redacted, exchanges);
    PM_ADD(m->redacted_bodies, bodies_replaced);
}

uint64_t proxy_metrics_dropped_total(const proxy_metrics *m, proxy_metrics_drop_reason r)
{
    return PM_GET(((proxy_metrics *)m)->dropped[r]);
}

void proxy_metrics_tls_handshake(proxy_metrics *m, proxy_metrics_tls_result r)
{
    PM_ADD(m->tls[r], 1);
}

void proxy_metrics_h2_stream(proxy_metrics *m)
{
    PM_ADD(m->h2_streams, 1);
}

void proxy_metrics_h2_refused(proxy_metrics *m, proxy_metrics_h2_refusal r)
{
    PM_ADD(m->h2_refused[r], 1);
}

int proxy_metrics_render(const proxy_metrics *cm, tdbuf *o, size_t queue_depth, size_t queue_capacity,
                         int recording)
{
    proxy_metrics *m = (proxy_metrics *)cm; /* atomic loads need a non-const object */
    int rc = 0;
#define OUT(...)                                                                                           \
    do {                                                                                                   \
        if (rc == 0)                                                                                       \
            rc = tdbuf_printf(o, __VA_ARGS__);                                                             \
    } while (0)
    OUT("# HELP tapedeck_proxy_connections_total Client connections accepted.\n"
        "# TYPE tapedeck_proxy_connections_total counter\ntapedeck_proxy_connections_total %llu\n",
        PM_GET(m->conns_total));
    OUT("# HELP tapedeck_proxy_connections_open Client connections open now.\n"
        "# TYPE tapedeck_proxy_connections_open gauge\ntapedeck_proxy_connections_open %llu\n",
        PM_GET(m->conns_open));
    OUT("# HELP tapedeck_proxy_requests_total Exchanges answered, by status class.\n"
        "# TYPE tapedeck_proxy_requests_total counter\n");
    static const char *const cls[6] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 0; i < 6; i++)
        OUT("tapedeck_proxy_requests_total{code=\"%s\"} %llu\n", cls[i], PM_GET(m->by_class[i]));
    OUT("# HELP tapedeck_proxy_received_bytes_total Bytes received from clients.\n"
        "# TYPE tapedeck_proxy_received_bytes_total counter\ntapedeck_proxy_received_bytes_total %llu\n",
        PM_GET(m->bytes_in));
    OUT("# HELP tapedeck_proxy_sent_bytes_total Bytes sent to clients.\n"
        "# TYPE tapedeck_proxy_sent_bytes_total counter\ntapedeck_proxy_sent_bytes_total %llu\n",
        PM_GET(m->bytes_out));
    OUT("# HELP tapedeck_proxy_upstream_errors_total Upstream failures, by kind.\n"
        "# TYPE tapedeck_proxy_upstream_errors_total counter\n");
    for (int i = 0; i < PROXY_METRICS_UPERR__COUNT; i++)
        OUT("tapedeck_proxy_upstream_errors_total{kind=\"%s\"} %llu\n", pm_uperr_names[i], PM_GET(m->uperr[i]));
    OUT("# HELP tapedeck_proxy_upstream_requests_total Requests sent upstream, by connection reuse.\n"
        "# TYPE tapedeck_proxy_upstream_requests_total counter\n"
        "tapedeck_proxy_upstream_requests_total{connection=\"new\"} %llu\n"
        "tapedeck_proxy_upstream_requests_total{connection=\"reused\"} %llu\n",
        PM_GET(m->up_new), PM_GET(m->up_reused));
    OUT("# HELP tapedeck_proxy_rejected_total Requests refused by the proxy itself, by status.\n"
        "# TYPE tapedeck_proxy_rejected_total counter\n");
    for (int i = 0; i < PROXY_METRICS_REJ__COUNT; i++)
        OUT("tapedeck_proxy_rejected_total{code=\"%s\"} %llu\n", pm_reject_names[i], PM_GET(m->rejects[i]));
    OUT("# HELP tapedeck_proxy_request_duration_seconds First request byte to last response byte.\n"
        "# TYPE tapedeck_proxy_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t i = 0; i < PM_NBUCKETS; i++) {
        cum += PM_GET(m->lat_bucket[i]);
        OUT("tapedeck_proxy_request_duration_seconds_bucket{le=\"%g\"} %llu\n", (double)pm_buckets_us[i] / 1e6,
            cum);
    }
    cum += PM_GET(m->lat_bucket[PM_NBUCKETS]);
    OUT("tapedeck_proxy_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
        "tapedeck_proxy_request_duration_seconds_sum %.6f\n"
        "tapedeck_proxy_request_duration_seconds_count %llu\n",
        cum, (double)PM_GET(m->lat_sum_us) / 1e6, PM_GET(m->lat_count));
    OUT("# HELP tapedeck_proxy_capture_enabled 1 when exchanges are being recorded.\n"
        "# TYPE tapedeck_proxy_capture_enabled gauge\ntapedeck_proxy_capture_enabled %d\n",
        recording ? 1 : 0);
    OUT("# HELP tapedeck_proxy_capture_recorded_total Exchanges written to the capture.\n"
        "# TYPE tapedeck_proxy_capture_recorded_total counter\ntapedeck_proxy_capture_recorded_total %llu\n",
        PM_GET(m->recorded));
    OUT("# HELP tapedeck_proxy_capture_sampled_out_total Exchanges not recorded by --sample or path filters.\n"
        "# TYPE tapedeck_proxy_capture_sampled_out_total counter\n"
        "tapedeck_proxy_capture_sampled_out_total %llu\n",
        PM_GET(m->sampled_out));
    OUT("# HELP tapedeck_proxy_capture_dropped_total Exchanges meant for the capture but lost, by reason.\n"
        "# TYPE tapedeck_proxy_capture_dropped_total counter\n");
    for (int i = 0; i < PROXY_METRICS_DROP__COUNT; i++)
        OUT("tapedeck_proxy_capture_dropped_total{reason=\"%s\"} %llu\n", pm_drop_names[i],
            PM_GET(m->dropped[i]));
    OUT("# HELP tapedeck_proxy_capture_queue_depth Exchanges waiting for the writer thread.\n"
        "# TYPE tapedeck_proxy_capture_queue_depth gauge\ntapedeck_proxy_capture_queue_depth %zu\n"
        "# HELP tapedeck_proxy_capture_queue_capacity Size of the writer queue.\n"
        "# TYPE tapedeck_proxy_capture_queue_capacity gauge\ntapedeck_proxy_capture_queue_capacity %zu\n",
        queue_depth, queue_capacity);
    OUT("# HELP tapedeck_proxy_capture_written_bytes_total Compressed capture bytes written.\n"
        "# TYPE tapedeck_proxy_capture_written_bytes_total counter\n"
        "tapedeck_proxy_capture_written_bytes_total %llu\n"
        "# HELP tapedeck_proxy_capture_segments_total Capture segments closed.\n"
        "# TYPE tapedeck_proxy_capture_segments_total counter\ntapedeck_proxy_capture_segments_total %llu\n",
        PM_GET(m->cap_bytes), PM_GET(m->cap_segments));
    OUT("# HELP tapedeck_proxy_capture_redacted_total Recorded exchanges in which --redact-* replaced "
        "something.\n# TYPE tapedeck_proxy_capture_redacted_total counter\n"
        "tapedeck_proxy_capture_redacted_total %llu\n"
        "# HELP tapedeck_proxy_capture_redacted_bodies_total Bodies replaced whole in the capture because "
        "they could not be inspected (malformed JSON, corrupt content coding, too large).\n"
        "# TYPE tapedeck_proxy_capture_redacted_bodies_total counter\n"
        "tapedeck_proxy_capture_redacted_bodies_total %llu\n",
        PM_GET(m->redacted), PM_GET(m->redacted_bodies));
    OUT("# HELP tapedeck_proxy_mirror_enabled 1 when requests are mirrored to a shadow (--mirror).\n"
        "# TYPE tapedeck_proxy_mirror_enabled gauge\ntapedeck_proxy_mirror_enabled %d\n",
        atomic_load_explicit(&m->mirror_on, memory_order_relaxed));
    OUT("# HELP tapedeck_proxy_mirror_requests_total Request copies sent to the shadow.\n"
        "# TYPE tapedeck_proxy_mirror_requests_total counter\ntapedeck_proxy_mirror_requests_total %llu\n",
        PM_GET(m->mir_sent));
    OUT("# HELP tapedeck_proxy_mirror_connections_total Connections opened to the shadow (kept alive "
        "between requests).\n# TYPE tapedeck_proxy_mirror_connections_total counter\n"
        "tapedeck_proxy_mirror_connections_total %llu\n",
        PM_GET(m->mir_conns));
    OUT("# HELP tapedeck_proxy_mirror_responses_total Shadow responses received (and discarded), by status "
        "class.\n# TYPE tapedeck_proxy_mirror_responses_total counter\n");
    for (int i = 0; i < 6; i++)
        OUT("tapedeck_proxy_mirror_responses_total{code=\"%s\"} %llu\n", cls[i], PM_GET(m->mir_resp[i]));
    OUT("# HELP tapedeck_proxy_mirror_failed_total Request copies sent that got no complete response, by "
        "kind.\n# TYPE tapedeck_proxy_mirror_failed_total counter\n");
    for (int i = 0; i < PROXY_METRICS_UPERR__COUNT; i++)
        OUT("tapedeck_proxy_mirror_failed_total{kind=\"%s\"} %llu\n", pm_uperr_names[i],
            PM_GET(m->mir_failed[i]));
    OUT("# HELP tapedeck_proxy_mirror_skipped_total Client requests not mirrored, by reason.\n"
        "# TYPE tapedeck_proxy_mirror_skipped_total counter\n");
    for (int i = 0; i < PROXY_METRICS_MSKIP__COUNT; i++)
        OUT("tapedeck_proxy_mirror_skipped_total{reason=\"%s\"} %llu\n", pm_mskip_names[i],
            PM_GET(m->mir_skipped[i]));
    long long held = (long long)atomic_load_explicit(&m->mir_held, memory_order_relaxed);
    OUT("# HELP tapedeck_proxy_mirror_held_bytes Bytes of request copies held for the shadow now.\n"
        "# TYPE tapedeck_proxy_mirror_held_bytes gauge\ntapedeck_proxy_mirror_held_bytes %lld\n",
        held < 0 ? 0 : held);
    OUT("# HELP tapedeck_proxy_tls_handshakes_total TLS handshakes on the listener, by result.\n"
        "# TYPE tapedeck_proxy_tls_handshakes_total counter\n");
    for (int i = 0; i < PROXY_METRICS_TLS__COUNT; i++)
        OUT("tapedeck_proxy_tls_handshakes_total{result=\"%s\"} %llu\n", pm_tls_names[i], PM_GET(m->tls[i]));
    OUT("# HELP tapedeck_proxy_h2_streams_total HTTP/2 streams opened by clients.\n"
        "# TYPE tapedeck_proxy_h2_streams_total counter\ntapedeck_proxy_h2_streams_total %llu\n",
        PM_GET(m->h2_streams));
    OUT("# HELP tapedeck_proxy_h2_refused_total HTTP/2 streams refused or connections ended by the proxy's "
        "limits, by cause.\n# TYPE tapedeck_proxy_h2_refused_total counter\n");
    for (int i = 0; i < PROXY_METRICS_H2__COUNT; i++)
        OUT("tapedeck_proxy_h2_refused_total{cause=\"%s\"} %llu\n", pm_h2_names[i], PM_GET(m->h2_refused[i]));
#undef OUT
    return rc;
}
