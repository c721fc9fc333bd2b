/* hist: log-linear latency histogram (see hist.h for the layout and the precision it guarantees). */
#include "hist.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUB_BITS 10                       /* 1024 sub-buckets per power of two: 3 significant digits */
#define SUB_COUNT (1 << SUB_BITS)
#define GROUP0 (2 * SUB_COUNT)            /* values 0..2047 are exact */
#define NGROUPS 21                        /* group 21 ends at 2048 << 21 = 4.29e9 µs > 1 h */
#define NBUCKETS (GROUP0 + NGROUPS * SUB_COUNT)

struct hist {
    uint64_t count;
    uint64_t clamped;
    int64_t min, max;
    uint64_t sum; /* exact running sum of the (clamped) values, for the mean */
    uint64_t lost; /* values not kept because a bucket group could not be allocated */
    /* Bucket groups are allocated on first use: a typical latency distribution touches a handful of
     * the 22 groups, so a per-route histogram costs tens of KiB, not 184 KiB. */
    uint64_t *grp[NGROUPS + 1];
};

static uint64_t *slot(hist *h, size_t i)
{
    size_t g = i < GROUP0 ? 0 : (i - GROUP0) / SUB_COUNT + 1;
    size_t off = g == 0 ? i : (i - GROUP0) % SUB_COUNT;
    if (!h->grp[g] && !(h->grp[g] = calloc(g == 0 ? GROUP0 : SUB_COUNT, sizeof(uint64_t))))
        return NULL;
    return &h->grp[g][off];
}

static uint64_t get_count(const hist *h, size_t i)
{
    size_t g = i < GROUP0 ? 0 : (i - GROUP0) / SUB_COUNT + 1;
    size_t off = g == 0 ? i : (i - GROUP0) % SUB_COUNT;
    return h->grp[g] ? h->grp[g][off] : 0;
}

/* First bucket index of group g and its size, to skip empty groups. */
static size_t group_first(size_t g) { return g == 0 ? 0 : GROUP0 + (g - 1) * SUB_COUNT; }
static size_t group_size(size_t g) { return g == 0 ? GROUP0 : SUB_COUNT; }

static int floor_log2(uint64_t v)
{
    return 63 - __builtin_clzll(v);
}

static size_t bucket_of(int64_t v)
{
    if (v < GROUP0)
        return (size_t)v;
    int g = floor_log2((uint64_t)v) - SUB_BITS; /* >= 1 here */
    return (size_t)(GROUP0 + (g - 1) * SUB_COUNT + (((uint64_t)v >> g) - SUB_COUNT));
}

static void bucket_range(size_t i, int64_t *lo, int64_t *hi)
{
    if (i < GROUP0) {
        *lo = *hi = (int64_t)i;
        return;
    }
    int g = (int)((i - GROUP0) / SUB_COUNT) + 1;
    int64_t sub = (int64_t)((i - GROUP0) % SUB_COUNT);
    *lo = (SUB_COUNT + sub) << g;
    *hi = *lo + (INT64_C(1) << g) - 1;
}

hist *hist_new(void)
{
    hist *h = calloc(1, sizeof *h);
    return h;
}

void hist_free(hist *h)
{
    if (!h)
        return;
    for (size_t g = 0; g <= NGROUPS; g++)
        free(h->grp[g]);
    free(h);
}

void hist_reset(hist *h)
{
    for (size_t g = 0; g <= NGROUPS; g++)
        free(h->grp[g]);
    memset(h, 0, sizeof *h);
}

/* n values of us (already clamped; clamped says whether it was) into bucket i of h. */
static void add_at(hist *h, size_t i, int64_t us, int clamped, uint64_t n)
{
    if (clamped)
        h->clamped += n;
    uint64_t *c = slot(h, i);
    if (!c) {
        h->lost += n;
        return;
    }
    *c += n;
    if (h->count == 0 || us < h->min)
        h->min = us;
    if (h->count == 0 || us > h->max)
        h->max = us;
    h->count += n;
    h->sum += (uint64_t)us * n;
}

/* Negative values count as 0, values over HIST_MAX_US as HIST_MAX_US (returns 1 then). */
static int clamp(int64_t *us)
{
    if (*us < 0)
        *us = 0;
    if (*us > HIST_MAX_US) {
        *us = HIST_MAX_US;
        return 1;
    }
    return 0;
}

void hist_record_n(hist *h, int64_t us, uint64_t n)
{
    if (n == 0)
        return;
    int clamped = clamp(&us);
    add_at(h, bucket_of(us), us, clamped, n);
}

void hist_record(hist *h, int64_t us)
{
    hist_record_n(h, us, 1);
}

void hist_record_all(hist *const *hs, size_t nh, int64_t us)
{
    int clamped = clamp(&us);
    size_t i = bucket_of(us); /* found once for all of them */
    for (size_t k = 0; k < nh; k++)
        add_at(hs[k], i, us, clamped, 1);
}

int hist_merge(hist *dst, const hist *src)
{
    if (src->count == 0)
        return 0;
    for (size_t g = 0; g <= NGROUPS; g++) {
        if (!src->grp[g])
            continue;
        if (!dst->grp[g] && !(dst->grp[g] = calloc(group_size(g), sizeof(uint64_t))))
            return -1; /* nothing of src added yet for this group onwards: counts stay consistent */
    }
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->count == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    dst->lost += src->lost;
    for (size_t g = 0; g <= NGROUPS; g++)
        if (src->grp[g])
            for (size_t i = 0; i < group_size(g); i++)
                dst->grp[g][i] += src->grp[g][i];
    return 0;
}

