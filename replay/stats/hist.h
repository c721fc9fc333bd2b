/* hist: a log-linear (HDR-style) latency histogram of our own.
 *
 * Values are microseconds from 1 µs to 1 h (3.6e9 µs), kept to 3 significant digits: every recorded
 * value lands in a bucket whose width is at most 1/1024 of the value, so a percentile read back is
 * within 0.1% of the value recorded (values under 2048 µs are exact). Values beyond the range are
 * clamped to it and counted (hist_clamped). Histograms merge by adding bucket counts, so percentiles
 * of merged histograms are exactly those of one histogram fed with all the values.
 *
 * Layout: bucket group 0 holds values 0..2047 at width 1; group g >= 1 holds [1024·2^g, 2048·2^g) in
 * 1024 buckets of width 2^g; group 21 ends at 2048·2^21 µs > 1 h. Groups are allocated when first used.
 * Recording allocates at most once per group; if that fails the value is dropped and counted (hist_lost). */
#ifndef TAPEDECK_HIST_H
#define TAPEDECK_HIST_H

#include <stddef.h>
#include <stdint.h>

typedef struct hist hist;
typedef struct json_t json_t; /* jansson's type; include <jansson.h> to use the JSON functions */

#define HIST_MIN_US 1
#define HIST_MAX_US INT64_C(3600000000) /* 1 h */

hist *hist_new(void);  /* NULL when out of memory */
void hist_free(hist *h); /* NULL is a no-op */
void hist_reset(hist *h);

/* Record one value (µs). Negative values count as 0, values over HIST_MAX_US as HIST_MAX_US. */
void hist_record(hist *h, int64_t us);
void hist_record_n(hist *h, int64_t us, uint64_t n);
/* hist_record of us into each of hs[0..nh) (not NULL): the bucket is found once. */
void hist_record_all(hist *const *hs, size_t nh, int64_t us);
/* Adds every count of src to dst. 0, or -1 when out of memory (dst unchanged then). */
int hist_merge(hist *dst, const hist *src);

uint64_t hist_count(const hist *h);
uint64_t hist_clamped(const hist *h); /* values recorded beyond the range */
uint64_t hist_lost(const hist *h);    /* values dropped for lack of memory */
int64_t hist_min(const hist *h);      /* exact; 0 when empty */
int64_t hist_max(const hist *h);      /* exact; 0 when empty */
double hist_mean(const hist *h);      /* exact (from the running sum); 0 when empty */
/* The value at percentile p (0..100): the smallest bucket value such that at least p% of the values
 * are <= it, reported as the bucket's midpoint-free upper representative (highest equivalent value,
 * capped by max). 0 when empty. */
int64_t hist_percentile(const hist *h, double p);

/* Serialise: {"unit":"us","sig_digits":3,"count":N,"min":..,"max":..,"sum":..,"clamped":..,
 * "buckets":[[value_us,count],...]} with only the non-empty buckets, each named by its lowest value.
 * NULL when out of memory. */
json_t *hist_to_json(const hist *h);
/* Parse what hist_to_json wrote, adding its counts into h (so several JSON histograms merge into one).
 * 0, or -1 with the reason in err. */
int hist_add_json(hist *h, const json_t *j, char *err, size_t errlen);

/* Iterate non-empty buckets in value order: *cursor starts at 0; returns 1 with the bucket's lowest
 * value, highest value and count, or 0 at the end. For plots. */
int hist_next_bucket(const hist *h, size_t *cursor, int64_t *lo, int64_t *hi, uint64_t *count);

#endif
