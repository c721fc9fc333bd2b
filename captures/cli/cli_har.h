/* cli_har: HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) out of and into captures.
 *
 * Export writes one entry per exchange, streaming (bounded memory). Bodies are the bytes as recorded
 * (chunked framing undone); text bodies go in as text, others as base64 ("encoding": "base64"; for a
 * request body "_encoding"). A body still content-coded (gzip, br) is kept coded and marked
 * "_tapedeckEncoded": true, so that import can keep its Content-Encoding. Each entry has a "_tapedeck"
 * object with what HAR has no field for: exact microsecond times, connection id and sequence, client
 * address, interim codes, truncation, upstream error, WARC-Target-URI.
 *
 * Import rebuilds raw HTTP/1.1 messages framed by Content-Length from any HAR 1.2 (browsers' too:
 * HTTP/2 pseudo headers are dropped, Host is added from the URL, and Content-Encoding is dropped
 * because HAR bodies are decoded text unless marked as above). A status of 0 means the upstream
 * failed: no response. */
#ifndef TAPEDECK_CLI_HAR_H
#define TAPEDECK_CLI_HAR_H

#include <stdio.h>

#include "exchange.h"

typedef struct cli_har_writer cli_har_writer;

/* Starts a HAR document on f. NULL when out of memory. */
cli_har_writer *cli_har_writer_new(FILE *f);
/* Writes one entry: 0, 1 when skipped (the request is not HTTP/1.x), -1 when out of memory. */
int cli_har_writer_add(cli_har_writer *w, const exchange *x);
/* Ends the document and frees w (the FILE stays open). NULL is a no-op. */
void cli_har_writer_free(cli_har_writer *w);

/* Calls each(x, ctx) for every entry of the HAR file path ("-" = standard input), in file order; x is
 * cleared after each call. Returns the number of entries, or -1 with the reason printed under cmd's
 * name (a malformed file: what and where), or the first negative value each returned. */
long cli_har_import(const char *cmd, const char *path, int (*each)(const exchange *x, void *ctx), void *ctx);

#endif
