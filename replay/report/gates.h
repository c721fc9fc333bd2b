/* gates: judging a load report. Works on the report JSON alone (histograms included), so a run and
 * `tapedeck-replay report` merging shard reports reach their verdicts the same way.
 *
 * The gate settings travel in the report under "gate_config":
 *   {"slo": ["p99<250ms", ...], "max_regression": 0.1, "regression_floor_ms": 1, "min_samples": 100,
 *    "baseline_report": "FILE" or null}
 * Gates:
 *   each --slo expression (overall, or on the endpoints of its method + route);
 *   with a "baseline" object in the report (--compare): p50 and p95 of the target against the baseline,
 *     overall and per endpoint with min_samples on both sides (latency_cmp.h has the statistics);
 *   with a baseline report: the same test against its histograms, overall and per endpoint. */
#ifndef TAPEDECK_GATES_H
#define TAPEDECK_GATES_H

#include <stddef.h>
#include <jansson.h>

/* Replaces report.gates with freshly judged ones and sets report.verdict. baseline_report may be NULL.
 * 0, or -1 with err set (a bad --slo, a baseline report without histograms). */
int gates_eval_load(json_t *report, const json_t *baseline_report, char *err, size_t errlen);

/* Reads a JSON report file (for --baseline-report and `report`). NULL with err set. */
json_t *gates_read_report(const char *path, char *err, size_t errlen);

#endif
