/* load_opts: option parsing for `load` (long options; values as "--opt VALUE" or "--opt=VALUE"). */
#include "load_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "load_sched.h"
#include "tdnum.h"
#include "tdtime.h"

void load_usage(FILE *f)
{
    fprintf(f,
            "usage: tapedeck-replay load CAPTURE... --target URL [options]\n"
            "\n"
            "Replays recorded requests open-loop at a multiplied or fixed rate and judges latency.\n"
            "Latency counts from each request's intended send time (no coordinated omission); service\n"
            "time from its actual send. CAPTURE is a .warc.zst file or a folder of segments.\n"
            "\n"
            "schedule:\n"
            "  --speed F              replay the recorded timing F times faster (default 1)\n"
            "  --rate N/s             send at a fixed rate instead, cycling through the capture\n"
            "  --duration D           run for D (e.g. 30s, 5m), looping the capture; default one pass\n"
            "  --shard K/N            replay slice K (0..N-1) of N, split by recorded connection\n"
            "  --connections N        connection pool size, per target (default 64)\n"
            "  --max-inflight N       requests in flight at most (default: one per connection; --http2:\n"
            "                         default and limit 100 per connection); over --connections on\n"
            "                         HTTP/1.1 the pool grows, a connection opened whenever a request\n"
            "                         falls due while all are busy, up to N; a due request that finds\n"
            "                         no free slot waits, and the wait is reported as send lag and\n"
            "                         counted in its latency\n"
            "  --start-at TIME        start the schedule at TIME (RFC 3339, or Unix seconds), so that\n"
            "                         shards on many machines run one schedule (default: now)\n"
            "  --http2                speak HTTP/2 (h2 over TLS, prior knowledge over cleartext)\n"
            "  --engine native|curl   HTTP/1.1 client for http:// targets: tapedeck's own (default) or\n"
            "                         libcurl (https:// and --http2 always use libcurl)\n"
            "  --insecure             do not verify TLS certificates\n"
            "  --timeout D            per request (default 30s)\n"
            "  --set-header 'N: v'    send this header instead of the recorded one (repeatable)\n"
            "gates (combinable; exit 1 when one fails):\n"
            "  --slo EXPR             e.g. 'p99<250ms', 'p99.9<1s', 'max<2s', 'mean<50ms',\n"
            "                         'error_rate<0.1%%', 'rate>=95%%', 'GET /api/trips/{id}: p95<50ms'\n"
            "  --baseline-report FILE compare p50/p95 per route with an earlier JSON report\n"
            "  --compare URL          send every request to URL (the baseline) too, at the same moment,\n"
            "                         and fail when the target's p50 or p95 is worse beyond the threshold\n"
            "                         with 95%% confidence\n"
            "  --max-regression PCT   tolerated slowdown for the two above (default 10%%)\n"
            "  --regression-floor D   differences below D never count (default 1ms)\n"
            "  --min-samples N        routes with fewer samples are not judged (default 100)\n"
            "output:\n"
            "  --report-json FILE  --junit FILE  --html FILE   (- for stdout)\n"
            "  --progress / --no-progress   progress line on stderr (default: when it is a terminal)\n"
            "  --quiet                no text summary\n"
            "\n"
            "Exit status: 0 every gate passed, 1 a gate failed, 2 trouble (bad arguments, unreadable\n"
            "capture, target unreachable).\n");
}

