/* report_cli: `tapedeck-replay report FILE...` renders a JSON report as text (stdout), JUnit, HTML or
 * JSON again; given several, merges them first (report_merge.h) — the last step of a sharded load run.
 * Exit status: the (merged) verdict, 0 pass / 1 fail; 2 for unreadable or unmergeable reports. */
#include "report_cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gates.h"
#include "report.h"
#include "report_merge.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: tapedeck-replay report REPORT.json... [options]\n"
               "\n"
               "Renders a JSON report written by check or load; several reports (the shards of one load\n"
               "run, or several check runs) are merged first: counters and histogram buckets add up, so\n"
               "the merged percentiles are those of one run over all the requests, and the gates are\n"
               "judged again on the merged data.\n"
               "\n"
               "  --report-json FILE     write the (merged) report as JSON\n"
               "  --junit FILE           write it as JUnit XML\n"
               "  --html FILE            write it as a self-contained HTML page\n"
               "  --baseline-report FILE judge load reports against this baseline report again (default:\n"
               "                         the file named in the reports, when it is readable)\n"
               "  --quiet                no text summary on stdout\n"
               "  (- as FILE is stdout)\n"
               "\n"
               "Exit status: 0 the verdict is pass, 1 fail, 2 trouble (unreadable or mixed reports).\n");
}

int report_cli_main(int argc, char **argv)
{
    const char *json_out = NULL, *junit = NULL, *html = NULL, *base_path = NULL;
    int quiet = 0, status = 2;
    size_t n = 0;
    json_t **reps = calloc((size_t)argc + 1, sizeof *reps);
    const char **names = calloc((size_t)argc + 1, sizeof *names);
    json_t *merged = NULL, *baseline = NULL;
    char err[512] = "";
    if (!reps || !names) {
        fprintf(stderr, "tapedeck-replay report: out of memory\n");
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = !strcmp(a, "--report-json") ? &json_out
                           : !strcmp(a, "--junit")      ? &junit
                           : !strcmp(a, "--html")       ? &html
                           : !strcmp(a, "--baseline-report") ? &base_path
                                                             : NULL;
        if (dst) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tapedeck-replay report: %s needs a file\n", a);
                goto out;
            }
            *dst = argv[++i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            status = 0;
            goto out;
        } else if (!strcmp(a, "--version")) {
            printf("tapedeck-replay report %s\n", TAPEDECK_VERSION);
            status = 0;
            goto out;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tapedeck-replay report: unknown option '%s' (see --help)\n", a);
            goto out;
        } else {
            if (!(reps[n] = gates_read_report(a, err, sizeof err))) {
                fprintf(stderr, "tapedeck-replay report: %s\n", err);
                goto out;
            }
            names[n++] = a;
        }
    }
    if (n == 0) {
        fprintf(stderr, "tapedeck-replay report: no report given\n");
        usage(stderr);
        goto out;
    }
    if (n == 1) {
        merged = json_incref(reps[0]);
    } else {
        if (!base_path) { /* the inputs name their baseline report; use it when it is there */
            const json_t *bp = json_object_get(json_object_get(reps[0], "gate_config"), "baseline_report");
            base_path = json_string_value(bp);
        }
        if (base_path && !(baseline = gates_read_report(base_path, err, sizeof err))) {
            fprintf(stderr, "tapedeck-replay report: baseline report %s (give --baseline-report)\n", err);
            goto out;
        }
        if (!(merged = report_merge(reps, names, n, baseline, err, sizeof err))) {
            fprintf(stderr, "tapedeck-replay report: %s\n", err);
            goto out;
        }
    }
    if (report_write_files(merged, json_out, junit, html, err, sizeof err)) {
        fprintf(stderr, "tapedeck-replay report: %s\n", err);
        goto out;
    }
    if (!quiet)
        report_print_text(merged, stdout);
    status = strcmp(json_string_value(json_object_get(merged, "verdict")) ? json_string_value(json_object_get(merged, "verdict")) : "", "pass") ? 1 : 0;
out:
    for (size_t i = 0; i < n; i++)
        json_decref(reps[i]);
    free(reps);
    free(names);
    json_decref(merged);
    json_decref(baseline);
    return status;
}
