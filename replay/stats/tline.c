/* tline: per-slice latency summaries (see tline.h). */
#include "tline.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NBINS 128
#define MAX_SLICES 100000
#define GROWTH 1.2

typedef struct slice {
    uint64_t sent, errors;
    int64_t max;
    uint32_t bins[NBINS];
} slice;

struct tline {
    int64_t slice_us;
    slice *s;
    size_t n, cap;
};

static int bin_of(int64_t v)
{
    if (v < 1)
        return 0;
    int b = 1 + (int)floor(log((double)v) / log(GROWTH));
    return b >= NBINS ? NBINS - 1 : b;
}

static double bin_value(int b)
{
    return b == 0 ? 0.5 : pow(GROWTH, (double)b - 0.5);
}

tline *tline_new(int64_t slice_us)
{
    tline *t = calloc(1, sizeof *t);
    if (t)
        t->slice_us = slice_us > 0 ? slice_us : 1000000;
    return t;
}

void tline_free(tline *t)
{
    if (!t)
        return;
    free(t->s);
    free(t);
}

static slice *get(tline *t, size_t i)
{
    if (i >= MAX_SLICES)
        i = MAX_SLICES - 1;
    if (i >= t->cap) {
        size_t ncap = t->cap ? t->cap : 64;
        while (ncap <= i)
            ncap *= 2;
        slice *p = realloc(t->s, ncap * sizeof *p);
        if (!p)
            return NULL;
        memset(p + t->cap, 0, (ncap - t->cap) * sizeof *p);
        t->s = p;
        t->cap = ncap;
    }
    if (i >= t->n)
        t->n = i + 1;
    return &t->s[i];
}

void tline_record(tline *t, int64_t at_us, int64_t latency_us)
{
    slice *s = get(t, (size_t)(at_us < 0 ? 0 : at_us / t->slice_us));
    if (!s)
        return; /* out of memory: the plot loses a point, the run goes on */
    s->sent++;
    if (latency_us < 0) {
        s->errors++;
        return;
    }
    if (latency_us > s->max)
        s->max = latency_us;
    s->bins[bin_of(latency_us)]++;
}

static double slice_pct(const slice *s, double p)
{
    uint64_t n = 0;
    for (int b = 0; b < NBINS; b++)
        n += s->bins[b];
    if (!n)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)n * (1 - 1e-12)), seen = 0;
    if (!rank)
        rank = 1;
    for (int b = 0; b < NBINS; b++) {
        seen += s->bins[b];
        if (seen >= rank) {
            double v = bin_value(b);
            return v > (double)s->max ? (double)s->max : v;
        }
    }
    return (double)s->max;
}

json_t *tline_to_json(const tline *t)
{
    json_t *pts = json_array();
    json_t *o = json_pack("{sf}", "slice_s", (double)t->slice_us / 1e6);
    if (!pts || !o)
        goto fail;
    for (size_t i = 0; i < t->n; i++) {
        const slice *s = &t->s[i];
        if (!s->sent)
            continue;
        json_t *bins = json_array();
        if (!bins)
            goto fail;
        for (int b = 0; b < NBINS; b++)
            if (s->bins[b])
                json_array_append_new(bins, json_pack("[iI]", b, (json_int_t)s->bins[b]));
        json_t *p = json_pack("{sfsIsIsfsfsfso}", "t_s", (double)((int64_t)i * t->slice_us) / 1e6, "sent",
                              (json_int_t)s->sent, "errors", (json_int_t)s->errors, "p50_ms",
                              round(slice_pct(s, 50)) / 1000.0, "p99_ms", round(slice_pct(s, 99)) / 1000.0,
                              "max_ms", (double)s->max / 1000.0, "bins", bins);
        if (!p || json_array_append_new(pts, p))
            goto fail;
    }
    if (json_object_set_new(o, "points", pts)) {
        pts = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(pts);
    json_decref(o);
    return NULL;
}

int tline_add_json(tline *t, const json_t *j)
{
    const json_t *pts = json_object_get(j, "points");
    if (!json_is_array(pts))
        return -1;
    size_t i;
    const json_t *p;
    json_array_foreach(pts, i, p) {
        double ts = json_number_value(json_object_get(p, "t_s"));
        if (ts < 0)
            return -1;
        slice *s = get(t, (size_t)llround(ts * 1e6 / (double)t->slice_us));
        if (!s)
            return -1;
        s->sent += (uint64_t)json_integer_value(json_object_get(p, "sent"));
        s->errors += (uint64_t)json_integer_value(json_object_get(p, "errors"));
        int64_t mx = (int64_t)llround(json_number_value(json_object_get(p, "max_ms")) * 1000.0);
        if (mx > s->max)
            s->max = mx;
        size_t k;
        const json_t *bc;
        json_array_foreach(json_object_get(p, "bins"), k, bc) {
            json_int_t b = json_integer_value(json_array_get(bc, 0));
            if (b >= 0 && b < NBINS)
                s->bins[b] += (uint32_t)json_integer_value(json_array_get(bc, 1));
        }
    }
    return 0;
}

int64_t tline_pick_slice(int64_t expected_run_us)
{
    static const int64_t steps[] = {100000, 200000, 500000, 1000000, 2000000, 5000000, 10000000, 30000000,
                                    60000000, 300000000, 600000000, 3600000000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (expected_run_us / steps[i] <= 200)
            return steps[i];
    return 3600000000;
}
