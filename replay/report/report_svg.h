/* report_svg: line plots as inline SVG for the HTML report (no scripts, no external resources). */
#ifndef TAPEDECK_REPORT_SVG_H
#define TAPEDECK_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

typedef struct svg_series {
    const char *name;  /* legend text */
    const char *color; /* CSS colour */
    int dashed;
    const double *x, *y;
    size_t n;
} svg_series;

typedef enum {
    SVG_X_LINEAR = 0,     /* x as given (e.g. seconds) */
    SVG_X_PERCENTILE = 1, /* x is a percentile 0..100, drawn on a log scale of 1/(1-p) like HDR plots */
} svg_xscale;

/* Writes one <svg> element with axes, grid, ticks, legend and the series as polylines. Series with
 * n == 0 are listed in the legend only. */
void svg_plot(FILE *f, const char *title, const char *xlabel, const char *ylabel, svg_xscale xs,
              const svg_series *series, size_t nseries);

/* The load report's plots, each under its own heading: latency over time (p50 and p99 per slice of the
 * report's timeline) and latency and service time by percentile (from its histograms), the baseline
 * overlaid dashed when the report has one. A plot without data is left out. report is borrowed. */
void svg_load_plots(FILE *f, json_t *report);

#endif
