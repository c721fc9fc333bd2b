/* proxy_log: timestamped single-line messages. The line is formatted into one buffer and written with
 * one call, so lines from worker threads never interleave. */
#include "proxy_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "tdtime.h"

static atomic_int plog_threshold = PROXY_LOG_WARN;

void proxy_log_set_level(proxy_log_level lvl)
{
    atomic_store(&plog_threshold, (int)lvl);
}

int proxy_log_enabled(proxy_log_level lvl)
{
    return (int)lvl <= atomic_load_explicit(&plog_threshold, memory_order_relaxed);
}

void proxy_log(proxy_log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (!proxy_log_enabled(lvl))
        return;
    char ts[40], line[1024];
    tdtime_format_iso(tdtime_now_us(), 1, ts, sizeof ts);
    int n = snprintf(line, sizeof line, "%s tapedeck-proxy %s: ", ts, names[lvl]);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* cut long lines; the newline still ends them */
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nowhere to report a failed log write */
}
