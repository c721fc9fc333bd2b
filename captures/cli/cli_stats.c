/* cli_stats: per-route counts and recorded latency percentiles. Percentiles are exact (nearest rank
 * over every recorded latency), which a capture's size allows. */
#include "cli_stats.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

const char cli_stats_help[] =
    "Usage: tapedeck-capture stats [options] CAPTURE...\n"
    "\n"
    "Counts the exchanges per route (method and normalised path: numeric, UUID and hex segments\n"
    "become {id}) with their status classes and the recorded latency percentiles (p50, p90, p99, max;\n"
    "from the request's first byte to the response's last byte, exact nearest-rank), busiest route\n"
    "first, then the line ALL for the whole capture. The column other counts exchanges without a final\n"
    "status (the upstream failed) or with a 1xx one (an upgrade).\n"
    "\n"
    "Options:\n"
    "  --json         one JSON document: {\"exchanges\", \"files\", \"first\", \"last\", \"routes\": [{\"method\",\n"
    "                 \"route\", \"count\", \"status\": {\"1xx\"..\"5xx\", \"failed\"}, \"latency_ms\": {\"p50\",\n"
    "                 \"p90\", \"p99\", \"max\"}}], \"all\": {same keys}}\n"
    "  -h, --help     show this help\n"
    "\n"
    "Exit status: 0 done; 2 bad arguments or an unreadable or damaged capture.\n";

typedef struct route_stat {
    char *method, *route;
    uint64_t count;
    uint64_t classes[6]; /* [0] upstream failed, [1..5] 1xx..5xx */
    double *lat;
    size_t nlat, caplat;
    struct route_stat *next; /* hash chain */
} route_stat;

enum { NBUCKETS = 1024 };

typedef struct table {
    route_stat *buckets[NBUCKETS];
    route_stat **all;
    size_t n, cap;
} table;

static uint32_t hash(const char *a, const char *b)
{
    uint32_t h = 2166136261u;
    for (; *a; a++)
        h = (h ^ (unsigned char)*a) * 16777619u;
    h = (h ^ ' ') * 16777619u;
    for (; *b; b++)
        h = (h ^ (unsigned char)*b) * 16777619u;
    return h;
}

static route_stat *lookup(table *t, const char *method, const char *route)
{
    uint32_t h = hash(method, route) % NBUCKETS;
    for (route_stat *r = t->buckets[h]; r; r = r->next)
        if (!strcmp(r->method, method) && !strcmp(r->route, route))
            return r;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        route_stat **na = realloc(t->all, cap * sizeof *na);
        if (!na)
            return NULL;
        t->all = na;
        t->cap = cap;
    }
    route_stat *r = calloc(1, sizeof *r);
    if (!r || !(r->method = strdup(method)) || !(r->route = strdup(route))) {
        if (r)
            free(r->method);
        free(r);
        return NULL;
    }
    r->next = t->buckets[h];
    t->buckets[h] = r;
    t->all[t->n++] = r;
    return r;
}

static int add(route_stat *r, const cli_view *v)
{
    r->count++;
    r->classes[v->status >= 100 && v->status < 600 ? v->status / 100 : 0]++;
    if (v->latency_ms < 0)
        return 0;
    if (r->nlat == r->caplat) {
        size_t cap = r->caplat ? r->caplat * 2 : 16;
        double *nl = realloc(r->lat, cap * sizeof *nl);
        if (!nl)
            return -1;
        r->lat = nl;
        r->caplat = cap;
    }
    r->lat[r->nlat++] = v->latency_ms;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_route(const void *a, const void *b)
{
    const route_stat *x = *(route_stat *const *)a, *y = *(route_stat *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = strcmp(x->route, y->route);
    return c ? c : strcmp(x->method, y->method);
}

/* Nearest rank: the smallest value with at least q of the values at or below it. */
static double pct(const route_stat *r, double q)
{
    if (!r->nlat)
        return NAN;
    size_t k = (size_t)ceil(q * (double)r->nlat);
    return r->lat[k ? k - 1 : 0];
}

static void text_num(double v)
{
    if (isnan(v))
        printf(" %9s", "-");
    else
        printf(" %9.3f", v);
}

static void print_text_row(const route_stat *r, int wroute)
{
    printf("%-7s %-*s %7" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64, r->method,
           wroute, r->route, r->count, r->classes[2], r->classes[3], r->classes[4], r->classes[5],
           r->classes[0] + r->classes[1]);
    text_num(pct(r, 0.50));
    text_num(pct(r, 0.90));
    text_num(pct(r, 0.99));
    text_num(r->nlat ? r->lat[r->nlat - 1] : NAN);
    putchar('\n');
}

static void json_num(const char *key, double v, const char *sep)
{
    if (isnan(v))
        printf("\"%s\":null%s", key, sep);
    else
        printf("\"%s\":%.3f%s", key, v, sep);
}

static void print_json_row(const route_stat *r, bool with_route)
{
    putchar('{');
    if (with_route) {
        fputs("\"method\":", stdout);
        cli_json_str(stdout, r->method, strlen(r->method));
        fputs(",\"route\":", stdout);
        cli_json_str(stdout, r->route, strlen(r->route));
        putchar(',');
    }
    printf("\"count\":%" PRIu64 ",\"status\":{\"1xx\":%" PRIu64 ",\"2xx\":%" PRIu64 ",\"3xx\":%" PRIu64
           ",\"4xx\":%" PRIu64 ",\"5xx\":%" PRIu64 ",\"failed\":%" PRIu64 "},\"latency_ms\":{",
           r->count, r->classes[1], r->classes[2], r->classes[3], r->classes[4], r->classes[5], r->classes[0]);
    json_num("p50", pct(r, 0.50), ",");
    json_num("p90", pct(r, 0.90), ",");
    json_num("p99", pct(r, 0.99), ",");
    json_num("max", r->nlat ? r->lat[r->nlat - 1] : NAN, "");
    fputs("}}", stdout);
}

static void free_table(table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->all[i]->method);
        free(t->all[i]->route);
        free(t->all[i]->lat);
        free(t->all[i]);
    }
    free(t->all);
}

