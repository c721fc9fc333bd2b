/* check_summary: the text summary of `check` on stdout — verdict line, per-route table, noise set
 * apart, and the first diffs with their JSON path, expected and actual values. */
#include <stdio.h>
#include <string.h>

#include "check_int.h"

static long long geti(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static const char *gets_(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

void check_print_summary(const check_run *r, FILE *f)
{
    const check_opts *o = r->o;
    json_t *rep = r->report;
    int pass = !strcmp(gets_(rep, "verdict"), "pass");
    double rate = r->requests ? 100.0 * (double)(r->diffs + r->errors) / (double)r->requests : 0;
    fprintf(f, "tapedeck-replay check against %s: %s\n", o->target, pass ? "PASS" : "FAIL");
    fprintf(f, "  %llu exchanges replayed: %llu matched, %llu with diffs, %llu transport errors, %llu with noise "
               "set aside; %zu not replayed\n",
            (unsigned long long)r->requests, (unsigned long long)r->matched, (unsigned long long)r->diffs,
            (unsigned long long)r->errors, (unsigned long long)r->noise, r->n_skipped);
    fprintf(f, "  failing rate %.3g%% (limit %s)", rate, o->max_diff_rate_text);
    if (o->baseline)
        fprintf(f, "; noise from baseline %s", o->baseline);
    if (o->learn_noise)
        fprintf(f, "; noise learned by sending each request twice");
    if (r->corr_target)
        fprintf(f, "; %zu ids correlated", correlate_mappings(r->corr_target));
    fprintf(f, "\n\n");

    json_t *eps = json_object_get(rep, "endpoints");
    size_t w = 5;
    size_t i;
    json_t *ep;
    json_array_foreach(eps, i, ep)
    {
        size_t l = strlen(gets_(ep, "method")) + 1 + strlen(gets_(ep, "route"));
        if (l > w)
            w = l;
    }
    if (w > 60)
        w = 60;
    fprintf(f, "  %-*s %8s %8s %8s %8s %8s\n", (int)w, "route", "requests", "matched", "diffs", "noise", "errors");
    json_array_foreach(eps, i, ep)
    {
        char name[320];
        snprintf(name, sizeof name, "%s %s", gets_(ep, "method"), gets_(ep, "route"));
        fprintf(f, "  %-*s %8lld %8lld %8lld %8lld %8lld%s\n", (int)w, name, geti(ep, "requests"),
                geti(ep, "matched"), geti(ep, "diffs"), geti(ep, "noise"), geti(ep, "errors"),
                geti(ep, "diffs") + geti(ep, "errors") ? "  <-" : "");
    }
    if (r->n_noise) {
        /* grouped by field: the same volatile field usually shows on every route */
        fprintf(f, "\n  noise set aside (fields that differ between two answers that should agree):\n");
        size_t shown = 0;
        for (size_t k = 0; k < r->n_noise && shown < 20; k++) {
            int seen = 0;
            for (size_t j = 0; j < k && !seen; j++)
                seen = !strcmp(r->noise_list[j].where, r->noise_list[k].where);
            if (seen)
                continue;
            unsigned long long n = 0;
            size_t routes = 0;
            for (size_t j = k; j < r->n_noise; j++)
                if (!strcmp(r->noise_list[j].where, r->noise_list[k].where)) {
                    n += r->noise_list[j].count;
                    routes++;
                }
            if (routes == 1)
                fprintf(f, "    %-30s %llu exchanges, %s %s\n", r->noise_list[k].where, n, r->noise_list[k].method,
                        r->noise_list[k].route);
            else
                fprintf(f, "    %-30s %llu exchanges on %zu routes\n", r->noise_list[k].where, n, routes);
            shown++;
        }
    }
    json_t *diffs = json_object_get(rep, "diffs");
    size_t nd = json_array_size(diffs);
    if (nd && o->show_diffs) {
        fprintf(f, "\n  first diffs:\n");
        json_t *d;
        json_array_foreach(diffs, i, d)
        {
            if (i >= o->show_diffs)
                break;
            fprintf(f, "    #%s %s %s\n      %s: expected %s, got %s\n", gets_(d, "id"), gets_(d, "method"),
                    gets_(d, "uri"), gets_(d, "where"), gets_(d, "expected"), gets_(d, "actual"));
        }
        if (nd > o->show_diffs)
            fprintf(f, "    ... %zu more in the report (--report-json, --html)\n", nd - o->show_diffs);
    }
}
