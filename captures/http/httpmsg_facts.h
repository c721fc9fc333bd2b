/* httpmsg_facts: the HTTP facts more than one part of tapedeck decides on, each in one place — which
 * methods are safe or idempotent (RFC 9110 9.2), which recorded header fields describe one connection or
 * the message's framing and so are never re-sent as recorded, the status code of a raw response, and a
 * lenient de-chunker for bytes that may not parse (the capture writer records whatever crossed the
 * wire). Everything here works on plain strings: no parser state, no allocation unless said. */
#ifndef TAPEDECK_HTTPMSG_FACTS_H
#define TAPEDECK_HTTPMSG_FACTS_H

#include <stddef.h>

#include "httpmsg.h"

/* GET, HEAD, OPTIONS, TRACE (RFC 9110 9.2.1): a client may send them again, or twice, without changing
 * anything on the server. Case-sensitive, as methods are. */
int httpmsg_method_is_safe(const char *method);
/* The safe methods plus PUT and DELETE (RFC 9110 9.2.2): a retry after a lost answer is harmless. */
int httpmsg_method_is_idempotent(const char *method);

/* A connection-specific field (RFC 9110 7.6.1, RFC 9113 8.2.2): Connection, Keep-Alive, Proxy-Connection,
 * TE, Trailer, Upgrade, Transfer-Encoding. It never crosses from HTTP/1.1 into HTTP/2. */
int httpmsg_header_is_conn_specific(const char *name, size_t len);
/* A header field that belongs to one hop or to the message's framing (Connection, Keep-Alive,
 * Proxy-Connection, TE, Trailer, Upgrade, Transfer-Encoding, Content-Length, Expect, HTTP2-Settings):
 * whoever re-sends a recorded request lets its HTTP client set these. name is len bytes, any case. */
int httpmsg_header_is_hop(const char *name, size_t len);
/* What a replay leaves out of a recorded request: the hop and framing fields, and Host (the client sets
 * it from the target URL). */
int httpmsg_header_is_replay_skipped(const char *name, size_t len);
/* The name of a "Name: value" line is name (any case). */
int httpmsg_line_is(const char *line, const char *name);
/* "Name: value" of h, malloc'ed and NUL-terminated (the caller frees); NULL when out of memory. */
char *httpmsg_header_line(const httpmsg_header *h);

/* The status code of a raw response ("HTTP/1.1 101 ..."), or -1 when the status line does not start
 * with "HTTP/", a version, a space and three digits. */
int httpmsg_raw_status(const char *raw, size_t len);
/* Where the head of a raw message ends (the first body byte, after the blank line, CRLF or bare LF), or
 * len when there is no blank line. */
size_t httpmsg_raw_head_len(const char *m, size_t len);
/* Whether a raw head (hl bytes) names chunked as the last transfer coding of a Transfer-Encoding field
 * (the last such field wins). A line scan that reads what any head says, valid or not. */
int httpmsg_raw_chunked(const char *m, size_t hl);
/* Both in one pass: httpmsg_raw_head_len's answer hl, and into *chunked (NULL: not wanted) what
 * httpmsg_raw_chunked says of that head when a body follows it (hl < len), else 0. */
size_t httpmsg_raw_head_scan(const char *m, size_t len, int *chunked);

/* De-chunks body[0..n) leniently: each chunk's data goes to sink in order; a cut or malformed stream
 * just ends the body there (a recording may be cut short or be what a broken server sent). Returns 1
 * when the last chunk was read, 0 when the stream ended early. The strict reader that refuses what it
 * cannot read exactly is httpmsg_chunk.h's, for live traffic. */
typedef void (*httpmsg_dechunk_sink)(void *ctx, const char *data, size_t n);
int httpmsg_dechunk(const char *body, size_t n, httpmsg_dechunk_sink sink, void *ctx);

#endif
