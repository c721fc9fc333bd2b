/* report: building the report object and writing it out (JSON file). Every top-level key is set here
 * (report_set_key's table is the list); the text summary lives in report_text.c, the JUnit and HTML
 * renderers in report_junit.c and report_html.c. */
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

/* Every top-level key a report (or its baseline side, which has the same shape) may carry: design.md's,
 * then the modes' extras (docs/tapedeck-replay.md). A key not here is refused. */
static const char *const KEYS[] = {
    "tool", "version", "mode", "target", "verdict", "totals", "latency_ms", "service_ms", "rate", "endpoints",
    "gates", "diffs", "histogram",
    /* load (and merged load) */
    "started", "start", "config", "gate_config", "status", "timeline", "first_error", "baseline", "interrupted",
    "merged_from",
    /* check, shadow */
    "noise", "duration_s", "noise_method", "correlated_ids",
    /* shadow: production's recorded latency beside the shadow's latency_ms (report_set_latency_named) */
    "primary_latency_ms",
};

int report_set_key(json_t *obj, const char *key, json_t *value)
{
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++)
        if (!strcmp(KEYS[i], key))
            return set_new(obj, key, value);
    json_decref(value);
    return -1;
}

int report_set_rate(json_t *report, double scheduled_rps, double achieved_rps)
{
    json_t *rt = json_object_get(report, "rate");
    if (!json_is_object(rt))
        return report_set_key(report, "rate",
                              json_pack("{sfsf}", "scheduled_rps", scheduled_rps, "achieved_rps", achieved_rps));
    return set_new(rt, "scheduled_rps", json_real(scheduled_rps)) ||
                   set_new(rt, "achieved_rps", json_real(achieved_rps))
               ? -1
               : 0;
}

int report_set_load_rate(json_t *report, const report_load_rate *lr)
{
    json_t *lag = lr->lag ? report_latency_json(lr->lag) : json_object();
    if (lag && lr->lag)
        set_new(lag, "histogram", hist_to_json(lr->lag));
    return report_set_key(report, "rate",
                          json_pack("{sfsfsIsIsfso}", "scheduled_rps", lr->scheduled_rps, "achieved_rps",
                                    lr->achieved_rps, "scheduled", (json_int_t)lr->scheduled, "sent",
                                    (json_int_t)lr->sent, "duration_s", lr->duration_s, "lag_ms", lag));
}

int report_set_started(json_t *report, const char *iso)
{
    return report_set_key(report, "started", json_string(iso));
}

int report_set_start(json_t *report, const char *at_iso, int pinned, double first_send_late_ms)
{
    return report_set_key(report, "start",
                          json_pack("{sssbsf}", "at", at_iso, "pinned", pinned, "first_send_late_ms", first_send_late_ms));
}

int report_set_interrupted(json_t *report)
{
    return report_set_key(report, "interrupted", json_true());
}

json_t *report_set_baseline(json_t *report, const char *target)
{
    json_t *b = json_pack("{ss}", "target", target ? target : "");
    if (!b || report_set_key(report, "baseline", b))
        return NULL;
    return b;
}

int report_set_check_extras(json_t *report, const report_check_extras *x)
{
    json_t *t = report_totals(report);
    json_t *cfg = json_pack("{sssIsbsb}", "max_diff_rate", x->max_diff_rate ? x->max_diff_rate : "0", "show_diffs",
                            (json_int_t)x->show_diffs, "learn_noise", x->learn_noise, "correlate", x->correlated >= 0);
    int rc = 0;
    if (cfg && x->baseline)
        rc |= set_new(cfg, "baseline", json_string(x->baseline));
    rc |= report_set_key(report, "config", cfg);
    if (x->noise)
        rc |= report_set_key(report, "noise", x->noise);
    rc |= set_new(t, "skipped", json_integer((json_int_t)x->skipped));
    if (x->baseline)
        rc |= set_new(t, "baseline_errors", json_integer((json_int_t)x->baseline_errors));
    rc |= report_set_key(report, "duration_s", json_real(x->duration_s));
    rc |= report_set_key(report, "noise_method", json_string(x->noise_method ? x->noise_method : "none"));
    if (x->correlated >= 0)
        rc |= report_set_key(report, "correlated_ids", json_integer((json_int_t)x->correlated));
    return rc ? -1 : 0;
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

json_t *report_endpoint_at(json_t *report, json_t **index, const char *method, const char *route)
{
    /* A method is a token (no space), so "METHOD route" names one endpoint. */
    char key[512];
    size_t ml = strlen(method), rl = strlen(route);
    if (ml + 1 + rl >= sizeof key)
        return report_endpoint(report, method, route);
    memcpy(key, method, ml);
    key[ml] = ' ';
    memcpy(key + ml + 1, route, rl + 1);
    if (!*index && !(*index = json_object()))
        return report_endpoint(report, method, route);
    json_t *e = json_object_get(*index, key);
    if (e)
        return e;
    e = report_endpoint(report, method, route);
    if (e)
        json_object_set(*index, key, e); /* on failure the next call scans again */
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
