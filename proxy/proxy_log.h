/* proxy_log: one line per event on stderr, quiet by default. Thread-safe (one fprintf per line). */
#ifndef TAPEDECK_PROXY_LOG_H
#define TAPEDECK_PROXY_LOG_H

typedef enum { PLOG_ERROR = 0, PLOG_WARN = 1, PLOG_INFO = 2, PLOG_DEBUG = 3 } plog_level;

/* Lines above this level are dropped. Default PLOG_WARN; --verbose sets PLOG_DEBUG. */
void plog_set_level(plog_level lvl);
int plog_enabled(plog_level lvl);
void plog(plog_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
