/* report: building the report object and writing it out (JSON file, text summary). The JUnit and HTML
 * renderers live in report_junit.c and report_html.c. */
#include "report.h"
#include "report_fmt.h"

#include <errno.h>
#include <string.h>

#include "route.h"

static int set_new(json_t *o, const char *key, json_t *v)
{
    return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *zero_counters(void)
{
    return json_pack("{sIsIsIsIsI}", "requests", (json_int_t)0, "matched", (json_int_t)0, "diffs",
                     (json_int_t)0, "noise", (json_int_t)0, "errors", (json_int_t)0);
}

json_t *report_new(const char *mode, const char *target)
{
    json_t *r = json_object();
    if (!r)
        return NULL;
    if (set_new(r, "tool", json_string("tapedeck-replay")) ||
        set_new(r, "version", json_string(TAPEDECK_VERSION)) ||
        set_new(r, "mode", json_string(mode ? mode : "check")) ||
        set_new(r, "target", json_string(target ? target : "")) ||
        set_new(r, "verdict", json_string("pass")) || set_new(r, "totals", zero_counters()) ||
        set_new(r, "rate", json_pack("{sfsf}", "scheduled_rps", 0.0, "achieved_rps", 0.0)) ||
        set_new(r, "endpoints", json_array()) || set_new(r, "gates", json_array()) ||
        set_new(r, "diffs", json_array())) {
        json_decref(r);
        return NULL;
    }
    return r;
}

void report_set_verdict(json_t *report, int pass)
{
    json_object_set_new(report, "verdict", json_string(pass ? "pass" : "fail"));
}

json_t *report_totals(json_t *report)
{
    return json_object_get(report, "totals");
}

json_t *report_endpoint(json_t *report, const char *method, const char *route)
{
    json_t *eps = json_object_get(report, "endpoints");
    if (!json_is_array(eps)) {
        eps = json_array();
        if (set_new(report, "endpoints", eps))
            return NULL;
    }
    size_t i;
    json_t *e;
    json_array_foreach(eps, i, e) {
        const char *m = json_string_value(json_object_get(e, "method"));
        const char *r = json_string_value(json_object_get(e, "route"));
        if (m && r && !strcmp(m, method) && !strcmp(r, route))
            return e;
    }
    e = zero_counters();
    if (!e)
        return NULL;
    if (set_new(e, "method", json_string(method)) || set_new(e, "route", json_string(route)) ||
        json_array_append_new(eps, e))
        return NULL; /* e is released by whichever call took it or failed */
    return e;
}

void report_count(json_t *obj, const char *key, json_int_t delta)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        json_integer_set(v, json_integer_value(v) + delta);
    else
        json_object_set_new(obj, key, json_integer(delta));
}

int report_add_diff(json_t *report, const char *request_id, const char *method, const char *uri,
                    const char *route, const char *where, const char *expected, const char *actual)
{
    char rbuf[1024];
    if (!route) {
        route = uri ? uri : "";
        if (uri && route_normalise(uri, rbuf, sizeof rbuf) >= 0)
            route = rbuf;
    }
    json_t *d = json_object();
    if (!d)
        return -1;
    if (set_new(d, "id", json_string(request_id ? request_id : "")) ||
        set_new(d, "method", json_string(method ? method : "")) ||
        set_new(d, "uri", json_string(uri ? uri : "")) || set_new(d, "route", json_string(route)) ||
        set_new(d, "where", json_string(where ? where : "")) ||
        set_new(d, "expected", expected ? json_string(expected) : json_null()) ||
        set_new(d, "actual", actual ? json_string(actual) : json_null())) {
        json_decref(d);
        return -1;
    }
    return json_array_append_new(json_object_get(report, "diffs"), d);
}

int report_add_gate(json_t *report, const char *expr, const char *observed, int pass, const char *detail)
{
    json_t *g = json_object();
    if (!g)
        return -1;
    if (set_new(g, "expr", json_string(expr ? expr : "")) ||
        set_new(g, "observed", json_string(observed ? observed : "")) ||
        set_new(g, "pass", json_boolean(pass)) ||
        (detail && set_new(g, "detail", json_string(detail)))) {
        json_decref(g);
        return -1;
    }
    return json_array_append_new(json_object_get(report, "gates"), g);
}