/* Seconds east of UTC of a "+hh:mm"/"-hh:mm" suffix, or 0 for "Z". -1 when it is neither. */
static int parse_tz(const char *s, long *off)
{
    if (!strcmp(s, "Z") || !strcmp(s, "z")) {
        *off = 0;
        return 0;
    }
    int hh, mm, n = 0;
    if ((s[0] != '+' && s[0] != '-') || sscanf(s + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || s[1 + n] || n != 5 ||
        hh > 23 || mm > 59)
        return -1;
    *off = (s[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
    return 0;
}

int load_parse_start_at(const char *s, int64_t *us)
{
    char *end;
    errno = 0;
    if (strspn(s, "0123456789.") == strlen(s)) { /* Unix seconds */
        double v = strtod(s, &end);
        if (end == s || *end || errno || v <= 0 || v > 1e11)
            return -1;
        *us = (int64_t)(v * 1e6 + 0.5);
        return 0;
    }
    /* RFC 3339: tdtime parses the UTC forms; an offset is applied here. */
    char buf[64];
    size_t n = strlen(s);
    if (n < 20 || n >= sizeof buf)
        return -1;
    const char *tz = s + 19;
    if (*tz == '.' || *tz == ',')
        tz += 1 + strspn(tz + 1, "0123456789");
    long off;
    if (parse_tz(tz, &off) < 0)
        return -1;
    snprintf(buf, sizeof buf, "%.*sZ", (int)(tz - s), s);
    if (buf[10] == 't' || buf[10] == ' ')
        buf[10] = 'T';
    int64_t v;
    if (tdtime_parse_iso(buf, &v) < 0)
        return -1;
    *us = v - (int64_t)off * 1000000;
    return 0;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int load_opts_parse(load_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->speed = 1;
    o->connections = 64;
    o->timeout_us = 30000000;
    o->max_regression = 0.10;
    o->regression_floor_us = 1000;
    o->min_samples = 100;
    o->progress = -1;
    o->captures = calloc((size_t)argc + 1, sizeof *o->captures);
    if (!o->captures) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int only_args = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_args || a[0] != '-' || !strcmp(a, "-")) {
            o->captures[o->ncaptures++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_args = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return LOAD_OPTS_HELP;
        if (!strcmp(a, "--version"))
            return LOAD_OPTS_VERSION;
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = 1;
            continue;
        }
        if (!strcmp(a, "--http2") || !strcmp(a, "--insecure")) {
            *(a[2] == 'h' ? &o->http2 : &o->insecure) = 1;
            continue;
        }
        if (!strcmp(a, "--progress") || !strcmp(a, "--no-progress")) {
            o->progress = a[2] == 'p';
            continue;
        }
        /* options with a value */
        static const char *const WITH_VALUE[] = {
            "--target", "--compare", "--speed", "--rate", "--duration", "--shard", "--connections",
            "--max-inflight", "--timeout", "--slo", "--set-header", "--baseline-report", "--max-regression",
            "--regression-floor", "--min-samples", "--report-json", "--junit", "--html", "--engine", "--start-at"};
        char name[40];
        const char *val;
        char *eq = strchr(a, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
        int known = 0;
        for (size_t k = 0; k < sizeof WITH_VALUE / sizeof WITH_VALUE[0]; k++)
            known |= !strcmp(name, WITH_VALUE[k]);
        if (!known) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", name);
            return -1;
        }
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "%s needs a value (see --help)", a);
                return -1;
            }
            val = argv[++i];
        }
        int bad = 0;
        if (!strcmp(name, "--target"))
            o->target = val;
        else if (!strcmp(name, "--compare"))
            o->compare = val;
        else if (!strcmp(name, "--speed")) {
            char *end;
            o->speed = strtod(val, &end);
            bad = end == val || *end || !(o->speed > 0) || o->speed > 1e6;
        } else if (!strcmp(name, "--rate"))
            bad = load_sched_parse_rate(val, &o->rate);
        else if (!strcmp(name, "--duration"))
            bad = tdtime_parse_duration(val, 1000000, &o->duration_us) || o->duration_us <= 0;
        else if (!strcmp(name, "--shard"))
            bad = load_sched_parse_shard(val, &o->shard_k, &o->shard_n);
        else if (!strcmp(name, "--engine")) {
            engine_kind k;
            bad = engine_kind_parse(val, &k) < 0;
            o->engine_curl = k == ENGINE_CURL;
        } else if (!strcmp(name, "--start-at"))
            bad = load_parse_start_at(val, &o->start_at_us);
        else if (!strcmp(name, "--connections"))
            bad = parse_int(val, 1, 100000, &o->connections);
        else if (!strcmp(name, "--max-inflight"))
            bad = parse_int(val, 1, 1000000, &o->max_inflight);
        else if (!strcmp(name, "--timeout"))
            bad = tdtime_parse_duration(val, 1000000, &o->timeout_us) || o->timeout_us < 1000;
        else if (!strcmp(name, "--slo")) {
            if (o->nslo >= LOAD_MAX_SLO) {
                snprintf(err, errlen, "too many --slo (at most %d)", LOAD_MAX_SLO);
                return -1;
            }
            o->slo[o->nslo++] = val;
        } else if (!strcmp(name, "--set-header")) {
            if (o->nset_header >= LOAD_MAX_SET_HEADER || !strchr(val, ':')) {
                snprintf(err, errlen, "--set-header '%s': expected 'Name: value' (at most %d)", val,
                         LOAD_MAX_SET_HEADER);
                return -1;
            }
            o->set_header[o->nset_header++] = val;
        } else if (!strcmp(name, "--baseline-report"))
            o->baseline_report = val;
        else if (!strcmp(name, "--max-regression"))
            bad = tdnum_parse_percent(val, TDNUM_BARE_FRACTION, 100.0, &o->max_regression);
        else if (!strcmp(name, "--regression-floor"))
            bad = tdtime_parse_duration(val, 1000, &o->regression_floor_us);
        else if (!strcmp(name, "--min-samples")) {
            int v;
            bad = parse_int(val, 1, 1000000000, &v);
            o->min_samples = (uint64_t)(bad ? 0 : v);
        } else if (!strcmp(name, "--report-json"))
            o->report_json = val;
        else if (!strcmp(name, "--junit"))
            o->junit = val;
        else if (!strcmp(name, "--html"))
            o->html = val;
        else {
            snprintf(err, errlen, "unknown option '%s' (see --help)", name);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%s: bad value '%s' (see --help)", name, val);
            return -1;
        }
    }
    if (!o->target) {
        snprintf(err, errlen, "--target URL is required");
        return -1;
    }
    if (o->ncaptures == 0) {
        snprintf(err, errlen, "no CAPTURE given");
        return -1;
    }
    /* HTTP/2 multiplexes up to 100 streams on each of the connections. HTTP/1.1 carries one request per
     * connection at a time: by default --connections is the pool and the most in flight; a larger
     * --max-inflight lets the pool grow to that many connections, one opened whenever a request falls
     * due while every open one is busy, so that a stall of the target does not hold the schedule back. */
    long cap = (long)o->connections * (o->http2 ? 100 : 1);
    if (o->max_inflight == 0 || (o->http2 && o->max_inflight > cap))
        o->max_inflight = (int)(cap > 1000000 ? 1000000 : cap);
    return 0;
}
