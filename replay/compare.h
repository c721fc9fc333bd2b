/* compare: is the candidate slower than the baseline at a percentile, with 95% confidence?
 *
 * Method (distribution-free, computed from histograms alone so that merged shard reports give the same
 * verdict as one run): for a quantile q_p estimated from n samples, the ranks n·p ± 1.96·sqrt(n·p·(1−p))
 * bound a 95% confidence interval of q_p (the order-statistic interval for a binomial count); its width
 * gives the standard error se = (upper − lower) / 3.92. The candidate regresses when
 *     (q_cand − q_base − allowed) / sqrt(se_cand² + se_base²) > 1.645          (one-sided, 95%)
 * where allowed = max(max_regression · q_base, floor): the test asks whether the candidate is worse by
 * MORE than the tolerance, so an identical deployment passes however many samples there are. The floor
 * (default 1 ms) keeps sub-millisecond scheduling noise of a shared machine from counting as a
 * regression of a fast route. Requests go to both sides at the same moment, so load and machine noise
 * hit both alike; treating the two samples as independent then errs on the side of passing. */
#ifndef TAPEDECK_COMPARE_H
#define TAPEDECK_COMPARE_H

#include <stdint.h>
#include "hist.h"

typedef struct compare_result {
    int enough;        /* both sides had at least min_samples values (else nothing is judged) */
    int regressed;     /* the gate fails */
    double cand_ms, base_ms;
    double allowed_ms; /* the tolerated difference */
    double lower_ms;   /* one-sided 95% lower confidence bound of cand − base */
    double z;          /* (diff − allowed) / se */
} compare_result;

/* p in (0, 100); max_regression a fraction (0.10 = 10%); floor_us >= 0. Always fills out. */
void compare_quantile(const hist *cand, const hist *base, double p, double max_regression, int64_t floor_us,
                      uint64_t min_samples, compare_result *out);

#endif
