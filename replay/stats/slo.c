/* slo: parsing and judging --slo expressions (grammar in slo.h). */
#include "slo.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdnum.h"

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static int parse_scope(const char *s, size_t len, slo *out, char *err, size_t errlen)
{
    char buf[600];
    if (len >= sizeof buf) {
        snprintf(err, errlen, "route part too long");
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *p = buf;
    while (*p == ' ')
        p++;
    char *e = p + strlen(p);
    while (e > p && e[-1] == ' ')
        *--e = '\0';
    if (*p != '/') { /* METHOD /route */
        char *sp = strchr(p, ' ');
        if (!sp || (size_t)(sp - p) >= sizeof out->method) {
            snprintf(err, errlen, "expected 'METHOD /route:' or '/route:' before the metric");
            return -1;
        }
        for (char *q = p; q < sp; q++)
            if (!isupper((unsigned char)*q)) {
                snprintf(err, errlen, "'%.*s' is not an HTTP method", (int)(sp - p), p);
                return -1;
            }
        memcpy(out->method, p, (size_t)(sp - p));
        out->method[sp - p] = '\0';
        p = (char *)skip_ws(sp);
    }
    if (*p != '/' || strlen(p) >= sizeof out->route) {
        snprintf(err, errlen, "route must start with '/'");
        return -1;
    }
    strcpy(out->route, p);
    return 0;
}

/* A non-negative number; *rest is what follows it, blanks skipped (the unit). 0 or -1. */
static int parse_number(const char *v, double *x, const char **rest)
{
    char *end;
    errno = 0;
    *x = strtod(v, &end);
    if (end == v || errno || *x < 0)
        return -1;
    *rest = skip_ws(end);
    return 0;
}

static int parse_duration_us(const char *v, double *us)
{
    const char *end;
    double x;
    if (parse_number(v, &x, &end) != 0)
        return -1;
    double mul;
    if (!*end || !strcmp(end, "ms"))
        mul = 1000;
    else if (!strcmp(end, "s"))
        mul = 1e6;
    else if (!strcmp(end, "us") || !strcmp(end, "µs"))
        mul = 1;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mul = 60e6;
    else
        return -1;
    *us = x * mul;
    return 0;
}

int slo_parse(const char *s, slo *out, char *err, size_t errlen)
{
    slo r;
    memset(&r, 0, sizeof r);
    const char *p = skip_ws(s);
    size_t len = strlen(p);
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof r.expr) {
        snprintf(err, errlen, "--slo '%s': empty or too long", s);
        return -1;
    }
    memcpy(r.expr, p, len);
    const char *colon = strrchr(r.expr, ':');
    const char *m = r.expr;
    if (colon) {
        if (parse_scope(r.expr, (size_t)(colon - r.expr), &r, err, errlen) < 0) {
            char tmp[200];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen, "--slo '%s': %s", r.expr, tmp);
            return -1;
        }
        m = skip_ws(colon + 1);
    }
    /* metric */
    size_t ml = 0;
    while (m[ml] && (isalnum((unsigned char)m[ml]) || m[ml] == '_' || m[ml] == '.'))
        ml++;
    if (ml >= 2 && m[0] == 'p' && (isdigit((unsigned char)m[1]))) {
        char num[16];
        char *end;
        if (ml - 1 >= sizeof num)
            goto bad_metric;
        memcpy(num, m + 1, ml - 1);
        num[ml - 1] = '\0';
        r.pct = strtod(num, &end);
        if (*end || r.pct <= 0 || r.pct >= 100)
            goto bad_metric;
        r.metric = SLO_PCT;
    } else if (ml == 3 && !strncmp(m, "max", 3)) {
        r.metric = SLO_MAX;
    } else if (ml == 4 && !strncmp(m, "mean", 4)) {
        r.metric = SLO_MEAN;
    } else if (ml == 10 && !strncmp(m, "error_rate", 10)) {
        r.metric = SLO_ERROR_RATE;
    } else if (ml == 4 && !strncmp(m, "rate", 4)) {
        r.metric = SLO_RATE;
    } else {
        goto bad_metric;
    }
    const char *o = skip_ws(m + ml);
    if (o[0] == '<' && o[1] == '=')
        r.op = SLO_LE, o += 2;
    else if (o[0] == '>' && o[1] == '=')
        r.op = SLO_GE, o += 2;
    else if (o[0] == '<')
        r.op = SLO_LT, o += 1;
    else if (o[0] == '>')
        r.op = SLO_GT, o += 1;
    else {
        snprintf(err, errlen, "--slo '%s': expected <, <=, > or >= after the metric", r.expr);
        return -1;
    }
    o = skip_ws(o);
    int bad = (r.metric == SLO_ERROR_RATE || r.metric == SLO_RATE) ? tdnum_parse_percent(o, TDNUM_BARE_FRACTION, 1.0, &r.threshold)
                                                                    : parse_duration_us(o, &r.threshold);
    if (bad) {
        snprintf(err, errlen, "--slo '%s': bad value '%s' (%s)", r.expr, o,
                 (r.metric == SLO_ERROR_RATE || r.metric == SLO_RATE) ? "a percentage like 0.1% or 95%"
                                                                       : "a duration like 250ms or 1s");
        return -1;
    }
    if (r.metric == SLO_RATE && r.route[0]) {
        snprintf(err, errlen, "--slo '%s': rate applies to the whole run, not to a route", r.expr);
        return -1;
    }
    *out = r;
    return 0;
bad_metric:
    snprintf(err, errlen, "--slo '%s': unknown metric '%.*s' (p50, p90, p95, p99, p99.9, max, mean, error_rate, rate)",
             r.expr, (int)ml, m);
    return -1;
}

int slo_holds(const slo *s, double v)
{
    switch (s->op) {
    case SLO_LT: return v < s->threshold;
    case SLO_LE: return v <= s->threshold;
    case SLO_GT: return v > s->threshold;
    case SLO_GE: return v >= s->threshold;
    }
    return 0;
}

char *slo_format(const slo *s, double v, char *buf, size_t bufsz)
{
    if (s->metric == SLO_ERROR_RATE || s->metric == SLO_RATE)
        snprintf(buf, bufsz, "%.3g%%", v * 100.0);
    else
        snprintf(buf, bufsz, "%.3fms", v / 1000.0);
    return buf;
}
