/* cli_filter: the exchanges of a capture that match every criterion, into a new capture. The messages
 * are copied as recorded (request and response blocks byte for byte, timing, connection ids, interim
 * codes, truncation, errors); only the WARC record ids and dates of writing are new. */
#include "cli_filter.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_out.h"
#include "cli_util.h"

const char cli_filter_help[] =
    "Usage: tapedeck-capture filter -o FILE [options] CAPTURE...\n"
    "\n"
    "Writes the exchanges of the captures that match every given criterion into a new capture FILE\n"
    "(.warc.zst, one file). Messages are kept byte for byte as recorded, with their timing, connection\n"
    "ids and sequence numbers, interim codes, truncation marks and upstream errors.\n"
    "Each criterion takes a comma-separated list (any item matches) and may be repeated (same meaning).\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE    the capture to write (required; never one of the inputs)\n"
    "  --method LIST        request methods, e.g. GET,HEAD (case-insensitive)\n"
    "  --route LIST         a normalised route as `stats` prints it (/api/trips/{id}), or else an\n"
    "                       extended regular expression searched in the path (query left out),\n"
    "                       e.g. '^/api/(trips|pois)/'\n"
    "  --status LIST        final status codes: 200, a class 2xx..5xx, or '-' for an upstream failure\n"
    "  --since TIME         requests that started at or after TIME (ISO 8601, e.g.\n"
    "                       2026-01-01T00:00:00Z or 2026-01-01T01:00:00.5+01:00)\n"
    "  --until TIME         requests that started before TIME\n"
    "  --no-dictionary      write plain zstd frames (zstdcat reads the file without tapedeck)\n"
    "  -q, --quiet          do not print the count\n"
    "  -h, --help           show this help\n"
    "\n"
    "Prints 'N of M exchanges written to FILE' to stderr. An empty result is still a valid capture.\n"
    "Exit status: 0 done; 2 bad arguments, an unreadable or damaged capture, or a write failure (the\n"
    "output is removed then).\n";

#define FILTER_MAX_ITEMS 64

typedef struct filter {
    char *methods[FILTER_MAX_ITEMS];
    size_t n_methods;
    char *routes[FILTER_MAX_ITEMS];
    regex_t res[FILTER_MAX_ITEMS];
    bool has_re[FILTER_MAX_ITEMS];
    size_t n_routes;
    int status[FILTER_MAX_ITEMS]; /* exact code, 1..5 for a class, 0 for '-' */
    bool status_class[FILTER_MAX_ITEMS];
    size_t n_status;
    int64_t since, until; /* 0 = unbounded */
} filter;

static void filter_clear(filter *f)
{
    for (size_t i = 0; i < f->n_methods; i++)
        free(f->methods[i]);
    for (size_t i = 0; i < f->n_routes; i++) {
        free(f->routes[i]);
        if (f->has_re[i])
            regfree(&f->res[i]);
    }
}

/* Splits a comma list into items; calls add for each. -1 on a bad item (message printed). */
static int each_item(const char *list, const char *opt, filter *f, int (*add)(filter *, const char *, const char *))
{
    char *copy = strdup(list), *save = NULL;
    if (!copy) {
        cli_errorf("filter", "out of memory");
        return -1;
    }
    int rc = 0, any = 0;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        any = 1;
        rc = add(f, t, opt);
    }
    if (!any && !rc) {
        cli_usage_error("filter", "%s: empty list", opt);
        rc = -1;
    }
    free(copy);
    return rc;
}

static int add_method(filter *f, const char *s, const char *opt)
{
    if (f->n_methods == FILTER_MAX_ITEMS)
        return cli_usage_error("filter", "%s: more than %d items", opt, FILTER_MAX_ITEMS), -1;
    if (!(f->methods[f->n_methods] = strdup(s)))
        return cli_errorf("filter", "out of memory"), -1;
    f->n_methods++;
    return 0;
}

static int add_route(filter *f, const char *s, const char *opt)
{
    size_t i = f->n_routes;
    if (i == FILTER_MAX_ITEMS)
        return cli_usage_error("filter", "%s: more than %d items", opt, FILTER_MAX_ITEMS), -1;
    if (!(f->routes[i] = strdup(s)))
        return cli_errorf("filter", "out of memory"), -1;
    f->n_routes++;
    int e = regcomp(&f->res[i], s, REG_EXTENDED | REG_NOSUB);
    if (e == 0) {
        f->has_re[i] = true;
        return 0;
    }
    if (strchr(s, '{')) /* a normalised route ("/a/{id}") is not a valid regex: compare it as a route */
        return 0;
    char msg[256];
    regerror(e, &f->res[i], msg, sizeof msg);
    return cli_usage_error("filter", "%s '%s': not a route nor a regular expression: %s", opt, s, msg), -1;
}

