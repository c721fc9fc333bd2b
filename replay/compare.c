/* compare: the regression test of --compare and --baseline-report (method in compare.h). */
#include "compare.h"

#include <math.h>
#include <string.h>

#define Z_CI 1.96    /* two-sided 95%: the rank interval */
#define Z_ONE 1.645  /* one-sided 95%: the decision */

/* Estimate of the p-quantile and its standard error, in µs. */
static void quantile_se(const hist *h, double p, double *q, double *se)
{
    double n = (double)hist_count(h), f = p / 100.0;
    double half = Z_CI * sqrt(n * f * (1.0 - f));
    double lo_rank = n * f - half, hi_rank = n * f + half;
    if (lo_rank < 1)
        lo_rank = 1;
    if (hi_rank > n)
        hi_rank = n;
    *q = (double)hist_percentile(h, p);
    double lo = (double)hist_percentile(h, 100.0 * lo_rank / n);
    double hi = (double)hist_percentile(h, 100.0 * hi_rank / n);
    *se = (hi - lo) / (2 * Z_CI);
}

void compare_quantile(const hist *cand, const hist *base, double p, double max_regression, int64_t floor_us,
                      uint64_t min_samples, compare_result *out)
{
    memset(out, 0, sizeof *out);
    double qc, sc, qb, sb;
    if (hist_count(cand) == 0 || hist_count(base) == 0)
        return;
    quantile_se(cand, p, &qc, &sc);
    quantile_se(base, p, &qb, &sb);
    double allowed = max_regression * qb;
    if (allowed < (double)floor_us)
        allowed = (double)floor_us;
    double se = sqrt(sc * sc + sb * sb);
    double diff = qc - qb;
    out->cand_ms = qc / 1000.0;
    out->base_ms = qb / 1000.0;
    out->allowed_ms = allowed / 1000.0;
    out->lower_ms = (diff - Z_ONE * se) / 1000.0;
    /* se 0 (all values in one bucket): the difference is what it is */
    out->z = se > 0 ? (diff - allowed) / se : (diff > allowed ? INFINITY : -INFINITY);
    out->enough = hist_count(cand) >= min_samples && hist_count(base) >= min_samples;
    out->regressed = out->enough && out->z > Z_ONE;
}