static double ms(int64_t us)
{
    return (double)(us / 1000) + (double)(us % 1000) / 1000.0;
}

json_t *report_latency_json(const hist *h)
{
    return json_pack("{sfsfsfsfsfsf}", "p50", ms(hist_percentile(h, 50)), "p90", ms(hist_percentile(h, 90)),
                     "p95", ms(hist_percentile(h, 95)), "p99", ms(hist_percentile(h, 99)), "max",
                     ms(hist_max(h)), "mean", (double)(int64_t)(hist_mean(h) + 0.5) / 1000.0);
}

void report_set_latency(json_t *obj, const hist *latency, const hist *service)
{
    json_t *hj = json_object_get(obj, "histogram");
    if (!json_is_object(hj)) {
        hj = json_object();
        if (set_new(obj, "histogram", hj))
            return;
    }
    if (latency) {
        set_new(obj, "latency_ms", report_latency_json(latency));
        set_new(hj, "latency", hist_to_json(latency));
    }
    if (service) {
        set_new(obj, "service_ms", report_latency_json(service));
        set_new(hj, "service", hist_to_json(service));
    }
}

void report_set_latency_named(json_t *obj, const char *name, const hist *h)
{
    char key[96];
    json_t *hj = json_object_get(obj, "histogram");
    if (!json_is_object(hj)) {
        hj = json_object();
        if (set_new(obj, "histogram", hj))
            return;
    }
    snprintf(key, sizeof key, "%s_latency_ms", name);
    set_new(obj, key, report_latency_json(h));
    set_new(hj, name, hist_to_json(h));
}

