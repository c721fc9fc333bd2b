/* proxy_config: the command line of tapedeck-proxy, parsed and checked once at startup. After parsing
 * the struct is read-only and shared by every thread. */
#ifndef TAPEDECK_PROXY_CONFIG_H
#define TAPEDECK_PROXY_CONFIG_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROXY_MAX_REDACT 128 /* redaction rules of all kinds */

/* One --redact-* flag: kind is a redact_kind (captures/redact), arg the argv string. */
typedef struct proxy_redact_rule {
    int kind;
    const char *arg;
} proxy_redact_rule;

typedef struct proxy_config {
    char listen_host[256]; /* numeric or resolvable host; "0.0.0.0" for ":PORT" */
    int listen_port;
    const char *upstream_url;  /* --upstream (argv storage) */
    const char *upstream_file; /* --upstream-file; wins over --upstream */
    const char *capture_dir;   /* NULL = recording off */
    const char *capture_prefix;
    double sample_pct; /* 0..100 */
    regex_t record_path, skip_path;
    int has_record_path, has_skip_path;
    uint64_t max_body;
    proxy_redact_rule redact[PROXY_MAX_REDACT]; /* in command-line order; checked while parsing */
    size_t n_redact;
    const char *redact_key_file;
    uint64_t rotate_size;
    int64_t rotate_age_us;
    int no_dictionary;
    int no_payload_digest; /* --no-payload-digest */
    const char *mirror_url; /* --mirror (argv storage); NULL = mirroring off */
    double mirror_pct;      /* 0..100 */
    int mirror_writes;      /* mirror every method, not only the safe ones */
    int mirror_record;      /* --mirror-record: the shadows' answers go into the capture */
    const char *mirror_baseline_url; /* --mirror-baseline (argv storage): a second shadow, for noise */
    const char *tls_cert, *tls_key; /* --tls-cert/--tls-key (argv storage); NULL = cleartext listener */
    const char *upstream_ca;        /* --upstream-ca: CAs for https:// upstreams; NULL = the system's */
    int h2c;                        /* --h2c: HTTP/2 with prior knowledge on a cleartext listener */
    int workers;
    char admin_host[256]; /* admin_port 0 = no admin listener */
    int admin_port;
    int64_t header_timeout_us, idle_timeout_us, connect_timeout_us, upstream_timeout_us, drain_timeout_us;
    size_t buffer_high; /* per-direction watermark: stop reading when the other side holds this much */
    size_t max_head;
    int verbose;
} proxy_config;

typedef enum {
    PROXY_CONFIG_OK = 0,      /* run the proxy */
    PROXY_CONFIG_HELP = 1,    /* --help: the caller prints proxy_config_usage, exit 0 */
    PROXY_CONFIG_VERSION = 2, /* --version: the caller prints the version, exit 0 */
    PROXY_CONFIG_EBAD = -1,   /* bad arguments: message in err (never printed here), exit 2 */
} proxy_config_status;

/* Parses argv into cfg (which it initialises). cfg must later go through proxy_config_clear. */
int proxy_config_parse(proxy_config *cfg, int argc, char **argv, char *err, size_t errlen);
void proxy_config_clear(proxy_config *cfg);
void proxy_config_usage(FILE *f);

/* "64K", "1M", "2G", "123" -> bytes. 0 or -1. */
int proxy_config_parse_size(const char *s, uint64_t *out);
/* "host:port", "[v6]:port", ":port" (any_host), "port" (any_host). 0 or -1. */
int proxy_config_parse_addr(const char *s, const char *any_host, char *host, size_t hostsz, int *port);

#endif
