/* report_svg: a small line-plot writer, and the load report's plots drawn with it. Axes get "nice" round
 * ticks (1, 2, 5 × 10^k) so plots read like hand-made ones. */
#include "report_svg.h"
#include "hist.h"
#include "report_fmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 860
#define H 320
#define ML 64  /* margins: left (y tick labels), right, top (title), bottom (x labels) */
#define MR 30 /* room for the last x label, centred on the right edge */
#define MT 52
#define MB 46
#define MARKERS_UPTO 24
#define NPCT 101 /* points on a percentile curve */

static double nice_step(double range, int want)
{
    if (range <= 0)
        return 1;
    double raw = range / want;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double step = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return step * mag;
}

/* Percentile to plot position: 1/(1-p) on a log scale, capped at 99.999. */
static double pct_pos(double p)
{
    if (p > 99.999)
        p = 99.999;
    if (p < 0)
        p = 0;
    return log10(100.0 / (100.0 - p));
}

static double xval(svg_xscale xs, double x)
{
    return xs == SVG_X_PERCENTILE ? pct_pos(x) : x;
}

static void fmt_num(char *buf, size_t n, double v)
{
    if (v == 0)
        snprintf(buf, n, "0");
    else if (fabs(v) >= 100 || fabs(v - round(v)) < 1e-9)
        snprintf(buf, n, "%.0f", v);
    else if (fabs(v) >= 1)
        snprintf(buf, n, "%.1f", v);
    else
        snprintf(buf, n, "%.3g", v);
}

void svg_plot(FILE *f, const char *title, const char *xlabel, const char *ylabel, svg_xscale xs,
              const svg_series *series, size_t nseries)
{
    double xmin = 0, xmax = 0, ymax = 0;
    int any = 0;
    for (size_t s = 0; s < nseries; s++)
        for (size_t i = 0; i < series[s].n; i++) {
            double x = xval(xs, series[s].x[i]);
            if (!any || x < xmin)
                xmin = x;
            if (!any || x > xmax)
                xmax = x;
            if (series[s].y[i] > ymax)
                ymax = series[s].y[i];
            any = 1;
        }
    if (xs == SVG_X_PERCENTILE) {
        xmin = 0;
        if (xmax < pct_pos(99.9))
            xmax = pct_pos(99.9);
    }
    if (xs == SVG_X_LINEAR)
        xmin = xmin < 0 ? xmin : 0;
    if (xmax <= xmin)
        xmax = xmin + 1;
    double ystep = nice_step(ymax > 0 ? ymax : 1, 5);
    double ytop = ceil((ymax > 0 ? ymax : 1) / ystep) * ystep;
    const double pw = W - ML - MR, ph = H - MT - MB;
#define PX(x) (ML + ((x) - xmin) / (xmax - xmin) * pw)
#define PY(y) (MT + ph - (y) / ytop * ph)

    fprintf(f, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n",
            W, H);
    fputs("<title>", f);
    report_fmt_escape(f, title, 0);
    fputs("</title>\n", f);
    fprintf(f, "<text x=\"%d\" y=\"20\" class=\"pt\">", ML);
    report_fmt_escape(f, title, 0);
    fputs("</text>\n", f);
    /* y grid and labels */
    char lbl[32];
    for (double y = 0; y <= ytop + ystep / 2; y += ystep) {
        fmt_num(lbl, sizeof lbl, y);
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", ML, W - MR, PY(y), PY(y));
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%s</text>\n", ML - 6, PY(y) + 4, lbl);
    }
    /* x grid and labels */
    if (xs == SVG_X_PERCENTILE) {
        static const double ps[] = {0, 50, 90, 99, 99.9, 99.99, 99.999};
        static const char *const names[] = {"0%", "50%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            double x = pct_pos(ps[i]);
            if (x > xmax + 1e-9)
                break;
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>", PX(x), PX(x), MT,
                    H - MB);
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%s</text>\n", PX(x), H - MB + 16, names[i]);
        }
    } else {
        double xstep = nice_step(xmax - xmin, 8);
        for (double x = ceil(xmin / xstep) * xstep; x <= xmax + xstep / 1000; x += xstep) {
            fmt_num(lbl, sizeof lbl, x);
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>", PX(x), PX(x), MT,
                    H - MB);
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%s</text>\n", PX(x), H - MB + 16, lbl);
        }
    }
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" class=\"frame\"/>\n", ML, MT, pw, ph);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"axl\">", ML + pw / 2, H - 8);
    report_fmt_escape(f, xlabel, 0);
    fprintf(f, "</text><text transform=\"translate(14 %.1f) rotate(-90)\" class=\"axl\">", MT + ph / 2);
    report_fmt_escape(f, ylabel, 0);
    fputs("</text>\n", f);

    for (size_t s = 0; s < nseries; s++) {
        const svg_series *se = &series[s];
        if (se->n == 0)
            continue;
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s points=\"", se->color,
                se->dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (size_t i = 0; i < se->n; i++)
            fprintf(f, "%.1f,%.1f ", PX(xval(xs, se->x[i])), PY(se->y[i]));
        fputs("\"/>\n", f);
        if (se->n <= MARKERS_UPTO) /* a line of a few points (or one) needs its points drawn to be seen */
            for (size_t i = 0; i < se->n; i++)
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", PX(xval(xs, se->x[i])),
                        PY(se->y[i]), se->color);
    }
    /* legend, top right */
    double lx = W - MR - 8;
    for (size_t s = nseries; s-- > 0;) {
        const svg_series *se = &series[s];
        double w = 34 + 7.0 * (double)strlen(se->name);
        lx -= w;
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\"%s/>",
                lx, lx + 22, MT - 14, MT - 14, se->color, se->dashed ? " stroke-dasharray=\"6 4\"" : "");
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"lg\">", lx + 27, MT - 10);
        report_fmt_escape(f, se->name, 0);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
#undef PX
#undef PY
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
        if (report_fmt_int(p, "sent") <= 0)
            continue;
        (*x)[m] = report_fmt_num(p, "t_s");
        (*y)[m] = report_fmt_num(p, key);
        m++;
    }
    return m;
}

void svg_load_plots(FILE *f, json_t *report)
{
    json_t *base = json_object_get(report, "baseline");
    int has_base = json_is_object(base);

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
    double px[4][NPCT + 1], py[4][NPCT + 1];
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
    if (s[0].n) {
        fputs("<h2>Latency distribution</h2>\n", f);
        svg_plot(f, "Latency by percentile", "percentile", "latency (ms)", SVG_X_PERCENTILE, s, ns);
        fputs("<p class=\"note\">Latency counts from the moment a request was due (so a stalled target shows "
              "up even for requests that waited), service time from the moment it was actually sent.</p>\n",
              f);
    }
}
