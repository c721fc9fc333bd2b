/* proxy_xrec: the recorded copy of one exchange while it is built, for HTTP/1 connections
 * (proxy_conn_rec.c) and HTTP/2 streams (proxy_h2_stream.c) alike: what is kept of each message (head
 * always, body up to --max-body), and turning the buffers into the exchange handed to the recorder. */
#ifndef TAPEDECK_PROXY_XREC_H
#define TAPEDECK_PROXY_XREC_H

#include <stddef.h>
#include <stdint.h>

#include "exchange.h"
#include "tdbuf.h"

/* What a request's declared Content-Length may reserve in its record up front (within --max-body): the
 * client's word, so a lie costs it at most this per stream; a longer body grows the buffer as it comes. */
#define PROXY_XREC_REQ_RESERVE (64 * 1024)

struct proxy_wctx;

/* A new record for a request on w's recorder, with its connection's facts, and rq and rs ready for its
 * bytes (a written exchange's buffers when the writer gave one back): NULL when there is no recorder,
 * when sampling leaves the request out (path: what the sampling and filters look at), or out of memory
 * (each counted on /metrics). The caller sets target_uri. */
exchange *proxy_xrec_begin(struct proxy_wctx *w, const char *path, tdbuf *rq, tdbuf *rs, uint64_t conn_id,
                           uint64_t conn_seq, int64_t req_start_us, const char *peer, const char *proto);
/* Appends n bytes of a message to b: the first head_len always, body bytes while *body_rec is under
 * max_body (setting trunc_flag in x->truncated when cut). Returns 0, or -1 out of memory (the caller
 * drops the record). */
int proxy_xrec_append(exchange *x, uint64_t max_body, tdbuf *b, uint64_t *body_rec, size_t head_len,
                      const char *p, size_t n, unsigned trunc_flag);
/* Moves the request bytes (and the response's, unless error: then error is the record's reason) into x.
 * Returns x, ready for proxy_record_push, or NULL when out of memory (x and both buffers freed; the
 * caller counts the drop). rq and rs are left empty either way. */
exchange *proxy_xrec_finish(exchange *x, tdbuf *rq, tdbuf *rs, const char *error);

#endif