int report_write_json(json_t *report, FILE *f)
{
    if (json_dumpf(report, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
        return -1;
    return fputc('\n', f) == EOF ? -1 : 0;
}

typedef int (*writer_fn)(json_t *, FILE *);

static int write_one(json_t *report, const char *path, writer_fn fn, char *err, size_t errlen)
{
    if (!path)
        return 0;
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    int rc = fn(report, f);
    if (fflush(f) != 0 || ferror(f))
        rc = -1;
    if (f != stdout && fclose(f) != 0)
        rc = -1;
    if (rc)
        snprintf(err, errlen, "%s: write failed: %s", path, errno ? strerror(errno) : "out of memory");
    return rc;
}

int report_write_files(json_t *report, const char *json_path, const char *junit_path, const char *html_path,
                       char *err, size_t errlen)
{
    if (write_one(report, json_path, report_write_json, err, errlen) ||
        write_one(report, junit_path, report_write_junit, err, errlen) ||
        write_one(report, html_path, report_write_html, err, errlen))
        return -1;
    return 0;
}

/* ---- text summary ---- */

static void print_latency_row(FILE *f, const char *label, json_t *l)
{
    if (!json_is_object(l))
        return;
    fprintf(f, "  %-10s p50 %9.3f  p90 %9.3f  p95 %9.3f  p99 %9.3f  max %9.3f  mean %9.3f ms\n", label,
            rf_num(l, "p50"), rf_num(l, "p90"), rf_num(l, "p95"), rf_num(l, "p99"), rf_num(l, "max"),
            rf_num(l, "mean"));
}

void report_print_text(json_t *report, FILE *f)
{
    const char *mode = rf_str(report, "mode", "?");
    int load = !strcmp(mode, "load");
    json_t *t = json_object_get(report, "totals");
    fprintf(f, "tapedeck-replay %s against %s: %s\n", mode, rf_str(report, "target", "?"),
            !strcmp(rf_str(report, "verdict", "fail"), "pass") ? "PASS" : "FAIL");
    if (load)
        fprintf(f, "  requests %lld, responses %lld, transport errors %lld, 5xx %lld\n",
                (long long)rf_int(t, "requests"), (long long)rf_int(t, "matched"),
                (long long)rf_int(t, "errors"), (long long)rf_int(t, "http_5xx"));
    else
        fprintf(f, "  requests %lld, matched %lld, with diffs %lld, noise %lld, errors %lld\n",
                (long long)rf_int(t, "requests"), (long long)rf_int(t, "matched"),
                (long long)rf_int(t, "diffs"), (long long)rf_int(t, "noise"), (long long)rf_int(t, "errors"));
    json_t *rate = json_object_get(report, "rate");
    if (load && json_is_object(rate)) {
        fprintf(f, "  rate: scheduled %.1f/s, achieved %.1f/s over %.2fs", rf_num(rate, "scheduled_rps"),
                rf_num(rate, "achieved_rps"), rf_num(rate, "duration_s"));
        json_t *lag = json_object_get(rate, "lag_ms");
        if (json_is_object(lag))
            fprintf(f, "; send lag p99 %.3f ms, max %.3f ms", rf_num(lag, "p99"), rf_num(lag, "max"));
        fputc('\n', f);
    }
    int shadow = !strcmp(mode, "shadow"); /* latency_ms is the shadow's; primary_latency_ms production's */
    print_latency_row(f, load ? "latency" : shadow ? "shadow" : "service", json_object_get(report, "latency_ms"));
    if (shadow)
        print_latency_row(f, "primary", json_object_get(report, "primary_latency_ms"));
    if (load)
        print_latency_row(f, "service", json_object_get(report, "service_ms"));
    json_t *base = json_object_get(report, "baseline");
    if (json_is_object(base)) {
        fprintf(f, "  baseline %s:\n", rf_str(base, "target", "?"));
        print_latency_row(f, "latency", json_object_get(base, "latency_ms"));
        print_latency_row(f, "service", json_object_get(base, "service_ms"));
    }

    json_t *eps = json_object_get(report, "endpoints");
    if (json_array_size(eps)) {
        fprintf(f, "\n  %-7s %-40s %8s %8s %8s", "method", "route", "requests", load ? "errors" : "diffs",
                load ? "5xx" : "errors");
        if (load)
            fprintf(f, " %9s %9s %9s", "p50 ms", "p95 ms", "p99 ms");
        if (shadow)
            fprintf(f, " %9s %9s %9s", "noise", "p95 ms", "p95 prim");
        fputc('\n', f);
        size_t i;
        json_t *e;
        json_array_foreach(eps, i, e) {
            fprintf(f, "  %-7s %-40s %8lld %8lld %8lld", rf_str(e, "method", "?"), rf_str(e, "route", "?"),
                    (long long)rf_int(e, "requests"), (long long)rf_int(e, load ? "errors" : "diffs"),
                    (long long)rf_int(e, load ? "http_5xx" : "errors"));
            json_t *l = json_object_get(e, "latency_ms");
            if (load && json_is_object(l))
                fprintf(f, " %9.3f %9.3f %9.3f", rf_num(l, "p50"), rf_num(l, "p95"), rf_num(l, "p99"));
            json_t *pl = json_object_get(e, "primary_latency_ms");
            if (shadow)
                fprintf(f, " %9lld %9.3f %9.3f", (long long)rf_int(e, "noise"), json_is_object(l) ? rf_num(l, "p95") : 0.0,
                        json_is_object(pl) ? rf_num(pl, "p95") : 0.0);
            fputc('\n', f);
        }
    }

    json_t *gates = json_object_get(report, "gates");
    if (json_array_size(gates)) {
        fprintf(f, "\n  gates:\n");
        size_t i;
        json_t *g;
        json_array_foreach(gates, i, g) {
            const char *detail = rf_str(g, "detail", NULL);
            fprintf(f, "    %s  %-36s observed %s%s%s\n", json_is_true(json_object_get(g, "pass")) ? "pass" : "FAIL",
                    rf_str(g, "expr", "?"), rf_str(g, "observed", "?"), detail ? " — " : "", detail ? detail : "");
        }
    }

    json_t *diffs = json_object_get(report, "diffs");
    size_t nd = json_array_size(diffs);
    if (nd) {
        fprintf(f, "\n  diffs (%zu%s):\n", nd, nd > 20 ? ", first 20" : "");
        for (size_t i = 0; i < nd && i < 20; i++) {
            json_t *d = json_array_get(diffs, i);
            fprintf(f, "    #%s %s %s  %s: expected %.120s, got %.120s\n", rf_str(d, "id", "?"),
                    rf_str(d, "method", "?"), rf_str(d, "uri", "?"), rf_str(d, "where", "?"),
                    rf_str(d, "expected", "(none)"), rf_str(d, "actual", "(none)"));
        }
    }
}
