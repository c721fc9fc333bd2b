/* report_merge: several reports into one — the shards of a load run (`--shard K/N` on N machines), or
 * several check runs. Load reports merge by adding counters and histogram buckets, so the merged
 * percentiles are exactly those of one histogram holding every value; rates add up (the shards ran at
 * the same time); the gates are then judged again on the merged data (gates.c), which gives the verdict
 * one run over the same requests would get. Check reports add their counters and concatenate diffs and
 * gates; the merged verdict fails when any input failed. */
#ifndef TAPEDECK_REPORT_MERGE_H
#define TAPEDECK_REPORT_MERGE_H

#include <stddef.h>
#include <jansson.h>

/* names label the inputs in "merged_from" (file names; may be NULL). baseline_report: for load reports
 * judged against one (NULL: none, or the inputs did not use one). Returns a new report (caller
 * decrefs), or NULL with err set (mixed modes, a report without histograms, ...). n >= 1. */
json_t *report_merge(json_t *const *reports, const char *const *names, size_t n, const json_t *baseline_report,
                     char *err, size_t errlen);

#endif
