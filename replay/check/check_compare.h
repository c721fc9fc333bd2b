/* check_compare: the diff of one recorded response against one replayed response (both decoded), and
 * the noise bookkeeping built on it. A difference is named by `where`: "status", "content-type",
 * "header:NAME", "body" (text or binary bodies), or the JSONPath of a JSON body node ("$.trips[0].id"). */
#ifndef TAPEDECK_CHECK_COMPARE_H
#define TAPEDECK_CHECK_COMPARE_H

#include <stddef.h>

#include "correlate.h"
#include "decode.h"
#include "jsondiff.h"
#include "jsonpath.h"

#define CMP_MAX_KEPT 32 /* differences kept per exchange (all are counted) */

typedef struct cmp_diff {
    char *where, *expected, *actual; /* owned */
} cmp_diff;

typedef struct cmp_list {
    cmp_diff v[CMP_MAX_KEPT];
    size_t n;     /* kept */
    size_t total; /* found */
} cmp_list;

typedef struct cmp_cfg {
    const jsonpath_set *ignore;
    const char *const *ignore_header;
    size_t n_ignore_header;
    const char *const *compare_header;
    size_t n_compare_header;
    jsondiff_ctx *jd; /* buffers reused across comparisons (one per thread); NULL = a fresh one each time */
} cmp_cfg;

/* Diffs exp (expected) against act into out (appended). body_trusted = 0 skips the body (the recording
 * cut it short). corr (may be NULL) maps and learns correlated values while JSON bodies are walked. Returns the number of differences found, or -1 out of memory. */
int cmp_responses(decode_msg *exp, decode_msg *act, int body_trusted, const cmp_cfg *cfg,
                  correlate_ref *corr, cmp_list *out);
void cmp_list_clear(cmp_list *l);
/* "$.items[3].ts" -> "$.items[*].ts" (out cut to outsz). */
void cmp_norm_where(const char *where, char *out, size_t outsz);
/* 1 when `where` is a noise location: equal to one in noise, or one is inside the other, array
 * positions aside ($.items[3].ts is noise when $.items[0].ts is). */
int cmp_is_noise(const cmp_list *noise, const char *where);
/* Moves entries of l that are noise into moved (appended); returns how many moved. */
size_t cmp_split_noise(cmp_list *l, const cmp_list *noise, cmp_list *moved);

#endif
