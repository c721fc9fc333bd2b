/* latency_cmp: the regression test of --compare and --baseline-report (method in latency_cmp.h). */
#include "latency_cmp.h"

#include <math.h>
#include <string.h>

#define Z_CI 1.96   /* two-sided 95%: the rank interval */
#define Z_ONE 1.645 /* one-sided 95%: the decision */
#define BLOCK_MIN 5 /* samples a block needs on each side to count */
#define MIN_BLOCKS 4

/* one-sided 95% quantiles of Student's t, by degrees of freedom 1..30 */
static const double T95[31] = {0,     6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812,
                               1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725,
                               1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697};

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

void latency_cmp_quantile(const hist *cand, const hist *base, const hist *const *cb, const hist *const *bb,
                      size_t nblocks, double p, double max_regression, int64_t floor_us, uint64_t min_samples,
                      latency_cmp_result *out)
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
    double diff = qc - qb;
    double lower = diff - Z_ONE * sqrt(sc * sc + sb * sb);
    int slower = lower > allowed;

    /* test 2: per-block differences */
    double d[64], sum = 0;
    size_t k = 0;
    for (size_t i = 0; cb && bb && i < nblocks && k < 64; i++) {
        if (!cb[i] || !bb[i] || hist_count(cb[i]) < BLOCK_MIN || hist_count(bb[i]) < BLOCK_MIN)
            continue;
        d[k] = (double)hist_percentile(cb[i], p) - (double)hist_percentile(bb[i], p);
        sum += d[k++];
    }
    if (k >= MIN_BLOCKS) {
        double mean = sum / (double)k, ss = 0;
        for (size_t i = 0; i < k; i++)
            ss += (d[i] - mean) * (d[i] - mean);
        double se = sqrt(ss / (double)(k - 1)) / sqrt((double)k);
        double t = k - 1 <= 30 ? T95[k - 1] : Z_ONE;
        double blower = mean - t * se;
        if (blower < lower)
            lower = blower;
        slower = slower && blower > allowed;
        out->blocks = (int)k;
    }
    out->cand_ms = qc / 1000.0;
    out->base_ms = qb / 1000.0;
    out->allowed_ms = allowed / 1000.0;
    out->lower_ms = lower / 1000.0;
    out->enough = hist_count(cand) >= min_samples && hist_count(base) >= min_samples;
    out->regressed = out->enough && slower;
}
