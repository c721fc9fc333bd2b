/* tdtime: clocks and the timestamp formats captures and reports use. */
#ifndef TAPEDECK_TDTIME_H
#define TAPEDECK_TDTIME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

int64_t tdtime_now_us(void);  /* wall clock, Unix epoch microseconds */
int64_t tdtime_mono_us(void); /* monotonic clock, microseconds */
/* A duration in microseconds as a struct timeval (for libevent timers). */
struct timeval tdtime_tv(int64_t us);
/* "2026-11-24T23:56:30.123456Z" (micro=1) or "2026-11-24T23:56:30Z" (micro=0). Returns buf. */
char *tdtime_format_iso(int64_t us, int micro, char *buf, size_t bufsz);
/* "20261124T235630Z", as in segment names. */
char *tdtime_format_compact(int64_t us, char *buf, size_t bufsz);
/* Parses the ISO forms above (fraction of any length up to 9 digits). Returns 0 or -1. */
int tdtime_parse_iso(const char *s, int64_t *us);
/* "250ms", "1.5s", "2m", "1h", "500us" -> microseconds; a bare number is in `unit_us`. 0 or -1. */
int tdtime_parse_duration(const char *s, int64_t unit_us, int64_t *us);

#endif
