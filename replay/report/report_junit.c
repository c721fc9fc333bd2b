/* report_junit: the report as JUnit XML, the format CI systems show as test results.
 * check: one testcase per route (method + route); it fails when the route has diffs or transport errors
 * and the run's verdict is fail, and the failure text lists that route's diffs; the noise set aside on a
 * route goes to its system-out. load: one testcase per gate.
 * Gates of a check run (e.g. the diff rate) are testcases too. */
#include "report.h"
#include "report_fmt.h"

#include <string.h>

#define MAX_DIFFS_PER_CASE 50

static void diff_lines(FILE *f, json_t *report, const char *method, const char *route)
{
    json_t *diffs = json_object_get(report, "diffs");
    size_t i, shown = 0, total = 0;
    json_t *d;
    json_array_foreach(diffs, i, d) {
        if (strcmp(report_fmt_str(d, "method", ""), method) || strcmp(report_fmt_str(d, "route", ""), route))
            continue;
        total++;
        if (shown >= MAX_DIFFS_PER_CASE)
            continue;
        shown++;
        fputs("#", f);
        report_fmt_escape(f, report_fmt_str(d, "id", "?"), 0);
        fputs(" ", f);
        report_fmt_escape(f, report_fmt_str(d, "method", ""), 0);
        fputs(" ", f);
        report_fmt_escape(f, report_fmt_str(d, "uri", ""), 2000);
        fputs("\n  at ", f);
        report_fmt_escape(f, report_fmt_str(d, "where", ""), 2000);
        fputs("\n  expected: ", f);
        report_fmt_escape(f, report_fmt_str(d, "expected", "(none)"), 2000);
        fputs("\n  actual:   ", f);
        report_fmt_escape(f, report_fmt_str(d, "actual", "(none)"), 2000);
        fputs("\n", f);
    }
    if (total > shown)
        fprintf(f, "... and %zu more diffs on this route\n", total - shown);
}

static void gate_cases(FILE *f, json_t *report, const char *classname)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(report, "gates"), i, g) {
        fprintf(f, "    <testcase classname=\"%s\" name=\"", classname);
        report_fmt_escape(f, report_fmt_str(g, "expr", "?"), 0);
        fputs("\">\n", f);
        fputs("      <system-out>observed ", f);
        report_fmt_escape(f, report_fmt_str(g, "observed", "?"), 0);
        if (report_fmt_str(g, "detail", NULL)) {
            fputs(": ", f);
            report_fmt_escape(f, report_fmt_str(g, "detail", ""), 0);
        }
        fputs("</system-out>\n", f);
        if (!json_is_true(json_object_get(g, "pass"))) {
            fputs("      <failure message=\"", f);
            report_fmt_escape(f, report_fmt_str(g, "expr", "?"), 0);
            fputs(" broken: observed ", f);
            report_fmt_escape(f, report_fmt_str(g, "observed", "?"), 0);
            fputs("\" type=\"gate\">", f);
            report_fmt_escape(f, report_fmt_str(g, "detail", ""), 0);
            fputs("</failure>\n", f);
        }
        fputs("    </testcase>\n", f);
    }
}

/* The noise set aside on this route, one line per field: the CI's view shows it beside the verdict, so
 * a reader sees what was not compared. Returns how many fields there were (0: nothing written). */
static size_t noise_lines(FILE *f, json_t *report, const char *method, const char *route)
{
    size_t i, n = 0;
    json_t *z;
    json_array_foreach(json_object_get(report, "noise"), i, z) {
        if (strcmp(report_fmt_str(z, "method", ""), method) || strcmp(report_fmt_str(z, "route", ""), route))
            continue;
        if (n++ == 0)
            fputs("noise set aside (not diffs):\n", f);
        fputs("  ", f);
        report_fmt_escape(f, report_fmt_str(z, "where", "?"), 2000);
        long long c = (long long)report_fmt_int(z, "count");
        fprintf(f, " (%lld exchange%s)\n", c, c == 1 ? "" : "s");
    }
    return n;
}

/* check: the testcase of one route. Its diffs are the failure text when the run failed, else they go to
 * system-out with the noise. */
static void route_case(FILE *f, json_t *report, json_t *e, const char *classname, int failed_run)
{
    const char *m = report_fmt_str(e, "method", "?"), *r = report_fmt_str(e, "route", "?");
    long long nd = (long long)report_fmt_int(e, "diffs"), ne = (long long)report_fmt_int(e, "errors");
    int differs = nd > 0 || ne > 0;
    fprintf(f, "    <testcase classname=\"%s\" name=\"", classname);
    report_fmt_escape(f, m, 0);
    fputs(" ", f);
    report_fmt_escape(f, r, 0);
    fputs("\">\n", f);
    if (differs && failed_run) {
        fprintf(f, "      <failure message=\"%lld of %lld requests differ, %lld transport errors\" type=\"diff\">",
                nd, (long long)report_fmt_int(e, "requests"), ne);
        diff_lines(f, report, m, r);
        fputs("</failure>\n", f);
    }
    if ((differs && !failed_run) || report_fmt_int(e, "noise") > 0) {
        fputs("      <system-out>", f);
        if (differs && !failed_run)
            diff_lines(f, report, m, r);
        noise_lines(f, report, m, r);
        fputs("</system-out>\n", f);
    }
    fputs("    </testcase>\n", f);
}

int report_write_junit(json_t *report, FILE *f)
{
    const char *mode = report_fmt_str(report, "mode", "check");
    int load = !strcmp(mode, "load");
    int failed_run = strcmp(report_fmt_str(report, "verdict", "fail"), "pass") != 0;
    json_t *eps = json_object_get(report, "endpoints");
    json_t *gates = json_object_get(report, "gates");
    size_t tests = 0, failures = 0, i;
    json_t *e;

    json_array_foreach(gates, i, e) {
        tests++;
        failures += !json_is_true(json_object_get(e, "pass"));
    }
    if (!load) {
        json_array_foreach(eps, i, e) {
            tests++;
            failures += failed_run && (report_fmt_int(e, "diffs") > 0 || report_fmt_int(e, "errors") > 0);
        }
    }
    if (tests == 0)
        tests = 1; /* a run with nothing to judge still shows up as one passing case */

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites name=\"tapedeck-replay %s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n", mode,
            tests, failures);
    fprintf(f, "  <testsuite name=\"tapedeck-replay %s ", mode);
    report_fmt_escape(f, report_fmt_str(report, "target", ""), 0);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\"", tests, failures);
    /* how long the gate took and when it ran, for the CI's test view (load keeps the run's length in rate) */
    double secs = load ? report_fmt_num(json_object_get(report, "rate"), "duration_s")
                       : report_fmt_num(report, "duration_s");
    if (secs > 0)
        fprintf(f, " time=\"%.3f\"", secs);
    if (report_fmt_str(report, "started", NULL)) {
        fputs(" timestamp=\"", f);
        report_fmt_escape(f, report_fmt_str(report, "started", ""), 64);
        fputs("\"", f);
    }
    fputs(">\n", f);
    char classname[32];
    snprintf(classname, sizeof classname, "tapedeck.%s", mode);

    if (!load) {
        json_array_foreach(eps, i, e)
            route_case(f, report, e, classname, failed_run);
    }
    gate_cases(f, report, classname);
    if (json_array_size(gates) == 0 && (load || json_array_size(eps) == 0))
        fprintf(f, "    <testcase classname=\"%s\" name=\"run\"/>\n", classname);
    fputs("  </testsuite>\n</testsuites>\n", f);
    return ferror(f) ? -1 : 0;
}
