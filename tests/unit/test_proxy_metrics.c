/* Unit tests for proxy_metrics: counters land in the right series; the histogram is cumulative. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy_metrics.h"

static void has(const char *text, const char *line)
{
    if (!strstr(text, line))
        fail_msg("missing '%s' in:\n%s", line, text);
}

static void render(void **state)
{
    (void)state;
    proxy_metrics *m = proxy_metrics_new();
    assert_non_null(m);
    proxy_metrics_conn_open(m);
    proxy_metrics_conn_open(m);
    proxy_metrics_conn_close(m);
    proxy_metrics_request(m, 200, 300);     /* 0.3 ms */
    proxy_metrics_request(m, 404, 3000);    /* 3 ms */
    proxy_metrics_request(m, 502, 2000000); /* 2 s */
    proxy_metrics_request(m, 0, 20000000);  /* cut, 20 s: only +Inf */
    proxy_metrics_dropped(m, PROXY_METRICS_DROP_WRITE_ERROR);
    proxy_metrics_dropped(m, PROXY_METRICS_DROP_WRITE_ERROR);
    proxy_metrics_dropped(m, PROXY_METRICS_DROP_QUEUE_FULL);
    proxy_metrics_upstream_error(m, PROXY_METRICS_UPERR_TIMEOUT);
    proxy_metrics_reject(m, PROXY_METRICS_REJ_431);
    proxy_metrics_recorded(m);
    proxy_metrics_bytes(m, 10, 20);
    assert_int_equal(proxy_metrics_dropped_total(m, PROXY_METRICS_DROP_WRITE_ERROR), 2);
    tdbuf b;
    tdbuf_init(&b, 0);
    assert_int_equal(proxy_metrics_render(m, &b, 3, 8192, 1), 0);
    has(b.data, "tapedeck_proxy_connections_total 2\n");
    has(b.data, "tapedeck_proxy_connections_open 1\n");
    has(b.data, "tapedeck_proxy_requests_total{code=\"2xx\"} 1\n");
    has(b.data, "tapedeck_proxy_requests_total{code=\"4xx\"} 1\n");
    has(b.data, "tapedeck_proxy_requests_total{code=\"none\"} 1\n");
    has(b.data, "tapedeck_proxy_request_duration_seconds_bucket{le=\"0.0005\"} 1\n");
    has(b.data, "tapedeck_proxy_request_duration_seconds_bucket{le=\"0.005\"} 2\n");
    has(b.data, "tapedeck_proxy_request_duration_seconds_bucket{le=\"2.5\"} 3\n");
    has(b.data, "tapedeck_proxy_request_duration_seconds_bucket{le=\"10\"} 3\n");
    has(b.data, "tapedeck_proxy_request_duration_seconds_bucket{le=\"+Inf\"} 4\n");
    has(b.data, "tapedeck_proxy_request_duration_seconds_count 4\n");
    has(b.data, "tapedeck_proxy_capture_dropped_total{reason=\"write_error\"} 2\n");
    has(b.data, "tapedeck_proxy_capture_dropped_total{reason=\"queue_full\"} 1\n");
    has(b.data, "tapedeck_proxy_upstream_errors_total{kind=\"timeout\"} 1\n");
    has(b.data, "tapedeck_proxy_rejected_total{code=\"431\"} 1\n");
    has(b.data, "tapedeck_proxy_capture_queue_depth 3\n");
    has(b.data, "tapedeck_proxy_received_bytes_total 10\n");
    has(b.data, "# TYPE tapedeck_proxy_request_duration_seconds histogram\n");
    tdbuf_free(&b);
    proxy_metrics_free(m);
    proxy_metrics_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(render)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