static int add_status(filter *f, const char *s, const char *opt)
{
    size_t i = f->n_status;
    if (i == FILTER_MAX_ITEMS)
        return cli_usage_error("filter", "%s: more than %d items", opt, FILTER_MAX_ITEMS), -1;
    if (!strcmp(s, "-")) {
        f->status[i] = 0;
    } else if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && tolower((unsigned char)s[1]) == 'x' &&
               tolower((unsigned char)s[2]) == 'x') {
        f->status[i] = s[0] - '0';
        f->status_class[i] = true;
    } else if (strlen(s) == 3 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
               isdigit((unsigned char)s[2]) && s[0] >= '1') {
        f->status[i] = atoi(s);
    } else {
        return cli_usage_error("filter", "%s '%s': want a code (200), a class (5xx) or '-'", opt, s), -1;
    }
    f->n_status++;
    return 0;
}

static bool route_matches(const filter *f, const cli_view *v)
{
    if (!f->n_routes)
        return true;
    char path[sizeof v->target];
    size_t n = strcspn(v->target, "?");
    memcpy(path, v->target, n);
    path[n] = '\0';
    for (size_t i = 0; i < f->n_routes; i++) {
        if (!strcmp(f->routes[i], v->route))
            return true;
        if (f->has_re[i] && regexec(&f->res[i], path, 0, NULL, 0) == 0)
            return true;
    }
    return false;
}

static bool matches(const filter *f, const exchange *x, const cli_view *v)
{
    if (f->since && x->req_start_us < f->since)
        return false;
    if (f->until && x->req_start_us >= f->until)
        return false;
    if (f->n_methods) {
        size_t i;
        for (i = 0; i < f->n_methods && strcasecmp(f->methods[i], v->method); i++)
            ;
        if (i == f->n_methods)
            return false;
    }
    if (f->n_status) {
        size_t i;
        for (i = 0; i < f->n_status; i++) {
            if (f->status_class[i] ? v->status / 100 == f->status[i] : v->status == f->status[i])
                break;
        }
        if (i == f->n_status)
            return false;
    }
    return route_matches(f, v);
}

int cli_filter_main(int argc, char **argv)
{
    enum { O_METHOD = 256, O_ROUTE, O_STATUS, O_SINCE, O_UNTIL, O_NODICT };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"method", required_argument, NULL, O_METHOD},
        {"route", required_argument, NULL, O_ROUTE}, {"status", required_argument, NULL, O_STATUS},
        {"since", required_argument, NULL, O_SINCE}, {"until", required_argument, NULL, O_UNTIL},
        {"no-dictionary", no_argument, NULL, O_NODICT}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    filter f;
    memset(&f, 0, sizeof f);
    const char *out_path = NULL;
    bool no_dict = false, quiet = false;
    int c, rc = CLI_EXIT_TROUBLE;
    capset *s = NULL;
    cli_out *out = NULL;
    const char **inputs = NULL;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:q", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'h':
            fputs(cli_filter_help, stdout);
            rc = CLI_EXIT_OK;
            goto done;
        case 'o': out_path = optarg; break;
        case 'q': quiet = true; break;
        case O_NODICT: no_dict = true; break;
        case O_METHOD: bad = each_item(optarg, "--method", &f, add_method); break;
        case O_ROUTE: bad = each_item(optarg, "--route", &f, add_route); break;
        case O_STATUS: bad = each_item(optarg, "--status", &f, add_status); break;
        case O_SINCE:
        case O_UNTIL:
            if (cli_parse_time(optarg, c == O_SINCE ? &f.since : &f.until) < 0) {
                cli_usage_error("filter", "%s '%s': not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)",
                                c == O_SINCE ? "--since" : "--until", optarg);
                bad = 1;
            }
            break;
        case ':': cli_usage_error("filter", "option '%s' needs a value", argv[optind - 1]); goto done;
        default: cli_usage_error("filter", "unknown option '%s'", argv[optind - 1]); goto done;
        }
        if (bad)
            goto done;
    }
    if (!out_path) {
        cli_usage_error("filter", "no output file given (-o FILE)");
        goto done;
    }
    if (!(s = cli_open_captures("filter", argv + optind, (size_t)(argc - optind))))
        goto done;
    if (!(inputs = cli_capset_paths("filter", s)))
        goto done;
    if (!(out = cli_out_new("filter", out_path, inputs, capset_nfiles(s), no_dict, NULL)))
        goto done;
    exchange x;
    int r;
    uint64_t total = 0;
    while ((r = capset_next(s, &x)) == 1) {
        cli_view v;
        cli_view_of(&x, &v);
        total++;
        int w = matches(&f, &x, &v) ? cli_out_write(out, &x) : 0;
        exchange_clear(&x);
        if (w < 0)
            goto done;
    }
    if (cli_capset_end("filter", s, r) != CLI_EXIT_OK)
        goto done;
    unsigned long long kept = cli_out_count(out);
    int fr = cli_out_free(out, true);
    out = NULL;
    if (fr < 0)
        goto done;
    if (!quiet)
        fprintf(stderr, "%llu of %" PRIu64 " exchanges written to %s\n", kept, total, out_path);
    rc = CLI_EXIT_OK;
done:
    cli_out_free(out, false);
    free(inputs);
    capset_free(s);
    filter_clear(&f);
    return rc;
}
