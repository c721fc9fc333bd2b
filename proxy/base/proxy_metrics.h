/* proxy_metrics: process-wide counters, updated from every thread with relaxed atomics and rendered in
 * the Prometheus text format for /metrics. */
#ifndef TAPEDECK_PROXY_METRICS_H
#define TAPEDECK_PROXY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "tdbuf.h"

typedef enum {
    PROXY_METRICS_DROP_QUEUE_FULL = 0, /* the writer queue was full */
    PROXY_METRICS_DROP_WRITE_ERROR,    /* the capture file write failed (disk full, I/O error) */
    PROXY_METRICS_DROP_TOO_LARGE,      /* the writer refused the record */
    PROXY_METRICS_DROP_NOMEM,          /* out of memory building the record */
    PROXY_METRICS_DROP_SHUTDOWN,       /* no capture writer was open */
    PROXY_METRICS_DROP__COUNT
} proxy_metrics_drop_reason;

typedef enum {
    PROXY_METRICS_UPERR_CONNECT = 0, /* connect refused or failed */
    PROXY_METRICS_UPERR_CONNECT_TIMEOUT,
    PROXY_METRICS_UPERR_TIMEOUT,      /* no response within --upstream-timeout */
    PROXY_METRICS_UPERR_RESET,        /* closed or reset before the response ended */
    PROXY_METRICS_UPERR_BAD_RESPONSE, /* unparseable or ambiguous response framing */
    PROXY_METRICS_UPERR__COUNT
} proxy_metrics_uperr_kind;

typedef enum {
    PROXY_METRICS_REJ_400 = 0,
    PROXY_METRICS_REJ_408,
    PROXY_METRICS_REJ_431,
    PROXY_METRICS_REJ_501,
    PROXY_METRICS_REJ__COUNT
} proxy_metrics_reject_kind;

/* Why a client request was not mirrored to the shadow (--mirror). */
typedef enum {
    PROXY_METRICS_MSKIP_SAMPLED_OUT = 0, /* --mirror-percent */
    PROXY_METRICS_MSKIP_METHOD,          /* not GET/HEAD/OPTIONS/TRACE, without --mirror-writes */
    PROXY_METRICS_MSKIP_UPGRADE,         /* an Upgrade request (its connection becomes a tunnel) */
    PROXY_METRICS_MSKIP_TOO_LARGE,       /* body over the mirror's cap */
    PROXY_METRICS_MSKIP_QUEUE_FULL,      /* the worker's in-flight or held-bytes cap was reached */
    PROXY_METRICS_MSKIP_SHADOW_DOWN,     /* a connect to the shadow just failed: backing off */
    PROXY_METRICS_MSKIP_INCOMPLETE,      /* the client request ended or was refused before it was complete */
    PROXY_METRICS_MSKIP_NOMEM,
    PROXY_METRICS_MSKIP__COUNT
} proxy_metrics_mirror_skip;

/* TLS handshakes on the listener, by outcome. */
typedef enum {
    PROXY_METRICS_TLS_OK = 0,  /* completed */
    PROXY_METRICS_TLS_FAILED,  /* the handshake failed (bad version, no shared cipher, not TLS at all, ...) */
    PROXY_METRICS_TLS_TIMEOUT, /* not complete within --header-timeout */
    PROXY_METRICS_TLS_CLOSED,  /* the client went away during the handshake */
    PROXY_METRICS_TLS__COUNT
} proxy_metrics_tls_result;

/* HTTP/2 connections ended or streams refused by the proxy's own limits, by cause. */
typedef enum {
    PROXY_METRICS_H2_RAPID_RESET = 0, /* streams reset faster than the allowed rate (CVE-2023-44487) */
    PROXY_METRICS_H2_CONTINUATION,    /* a header block in too many CONTINUATION frames or bytes */
    PROXY_METRICS_H2_HEADER_LIST,     /* a decoded header list over --max-head (HPACK bomb): 431 */
    PROXY_METRICS_H2_STREAMS,         /* a stream over the concurrent limit: refused */
    PROXY_METRICS_H2_CONTROL_FLOOD,   /* SETTINGS/PING/other control frames faster than the allowed rate */
    PROXY_METRICS_H2_PROTOCOL,        /* any other protocol error the connection was ended for */
    PROXY_METRICS_H2_MESSAGING,       /* a stream reset for a malformed request (pseudo-headers, framing) */
    PROXY_METRICS_H2__COUNT
} proxy_metrics_h2_refusal;

typedef struct proxy_metrics proxy_metrics;

proxy_metrics *proxy_metrics_new(void);
void proxy_metrics_free(proxy_metrics *m); /* NULL is a no-op */

void proxy_metrics_conn_open(proxy_metrics *m);
void proxy_metrics_conn_close(proxy_metrics *m);
/* One exchange answered: status sent to the client (0 = connection closed without a status) and the
 * time from the first request byte to the last response byte. */
void proxy_metrics_request(proxy_metrics *m, int status, int64_t latency_us);
void proxy_metrics_bytes(proxy_metrics *m, uint64_t from_clients, uint64_t to_clients);
void proxy_metrics_upstream_error(proxy_metrics *m, proxy_metrics_uperr_kind k);
void proxy_metrics_upstream_connect(proxy_metrics *m, int reused);
void proxy_metrics_reject(proxy_metrics *m, proxy_metrics_reject_kind k);
void proxy_metrics_recorded(proxy_metrics *m);
void proxy_metrics_recorded_n(proxy_metrics *m, uint64_t n); /* n exchanges recorded at once (a batch) */
void proxy_metrics_dropped(proxy_metrics *m, proxy_metrics_drop_reason r);
void proxy_metrics_sampled_out(proxy_metrics *m);
/* Redaction (the writer thread): exchanges in which something was replaced, and bodies replaced whole
 * because they could not be inspected (malformed JSON, a corrupt content coding, too large). */
void proxy_metrics_redacted(proxy_metrics *m, uint64_t exchanges, uint64_t bodies_replaced);
void proxy_metrics_capture_written(proxy_metrics *m, uint64_t bytes_out, uint64_t segments);
/* Mirroring. Every client request whose head was accepted is either sent or skipped; every sent one
 * ends as a response or a failure (or is dropped at shutdown). */
void proxy_metrics_mirror_enable(proxy_metrics *m);
void proxy_metrics_mirror_sent(proxy_metrics *m);
void proxy_metrics_mirror_connect(proxy_metrics *m); /* a connection to the shadow opened */
void proxy_metrics_mirror_response(proxy_metrics *m, int status);
void proxy_metrics_mirror_failed(proxy_metrics *m, proxy_metrics_uperr_kind k);
void proxy_metrics_mirror_skipped(proxy_metrics *m, proxy_metrics_mirror_skip r);
/* bytes of request copies held, up or down */
void proxy_metrics_mirror_held(proxy_metrics *m, int64_t delta);
void proxy_metrics_tls_handshake(proxy_metrics *m, proxy_metrics_tls_result r);
void proxy_metrics_h2_stream(proxy_metrics *m); /* an HTTP/2 stream opened */
void proxy_metrics_h2_refused(proxy_metrics *m, proxy_metrics_h2_refusal r);
uint64_t proxy_metrics_dropped_total(const proxy_metrics *m, proxy_metrics_drop_reason r);

/* Appends the Prometheus text exposition. queue_depth/queue_capacity come from the recorder. Returns 0 or
 * a TDBUF_* error. */
int proxy_metrics_render(const proxy_metrics *m, tdbuf *out, size_t queue_depth, size_t queue_capacity,
                         int recording);

#endif
