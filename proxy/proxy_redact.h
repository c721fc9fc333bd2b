/* proxy_redact: replaces the values of named headers in a recorded message head by a keyed hash
 * (HMAC-SHA256, first 16 bytes in hex), so secrets never reach the capture while equal values still
 * compare equal across exchanges. Only the capture copy is changed; forwarding never sees this. */
#ifndef TAPEDECK_PROXY_REDACT_H
#define TAPEDECK_PROXY_REDACT_H

#include <stddef.h>

typedef struct proxy_redact proxy_redact;

/* names: header names (case-insensitive). key_file: NULL = a random key for this process. Returns NULL
 * with err set when the key file cannot be read or is empty, or on allocation failure. */
proxy_redact *proxy_redact_new(const char *const *names, size_t n, const char *key_file, char *err,
                               size_t errlen);
void proxy_redact_free(proxy_redact *r); /* NULL is a no-op */

/* Rewrites the head at the start of *buf (a raw HTTP message, head then body). When a header matched,
 * *buf is replaced by a new malloc'd buffer (the old one is freed) and *len updated. Returns 1 when
 * something was redacted, 0 when nothing was, -1 out of memory (buffer left untouched). Thread-safe. */
int proxy_redact_apply(const proxy_redact *r, char **buf, size_t *len);

/* The replacement text for one value: "hmac-sha256:" + 32 hex digits, into out (>= 45 bytes). */
void proxy_redact_token(const proxy_redact *r, const char *value, size_t n, char *out, size_t outsz);

#endif