uint64_t hist_count(const hist *h) { return h->count; }
uint64_t hist_clamped(const hist *h) { return h->clamped; }
uint64_t hist_lost(const hist *h) { return h->lost; }
int64_t hist_min(const hist *h) { return h->count ? h->min : 0; }
int64_t hist_max(const hist *h) { return h->count ? h->max : 0; }

double hist_mean(const hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

int64_t hist_percentile(const hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    /* rank of the value asked for, 1-based: the smallest k with k >= p% of count */
    double exact = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)ceil(exact * (1 - 1e-12)); /* 99% of 100 is rank 99, not 100 */
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t g = 0; g <= NGROUPS; g++) {
        if (!h->grp[g])
            continue;
        for (size_t k = 0; k < group_size(g); k++) {
            seen += h->grp[g][k];
            if (seen < rank)
                continue;
            int64_t lo, hi;
            bucket_range(group_first(g) + k, &lo, &hi);
            if (hi > h->max)
                hi = h->max;
            if (hi < h->min)
                hi = h->min;
            return hi;
        }
    }
    return h->max;
}

int hist_next_bucket(const hist *h, size_t *cursor, int64_t *lo, int64_t *hi, uint64_t *count)
{
    for (size_t i = *cursor; i < NBUCKETS; i++) {
        if (get_count(h, i)) {
            bucket_range(i, lo, hi);
            *count = get_count(h, i);
            *cursor = i + 1;
            return 1;
        }
    }
    *cursor = NBUCKETS;
    return 0;
}

json_t *hist_to_json(const hist *h)
{
    json_t *o = json_object();
    json_t *b = json_array();
    if (!o || !b)
        goto fail;
    for (size_t i = 0; i < NBUCKETS; i++) {
        uint64_t c = get_count(h, i);
        if (!c)
            continue;
        int64_t lo, hi;
        bucket_range(i, &lo, &hi);
        json_t *pair = json_pack("[II]", (json_int_t)lo, (json_int_t)c);
        if (!pair || json_array_append_new(b, pair))
            goto fail;
    }
    if (json_object_set_new(o, "unit", json_string("us")) ||
        json_object_set_new(o, "sig_digits", json_integer(3)) ||
        json_object_set_new(o, "count", json_integer((json_int_t)h->count)) ||
        json_object_set_new(o, "min", json_integer(hist_min(h))) ||
        json_object_set_new(o, "max", json_integer(hist_max(h))) ||
        json_object_set_new(o, "sum", json_integer((json_int_t)h->sum)) ||
        json_object_set_new(o, "clamped", json_integer((json_int_t)h->clamped)))
        goto fail;
    if (json_object_set_new(o, "buckets", b)) {
        b = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(b);
    json_decref(o);
    return NULL;
}

static int get_int(const json_t *j, const char *key, json_int_t *out)
{
    const json_t *v = json_object_get(j, key);
    if (!json_is_integer(v))
        return -1;
    *out = json_integer_value(v);
    return 0;
}

int hist_add_json(hist *h, const json_t *j, char *err, size_t errlen)
{
    json_int_t count, min, max, sum, clamped = 0;
    const json_t *b = json_object_get(j, "buckets");
    if (!json_is_object(j) || get_int(j, "count", &count) || get_int(j, "min", &min) ||
        get_int(j, "max", &max) || get_int(j, "sum", &sum) || !json_is_array(b)) {
        snprintf(err, errlen, "histogram: expected an object with count, min, max, sum and buckets");
        return -1;
    }
    const json_t *u = json_object_get(j, "unit");
    if (u && (!json_is_string(u) || strcmp(json_string_value(u), "us"))) {
        snprintf(err, errlen, "histogram: unit must be \"us\"");
        return -1;
    }
    get_int(j, "clamped", &clamped);
    if (count < 0 || min < 0 || max < min || sum < 0 || max > HIST_MAX_US || clamped < 0) {
        snprintf(err, errlen, "histogram: count/min/max/sum out of range");
        return -1;
    }
    /* Validate everything before touching h, so a bad document leaves h as it was. */
    uint64_t total = 0;
    size_t i;
    const json_t *pair;
    json_array_foreach(b, i, pair) {
        if (!json_is_array(pair) || json_array_size(pair) != 2 ||
            !json_is_integer(json_array_get(pair, 0)) || !json_is_integer(json_array_get(pair, 1))) {
            snprintf(err, errlen, "histogram: bucket %zu is not [value, count]", i);
            return -1;
        }
        json_int_t v = json_integer_value(json_array_get(pair, 0));
        json_int_t c = json_integer_value(json_array_get(pair, 1));
        if (v < 0 || v > HIST_MAX_US || c < 0) {
            snprintf(err, errlen, "histogram: bucket %zu out of range", i);
            return -1;
        }
        total += (uint64_t)c;
    }
    if (total != (uint64_t)count) {
        snprintf(err, errlen, "histogram: bucket counts add up to %llu, count says %lld",
                 (unsigned long long)total, (long long)count);
        return -1;
    }
    if (count == 0)
        return 0;
    json_array_foreach(b, i, pair) { /* allocate first, so a failure adds nothing */
        if (!slot(h, bucket_of(json_integer_value(json_array_get(pair, 0))))) {
            snprintf(err, errlen, "histogram: out of memory");
            return -1;
        }
    }
    json_array_foreach(b, i, pair) {
        json_int_t v = json_integer_value(json_array_get(pair, 0));
        *slot(h, bucket_of(v)) += (uint64_t)json_integer_value(json_array_get(pair, 1));
    }
    if (h->count == 0 || min < h->min)
        h->min = min;
    if (h->count == 0 || max > h->max)
        h->max = max;
    h->count += (uint64_t)count;
    h->sum += (uint64_t)sum;
    h->clamped += (uint64_t)clamped;
    return 0;
}
