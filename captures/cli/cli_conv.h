/* cli_conv: what the converters (HAR, GoReplay, curl) share: base64, the pieces of a URL, and
 * rebuilding a raw HTTP/1.1 message around a body with a Content-Length. */
#ifndef TAPEDECK_CLI_CONV_H
#define TAPEDECK_CLI_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include "tdbuf.h"

/* Base64 of n bytes into a new NUL-terminated string (caller frees); NULL when out of memory. */
char *cli_b64_encode(const void *in, size_t n);
/* Decodes base64 (no whitespace) into a new buffer (caller frees, NUL-terminated); -1 when it is not
 * base64 or out of memory. */
int cli_b64_decode(const char *in, size_t n, char **out, size_t *outn);

/* The request target of a URL ("http://h:1/a?b" -> "/a?b", "/a" -> "/a", "http://h" -> "/"). */
const char *cli_url_target(const char *url);
/* The authority of an absolute URL ("http://h:1/a" -> "h:1") into buf; 0, or -1 when url has none. */
int cli_url_authority(const char *url, char *buf, size_t bufsz);

/* One header of a message being rebuilt. */
typedef struct cli_hdr {
    const char *name, *value;
} cli_hdr;

/* Appends "start\r\n", the headers, and the body to out, as an HTTP/1.1 message framed by
 * Content-Length: a Content-Length or Transfer-Encoding header is replaced in place by
 * "Content-Length: <body_len>" (one only), and one is added at the end when none was there and
 * want_length is set. keep_length leaves the headers as they are (a HEAD, 204 or 304 response whose
 * Content-Length describes a body that is not sent). Header names starting with ':' (HTTP/2 pseudo
 * headers) and names in drop (NULL-terminated, case-insensitive; may be NULL) are left out. 0 or -1. */
int cli_http_build(tdbuf *out, const char *start, const cli_hdr *h, size_t nh, const char *const *drop,
                   const char *body, size_t body_len, bool want_length, bool keep_length);

/* Decompresses *data in place when it is gzip (several members allowed): 1 done (*data replaced),
 * 0 not gzip (untouched), -1 not valid, cut off, or over max bytes (err says which). */
int cli_gunzip(char **data, size_t *n, size_t max, char *err, size_t errlen);

/* Whether a response to method with this status carries no body (HEAD, 1xx, 204, 304). */
bool cli_http_bodyless(const char *method, int status);
/* A reason phrase for a status, "" when unknown. */
const char *cli_http_reason(int status);

#endif
