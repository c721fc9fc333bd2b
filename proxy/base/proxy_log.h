/* proxy_log: one line per event on stderr, quiet by default. Thread-safe (one fprintf per line). */
#ifndef TAPEDECK_PROXY_LOG_H
#define TAPEDECK_PROXY_LOG_H

typedef enum {
    PROXY_LOG_ERROR = 0,
    PROXY_LOG_WARN = 1,
    PROXY_LOG_INFO = 2,
    PROXY_LOG_DEBUG = 3
} proxy_log_level;

/* Lines above this level are dropped. Default PROXY_LOG_WARN; --verbose sets PROXY_LOG_DEBUG. */
void proxy_log_set_level(proxy_log_level lvl);
int proxy_log_enabled(proxy_log_level lvl);
void proxy_log(proxy_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
