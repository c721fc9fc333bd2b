/* check_opts: getopt_long over the flags of design.md; every error names the flag and the value. */
#include "check_opts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "tdnum.h"
#include "tdtime.h"

void check_usage(FILE *f)
{
    fprintf(f,
            "usage: tapedeck-replay check CAPTURE... --target URL [options]\n"
            "\n"
            "Replays every recorded request against the target and diffs each response with the recorded\n"
            "one: status, media type, chosen headers, and the body after de-chunking and content-decoding\n"
            "(JSON structurally, other text exactly, binary by digest). CAPTURE is a .warc.zst file or a\n"
            "folder of segments.\n"
            "\n"
            "  --target URL            the candidate deployment (required), e.g. http://127.0.0.1:8080\n"
            "  --baseline URL          a deployment of the current version: fields where the recording and\n"
            "                          the baseline already disagree are noise, not regressions\n"
            "  --learn-noise           send each request twice to the target; what changes is noise\n"
            "  --ignore JSONPATH       skip a body field: $.a.b  $.a[*].b  $.a[0]  $..b  (repeatable)\n"
            "  --ignore-header NAME    never compare this response header (repeatable)\n"
            "  --compare-header NAME   compare this response header too (repeatable)\n"
            "  --set-header 'N: v'     send this header instead of the recorded one (repeatable)\n"
            "  --method M              only replay these methods (repeatable, or a comma list)\n"
            "  --path REGEX            only replay requests whose target (path?query) matches (POSIX ERE)\n"
            "  --no-correlate          do not map ids/tokens handed out by the target into later requests\n"
            "  --concurrency N         recorded connections replayed in parallel (default 8)\n"
            "  --sequential            one request at a time in global recorded order (stateful APIs)\n"
            "  --timeout D             per-request timeout, e.g. 10s, 500ms (default 10s)\n"
            "  --http2                 speak HTTP/2 (prior knowledge on http://, ALPN on https://)\n"
            "  --insecure              do not verify TLS certificates\n"
            "  --engine native|curl    HTTP/1.1 client for http:// targets: tapedeck's own (default) or\n"
            "                          libcurl (https:// and --http2 always use libcurl)\n"
            "  --max-diff-rate R       fail only when (exchanges with diffs + errors) / exchanges > R;\n"
            "                          R is a percentage with '%%' (\"0.5%%\") or a fraction (\"0.005\");\n"
            "                          default 0: any diff fails\n"
            "  --report-json FILE      the report as JSON   --junit FILE  JUnit XML   --html FILE  a page\n"
            "  --show-diffs N          diffs printed in the summary (default 10)\n"
            "  --progress / --no-progress   progress line on stderr (default: when it is a terminal)\n"
            "  --help, --version\n"
            "\n"
            "Exit status: 0 passed, 1 diffs over the limit, 2 trouble (bad flags, unreadable capture,\n"
            "target unreachable).\n");
}

/* err = the formatted message; returns CHECK_OPTS_EBAD. */
static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return CHECK_OPTS_EBAD;
}

static int add_list(const char **list, size_t *n, const char *v, const char *flag, char *err, size_t errlen)
{
    if (*n == CHECK_MAX_LIST)
        return bad(err, errlen, "too many %s (at most %d)", flag, CHECK_MAX_LIST);
    list[(*n)++] = v;
    return 0;
}

enum {
    O_TARGET = 256, O_BASELINE, O_LEARN, O_CONC, O_SEQ, O_TIMEOUT, O_HTTP2, O_INSECURE, O_NOCORR, O_NODIFF,
    O_MAXRATE, O_IGNORE, O_IGNHDR, O_CMPHDR, O_SETHDR, O_METHOD, O_PATH, O_RJSON, O_JUNIT, O_HTML, O_SHOW,
    O_PROGRESS, O_NOPROGRESS, O_HELP, O_VERSION, O_ENGINE, O_WINDOW,
};

