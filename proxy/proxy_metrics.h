/* proxy_metrics: process-wide counters, updated from every thread with relaxed atomics and rendered in
 * the Prometheus text format for /metrics. */
#ifndef TAPEDECK_PROXY_METRICS_H
#define TAPEDECK_PROXY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "tdbuf.h"

typedef enum {
    PM_DROP_QUEUE_FULL = 0, /* the writer queue was full */
    PM_DROP_WRITE_ERROR,    /* the capture file write failed (disk full, I/O error) */
    PM_DROP_TOO_LARGE,      /* the writer refused the record */
    PM_DROP_NOMEM,          /* out of memory building the record */
    PM_DROP_SHUTDOWN,       /* no capture writer was open */
    PM_DROP__COUNT
} pm_drop_reason;

typedef enum {
    PM_UPERR_CONNECT = 0, /* connect refused or failed */
    PM_UPERR_CONNECT_TIMEOUT,
    PM_UPERR_TIMEOUT,      /* no response within --upstream-timeout */
    PM_UPERR_RESET,        /* closed or reset before the response ended */
    PM_UPERR_BAD_RESPONSE, /* unparseable or ambiguous response framing */
    PM_UPERR__COUNT
} pm_uperr_kind;

typedef enum {
    PM_REJ_400 = 0, PM_REJ_408, PM_REJ_431, PM_REJ_501, PM_REJ__COUNT
} pm_reject_kind;

/* Why a client request was not mirrored to the shadow (--mirror). */
typedef enum {
    PM_MSKIP_SAMPLED_OUT = 0, /* --mirror-percent */
    PM_MSKIP_METHOD,          /* not GET/HEAD/OPTIONS/TRACE, without --mirror-writes */
    PM_MSKIP_UPGRADE,         /* an Upgrade request (its connection becomes a tunnel) */
    PM_MSKIP_TOO_LARGE,       /* body over the mirror's cap */
    PM_MSKIP_QUEUE_FULL,      /* the worker's in-flight or held-bytes cap was reached */
    PM_MSKIP_SHADOW_DOWN,     /* a connect to the shadow just failed: backing off */
    PM_MSKIP_INCOMPLETE,      /* the client request ended or was refused before it was complete */
    PM_MSKIP_NOMEM,
    PM_MSKIP__COUNT
} pm_mirror_skip;

/* TLS handshakes on the listener, by outcome. */
typedef enum {
    PM_TLS_OK = 0,   /* completed */
    PM_TLS_FAILED,   /* the handshake failed (bad version, no shared cipher, not TLS at all, ...) */
    PM_TLS_TIMEOUT,  /* not complete within --header-timeout */
    PM_TLS_CLOSED,   /* the client went away during the handshake */
    PM_TLS__COUNT
} pm_tls_result;

/* HTTP/2 connections ended or streams refused by the proxy's own limits, by cause. */
typedef enum {
    PM_H2_RAPID_RESET = 0, /* streams reset faster than the allowed rate (CVE-2023-44487) */
    PM_H2_CONTINUATION,    /* a header block in too many CONTINUATION frames or bytes */
    PM_H2_HEADER_LIST,     /* a decoded header list over --max-head (HPACK bomb): 431 */
    PM_H2_STREAMS,         /* a stream over the concurrent limit: refused */
    PM_H2_CONTROL_FLOOD,   /* SETTINGS/PING/other control frames faster than the allowed rate */
    PM_H2_PROTOCOL,        /* any other protocol error the connection was ended for */
    PM_H2_MESSAGING,       /* a stream reset for a malformed request (pseudo-headers, framing) */
    PM_H2__COUNT
} pm_h2_refusal;

typedef struct proxy_metrics proxy_metrics;

proxy_metrics *proxy_metrics_new(void);
void proxy_metrics_free(proxy_metrics *m); /* NULL is a no-op */

void pm_conn_open(proxy_metrics *m);
void pm_conn_close(proxy_metrics *m);
/* One exchange answered: status sent to the client (0 = connection closed without a status) and the
 * time from the first request byte to the last response byte. */
void pm_request(proxy_metrics *m, int status, int64_t latency_us);
void pm_bytes(proxy_metrics *m, uint64_t from_clients, uint64_t to_clients);
void pm_upstream_error(proxy_metrics *m, pm_uperr_kind k);
void pm_upstream_connect(proxy_metrics *m, int reused);
void pm_reject(proxy_metrics *m, pm_reject_kind k);
void pm_recorded(proxy_metrics *m);
void pm_recorded_n(proxy_metrics *m, uint64_t n); /* n exchanges recorded at once (a batch) */
void pm_dropped(proxy_metrics *m, pm_drop_reason r);
void pm_sampled_out(proxy_metrics *m);
/* Redaction (the writer thread): exchanges in which something was replaced, and bodies replaced whole
 * because they could not be inspected (malformed JSON, a corrupt content coding, too large). */
void pm_redacted(proxy_metrics *m, uint64_t exchanges, uint64_t bodies_replaced);
void pm_capture_written(proxy_metrics *m, uint64_t bytes_out, uint64_t segments);
/* Mirroring. Every client request whose head was accepted is either sent or skipped; every sent one
 * ends as a response or a failure (or is dropped at shutdown). */
void pm_mirror_enable(proxy_metrics *m);
void pm_mirror_sent(proxy_metrics *m);
void pm_mirror_connect(proxy_metrics *m); /* a connection to the shadow opened */
void pm_mirror_response(proxy_metrics *m, int status);
void pm_mirror_failed(proxy_metrics *m, pm_uperr_kind k);
void pm_mirror_skipped(proxy_metrics *m, pm_mirror_skip r);
void pm_mirror_held(proxy_metrics *m, int64_t delta); /* bytes of request copies held, up or down */
void pm_tls_handshake(proxy_metrics *m, pm_tls_result r);
void pm_h2_stream(proxy_metrics *m); /* an HTTP/2 stream opened */
void pm_h2_refused(proxy_metrics *m, pm_h2_refusal r);
uint64_t pm_dropped_total(const proxy_metrics *m, pm_drop_reason r);

/* Appends the Prometheus text exposition. queue_depth/queue_capacity come from the recorder. Returns 0 or
 * a TDBUF_* error. */
int proxy_metrics_render(const proxy_metrics *m, tdbuf *out, size_t queue_depth, size_t queue_capacity,
                         int recording);

#endif
