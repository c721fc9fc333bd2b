/* cli_gor: GoReplay files (https://github.com/buger/goreplay, the --output-file text format) out of
 * and into captures. A file is a run of payloads, each "TYPE ID TIMESTAMP LATENCY\n<raw HTTP>" followed
 * by the separator "\n🐵🙈🙉\n"; TYPE 1 is a request, 2 its response (same ID), 3 a replayed response;
 * TIMESTAMP is Unix nanoseconds, LATENCY nanoseconds (-1 for requests).
 *
 * Export writes a 1 (timestamp: request start) and, when there is a response, a 2 (timestamp: the
 * response's first byte; latency: request start to response end). Import pairs 1 and 2 by ID (3 is
 * skipped) and reverses that; a request without a response is an upstream failure. GoReplay has no
 * connections: imported exchanges each get a connection of their own. */
#ifndef TAPEDECK_CLI_GOR_H
#define TAPEDECK_CLI_GOR_H

#include <stdio.h>

#include "exchange.h"

/* Writes exchange number idx; 0 or -1 (a write failed). */
int cli_gor_write(FILE *f, const exchange *x, unsigned long long idx);

/* Calls each(x, ctx) for every request of the file path ("-" = standard input) in file order; x is
 * cleared after each call. Returns the number of exchanges, or -1 with the reason printed under cmd's
 * name, or the first negative value each returned. */
long cli_gor_import(const char *cmd, const char *path, int (*each)(const exchange *x, void *ctx), void *ctx);

#endif
