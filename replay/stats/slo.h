/* slo: the --slo gate expressions of `load`.
 *
 *   [[METHOD] /route: ] METRIC OP VALUE
 *   METRIC  p50 p90 p95 p99 p99.9 (any pNN[.N]), max, mean   VALUE a duration: 250ms, 1s, 1.5s, 800us
 *                                                           (a bare number is milliseconds)
 *           error_rate                                       VALUE a percentage (0.1%) or a fraction
 *           rate (achieved / scheduled)                       VALUE a percentage (95%) or a fraction
 *   OP      <  <=  >  >=
 * e.g. 'p99<250ms', 'error_rate<0.1%', 'rate>=95%', 'GET /api/trips/{id}: p95<50ms', '/health: max<1s'.
 * Latency metrics judge the latency from the intended send time. error_rate counts transport failures
 * and 5xx responses. */
#ifndef TAPEDECK_SLO_H
#define TAPEDECK_SLO_H

#include <stddef.h>

typedef enum { SLO_PCT, SLO_MAX, SLO_MEAN, SLO_ERROR_RATE, SLO_RATE } slo_metric;
typedef enum { SLO_LT, SLO_LE, SLO_GT, SLO_GE } slo_op;

typedef struct slo {
    char expr[256];   /* as written, trimmed */
    char method[16];  /* "" = any method */
    char route[512];  /* "" = the whole run */
    slo_metric metric;
    double pct;       /* SLO_PCT: 0..100 */
    slo_op op;
    double threshold; /* latency metrics: µs; rates: fraction 0..1 */
} slo;

/* 0, or -1 with what is wrong in err. */
int slo_parse(const char *s, slo *out, char *err, size_t errlen);
/* 1 when observed (µs or fraction, like threshold) satisfies the expression. */
int slo_holds(const slo *s, double observed);
/* Observed value as text for reports: "212.400ms", "0.35%". Returns buf. */
char *slo_format(const slo *s, double observed, char *buf, size_t bufsz);

#endif
