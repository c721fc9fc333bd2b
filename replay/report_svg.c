/* report_svg: a small line-plot writer. Axes get "nice" round ticks (1, 2, 5 × 10^k) so plots read
 * like hand-made ones. */
#include "report_svg.h"
#include "report_fmt.h"

#include <math.h>
#include <string.h>

#define W 860
#define H 320
#define ML 64  /* margins: left (y tick labels), right, top (title), bottom (x labels) */
#define MR 16
#define MT 52
#define MB 46

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
    rf_escape(f, title, 0);
    fputs("</title>\n", f);
    fprintf(f, "<text x=\"%d\" y=\"20\" class=\"pt\">", ML);
    rf_escape(f, title, 0);
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
    rf_escape(f, xlabel, 0);
    fprintf(f, "</text><text transform=\"translate(14 %.1f) rotate(-90)\" class=\"axl\">", MT + ph / 2);
    rf_escape(f, ylabel, 0);
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
        rf_escape(f, se->name, 0);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
#undef PX
#undef PY
}
