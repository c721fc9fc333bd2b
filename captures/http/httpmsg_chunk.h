/* httpmsg_chunk: a second, independent reading of chunked framing, run over body bytes before
 * http-parser sees them. http-parser 2.9 lets a bare LF or control bytes pass inside a chunk extension
 * ("3;a\nb\r\n"), which another server may split differently: a request-smuggling vector. This scanner
 * refuses any chunk-size line or trailer line that is not plain CRLF-terminated text. Internal to httpmsg. */
#ifndef TAPEDECK_HTTPMSG_CHUNK_H
#define TAPEDECK_HTTPMSG_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_status.h"

#include "httpmsg.h"

typedef struct httpmsg_chunkscan {
    int state;
    uint64_t remaining;   /* chunk data bytes still to skip */
    unsigned digits;      /* hex digits seen in the size */
    size_t trailer_bytes; /* bytes of the trailer section so far */
    size_t max_trailer;
} httpmsg_chunkscan;

enum { HTTPMSG_CHUNK_MORE = 0, HTTPMSG_CHUNK_END = 1, HTTPMSG_CHUNK_EBAD = TD_ECORRUPT, HTTPMSG_CHUNK_ETOOLARGE = TD_ETOOBIG };

void httpmsg_chunkscan_init(httpmsg_chunkscan *c, size_t max_trailer);
/* Scans data. *used gets the bytes that are good and belong to this message: all of len with
 * HTTPMSG_CHUNK_MORE, up to and including the final CRLF with HTTPMSG_CHUNK_END, up to the offending byte
 * on an error (then *why says what is wrong). */
int httpmsg_chunkscan_feed(httpmsg_chunkscan *c, const char *data, size_t len, size_t *used, const char **why);

/* Reads every Transfer-Encoding field of h as one list (RFC 9112 6.1). Sets *final_chunked (the last
 * coding is chunked) and *others (a coding other than chunked is named); returns -1 when the list is
 * malformed (an empty element, chunked twice or not last, parameters on chunked). */
int httpmsg_chunk_codings(const httpmsg_head *h, bool *final_chunked, bool *others);

/* The head-level framing rules http-parser does not apply, or applies differently: HTTP/1.x only, a
 * response status of at least 100, one Host, one Content-Length, never Content-Length with
 * Transfer-Encoding, no Transfer-Encoding in HTTP/1.0, a final chunked coding (requests) and no other
 * coding (501). hp_chunked is http-parser's own reading. Sets h->content_length to 0 when the field is
 * present (the caller fills in the value), -1 when not. HTTPMSG_OK, or an error with *why set. */
int httpmsg_check_framing(httpmsg_head *h, bool hp_chunked, const char **why);

#endif
