/* content: undo HTTP content codings (gzip, x-gzip, deflate zlib-wrapped or raw, br, identity; a list
 * such as "gzip, br" is undone right to left) into a capped buffer. The one implementation shared by
 * `tapedeck-capture show` and the replay checker, so both read a body the same way. */
#ifndef TAPEDECK_CONTENT_H
#define TAPEDECK_CONTENT_H

#include <stddef.h>

#include "td_status.h"

typedef enum {
    CONTENT_OK = TD_OK,
    CONTENT_ECODING = TD_ECORRUPT, /* a coding we do not know, corrupt or cut-short data, or too many codings */
    CONTENT_ETOOBIG = TD_ETOOBIG, /* the decoded body would be over the cap */
    CONTENT_ENOMEM = TD_ENOMEM,
} content_status;

/* How many non-identity codings one list may stack: each layer costs up to the cap again. */
#define CONTENT_MAX_CODINGS 8

/* Undoes `codings` (a Content-Encoding value; NULL or "" = none) on in[0..n). On CONTENT_OK *out is a
 * malloc'ed, NUL-terminated body of *outlen bytes (<= max) that the caller frees, or NULL when there was
 * nothing to undo (empty list or identity only). On error *out is NULL and err (may be NULL) says why,
 * naming the coding. */
int content_decode(const char *codings, const char *in, size_t n, size_t max, char **out, size_t *outlen,
                   char *err, size_t errlen);

#endif
