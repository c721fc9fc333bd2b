/* report_html: the report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing
 * fetched from the network, so it can be archived as a CI artifact and opened anywhere.
 * load: summary, gates, latency over time and the percentile distribution (candidate and baseline
 * overlaid when the run had one), the endpoint table. check: summary, the per-route table, the diffs. */
#include "report.h"
#include "report_fmt.h"
#include "report_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIFFS_SHOWN 500
#define NPCT 101

static const char CSS[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d2330;"
    "background:#f5f6f8}main{max-width:900px;margin:0 auto;padding:24px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}"
    ".sub{color:#5b6474;margin-bottom:16px;word-break:break-all}"
    ".badge{display:inline-block;padding:2px 12px;border-radius:12px;font-weight:600;color:#fff;"
    "margin-left:10px;font-size:15px;vertical-align:2px}.pass{background:#1f883d}.fail{background:#cf222e}"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #d8dce3;"
    "border-radius:8px;padding:10px 14px;min-width:120px}.card b{display:block;font-size:20px}"
    ".card span{color:#5b6474;font-size:12px}"
    "table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d8dce3}"
    "th,td{padding:5px 8px;border-bottom:1px solid #e6e9ee;text-align:left;vertical-align:top}"
    "th{background:#eef1f5;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.bad td{background:#fff0f0}code{font:12px ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}"
    ".ok{color:#1f883d;font-weight:600}.no{color:#cf222e;font-weight:600}"
    "svg.plot{background:#fff;border:1px solid #d8dce3;border-radius:8px;width:100%;height:auto;margin:6px 0}"
    ".grid{stroke:#e6e9ee}.frame{fill:none;stroke:#aab1bd}.pt{font-size:14px;font-weight:600;fill:#1d2330}"
    ".yl{font-size:11px;text-anchor:end;fill:#5b6474}.xl{font-size:11px;text-anchor:middle;fill:#5b6474}"
    ".axl{font-size:12px;text-anchor:middle;fill:#5b6474}.lg{font-size:12px;fill:#1d2330}"
    ".note{color:#5b6474;font-size:12px}table.diffs td{border-bottom:0;border-top:1px solid #d8dce3}table.diffs tr.more td{border-top:0;padding-top:0}";

static void card(FILE *f, const char *label, const char *fmt, double v)
{
    fprintf(f, "<div class=\"card\"><b>");
    fprintf(f, fmt, v);
    fprintf(f, "</b><span>%s</span></div>\n", label);
}

/* The percentile curve of a histogram JSON, into x (percentile) and y (ms). Returns the point count. */
static size_t pct_curve(const json_t *hj, double *x, double *y)
{
    if (!json_is_object(hj))
        return 0;
    hist *h = hist_new();
    char err[128];
    size_t n = 0;
    if (!h || hist_add_json(h, hj, err, sizeof err) || hist_count(h) == 0)
        goto out;
    for (int k = 0; k < NPCT; k++) {
        double p = 100.0 * (1.0 - pow(10.0, -k / 20.0)); /* 0 .. 99.999, evenly spaced on the plot */
        if (k > 0 && 100.0 / (100.0 - p) > (double)hist_count(h))
            break; /* beyond what the sample count can say */
        x[n] = p;
        y[n] = (double)hist_percentile(h, p) / 1000.0;
        n++;
    }
    x[n] = 100.0 - 100.0 / (double)(hist_count(h) + 1); /* the maximum, at the tail's end */
    if (n && x[n] > x[n - 1]) {
        y[n] = (double)hist_max(h) / 1000.0;
        n++;
    }
out:
    hist_free(h);
    return n;
}

/* Timeline series (t_s against key) out of an array of {t_s, ...} points. */
static size_t timeline(const json_t *tlo, const char *key, double **x, double **y)
{
    const json_t *tl = json_object_get(tlo, "points");
    size_t n = json_array_size(tl);
    *x = n ? calloc(n, sizeof **x) : NULL;
    *y = n ? calloc(n, sizeof **y) : NULL;
    if (!*x || !*y)
        return 0;
    size_t i, m = 0;
    json_t *p;
    json_array_foreach(tl, i, p) {
        if (rf_int(p, "sent") <= 0)
            continue;
        (*x)[m] = rf_num(p, "t_s");
        (*y)[m] = rf_num(p, key);
        m++;
    }
    return m;
}

static void load_plots(FILE *f, json_t *report)
{
    json_t *base = json_object_get(report, "baseline");
    int has_base = json_is_object(base);
    const char *cname = has_base ? "candidate" : "latency";

    /* latency over time */
    double *x[4] = {0}, *y[4] = {0};
    svg_series s[4];
    size_t ns = 0;
    json_t *tl = json_object_get(report, "timeline");
    s[ns] = (svg_series){"p99 candidate", "#cf222e", 0, NULL, NULL, 0};
    s[ns].n = timeline(tl, "p99_ms", &x[ns], &y[ns]);
    s[ns].x = x[ns], s[ns].y = y[ns], ns++;
    s[ns] = (svg_series){"p50 candidate", "#0969da", 0, NULL, NULL, 0};
    s[ns].n = timeline(tl, "p50_ms", &x[ns], &y[ns]);
    s[ns].x = x[ns], s[ns].y = y[ns], ns++;
    if (has_base) {
        json_t *btl = json_object_get(base, "timeline");
        s[ns] = (svg_series){"p99 baseline", "#e69a9f", 1, NULL, NULL, 0};
        s[ns].n = timeline(btl, "p99_ms", &x[ns], &y[ns]);
        s[ns].x = x[ns], s[ns].y = y[ns], ns++;
        s[ns] = (svg_series){"p50 baseline", "#7fb0ea", 1, NULL, NULL, 0};
        s[ns].n = timeline(btl, "p50_ms", &x[ns], &y[ns]);
        s[ns].x = x[ns], s[ns].y = y[ns], ns++;
    } else {
        s[0].name = "p99";
        s[1].name = "p50";
    }
    if (s[0].n) {
        fputs("<h2>Latency over time</h2>\n", f);
        svg_plot(f, "Latency from the intended send time, per time slice", "time since start (s)",
                 "latency (ms)", SVG_X_LINEAR, s, ns);
    }
    for (size_t i = 0; i < 4; i++) {
        free(x[i]);
        free(y[i]);
    }

    /* percentile distribution */
    static double px[4][NPCT + 1], py[4][NPCT + 1];
    json_t *hj = json_object_get(report, "histogram");
    ns = 0;
    s[ns++] = (svg_series){has_base ? "candidate latency" : "latency", "#cf222e", 0, px[0], py[0],
                           pct_curve(json_object_get(hj, "latency"), px[0], py[0])};
    s[ns++] = (svg_series){has_base ? "candidate service" : "service time", "#0969da", 0, px[1], py[1],
                           pct_curve(json_object_get(hj, "service"), px[1], py[1])};
    if (has_base) {
        json_t *bh = json_object_get(base, "histogram");
        s[ns++] = (svg_series){"baseline latency", "#e69a9f", 1, px[2], py[2],
                               pct_curve(json_object_get(bh, "latency"), px[2], py[2])};
        s[ns++] = (svg_series){"baseline service", "#7fb0ea", 1, px[3], py[3],
                               pct_curve(json_object_get(bh, "service"), px[3], py[3])};
    }
    (void)cname;
    if (s[0].n) {
        fputs("<h2>Latency distribution</h2>\n", f);
        svg_plot(f, "Latency by percentile", "percentile", "latency (ms)", SVG_X_PERCENTILE, s, ns);
        fputs("<p class=\"note\">Latency counts from the moment a request was due (so a stalled target shows "
              "up even for requests that waited), service time from the moment it was actually sent.</p>\n",
              f);
    }
}

static void gates_table(FILE *f, json_t *report)
{
    json_t *gates = json_object_get(report, "gates");
    if (!json_array_size(gates))
        return;
    fputs("<h2>Gates</h2>\n<table><tr><th>gate</th><th>observed</th><th>result</th><th>detail</th></tr>\n", f);
    size_t i;
    json_t *g;
    json_array_foreach(gates, i, g) {
        int ok = json_is_true(json_object_get(g, "pass"));
        fprintf(f, "<tr%s><td><code>", ok ? "" : " class=\"bad\"");
        rf_escape(f, rf_str(g, "expr", "?"), 0);
        fputs("</code></td><td>", f);
        rf_escape(f, rf_str(g, "observed", ""), 0);
        fprintf(f, "</td><td class=\"%s\">%s</td><td>", ok ? "ok" : "no", ok ? "pass" : "FAIL");
        rf_escape(f, rf_str(g, "detail", ""), 0);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Does a failed gate name this endpoint ("GET /x: ..." or "/x: ...")? */
static int gate_failed_on(json_t *report, const char *method, const char *route)
{
    size_t i, rl = strlen(route), ml = strlen(method);
    json_t *g;
    json_array_foreach(json_object_get(report, "gates"), i, g) {
        const char *e = rf_str(g, "expr", "");
        if (json_is_true(json_object_get(g, "pass")))
            continue;
        if (!strncmp(e, method, ml) && e[ml] == ' ')
            e += ml + 1;
        if (!strncmp(e, route, rl) && e[rl] == ':')
            return 1;
    }
    return 0;
}

static void endpoints_table(FILE *f, json_t *report, int load)
{
    json_t *eps = json_object_get(report, "endpoints");
    if (!json_array_size(eps))
        return;
    int has_base = json_is_object(json_object_get(report, "baseline"));
    if (load && has_base)
        fputs("<h2>Endpoints</h2>\n<table><tr><th>method</th><th>route</th><th class=n>requests</th>"
              "<th class=n>errors</th><th class=n>5xx</th><th class=n>p50 ms</th><th class=n>baseline p50</th>"
              "<th class=n>p95 ms</th><th class=n>baseline p95</th></tr>\n", f);
    else
    fputs(load ? "<h2>Endpoints</h2>\n<table><tr><th>method</th><th>route</th><th class=n>requests</th>"
                 "<th class=n>errors</th><th class=n>5xx</th><th class=n>p50 ms</th><th class=n>p95 ms</th>"
                 "<th class=n>p99 ms</th><th class=n>max ms</th></tr>\n"
               : "<h2>Routes</h2>\n<table><tr><th>method</th><th>route</th><th class=n>requests</th>"
                 "<th class=n>matched</th><th class=n>diffs</th><th class=n>noise</th><th class=n>errors</th></tr>\n",
          f);
    size_t i;
    json_t *e;
    json_array_foreach(eps, i, e) {
        int bad = rf_int(e, "errors") > 0 || (!load && rf_int(e, "diffs") > 0) ||
                  (load && gate_failed_on(report, rf_str(e, "method", ""), rf_str(e, "route", "")));
        fprintf(f, "<tr%s><td>", bad ? " class=\"bad\"" : "");
        rf_escape(f, rf_str(e, "method", "?"), 0);
        fputs("</td><td><code>", f);
        rf_escape(f, rf_str(e, "route", "?"), 0);
        fputs("</code></td>", f);
        if (load) {
            json_t *l = json_object_get(e, "latency_ms");
            fprintf(f, "<td class=n>%lld</td><td class=n>%lld</td><td class=n>%lld</td>",
                    (long long)rf_int(e, "requests"), (long long)rf_int(e, "errors"),
                    (long long)rf_int(e, "http_5xx"));
            json_t *bl = json_object_get(json_object_get(e, "baseline"), "latency_ms");
            if (has_base)
                fprintf(f, "<td class=n>%.2f</td><td class=n>%.2f</td><td class=n>%.2f</td><td class=n>%.2f</td>",
                        rf_num(l, "p50"), rf_num(bl, "p50"), rf_num(l, "p95"), rf_num(bl, "p95"));
            else
                fprintf(f, "<td class=n>%.2f</td><td class=n>%.2f</td><td class=n>%.2f</td><td class=n>%.2f</td>",
                        rf_num(l, "p50"), rf_num(l, "p95"), rf_num(l, "p99"), rf_num(l, "max"));
        } else {
            fprintf(f, "<td class=n>%lld</td><td class=n>%lld</td><td class=n>%lld</td><td class=n>%lld</td>"
                       "<td class=n>%lld</td>",
                    (long long)rf_int(e, "requests"), (long long)rf_int(e, "matched"),
                    (long long)rf_int(e, "diffs"), (long long)rf_int(e, "noise"), (long long)rf_int(e, "errors"));
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void diffs_list(FILE *f, json_t *report)
{
    json_t *diffs = json_object_get(report, "diffs");
    size_t n = json_array_size(diffs);
    if (!n)
        return;
    fprintf(f, "<h2>Diffs (%zu)</h2>\n", n);
    if (n > MAX_DIFFS_SHOWN)
        fprintf(f, "<p class=\"note\">The first %d are shown; the JSON report has them all.</p>\n",
                MAX_DIFFS_SHOWN);
    fputs("<table class=\"diffs\"><tr><th>#</th><th>request</th><th>where</th><th>expected</th><th>actual</th></tr>\n", f);
    const char *prev = NULL;
    for (size_t i = 0; i < n && i < MAX_DIFFS_SHOWN; i++) {
        json_t *d = json_array_get(diffs, i);
        const char *id = rf_str(d, "id", "");
        if (prev && !strcmp(prev, id)) { /* another diff of the same request: one block per request */
            fputs("<tr class=\"more\"><td></td><td></td><td><code>", f);
        } else {
            fputs("<tr class=\"first\"><td>", f);
            rf_escape(f, id, 0);
            fputs("</td><td><code>", f);
            rf_escape(f, rf_str(d, "method", ""), 0);
            fputs(" ", f);
            rf_escape(f, rf_str(d, "uri", ""), 300);
            fputs("</code></td><td><code>", f);
        }
        prev = id;
        rf_escape(f, rf_str(d, "where", ""), 300);
        fputs("</code></td><td><code>", f);
        rf_escape(f, rf_str(d, "expected", "(none)"), 600);
        fputs("</code></td><td><code>", f);
        rf_escape(f, rf_str(d, "actual", "(none)"), 600);
        fputs("</code></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

int report_write_html(json_t *report, FILE *f)
{
    const char *mode = rf_str(report, "mode", "check");
    int load = !strcmp(mode, "load");
    int pass = !strcmp(rf_str(report, "verdict", "fail"), "pass");
    json_t *t = json_object_get(report, "totals");

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>tapedeck ",
          f);
    fprintf(f, "%s: %s</title>\n<style>%s</style></head><body><main>\n", mode, pass ? "pass" : "FAIL", CSS);
    fprintf(f, "<h1>tapedeck-replay %s<span class=\"badge %s\">%s</span></h1>\n", mode, pass ? "pass" : "fail",
            pass ? "PASS" : "FAIL");
    fputs("<div class=\"sub\">target <code>", f);
    rf_escape(f, rf_str(report, "target", "?"), 0);
    fputs("</code>", f);
    json_t *base = json_object_get(report, "baseline");
    if (json_is_object(base)) {
        fputs(" · baseline <code>", f);
        rf_escape(f, rf_str(base, "target", "?"), 0);
        fputs("</code>", f);
    }
    if (rf_str(report, "started", NULL)) {
        fputs(" · started ", f);
        rf_escape(f, rf_str(report, "started", ""), 0);
    }
    if (json_is_array(json_object_get(report, "merged_from")))
        fprintf(f, " · merged from %zu reports", json_array_size(json_object_get(report, "merged_from")));
    fprintf(f, " · %s %s</div>\n", rf_str(report, "tool", "tapedeck-replay"), rf_str(report, "version", ""));
    json_t *cfg = json_object_get(report, "config");
    if (load && json_is_object(cfg)) {
        fputs("<div class=\"sub\">", f);
        if (rf_num(cfg, "rate_per_s") > 0)
            fprintf(f, "fixed rate %.1f/s", rf_num(cfg, "rate_per_s"));
        else
            fprintf(f, "recorded timing × %g", rf_num(cfg, "speed"));
        if (rf_num(cfg, "duration_s") > 0)
            fprintf(f, " for %gs", rf_num(cfg, "duration_s"));
        fprintf(f, " · %lld connections · at most %lld in flight", (long long)rf_int(cfg, "connections"),
                (long long)rf_int(cfg, "max_inflight"));
        if (rf_str(cfg, "shard", "")[0]) {
            fputs(" · shard ", f);
            rf_escape(f, rf_str(cfg, "shard", ""), 0);
        }
        fputs("</div>\n", f);
    }

    fputs("<div class=\"cards\">\n", f);
    card(f, "requests", "%.0f", (double)rf_int(t, "requests"));
    if (load) {
        json_t *rate = json_object_get(report, "rate");
        json_t *l = json_object_get(report, "latency_ms");
        card(f, "transport errors", "%.0f", (double)rf_int(t, "errors"));
        card(f, "5xx responses", "%.0f", (double)rf_int(t, "http_5xx"));
        card(f, "achieved req/s", "%.1f", rf_num(rate, "achieved_rps"));
        card(f, "scheduled req/s", "%.1f", rf_num(rate, "scheduled_rps"));
        card(f, "p50 ms", "%.2f", rf_num(l, "p50"));
        card(f, "p99 ms", "%.2f", rf_num(l, "p99"));
        card(f, "max ms", "%.2f", rf_num(l, "max"));
        card(f, "send lag p99 ms", "%.2f", rf_num(json_object_get(rate, "lag_ms"), "p99"));
    } else {
        card(f, "matched", "%.0f", (double)rf_int(t, "matched"));
        card(f, "with diffs", "%.0f", (double)rf_int(t, "diffs"));
        card(f, "noise set aside", "%.0f", (double)rf_int(t, "noise"));
        card(f, "transport errors", "%.0f", (double)rf_int(t, "errors"));
    }
    fputs("</div>\n", f);

    gates_table(f, report);
    if (load)
        load_plots(f, report);
    endpoints_table(f, report, load);
    if (!load)
        diffs_list(f, report);
    fputs("</main></body></html>\n", f);
    return ferror(f) ? -1 : 0;
}
