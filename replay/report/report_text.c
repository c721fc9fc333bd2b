/* report_text: the human summary on stdout, rendered from the report alone, so `tapedeck-replay report
 * FILE.json` prints what the run printed. load: totals, rate, latency rows, endpoints, gates, first diffs.
 * check (and shadow): the verdict line, the exchange counts, the failing rate against its limit, the
 * per-route table, the noise set aside grouped by field, the first diffs (config.show_diffs of them). */
#include "report.h"
#include "report_fmt.h"

#include <string.h>

static void print_latency_row(FILE *f, const char *label, json_t *l)
{
    if (!json_is_object(l))
        return;
    fprintf(f, "  %-10s p50 %9.3f  p90 %9.3f  p95 %9.3f  p99 %9.3f  max %9.3f  mean %9.3f ms\n", label,
            report_fmt_num(l, "p50"), report_fmt_num(l, "p90"), report_fmt_num(l, "p95"),
            report_fmt_num(l, "p99"), report_fmt_num(l, "max"), report_fmt_num(l, "mean"));
}

/* The noise set aside, grouped by field: the same volatile field usually shows on every route. */
static void print_noise(FILE *f, json_t *noise)
{
    size_t n = json_array_size(noise), shown = 0;
    if (!n)
        return;
    fprintf(f, "\n  noise set aside (fields that differ between two answers that should agree):\n");
    for (size_t k = 0; k < n && shown < 20; k++) {
        const char *where = report_fmt_str(json_array_get(noise, k), "where", "");
        int seen = 0;
        for (size_t j = 0; j < k && !seen; j++)
            seen = !strcmp(report_fmt_str(json_array_get(noise, j), "where", ""), where);
        if (seen)
            continue;
        unsigned long long count = 0;
        size_t routes = 0;
        for (size_t j = k; j < n; j++) {
            json_t *e = json_array_get(noise, j);
            if (!strcmp(report_fmt_str(e, "where", ""), where)) {
                count += (unsigned long long)report_fmt_int(e, "count");
                routes++;
            }
        }
        json_t *e = json_array_get(noise, k);
        if (routes == 1)
            fprintf(f, "    %-30s %llu exchanges, %s %s\n", where, count, report_fmt_str(e, "method", ""),
                    report_fmt_str(e, "route", ""));
        else
            fprintf(f, "    %-30s %llu exchanges on %zu routes\n", where, count, routes);
        shown++;
    }
}

/* check and shadow: what the gate decided and why, route by route (config: the run's flags). */
static void print_check(json_t *report, FILE *f)
{
    json_t *t = json_object_get(report, "totals"), *cfg = json_object_get(report, "config");
    long long requests = (long long)report_fmt_int(t, "requests"),
              diffs = (long long)report_fmt_int(t, "diffs");
    long long errors = (long long)report_fmt_int(t, "errors");
    double rate = requests ? 100.0 * (double)(diffs + errors) / (double)requests : 0;
    fprintf(f, "tapedeck-replay %s against %s: %s\n", report_fmt_str(report, "mode", "check"),
            report_fmt_str(report, "target", ""),
            !strcmp(report_fmt_str(report, "verdict", ""), "pass") ? "PASS" : "FAIL");
    fprintf(
        f,
        "  %lld exchanges replayed: %lld matched, %lld with diffs, %lld transport errors, %lld with noise "
        "set aside; %lld not replayed\n",
        requests, (long long)report_fmt_int(t, "matched"), diffs, errors,
        (long long)report_fmt_int(t, "noise"), (long long)report_fmt_int(t, "skipped"));
    fprintf(f, "  failing rate %.3g%% (limit %s)", rate, report_fmt_str(cfg, "max_diff_rate", "?"));
    if (report_fmt_str(cfg, "baseline", NULL))
        fprintf(f, "; noise from baseline %s", report_fmt_str(cfg, "baseline", NULL));
    if (json_is_true(json_object_get(cfg, "learn_noise")))
        fprintf(f, "; noise learned by sending each request twice");
    if (json_is_integer(json_object_get(report, "correlated_ids")))
        fprintf(f, "; %lld ids correlated", (long long)report_fmt_int(report, "correlated_ids"));
    fprintf(f, "\n\n");

    json_t *eps = json_object_get(report, "endpoints");
    size_t w = 5, i;
    json_t *ep;
    json_array_foreach(eps, i, ep) {
        size_t l = strlen(report_fmt_str(ep, "method", "")) + 1 + strlen(report_fmt_str(ep, "route", ""));
        if (l > w)
            w = l;
    }
    if (w > 60)
        w = 60;
    fprintf(f, "  %-*s %8s %8s %8s %8s %8s\n", (int)w, "route", "requests", "matched", "diffs", "noise", "errors");
    json_array_foreach(eps, i, ep) {
        char name[320];
        snprintf(name, sizeof name, "%s %s", report_fmt_str(ep, "method", ""),
                 report_fmt_str(ep, "route", ""));
        fprintf(f, "  %-*s %8lld %8lld %8lld %8lld %8lld%s\n", (int)w, name,
                (long long)report_fmt_int(ep, "requests"), (long long)report_fmt_int(ep, "matched"),
                (long long)report_fmt_int(ep, "diffs"), (long long)report_fmt_int(ep, "noise"),
                (long long)report_fmt_int(ep, "errors"),
                report_fmt_int(ep, "diffs") + report_fmt_int(ep, "errors") ? "  <-" : "");
    }
    print_noise(f, json_object_get(report, "noise"));
    json_t *dl = json_object_get(report, "diffs");
    size_t nd = json_array_size(dl);
    json_t *sd = json_object_get(cfg, "show_diffs");
    size_t show = json_is_integer(sd) && json_integer_value(sd) >= 0 ? (size_t)json_integer_value(sd) : 10;
    if (nd && show) {
        fprintf(f, "\n  first diffs:\n");
        json_t *d;
        json_array_foreach(dl, i, d) {
            if (i >= show)
                break;
            fprintf(f, "    #%s %s %s\n      %s: expected %s, got %s\n", report_fmt_str(d, "id", ""),
                    report_fmt_str(d, "method", ""), report_fmt_str(d, "uri", ""),
                    report_fmt_str(d, "where", ""), report_fmt_str(d, "expected", ""),
                    report_fmt_str(d, "actual", ""));
        }
        if (nd > show)
            fprintf(f, "    ... %zu more in the report (--report-json, --html)\n", nd - show);
    }
}

