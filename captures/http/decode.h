/* decode: turn a raw HTTP response (recorded or replayed, exactly as it crossed the wire) into what check
 * compares: status, media type, headers, and the body de-chunked and content-decoded (gzip, x-gzip,
 * deflate, br, identity; a list such as "gzip, br" is undone in reverse order: captures/content). Recorded
 * and replayed responses go through the same code, so an encoding difference alone is never a diff. */
#ifndef TAPEDECK_DECODE_H
#define TAPEDECK_DECODE_H

#include <stddef.h>
#include "content.h"
#include "httpmsg.h"

typedef enum {
    DECODE_OK = TD_OK,
    DECODE_EPARSE = TD_EOWN, /* the message does not parse as HTTP (the body's coding may be fine) */
    DECODE_ECODING = CONTENT_ECODING, /* a content coding we do not know, or corrupt compressed data */
    DECODE_ETOOBIG = CONTENT_ETOOBIG, /* decoded body over the limit */
    DECODE_ENOMEM = CONTENT_ENOMEM,
} decode_status;

#define DECODE_MAX_BODY (64u * 1024 * 1024)

typedef struct decode_msg {
    httpmsg msg;          /* the parsed message: msg.head has status and headers */
    int status;
    char media_type[128]; /* lower case, parameters dropped ("application/json"); "" when absent */
    const char *body;     /* decoded body (points into msg or into owned storage); NUL-terminated */
    size_t body_len;
    int truncated;        /* the raw body was cut short (recording limit): body is what there is */
    char *owned;
    char *head_copy; /* HTTP/2 heads, relabelled HTTP/1.1 for the HTTP/1 parser */
} decode_msg;

/* Parses raw (a whole response) and decodes its body. head_only_len != 0 means raw[0..head_only_len) is
 * a head and the rest is the body as-is (HTTP/2 responses, which have no HTTP/1 framing). req_method
 * decides HEAD semantics (may be NULL). On error m is zeroed and err says why. */
int decode_response(decode_msg *m, const char *raw, size_t len, size_t head_only_len, const char *req_method,
                    char *err, size_t errlen);
void decode_msg_clear(decode_msg *m); /* safe on a zeroed or failed msg */

/* 1 when the media type is JSON (application/json or any +json). */
int decode_is_json_type(const char *media_type);

/* Lower-cased media type of a Content-Type value, parameters dropped. */
void decode_media_type(const char *value, size_t len, char *out, size_t outsz);

#endif
