/* httpmsg: the one wrapper around http-parser. Everything that parses HTTP/1.x goes through here, so a
 * later move to llhttp touches this file only.
 *
 * Two ways in: a streaming parser with callbacks (the proxy: bodies arrive in pieces), and a one-shot
 * parse of a complete raw message (captures, replay, tools). Both are strict about framing: a message
 * that a downstream and an upstream could read differently is rejected, never guessed at. */
#ifndef TAPEDECK_HTTPMSG_H
#define TAPEDECK_HTTPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum { HTTPMSG_REQUEST = 0, HTTPMSG_RESPONSE = 1 } httpmsg_type;

/* Errors carry the HTTP status a proxy should answer with. */
typedef enum {
    HTTPMSG_OK = 0,
    HTTPMSG_EBAD = -400,        /* malformed or ambiguous framing: 400 */
    HTTPMSG_ETOOLARGE = -431,   /* head over the limit: 431 */
    HTTPMSG_EUNSUPPORTED = -501 /* transfer coding other than a final chunked: 501 */
} httpmsg_status;

typedef struct httpmsg_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} httpmsg_header;

/* The head of a message. Strings point into parser-owned storage valid until the next message starts
 * (streaming) or until httpmsg_clear (one-shot). */
typedef struct httpmsg_head {
    httpmsg_type type;
    int http_major, http_minor;
    const char *method; /* "GET", ... (requests) */
    const char *url;    /* request target as sent (requests), NUL-terminated */
    size_t url_len;
    int status;         /* responses */
    const char *reason; /* responses, NUL-terminated */
    httpmsg_header *headers;
    size_t n_headers;
    int64_t content_length; /* -1 when absent */
    bool chunked;
    bool keep_alive; /* per version and Connection header */
    bool upgrade;    /* Upgrade request, or 101 response */
    bool expect_continue;
    size_t head_len; /* bytes of the head on the wire, start line through the blank line */
} httpmsg_head;

/* ---- streaming ---- */
typedef struct httpmsg_parser httpmsg_parser;

typedef struct httpmsg_callbacks {
    /* After the head. Return 0 to go on, 1 when the message has no body whatever its headers say (the
     * response to HEAD, or a 1xx), -1 to stop with HTTPMSG_EBAD. */
    int (*on_head)(void *ctx, const httpmsg_head *head);
    /* De-chunked body bytes, in pieces. Return 0 to go on, -1 to stop. */
    int (*on_body)(void *ctx, const char *at, size_t len);
    /* The message is complete. Return 0 to go on (next message), 1 to pause (execute returns at once,
     * having consumed the message's last byte), -1 to stop. */
    int (*on_complete)(void *ctx);
} httpmsg_callbacks;

typedef struct httpmsg_limits {
    size_t max_head;  /* bytes; 0 = 64 KiB */
    size_t max_headers; /* count; 0 = 128 */
    /* Responses only: a transfer coding besides the final chunked ("gzip, chunked") is framed by the
     * chunked and left to the reader, not refused. A client must take what a server may send (RFC 9112
     * 6.1); the proxy, which forwards, refuses (501). */
    bool accept_codings;
} httpmsg_limits;

/* cb is copied; limits may be NULL. Returns NULL on allocation failure. */
httpmsg_parser *httpmsg_parser_new(httpmsg_type type, const httpmsg_callbacks *cb, void *ctx,
                                   const httpmsg_limits *limits);
void httpmsg_parser_free(httpmsg_parser *p); /* NULL is a no-op */
/* Makes p what httpmsg_parser_new made it (same type, callbacks and limits, no message yet), now for
 * ctx, keeping its storage: for a caller's cache of parsers (an allocation and the head buffers'
 * growth saved per message). Any state, even after an error. */
void httpmsg_parser_reuse(httpmsg_parser *p, void *ctx);
/* Feed bytes. Returns how many were consumed (less than len after a pause or an upgrade), or an
 * httpmsg_status < 0; after an error the parser is dead. */
ssize_t httpmsg_parser_execute(httpmsg_parser *p, const char *data, size_t len);
/* Tell the parser the peer closed; completes a response delimited by close. Returns 0 or < 0. */
int httpmsg_parser_eof(httpmsg_parser *p);
/* Resume after on_complete paused. */
void httpmsg_parser_resume(httpmsg_parser *p);
/* For responses: the method of the request being answered, so HEAD responses have no body. */
void httpmsg_parser_set_request_method(httpmsg_parser *p, const char *method);
/* Why the last call failed, for logs. */
const char *httpmsg_parser_error(const httpmsg_parser *p);

/* ---- one-shot ---- */
typedef struct httpmsg {
    httpmsg_head head;
    char *body; /* de-chunked body, NUL-terminated for convenience (owned) */
    size_t body_len;
    bool complete; /* the message ended inside the input (false for a cut body) */
    size_t consumed;
    void *priv; /* owned storage */
} httpmsg;

/* Parse one complete message from raw. For responses, request_method (may be NULL) decides HEAD
 * semantics, and leading 1xx responses are skipped. A body cut short is not an error: complete is
 * false. Returns HTTPMSG_OK or an error (err gets a message); m is zeroed on error. */
int httpmsg_parse(httpmsg *m, httpmsg_type type, const char *raw, size_t len, const char *request_method,
                  char *err, size_t errlen);
void httpmsg_clear(httpmsg *m);

/* Header lookup, case-insensitive; the first match, or NULL. */
const httpmsg_header *httpmsg_find_header(const httpmsg_head *h, const char *name);
/* Convenience: copy a header's value into buf (NUL-terminated, cut to bufsz-1); returns 1 found, 0 not. */
int httpmsg_header_value(const httpmsg_head *h, const char *name, char *buf, size_t bufsz);

#endif