int check_opts_parse(check_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    static const struct option longopts[] = {
        {"target", required_argument, 0, O_TARGET},       {"baseline", required_argument, 0, O_BASELINE},
        {"learn-noise", no_argument, 0, O_LEARN},          {"concurrency", required_argument, 0, O_CONC},
        {"sequential", no_argument, 0, O_SEQ},             {"timeout", required_argument, 0, O_TIMEOUT},
        {"http2", no_argument, 0, O_HTTP2},                {"insecure", no_argument, 0, O_INSECURE},
        {"no-correlate", no_argument, 0, O_NOCORR},        {"no-diff", no_argument, 0, O_NODIFF},
        {"max-diff-rate", required_argument, 0, O_MAXRATE}, {"ignore", required_argument, 0, O_IGNORE},
        {"ignore-header", required_argument, 0, O_IGNHDR}, {"compare-header", required_argument, 0, O_CMPHDR},
        {"set-header", required_argument, 0, O_SETHDR},    {"method", required_argument, 0, O_METHOD},
        {"path", required_argument, 0, O_PATH},            {"report-json", required_argument, 0, O_RJSON},
        {"junit", required_argument, 0, O_JUNIT},          {"html", required_argument, 0, O_HTML},
        {"show-diffs", required_argument, 0, O_SHOW},      {"progress", no_argument, 0, O_PROGRESS},
        {"no-progress", no_argument, 0, O_NOPROGRESS},     {"help", no_argument, 0, O_HELP},
        {"version", no_argument, 0, O_VERSION},            {"engine", required_argument, 0, O_ENGINE},
        {"read-window", required_argument, 0, O_WINDOW},    {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->concurrency = 8;
    o->timeout_ms = 10000;
    o->correlate = 1;
    o->show_diffs = 10;
    o->progress = -1;
    o->max_diff_rate_text = "0";
    o->ignore = jsonpath_set_new();
    if (!o->ignore)
        return bad(err, errlen, "out of memory");
    char why[256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case O_TARGET: o->target = optarg; break;
        case O_BASELINE: o->baseline = optarg; break;
        case O_LEARN: o->learn_noise = 1; break;
        case O_CONC: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 10000) {
                return bad(err, errlen, "--concurrency wants a number from 1 to 10000, got '%s'", optarg);
            }
            o->concurrency = (int)v;
            break;
        }
        case O_SEQ: o->sequential = 1; break;
        case O_TIMEOUT: {
            int64_t us;
            if (tdtime_parse_duration(optarg, 1000000, &us) < 0 || us < 1000) {
                return bad(err, errlen, "--timeout wants a duration such as 10s or 500ms, got '%s'", optarg);
            }
            o->timeout_ms = (long)(us / 1000);
            break;
        }
        case O_HTTP2: o->http2 = 1; break;
        case O_ENGINE: {
            engine_kind k;
            if (engine_kind_parse(optarg, &k) < 0)
                return bad(err, errlen, "--engine wants native or curl, got '%s'", optarg);
            o->engine_curl = k == ENGINE_CURL;
            break;
        }
        case O_INSECURE: o->insecure = 1; break;
        case O_NOCORR: o->correlate = 0; break;
        case O_NODIFF: o->no_diff = 1; break;
        case O_WINDOW: /* hidden (tests): a tiny window makes every capture a long one */
            o->read_window = strtoul(optarg, &end, 10);
            if (end == optarg || *end || !o->read_window)
                return bad(err, errlen, "--read-window wants a positive number, got '%s'", optarg);
            break;
        case O_MAXRATE:
            if (tdnum_parse_percent(optarg, TDNUM_BARE_FRACTION, 1.0, &o->max_diff_rate) < 0) {
                return bad(err, errlen, "--max-diff-rate wants a percentage ('1%%') or a fraction ('0.01') "
                                        "between 0 and 1, got '%s'", optarg);
            }
            o->max_diff_rate_text = optarg;
            break;
        case O_IGNORE:
            if (jsonpath_set_add(o->ignore, optarg, why, sizeof why) < 0) {
                return bad(err, errlen, "--ignore: %s", why);
            }
            break;
        case O_IGNHDR:
            if (add_list(o->ignore_header, &o->n_ignore_header, optarg, "--ignore-header", err, errlen))
                return CHECK_OPTS_EBAD;
            break;
        case O_CMPHDR:
            if (add_list(o->compare_header, &o->n_compare_header, optarg, "--compare-header", err, errlen))
                return CHECK_OPTS_EBAD;
            break;
        case O_SETHDR: {
            const char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg) {
                return bad(err, errlen, "--set-header wants 'Name: value', got '%s'", optarg);
            }
            if (add_list(o->set_header, &o->n_set_header, optarg, "--set-header", err, errlen))
                return CHECK_OPTS_EBAD;
            break;
        }
        case O_METHOD: {
            char *s = optarg, *tok, *save;
            for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if (add_list(o->methods, &o->n_methods, tok, "--method", err, errlen))
                    return CHECK_OPTS_EBAD;
            break;
        }
        case O_PATH: {
            if (o->has_path_re)
                regfree(&o->path_re);
            int rc = regcomp(&o->path_re, optarg, REG_EXTENDED | REG_NOSUB);
            if (rc) {
                regerror(rc, &o->path_re, why, sizeof why);
                return bad(err, errlen, "--path '%s': %s", optarg, why);
            }
            o->has_path_re = 1;
            break;
        }
        case O_RJSON: o->report_json = optarg; break;
        case O_JUNIT: o->junit = optarg; break;
        case O_HTML: o->html = optarg; break;
        case O_SHOW: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0) {
                return bad(err, errlen, "--show-diffs wants a number, got '%s'", optarg);
            }
            o->show_diffs = (size_t)v;
            break;
        }
        case O_PROGRESS: o->progress = 1; break;
        case O_NOPROGRESS: o->progress = 0; break;
        case 'h':
        case O_HELP: return CHECK_OPTS_HELP;
        case O_VERSION: return CHECK_OPTS_VERSION;
        case ':':
            return bad(err, errlen, "%s needs a value", argv[optind - 1]);
        default:
            return bad(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (!o->target) {
        return bad(err, errlen, "--target URL is required (see --help)");
    }
    if (optind >= argc) {
        return bad(err, errlen, "no CAPTURE given (a .warc.zst file or a folder)");
    }
    o->captures = argv + optind;
    o->n_captures = (size_t)(argc - optind);
    return CHECK_OPTS_OK;
}

void check_opts_free(check_opts *o)
{
    jsonpath_set_free(o->ignore);
    o->ignore = NULL;
    if (o->has_path_re)
        regfree(&o->path_re);
    o->has_path_re = 0;
}