int cli_stats_main(int argc, char **argv)
{
    bool json;
    int rc = cli_switch_opts("stats", cli_stats_help, argc, argv, "json", 0, &json);
    if (rc >= 0)
        return rc;
    capset *s = cli_open_captures("stats", argv + optind, (size_t)(argc - optind));
    if (!s)
        return CLI_EXIT_TROUBLE;
    table t;
    memset(&t, 0, sizeof t);
    route_stat all = {.method = "ALL", .route = "*"};
    int64_t first = 0, last = 0;
    int r;
    rc = CLI_EXIT_OK;
    exchange x;
    while ((r = capset_next(s, &x)) == 1) {
        cli_view v;
        cli_view_of(&x, &v);
        route_stat *rs = lookup(&t, v.method, v.route);
        if (!rs || add(rs, &v) != 0 || add(&all, &v) != 0) {
            exchange_clear(&x);
            cli_errorf("stats", "out of memory");
            rc = CLI_EXIT_TROUBLE;
            goto out;
        }
        if (x.req_start_us && (!first || x.req_start_us < first))
            first = x.req_start_us;
        if (x.req_start_us > last)
            last = x.req_start_us;
        exchange_clear(&x);
    }
    if ((rc = cli_capset_end("stats", s, r)) != CLI_EXIT_OK)
        goto out;
    /* (qsort must not see the NULL of an empty array) */
    for (size_t i = 0; i < t.n; i++)
        if (t.all[i]->nlat)
            qsort(t.all[i]->lat, t.all[i]->nlat, sizeof(double), cmp_double);
    if (all.nlat)
        qsort(all.lat, all.nlat, sizeof(double), cmp_double);
    if (t.n)
        qsort(t.all, t.n, sizeof *t.all, cmp_route);
    char t1[48], t2[48];
    cli_iso_time(first, t1, sizeof t1);
    cli_iso_time(last, t2, sizeof t2);
    if (json) {
        printf("{\"exchanges\":%" PRIu64 ",\"files\":%zu,\"first\":", all.count, capset_nfiles(s));
        cli_json_str(stdout, t1, strlen(t1));
        fputs(",\"last\":", stdout);
        cli_json_str(stdout, t2, strlen(t2));
        fputs(",\"routes\":[", stdout);
        for (size_t i = 0; i < t.n; i++) {
            if (i)
                putchar(',');
            print_json_row(t.all[i], true);
        }
        fputs("],\"all\":", stdout);
        print_json_row(&all, false);
        fputs("}\n", stdout);
    } else {
        int w = 5;
        for (size_t i = 0; i < t.n; i++)
            if ((int)strlen(t.all[i]->route) > w)
                w = (int)strlen(t.all[i]->route);
        printf("%" PRIu64 " exchanges in %zu file%s, %s to %s\n", all.count, capset_nfiles(s),
               capset_nfiles(s) == 1 ? "" : "s", t1, t2);
        printf("%-7s %-*s %7s %6s %6s %6s %6s %6s %9s %9s %9s %9s\n", "METHOD", w, "ROUTE", "COUNT", "2xx", "3xx",
               "4xx", "5xx", "other", "P50_MS", "P90_MS", "P99_MS", "MAX_MS");
        for (size_t i = 0; i < t.n; i++)
            print_text_row(t.all[i], w);
        print_text_row(&all, w);
    }
out:
    free_table(&t);
    free(all.lat);
    capset_free(s);
    if (fflush(stdout) != 0) {
        cli_errorf("stats", "writing to standard output failed");
        rc = CLI_EXIT_TROUBLE;
    }
    return rc;
}
