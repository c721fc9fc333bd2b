/* check_opts: the command line of `tapedeck-replay check`. */
#ifndef TAPEDECK_CHECK_OPTS_H
#define TAPEDECK_CHECK_OPTS_H

#include <regex.h>
#include <stdio.h>
#include <stddef.h>

#include "jsonpath.h"

#define CHECK_MAX_LIST 64

typedef struct check_opts {
    char **captures;
    size_t n_captures;
    const char *target;
    const char *baseline;   /* NULL: none */
    int learn_noise;
    int concurrency;        /* recorded connections replayed at once (default 8) */
    int sequential;
    long timeout_ms;        /* per request (default 10 s) */
    int http2, insecure;
    int engine_curl;        /* --engine curl: libcurl for http:// too */
    int correlate;          /* default 1 */
    int no_diff;            /* hidden (benchmarks): replay and parse, compare nothing */
    size_t read_window;     /* hidden (tests): exchanges read ahead at most; 0 = CHECK_WINDOW_ITEMS */
    double max_diff_rate;   /* fraction 0..1 */
    const char *max_diff_rate_text;
    jsonpath_set *ignore;
    const char *ignore_header[CHECK_MAX_LIST];
    size_t n_ignore_header;
    const char *compare_header[CHECK_MAX_LIST];
    size_t n_compare_header;
    const char *set_header[CHECK_MAX_LIST];
    size_t n_set_header;
    const char *methods[CHECK_MAX_LIST];
    size_t n_methods;
    regex_t path_re;
    int has_path_re;
    const char *report_json, *junit, *html;
    size_t show_diffs;      /* diffs printed in the text summary (default 10) */
    int progress;           /* -1 auto (stderr is a terminal), 0 off, 1 on */
} check_opts;

/* What check_opts_parse found. It never prints: on CHECK_OPTS_EBAD err says what is wrong (naming the
 * flag and the value), and the caller prints it; on HELP/VERSION the caller prints check_usage or the
 * version. The same shape as load_opts_parse and proxy_config_parse. */
enum { CHECK_OPTS_OK = 0, CHECK_OPTS_HELP = 1, CHECK_OPTS_VERSION = 2, CHECK_OPTS_EBAD = -1 };
int check_opts_parse(check_opts *o, int argc, char **argv, char *err, size_t errlen);
void check_opts_free(check_opts *o);
void check_usage(FILE *f);

#endif
