/* cli_util: what every tapedeck-capture subcommand shares: exit codes, --help handling, a parsed view
 * of an exchange for listing (method, target, status, route, latency), JSON string output. */
#ifndef TAPEDECK_CLI_UTIL_H
#define TAPEDECK_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capset.h"
#include "exchange.h"

/* Exit status, like diff(1): 0 all good, 1 damage found (verify), 2 trouble (bad arguments, unreadable). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_TROUBLE = 2 };

/* A subcommand's entry point: argv[0] is the subcommand's name. Returns an exit status. */
typedef int (*cli_main_fn)(int argc, char **argv);

/* Prints "tapedeck-capture: CMD: message" to stderr. */
void cli_errorf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Standard reaction to an unknown option or a missing argument: message, hint, CLI_EXIT_TROUBLE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the CAPTURE arguments; on failure prints the reason and returns NULL. */
capset *cli_open_captures(const char *cmd, char *const *args, size_t nargs);
/* Options of a subcommand whose only option besides --help is one switch: --FLAG, and -LETTER when
 * letter is not 0 (flag NULL: no switch). Returns -1 to go on, with *on set and optind at the first
 * operand, or the exit status to return at once (--help printed, or an unknown option). */
int cli_switch_opts(const char *cmd, const char *help, int argc, char **argv, const char *flag, char letter,
                    bool *on);
/* After a capset_next loop that ended with r (0 end, < 0 error): says what went wrong, or warns about
 * a cut-off last frame. CLI_EXIT_OK or CLI_EXIT_TROUBLE. Standard output is flushed first so the
 * message lands after what was already printed. */
int cli_capset_end(const char *cmd, capset *s, int r);
/* Says on stderr which records were skipped as not exchanges (metadata, resource, revisit, orphan
 * responses, ...), when there were any besides warcinfo. */
void cli_capset_skips(const char *cmd, const capset *s);
/* The files of s as an array (malloc'ed, caller frees; the names belong to s), e.g. the inputs an
 * output must not overwrite. NULL with the reason printed under cmd's name. */
const char **cli_capset_paths(const char *cmd, const capset *s);
/* True (with the reason printed under cmd's name) when the existing file path is one of the n inputs:
 * writing it would cut an input to nothing before it is read. */
bool cli_output_is_input(const char *cmd, const char *path, const char *const *inputs, size_t n);

/* What ls, show and stats print about an exchange. Strings point into the view itself. */
typedef struct cli_view {
    char method[24];    /* "?" when the request does not parse */
    char target[2048];  /* request target as sent; cut at the buffer size */
    char route[512];    /* normalised path, e.g. /api/trips/{id} */
    int status;         /* 0 when the upstream failed or the response does not parse */
    double latency_ms;  /* < 0 when unknown */
} cli_view;

void cli_view_of(const exchange *x, cli_view *v);
/* The request method for parsing the response (HEAD responses have no body). */
const char *cli_view_method_or_null(const cli_view *v);

/* One byte inside a backslash-escaped string, JSON's (json: quote '"', other bytes as \u00XX) or a shell
 * $'...' string's (quote '\'', other bytes as \xXX): quote and backslash escaped, \n \r \t named, other
 * control and non-ASCII bytes in hex, the rest as is. */
void cli_put_escaped(FILE *f, unsigned char c, bool json);
/* JSON string (with quotes) of n bytes; invalid UTF-8 bytes are written as \u00XX. */
void cli_json_str(FILE *f, const char *s, size_t n);
/* ISO 8601 time ("2026-01-01T00:00:00Z", a fraction, or an offset "+01:00" instead of Z) -> Unix
 * microseconds. 0 or -1. */
int cli_parse_time(const char *s, int64_t *us);
/* Reads a whole file (or standard input for "-") into *out (NUL-terminated, caller frees), at most max
 * bytes. 0, or -1 with the reason printed under cmd's name. */
int cli_read_file(const char *cmd, const char *path, size_t max, char **out, size_t *n);
/* ISO 8601 UTC time with microseconds, or "-" when us is 0. */
const char *cli_iso_time(int64_t us, char *buf, size_t bufsz);

#endif
