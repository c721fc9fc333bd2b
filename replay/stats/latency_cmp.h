/* latency_cmp: load's latency comparison (not check's response diff, which is check_compare) — is the
 * candidate slower than the baseline at a percentile, with 95% confidence?
 *
 * Everything is computed from histograms, so merged shard reports reach the verdict one run would.
 * Two tests, and the candidate regresses only when both say so (each errs on its own side of noise):
 *
 * 1. Whole run, distribution-free: for a quantile q_p estimated from n samples, the ranks
 *    n·p ± 1.96·sqrt(n·p·(1−p)) bound a 95% confidence interval of q_p (order statistics of a binomial
 *    count); its width gives a standard error se = (upper − lower) / 3.92. Slower when
 *        q_cand − q_base − allowed > 1.645 · sqrt(se_cand² + se_base²)            (one-sided 95%)
 * 2. Time blocks (batch means): the run is cut into blocks by intended send time; in each block with
 *    enough samples on both sides d_k = q_cand,k − q_base,k. Requests went to both sides at the same
 *    moment, so a block pairs the two under the same machine conditions; noise that comes in bursts
 *    (a descheduled process, a GC pause on one side) makes the d_k vary, which per-request statistics
 *    would miss. Slower when, over K blocks, mean(d) − allowed > t(0.95, K−1) · sd(d) / sqrt(K).
 *    With fewer than 4 usable blocks only test 1 decides.
 *
 * allowed = max(max_regression · q_base, floor): the question is whether the candidate is worse by MORE
 * than the tolerance, so identical deployments pass however many samples there are; the floor (default
 * 1 ms) keeps sub-millisecond scheduling jitter of a shared machine from failing a fast route. */
#ifndef TAPEDECK_LATENCY_CMP_H
#define TAPEDECK_LATENCY_CMP_H

#include <stddef.h>
#include <stdint.h>
#include "hist.h"

typedef struct latency_cmp_result {
    int enough;        /* both sides had at least min_samples values (else nothing is judged) */
    int regressed;     /* the gate fails */
    double cand_ms, base_ms;
    double allowed_ms; /* the tolerated difference */
    double lower_ms;   /* one-sided 95% lower confidence bound of cand − base (the smaller of the tests) */
    int blocks;        /* time blocks used by test 2 (0: test 1 alone) */
} latency_cmp_result;

/* p in (0, 100); max_regression a fraction (0.10 = 10%); floor_us >= 0. cb/bb: per-block histograms
 * of the two sides (entries may be NULL; cb/bb NULL or nblocks 0 = no block test). Always fills out. */
void latency_cmp_quantile(const hist *cand, const hist *base, const hist *const *cb, const hist *const *bb,
                      size_t nblocks, double p, double max_regression, int64_t floor_us, uint64_t min_samples,
                      latency_cmp_result *out);

#endif
