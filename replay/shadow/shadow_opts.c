/* shadow_opts: getopt_long over the flags `shadow` shares with check; every error names the flag. */
#include "shadow_opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tdnum.h"

void shadow_usage(FILE *f)
{
    fprintf(f,
            "usage: tapedeck-replay shadow CAPTURE... [options]\n"
            "\n"
            "Judges a capture recorded by tapedeck-proxy --mirror URL --mirror-record: each exchange's\n"
            "production response is diffed with the shadow's answer recorded beside it (status, media\n"
            "type, chosen headers, the body de-chunked and content-decoded: JSON structurally, other\n"
            "bodies exactly). With --mirror-baseline answers in the capture, fields where production and\n"
            "the baseline already disagree are noise, not regressions. Nothing is sent anywhere.\n"
            "\n"
            "  --ignore JSONPATH       skip a body field: $.a.b  $.a[*].b  $.a[0]  $..b  (repeatable)\n"
            "  --ignore-header NAME    never compare this response header (repeatable)\n"
            "  --compare-header NAME   compare this response header too (repeatable)\n"
            "  --method M              only judge these methods (repeatable, or a comma list)\n"
            "  --path REGEX            only judge requests whose target (path?query) matches (POSIX ERE)\n"
            "  --max-diff-rate R       fail only when (exchanges with diffs + shadow errors) / exchanges\n"
            "                          > R; R is '0.5%%' or '0.005'; default 0: any diff fails\n"
            "  --report-json FILE      the report as JSON   --junit FILE  JUnit XML   --html FILE  a page\n"
            "  --show-diffs N          diffs printed in the summary (default 10)\n"
            "  --help, --version\n"
            "\n"
            "Exit status: 0 passed, 1 diffs over the limit, 2 trouble (bad flags, unreadable capture, no\n"
            "shadow answers in it).\n");
}

static int add_list(const char **list, size_t *n, const char *v, const char *flag)
{
    if (*n == CHECK_MAX_LIST) {
        fprintf(stderr, "tapedeck-replay shadow: too many %s (at most %d)\n", flag, CHECK_MAX_LIST);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

enum { S_MAXRATE = 256, S_IGNORE, S_IGNHDR, S_CMPHDR, S_METHOD, S_PATH, S_RJSON, S_JUNIT, S_HTML, S_SHOW, S_HELP, S_VERSION };

/* One option; 0 or -1 (printed). */
static int one(check_opts *o, int c, const char *arg)
{
    const char *P = "tapedeck-replay shadow";
    char err[256];
    switch (c) {
    case S_MAXRATE:
        if (tdnum_parse_percent(arg, TDNUM_BARE_FRACTION, 1.0, &o->max_diff_rate) < 0) {
            fprintf(stderr, "%s: --max-diff-rate wants a percentage ('1%%') or a fraction ('0.01') between 0 "
                            "and 1, got '%s'\n", P, arg);
            return -1;
        }
        o->max_diff_rate_text = arg;
        return 0;
    case S_IGNORE:
        if (jsonpath_set_add(o->ignore, arg, err, sizeof err) < 0) {
            fprintf(stderr, "%s: --ignore: %s\n", P, err);
            return -1;
        }
        return 0;
    case S_IGNHDR: return add_list(o->ignore_header, &o->n_ignore_header, arg, "--ignore-header");
    case S_CMPHDR: return add_list(o->compare_header, &o->n_compare_header, arg, "--compare-header");
    case S_METHOD: {
        char *save, *s = (char *)arg;
        for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            if (add_list(o->methods, &o->n_methods, tok, "--method"))
                return -1;
        return 0;
    }
    case S_PATH: {
        if (o->has_path_re)
            regfree(&o->path_re);
        o->has_path_re = 0;
        int rc = regcomp(&o->path_re, arg, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            regerror(rc, &o->path_re, err, sizeof err);
            fprintf(stderr, "%s: --path '%s': %s\n", P, arg, err);
            return -1;
        }
        o->has_path_re = 1;
        return 0;
    }
    case S_RJSON: o->report_json = arg; return 0;
    case S_JUNIT: o->junit = arg; return 0;
    case S_HTML: o->html = arg; return 0;
    case S_SHOW: {
        char *end;
        long v = strtol(arg, &end, 10);
        if (*end || v < 0) {
            fprintf(stderr, "%s: --show-diffs wants a number, got '%s'\n", P, arg);
            return -1;
        }
        o->show_diffs = (size_t)v;
        return 0;
    }
    }
    return -1;
}

int shadow_opts_parse(check_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"max-diff-rate", required_argument, 0, S_MAXRATE}, {"ignore", required_argument, 0, S_IGNORE},
        {"ignore-header", required_argument, 0, S_IGNHDR},  {"compare-header", required_argument, 0, S_CMPHDR},
        {"method", required_argument, 0, S_METHOD},         {"path", required_argument, 0, S_PATH},
        {"report-json", required_argument, 0, S_RJSON},     {"junit", required_argument, 0, S_JUNIT},
        {"html", required_argument, 0, S_HTML},             {"show-diffs", required_argument, 0, S_SHOW},
        {"help", no_argument, 0, S_HELP},                   {"version", no_argument, 0, S_VERSION},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->show_diffs = 10;
    o->max_diff_rate_text = "0";
    o->ignore = jsonpath_set_new();
    if (!o->ignore) {
        fprintf(stderr, "tapedeck-replay shadow: out of memory\n");
        return -1;
    }
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h' || c == S_HELP) {
            shadow_usage(stdout);
            return 1;
        }
        if (c == S_VERSION) {
            printf("tapedeck-replay %s\n", TAPEDECK_VERSION);
            return 1;
        }
        if (c == ':') {
            fprintf(stderr, "tapedeck-replay shadow: %s needs a value\n", argv[optind - 1]);
            return -1;
        }
        if (c == '?') {
            fprintf(stderr, "tapedeck-replay shadow: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return -1;
        }
        if (one(o, c, optarg) < 0)
            return -1;
    }
    if (optind >= argc) {
        fprintf(stderr, "tapedeck-replay shadow: no CAPTURE given (a .warc.zst file or a folder)\n");
        return -1;
    }
    o->captures = argv + optind;
    o->n_captures = (size_t)(argc - optind);
    return 0;
}