void report_print_text(json_t *report, FILE *f)
{
    const char *mode = report_fmt_str(report, "mode", "?");
    if (!strcmp(mode, "check") || !strcmp(mode, "shadow")) {
        print_check(report, f);
        return;
    }
    int load = !strcmp(mode, "load");
    json_t *t = json_object_get(report, "totals");
    fprintf(f, "tapedeck-replay %s against %s: %s\n", mode, report_fmt_str(report, "target", "?"),
            !strcmp(report_fmt_str(report, "verdict", "fail"), "pass") ? "PASS" : "FAIL");
    if (load)
        fprintf(f, "  requests %lld, responses %lld, transport errors %lld, 5xx %lld\n",
                (long long)report_fmt_int(t, "requests"), (long long)report_fmt_int(t, "matched"),
                (long long)report_fmt_int(t, "errors"), (long long)report_fmt_int(t, "http_5xx"));
    else
        fprintf(f, "  requests %lld, matched %lld, with diffs %lld, noise %lld, errors %lld\n",
                (long long)report_fmt_int(t, "requests"), (long long)report_fmt_int(t, "matched"),
                (long long)report_fmt_int(t, "diffs"), (long long)report_fmt_int(t, "noise"),
                (long long)report_fmt_int(t, "errors"));
    json_t *rate = json_object_get(report, "rate");
    if (load && json_is_object(rate)) {
        fprintf(f, "  rate: scheduled %.1f/s, achieved %.1f/s over %.2fs",
                report_fmt_num(rate, "scheduled_rps"), report_fmt_num(rate, "achieved_rps"),
                report_fmt_num(rate, "duration_s"));
        json_t *lag = json_object_get(rate, "lag_ms");
        if (json_is_object(lag))
            fprintf(f, "; send lag p99 %.3f ms, max %.3f ms", report_fmt_num(lag, "p99"),
                    report_fmt_num(lag, "max"));
        fputc('\n', f);
    }
    print_latency_row(f, load ? "latency" : "service", json_object_get(report, "latency_ms"));
    if (load)
        print_latency_row(f, "service", json_object_get(report, "service_ms"));
    json_t *base = json_object_get(report, "baseline");
    if (json_is_object(base)) {
        fprintf(f, "  baseline %s:\n", report_fmt_str(base, "target", "?"));
        print_latency_row(f, "latency", json_object_get(base, "latency_ms"));
        print_latency_row(f, "service", json_object_get(base, "service_ms"));
    }

    json_t *eps = json_object_get(report, "endpoints");
    if (json_array_size(eps)) {
        fprintf(f, "\n  %-7s %-40s %8s %8s %8s", "method", "route", "requests", load ? "errors" : "diffs",
                load ? "5xx" : "errors");
        if (load)
            fprintf(f, " %9s %9s %9s", "p50 ms", "p95 ms", "p99 ms");
        fputc('\n', f);
        size_t i;
        json_t *e;
        json_array_foreach(eps, i, e) {
            fprintf(f, "  %-7s %-40s %8lld %8lld %8lld", report_fmt_str(e, "method", "?"),
                    report_fmt_str(e, "route", "?"), (long long)report_fmt_int(e, "requests"),
                    (long long)report_fmt_int(e, load ? "errors" : "diffs"),
                    (long long)report_fmt_int(e, load ? "http_5xx" : "errors"));
            json_t *l = json_object_get(e, "latency_ms");
            if (load && json_is_object(l))
                fprintf(f, " %9.3f %9.3f %9.3f", report_fmt_num(l, "p50"), report_fmt_num(l, "p95"),
                        report_fmt_num(l, "p99"));
            fputc('\n', f);
        }
    }

    json_t *gates = json_object_get(report, "gates");
    if (json_array_size(gates)) {
        fprintf(f, "\n  gates:\n");
        size_t i;
        json_t *g;
        json_array_foreach(gates, i, g) {
            const char *detail = report_fmt_str(g, "detail", NULL);
            fprintf(f, "    %s  %-36s observed %s%s%s\n",
                    json_is_true(json_object_get(g, "pass")) ? "pass" : "FAIL",
                    report_fmt_str(g, "expr", "?"), report_fmt_str(g, "observed", "?"), detail ? " — " : "",
                    detail ? detail : "");
        }
    }

    json_t *diffs = json_object_get(report, "diffs");
    size_t nd = json_array_size(diffs);
    if (nd) {
        fprintf(f, "\n  diffs (%zu%s):\n", nd, nd > 20 ? ", first 20" : "");
        for (size_t i = 0; i < nd && i < 20; i++) {
            json_t *d = json_array_get(diffs, i);
            fprintf(f, "    #%s %s %s  %s: expected %.120s, got %.120s\n", report_fmt_str(d, "id", "?"),
                    report_fmt_str(d, "method", "?"), report_fmt_str(d, "uri", "?"),
                    report_fmt_str(d, "where", "?"), report_fmt_str(d, "expected", "(none)"),
                    report_fmt_str(d, "actual", "(none)"));
        }
    }
}
