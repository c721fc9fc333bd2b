/* cli_curl: a capture's requests as curl command lines, one per request, for bash (quoted with $'...'
 * where a byte needs it). The method, headers and body are those recorded (chunked framing undone;
 * Content-Length, Transfer-Encoding and Expect are left to curl), sent to the recorded URL or to a
 * given target. */
#ifndef TAPEDECK_CLI_CURL_H
#define TAPEDECK_CLI_CURL_H

#include <stdio.h>

#include "exchange.h"

typedef struct cli_curl_opts {
    const char *target;   /* "http://host:port" (a path in it is a prefix); NULL = the recorded URI */
    const char *body_dir; /* bodies go into files DIR/body-<idx>.bin (--data-binary @file); NULL = inline */
} cli_curl_opts;

/* Writes the command line for exchange number idx. 0, 1 when skipped (the request does not parse), or
 * -1 with err set (a body file cannot be written, out of memory). */
int cli_curl_write(FILE *f, const exchange *x, unsigned long long idx, const cli_curl_opts *o, char *err,
                   size_t errlen);

#endif
