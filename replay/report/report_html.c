/* report_html: the report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing
 * fetched from the network, so it can be archived as a CI artifact and opened anywhere.
 * Both modes open with the verdict in a banner that lists the broken gates, then the summary cards.
 * load: gates, latency over time and the percentile distribution (report_svg.c; candidate and baseline
 * overlaid when the run had one), the endpoint table. check: gates, the per-route table (failing routes
 * first), the diffs (JSON path, expected, actual; long values clipped in a scrolling box), and the noise
 * set aside, listed apart. Everything wraps inside the page width; wide tables scroll in their own box. */
#include "report.h"
#include "report_fmt.h"
#include "report_svg.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DIFFS_SHOWN 500

static const char CSS[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d2330;"
    "background:#f5f6f8}main{max-width:900px;margin:0 auto;padding:24px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}"
    ".sub{color:#5b6474;margin-bottom:16px;word-break:break-all}"
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
    ".note{color:#5b6474;font-size:12px}table.diffs td{border-bottom:0;border-top:1px solid #d8dce3}"
    "table.diffs tr.more td{border-top:0;padding-top:0}table.diffs{table-layout:fixed}"
    ".tw{overflow-x:auto}.verdict{border-radius:10px;padding:12px 18px;margin:14px 0 18px;color:#fff}"
    ".verdict.pass{background:#1f883d}.verdict.fail{background:#cf222e}.verdict b{font-size:26px;"
    "letter-spacing:.05em;margin-right:14px;vertical-align:-2px}.verdict span{font-size:16px}"
    ".verdict ul{margin:8px 0 2px;padding-left:22px}.verdict code{font-size:13px;color:#fff}"
    ".v{display:inline-block;box-sizing:border-box;max-width:100%;max-height:9.6em;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;"
    "padding:1px 4px;border-radius:4px}.exp{background:#ffebe9}.act{background:#dafbe1}"
    ".warn{color:#9a6700;font-weight:600}#routes .ok{font-weight:400}td a{color:inherit}"
    /* anywhere-wrapping code would let a narrow window squeeze a route to a few letters a line */
    "#routes td:nth-child(2),#noise td:nth-child(2){min-width:15em}#gates td:first-child{min-width:10em}";

static void card(FILE *f, const char *label, const char *fmt, double v)
{
    fprintf(f, "<div class=\"card\"><b>");
    fprintf(f, fmt, v);
    fprintf(f, "</b><span>%s</span></div>\n", label);
}

static int gate_ok(const json_t *g)
{
    return json_is_true(json_object_get(g, "pass"));
}

/* The verdict first and big, with what a reader looks for next: what broke (or that nothing did). */
static void verdict_banner(FILE *f, json_t *report, int load, int pass)
{
    json_t *t = json_object_get(report, "totals"), *gates = json_object_get(report, "gates"), *g;
    size_t i, ngates = json_array_size(gates), nbad = 0, listed = 0;
    json_array_foreach(gates, i, g) nbad += !gate_ok(g);
    long long req = (long long)report_fmt_int(t, "requests"), nerr = (long long)report_fmt_int(t, "errors");
    fprintf(f, "<section id=\"verdict\" class=\"verdict %s\"><b>%s</b><span>", pass ? "pass" : "fail",
            pass ? "PASS" : "FAIL");
    if (load) {
        if (nbad)
            fprintf(f, "%zu of %zu gates broken", nbad, ngates);
        else if (ngates)
            fprintf(f, "%zu %s passed", ngates, ngates == 1 ? "gate" : "gates, all");
        else
            fputs("no gates given", f);
        fprintf(f, " · %lld requests, %lld transport errors", req, nerr);
    } else {
        if (report_fmt_int(t, "diffs") || nerr)
            fprintf(f, "%lld of %lld exchanges differ", (long long)report_fmt_int(t, "diffs"), req);
        else
            fprintf(f, "all %lld exchanges matched", req);
        if (nerr)
            fprintf(f, ", %lld transport errors", nerr);
        if (report_fmt_int(t, "noise"))
            fprintf(f, " · %lld with noise set aside", (long long)report_fmt_int(t, "noise"));
    }
    fputs("</span>", f);
    if (nbad) {
        fputs("<ul>", f);
        json_array_foreach(gates, i, g) {
            if (gate_ok(g) || listed++ >= 8)
                continue;
            fputs("<li><code>", f);
            report_fmt_escape(f, report_fmt_str(g, "expr", "?"), 200);
            fputs("</code> broken: observed ", f);
            report_fmt_escape(f, report_fmt_str(g, "observed", "?"), 200);
            fputs("</li>", f);
        }
        if (listed > 8)
            fprintf(f, "<li>and %zu more (see Gates)</li>", listed - 8);
        fputs("</ul>", f);
    }
    fputs("</section>\n", f);
}

static void gates_table(FILE *f, json_t *report)
{
    json_t *gates = json_object_get(report, "gates");
    if (!json_array_size(gates))
        return;
    fputs("<h2>Gates</h2>\n<div class=\"tw\"><table id=\"gates\"><tr><th>gate</th><th>observed</th>"
          "<th>result</th><th>detail</th></tr>\n", f);
    size_t i;
    json_t *g;
    json_array_foreach(gates, i, g) {
        int ok = gate_ok(g);
        fprintf(f, "<tr%s><td><code>", ok ? "" : " class=\"bad\"");
        report_fmt_escape(f, report_fmt_str(g, "expr", "?"), 0);
        fputs("</code></td><td>", f);
        report_fmt_escape(f, report_fmt_str(g, "observed", ""), 0);
        fprintf(f, "</td><td class=\"%s\">%s</td><td>", ok ? "ok" : "no", ok ? "pass" : "FAIL");
        report_fmt_escape(f, report_fmt_str(g, "detail", ""), 0);
        fputs("</td></tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

/* Does a failed gate name this endpoint ("GET /x: ..." or "/x: ...")? */
static int gate_failed_on(json_t *report, const char *method, const char *route)
{
    size_t i, rl = strlen(route), ml = strlen(method);
    json_t *g;
    json_array_foreach(json_object_get(report, "gates"), i, g) {
        const char *e = report_fmt_str(g, "expr", "");
        if (gate_ok(g))
            continue;
        if (!strncmp(e, method, ml) && e[ml] == ' ')
            e += ml + 1;
        if (!strncmp(e, route, rl) && e[rl] == ':')
            return 1;
    }
    return 0;
}

/* The id of the first diff shown for method + route, or NULL. */
static const char *first_diff_id(json_t *report, const char *method, const char *route)
{
    json_t *diffs = json_object_get(report, "diffs");
    for (size_t i = 0; i < json_array_size(diffs) && i < MAX_DIFFS_SHOWN; i++) {
        json_t *d = json_array_get(diffs, i);
        if (!strcmp(report_fmt_str(d, "method", ""), method) &&
            !strcmp(report_fmt_str(d, "route", ""), route))
            return report_fmt_str(d, "id", NULL);
    }
    return NULL;
}

static void endpoint_row(FILE *f, json_t *report, json_t *e, int load, int has_base, int bad, int failed_run)
{
    fprintf(f, "<tr%s><td>", bad ? " class=\"bad\"" : "");
    report_fmt_escape(f, report_fmt_str(e, "method", "?"), 0);
    fputs("</td><td><code>", f);
    report_fmt_escape(f, report_fmt_str(e, "route", "?"), 0);
    fputs("</code></td>", f);
    if (load) {
        json_t *l = json_object_get(e, "latency_ms");
        json_t *bl = json_object_get(json_object_get(e, "baseline"), "latency_ms");
        fprintf(f, "<td class=n>%lld</td><td class=n>%lld</td><td class=n>%lld</td>",
                (long long)report_fmt_int(e, "requests"), (long long)report_fmt_int(e, "errors"),
                (long long)report_fmt_int(e, "http_5xx"));
        if (has_base)
            fprintf(f, "<td class=n>%.2f</td><td class=n>%.2f</td><td class=n>%.2f</td><td class=n>%.2f</td>",
                    report_fmt_num(l, "p50"), report_fmt_num(bl, "p50"), report_fmt_num(l, "p95"),
                    report_fmt_num(bl, "p95"));
        else
            fprintf(f, "<td class=n>%.2f</td><td class=n>%.2f</td><td class=n>%.2f</td><td class=n>%.2f</td>",
                    report_fmt_num(l, "p50"), report_fmt_num(l, "p95"), report_fmt_num(l, "p99"),
                    report_fmt_num(l, "max"));
        fprintf(f, "<td class=\"%s\">%s</td>", bad ? "no" : "ok", bad ? "FAIL" : "ok");
    } else {
        fprintf(f,
                "<td class=n>%lld</td><td class=n>%lld</td><td class=n>%lld</td><td class=n>%lld</td>"
                "<td class=n>%lld</td>",
                (long long)report_fmt_int(e, "requests"), (long long)report_fmt_int(e, "matched"),
                (long long)report_fmt_int(e, "diffs"), (long long)report_fmt_int(e, "noise"),
                (long long)report_fmt_int(e, "errors"));
        /* diffs within --max-diff-rate do not fail the run: say so rather than shout FAIL. A route that
         * differs links to its first diff below. */
        const char *first =
            bad ? first_diff_id(report, report_fmt_str(e, "method", ""), report_fmt_str(e, "route", ""))
                : NULL;
        fprintf(f, "<td class=\"%s\">", !bad ? "ok" : failed_run ? "no" : "warn");
        if (first) {
            fputs("<a href=\"#diff-", f);
            report_fmt_escape(f, first, 64);
            fputs("\">", f);
        }
        fputs(!bad ? "ok" : failed_run ? "FAIL" : "differs", f);
        fputs(first ? "</a></td>" : "</td>", f);
    }
    fputs("</tr>\n", f);
}

/* One row per method + route, the failing ones first (in report order within each group). */
static void endpoints_table(FILE *f, json_t *report, int load, int failed_run)
{
    json_t *eps = json_object_get(report, "endpoints");
    if (!json_array_size(eps))
        return;
    int has_base = json_is_object(json_object_get(report, "baseline"));
    fprintf(f, "<h2>%s</h2>\n<div class=\"tw\"><table id=\"routes\"><tr><th>method</th><th>route</th>"
               "<th class=n>requests</th>", load ? "Endpoints" : "Routes");
    if (load && has_base)
        fputs("<th class=n>errors</th><th class=n>5xx</th><th class=n>p50 ms</th><th class=n>baseline p50</th>"
              "<th class=n>p95 ms</th><th class=n>baseline p95</th>", f);
    else if (load)
        fputs("<th class=n>errors</th><th class=n>5xx</th><th class=n>p50 ms</th><th class=n>p95 ms</th>"
              "<th class=n>p99 ms</th><th class=n>max ms</th>", f);
    else
        fputs("<th class=n>matched</th><th class=n>diffs</th><th class=n>noise</th><th class=n>errors</th>", f);
    fputs("<th>result</th></tr>\n", f);
    for (int want_bad = 1; want_bad >= 0; want_bad--) {
        size_t i;
        json_t *e;
        json_array_foreach(eps, i, e) {
            int bad = report_fmt_int(e, "errors") > 0 || (!load && report_fmt_int(e, "diffs") > 0) ||
                      (load && gate_failed_on(report, report_fmt_str(e, "method", ""),
                                              report_fmt_str(e, "route", "")));
            if (bad == want_bad)
                endpoint_row(f, report, e, load, has_base, bad, failed_run);
        }
    }
    fputs("</table></div>\n", f);
}

/* A diff value: clipped (the JSON report has it whole) and in a box that wraps and scrolls, so one long
 * body snippet cannot stretch the table or push the rest of the page away. */
static void diff_value(FILE *f, const char *cls, const char *v)
{
    fprintf(f, "<td><code class=\"v %s\">", cls);
    report_fmt_escape(f, v, 600);
    fputs("</code></td>", f);
}

static void diffs_list(FILE *f, json_t *report)
{
    json_t *diffs = json_object_get(report, "diffs");
    size_t n = json_array_size(diffs);
    if (!n)
        return;
    fprintf(f, "<h2>Diffs (%zu in %lld exchanges)</h2>\n", n,
            (long long)report_fmt_int(json_object_get(report, "totals"), "diffs") +
                (long long)report_fmt_int(json_object_get(report, "totals"), "errors"));
    if (n > MAX_DIFFS_SHOWN)
        fprintf(f, "<p class=\"note\">The first %d are shown; the JSON report has them all.</p>\n",
                MAX_DIFFS_SHOWN);
    fputs("<div class=\"tw\"><table class=\"diffs\" id=\"diffs\"><colgroup><col style=\"width:6%\">"
          "<col style=\"width:22%\"><col style=\"width:18%\"><col style=\"width:27%\"><col style=\"width:27%\">"
          "</colgroup>\n<tr><th>#</th><th>request</th><th>where</th><th>expected</th><th>actual</th></tr>\n", f);
    const char *prev = NULL;
    for (size_t i = 0; i < n && i < MAX_DIFFS_SHOWN; i++) {
        json_t *d = json_array_get(diffs, i);
        const char *id = report_fmt_str(d, "id", "");
        if (prev && !strcmp(prev, id)) { /* another diff of the same request: one block per request */
            fputs("<tr class=\"more\"><td></td><td></td><td><code>", f);
        } else {
            fputs("<tr class=\"first\" id=\"diff-", f);
            report_fmt_escape(f, id, 64);
            fputs("\"><td>", f);
            report_fmt_escape(f, id, 0);
            fputs("</td><td title=\"", f);
            report_fmt_escape(f, report_fmt_str(d, "uri", ""), 2000);
            fputs("\"><code>", f);
            report_fmt_escape(f, report_fmt_str(d, "method", ""), 0);
            fputs(" ", f);
            report_fmt_escape(f, report_fmt_str(d, "uri", ""), 160); /* the whole target (capped) on hover */
            fputs("</code></td><td><code>", f);
        }
        prev = id;
        report_fmt_escape(f, report_fmt_str(d, "where", ""), 300);
        fputs("</code></td>", f);
        diff_value(f, "exp", report_fmt_str(d, "expected", "(none)"));
        diff_value(f, "act", report_fmt_str(d, "actual", "(none)"));
        fputs("</tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

/* The noise, apart from the diffs: one row per route with the fields set aside there. */
static void noise_list(FILE *f, json_t *report)
{
    json_t *noise = json_object_get(report, "noise");
    size_t n = json_array_size(noise);
    if (!n)
        return;
    const char *how = report_fmt_str(report, "noise_method", "");
    fprintf(f, "<h2>Noise set aside (%lld exchanges)</h2>\n<p class=\"note\">",
            (long long)report_fmt_int(json_object_get(report, "totals"), "noise"));
    if (!strcmp(how, "learn"))
        fputs("Fields whose value changed between two answers of the target to the same request "
              "(<code>--learn-noise</code>)", f);
    else if (!strncmp(how, "baseline", 8))
        fputs("Fields where the recording and the baseline, a deployment of the current version, already "
              "disagree (<code>--baseline</code>)", f);
    else
        fputs("Fields found to vary by themselves", f);
    fputs(": they are not counted as diffs and never fail the gate. The number is how many exchanges had "
          "the field set aside.</p>\n<div class=\"tw\"><table id=\"noise\"><tr><th>method</th><th>route</th>"
          "<th>fields</th></tr>\n", f);
    for (size_t i = 0; i < n; i++) {
        json_t *z = json_array_get(noise, i), *prev = i ? json_array_get(noise, i - 1) : NULL;
        const char *m = report_fmt_str(z, "method", ""), *r = report_fmt_str(z, "route", "");
        int same = prev && !strcmp(m, report_fmt_str(prev, "method", "")) &&
                   !strcmp(r, report_fmt_str(prev, "route", ""));
        if (!same) {
            fputs(i ? "</td></tr>\n<tr><td>" : "<tr><td>", f);
            report_fmt_escape(f, m, 0);
            fputs("</td><td><code>", f);
            report_fmt_escape(f, r, 0);
            fputs("</code></td><td>", f);
        } else {
            fputs(", ", f);
        }
        fputs("<code>", f);
        report_fmt_escape(f, report_fmt_str(z, "where", ""), 300);
        fprintf(f, "</code> (%lld)", (long long)report_fmt_int(z, "count"));
    }
    fputs("</td></tr>\n</table></div>\n", f);
}

int report_write_html(json_t *report, FILE *f)
{
    const char *mode = report_fmt_str(report, "mode", "check");
    int load = !strcmp(mode, "load");
    int pass = !strcmp(report_fmt_str(report, "verdict", "fail"), "pass");
    json_t *t = json_object_get(report, "totals");

    /* The policy makes the browser hold the page to its promise: no script runs, nothing is fetched. */
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>tapedeck ",
          f);
    fprintf(f, "%s: %s</title>\n<style>%s</style></head><body><main>\n", mode, pass ? "pass" : "FAIL", CSS);
    fprintf(f, "<h1>tapedeck-replay %s</h1>\n", mode);
    fputs("<div class=\"sub\">target <code>", f);
    report_fmt_escape(f, report_fmt_str(report, "target", "?"), 0);
    fputs("</code>", f);
    json_t *base = json_object_get(report, "baseline");
    if (json_is_object(base)) {
        fputs(" · baseline <code>", f);
        report_fmt_escape(f, report_fmt_str(base, "target", "?"), 0);
        fputs("</code>", f);
    }
    if (report_fmt_str(report, "started", NULL)) {
        fputs(" · started ", f);
        report_fmt_escape(f, report_fmt_str(report, "started", ""), 0);
    }
    if (json_is_array(json_object_get(report, "merged_from")))
        fprintf(f, " · merged from %zu reports", json_array_size(json_object_get(report, "merged_from")));
    fprintf(f, " · %s %s</div>\n", report_fmt_str(report, "tool", "tapedeck-replay"),
            report_fmt_str(report, "version", ""));
    json_t *cfg = json_object_get(report, "config");
    if (load && json_is_object(cfg)) {
        fputs("<div class=\"sub\">", f);
        if (report_fmt_num(cfg, "rate_per_s") > 0)
            fprintf(f, "fixed rate %.1f/s", report_fmt_num(cfg, "rate_per_s"));
        else
            fprintf(f, "recorded timing × %g", report_fmt_num(cfg, "speed"));
        if (report_fmt_num(cfg, "duration_s") > 0)
            fprintf(f, " for %gs", report_fmt_num(cfg, "duration_s"));
        fprintf(f, " · %lld connections · at most %lld in flight",
                (long long)report_fmt_int(cfg, "connections"),
                (long long)report_fmt_int(cfg, "max_inflight"));
        if (report_fmt_str(cfg, "shard", "")[0]) {
            fputs(" · shard ", f);
            report_fmt_escape(f, report_fmt_str(cfg, "shard", ""), 0);
        }
        fputs("</div>\n", f);
    }

    verdict_banner(f, report, load, pass);
    fputs("<div class=\"cards\">\n", f);
    card(f, "requests", "%.0f", (double)report_fmt_int(t, "requests"));
    if (load) {
        json_t *rate = json_object_get(report, "rate");
        json_t *l = json_object_get(report, "latency_ms");
        card(f, "transport errors", "%.0f", (double)report_fmt_int(t, "errors"));
        card(f, "5xx responses", "%.0f", (double)report_fmt_int(t, "http_5xx"));
        card(f, "achieved req/s", "%.1f", report_fmt_num(rate, "achieved_rps"));
        card(f, "scheduled req/s", "%.1f", report_fmt_num(rate, "scheduled_rps"));
        card(f, "p50 ms", "%.2f", report_fmt_num(l, "p50"));
        card(f, "p99 ms", "%.2f", report_fmt_num(l, "p99"));
        card(f, "max ms", "%.2f", report_fmt_num(l, "max"));
        card(f, "send lag p99 ms", "%.2f", report_fmt_num(json_object_get(rate, "lag_ms"), "p99"));
    } else {
        card(f, "matched", "%.0f", (double)report_fmt_int(t, "matched"));
        card(f, "with diffs", "%.0f", (double)report_fmt_int(t, "diffs"));
        card(f, "noise set aside", "%.0f", (double)report_fmt_int(t, "noise"));
        card(f, "transport errors", "%.0f", (double)report_fmt_int(t, "errors"));
    }
    fputs("</div>\n", f);

    gates_table(f, report);
    if (load)
        svg_load_plots(f, report);
    endpoints_table(f, report, load, !pass);
    if (!load) {
        diffs_list(f, report);
        noise_list(f, report);
    }
    fputs("</main></body></html>\n", f);
    return ferror(f) ? -1 : 0;
}
