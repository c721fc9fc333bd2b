/* proxy_config: getopt_long over the documented flags, then checks that need more than one flag. */
#include "proxy_config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact.h"
#include "tdnum.h"
#include "tdtime.h"

void proxy_config_usage(FILE *f)
{
    fprintf(f,
            "usage: tapedeck-proxy --upstream URL [--listen ADDR] [--capture-dir DIR] [options]\n"
            "\n"
            "A recording reverse proxy: forwards HTTP/1.x and HTTP/2 traffic to the upstream (HTTP/1.x\n"
            "unchanged) and records each exchange into rotated .warc.zst capture segments.\n"
            "\n"
            "forwarding:\n"
            "  --listen ADDR            address to accept clients on (default 127.0.0.1:8080; ':PORT' = all)\n"
            "  --upstream URL           upstream base, http://HOST[:PORT] or https://HOST[:PORT]\n"
            "  --upstream-file FILE     file holding the upstream URL on one line; wins over --upstream;\n"
            "                           re-read on SIGHUP (cut-over; in-flight requests finish on the old)\n"
            "  --upstream-ca FILE       PEM CA bundle that https:// upstreams are verified against\n"
            "                           (default: the system CAs)\n"
            "  --tls-cert FILE          serve HTTPS (TLS 1.2/1.3, ALPN h2 and http/1.1) with this PEM\n"
            "                           certificate chain; re-read on SIGHUP\n"
            "  --tls-key FILE           the PEM private key of --tls-cert; re-read on SIGHUP\n"
            "  --h2c                    also accept HTTP/2 with prior knowledge on a cleartext listener\n"
            "  --workers N              event-loop threads, each with its own SO_REUSEPORT listener (1)\n"
            "  --header-timeout DUR     time to receive a request head, else 408 (10s)\n"
            "  --idle-timeout DUR       idle keep-alive client connections are closed after this (60s)\n"
            "  --connect-timeout DUR    upstream connect, else 504 (5s)\n"
            "  --upstream-timeout DUR   upstream silence while a response is awaited, else 504 (60s)\n"
            "  --drain-timeout DUR      on SIGTERM/SIGINT, time given to in-flight requests (30s)\n"
            "  --buffer-size BYTES      per-direction buffer watermark per connection (64K)\n"
            "\n"
            "recording (off unless --capture-dir is given):\n"
            "  --capture-dir DIR        write segments PREFIX-TIME-NNNN.warc.zst here (created if missing)\n"
            "  --capture-prefix NAME    segment name prefix (tapedeck)\n"
            "  --sample PCT             record this percentage of exchanges (100)\n"
            "  --record-path REGEX      record only request targets matching this POSIX extended regex\n"
            "  --skip-path REGEX        never record request targets matching this regex\n"
            "  --max-body BYTES         record at most this many body bytes per message (1M)\n"
            "  --redact-header NAME     replace this header's value in the capture by a keyed hash\n"
            "                           (repeatable; equal values give equal hashes)\n"
            "  --redact-json JSONPATH   replace matching values of JSON request and response bodies\n"
            "                           ($.a.b, $.a[*].b, $.a[0], $..b; strings stay strings, numbers numbers)\n"
            "  --redact-query NAME      replace this query parameter's value (request target, WARC-Target-URI)\n"
            "  --redact-cookie NAME     replace this cookie's value (Cookie and Set-Cookie)\n"
            "  --redact-form NAME       replace this field of application/x-www-form-urlencoded bodies\n"
            "  --redact-key-file FILE   key for the redaction hashes (default: random per process)\n"
            "  --rotate-size BYTES      start a new segment past this compressed size (256M)\n"
            "  --rotate-age DUR         start a new segment after this time (1h)\n"
            "  --no-dictionary          plain zstd frames, readable by zstdcat\n"
            "  --no-payload-digest      leave out WARC-Payload-Digest (sha256 of every body: ~40 us per 64 KiB)\n"
            "\n"
            "mirroring (off unless --mirror is given; never slows or fails the primary exchange):\n"
            "  --mirror URL             also send a copy of requests to this shadow, http://HOST[:PORT];\n"
            "                           its responses are read and discarded (see --mirror-record)\n"
            "  --mirror-percent PCT     mirror this percentage of requests (100; decimals allowed)\n"
            "  --mirror-writes          mirror every method (default: only GET, HEAD, OPTIONS, TRACE)\n"
            "  --mirror-record          record each shadow answer in the capture beside its exchange\n"
            "                           (needs --capture-dir; judged by 'tapedeck-replay shadow', and\n"
            "                           compared live on /metrics: tapedeck_proxy_shadow_*)\n"
            "  --mirror-baseline URL    send the same copies to a second shadow running the current\n"
            "                           version: what differs between it and production is noise\n"
            "\n"
            "operations:\n"
            "  --admin ADDR             serve /metrics (Prometheus) and /healthz; 'PORT' = 127.0.0.1:PORT\n"
            "  -v, --verbose            log one line per connection and exchange to stderr\n"
            "  -h, --help               this text\n"
            "  --version                print the version\n"
            "\n"
            "DUR: 500ms, 10s, 2m, 1h (bare number = seconds). BYTES: 123, 64K, 1M, 1G.\n"
            "Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP rotates the segment and re-reads\n"
            "--upstream-file, --tls-cert and --tls-key. Exit status: 0 clean shutdown, 1 runtime failure, 2 bad arguments.\n");
}

int proxy_config_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    uint64_t mul = 1;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': mul = 1024ull; break;
        case 'M': mul = 1024ull * 1024; break;
        case 'G': mul = 1024ull * 1024 * 1024; break;
        default: return -1;
        }
        end++;
        if (*end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return -1;
    }
    if (v > UINT64_MAX / mul)
        return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

int proxy_config_parse_addr(const char *s, const char *any_host, char *host, size_t hostsz, int *port)
{
    const char *p = NULL;
    char h[256] = "";
    if (!s || !*s)
        return -1;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof h)
            return -1;
        memcpy(h, s + 1, (size_t)(close - s - 1));
        h[close - s - 1] = '\0';
        p = close + 2;
    } else if ((p = strrchr(s, ':')) != NULL) {
        if ((size_t)(p - s) >= sizeof h)
            return -1;
        memcpy(h, s, (size_t)(p - s));
        h[p - s] = '\0';
        p++;
    } else {
        p = s;
    }
    if (!*h)
        snprintf(h, sizeof h, "%s", any_host);
    char *end = NULL;
    long v = strtol(p, &end, 10);
    if (!*p || *end || v < 0 || v > 65535)
        return -1;
    if (strlen(h) >= hostsz)
        return -1;
    strcpy(host, h);
    *port = (int)v;
    return 0;
}

enum {
    OPT_LISTEN = 1000, OPT_UPSTREAM, OPT_UPSTREAM_FILE, OPT_WORKERS, OPT_HEADER_TO, OPT_IDLE_TO,
    OPT_CONNECT_TO, OPT_UPSTREAM_TO, OPT_DRAIN_TO, OPT_BUFSIZE, OPT_CAPDIR, OPT_CAPPREFIX, OPT_SAMPLE,
    OPT_RECPATH, OPT_SKIPPATH, OPT_MAXBODY, OPT_REDACT, OPT_REDACT_KEY, OPT_ROT_SIZE, OPT_ROT_AGE,
    OPT_NODICT, OPT_NODIGEST, OPT_ADMIN, OPT_VERSION, OPT_MIRROR, OPT_MIRROR_PCT, OPT_MIRROR_WRITES,
    OPT_MIRROR_RECORD, OPT_MIRROR_BASELINE, OPT_REDACT_JSON, OPT_REDACT_QUERY, OPT_REDACT_COOKIE, OPT_REDACT_FORM,
    OPT_TLS_CERT, OPT_TLS_KEY, OPT_UPSTREAM_CA, OPT_H2C
};

static const struct option proxy_long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"upstream-file", required_argument, NULL, OPT_UPSTREAM_FILE},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"header-timeout", required_argument, NULL, OPT_HEADER_TO},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TO},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TO},
    {"upstream-timeout", required_argument, NULL, OPT_UPSTREAM_TO},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TO},
    {"buffer-size", required_argument, NULL, OPT_BUFSIZE},
    {"capture-dir", required_argument, NULL, OPT_CAPDIR},
    {"capture-prefix", required_argument, NULL, OPT_CAPPREFIX},
    {"sample", required_argument, NULL, OPT_SAMPLE},
    {"record-path", required_argument, NULL, OPT_RECPATH},
    {"skip-path", required_argument, NULL, OPT_SKIPPATH},
    {"max-body", required_argument, NULL, OPT_MAXBODY},
    {"redact-header", required_argument, NULL, OPT_REDACT},
    {"redact-json", required_argument, NULL, OPT_REDACT_JSON},
    {"redact-query", required_argument, NULL, OPT_REDACT_QUERY},
    {"redact-cookie", required_argument, NULL, OPT_REDACT_COOKIE},
    {"redact-form", required_argument, NULL, OPT_REDACT_FORM},
    {"redact-key-file", required_argument, NULL, OPT_REDACT_KEY},
    {"rotate-size", required_argument, NULL, OPT_ROT_SIZE},
    {"rotate-age", required_argument, NULL, OPT_ROT_AGE},
    {"no-dictionary", no_argument, NULL, OPT_NODICT},
    {"no-payload-digest", no_argument, NULL, OPT_NODIGEST},
    {"mirror", required_argument, NULL, OPT_MIRROR},
    {"mirror-percent", required_argument, NULL, OPT_MIRROR_PCT},
    {"mirror-writes", no_argument, NULL, OPT_MIRROR_WRITES},
    {"mirror-record", no_argument, NULL, OPT_MIRROR_RECORD},
    {"mirror-baseline", required_argument, NULL, OPT_MIRROR_BASELINE},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"upstream-ca", required_argument, NULL, OPT_UPSTREAM_CA},
    {"h2c", no_argument, NULL, OPT_H2C},
    {"admin", required_argument, NULL, OPT_ADMIN},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int cfg_duration(const char *flag, const char *arg, int64_t *out, char *err, size_t errlen)
{
    if (tdtime_parse_duration(arg, 1000000, out) != 0 || *out <= 0) {
        snprintf(err, errlen, "%s: '%s' is not a positive duration (e.g. 500ms, 10s, 2m)", flag, arg);
        return -1;
    }
    return 0;
}

static int cfg_size(const char *flag, const char *arg, uint64_t *out, char *err, size_t errlen)
{
    if (proxy_config_parse_size(arg, out) != 0) {
        snprintf(err, errlen, "%s: '%s' is not a size (e.g. 65536, 64K, 1M)", flag, arg);
        return -1;
    }
    return 0;
}

/* A --redact-* rule: checked now (a bad JSONPath is a startup error), built by the writer thread. */
static int cfg_redact(proxy_config *cfg, const char *flag, const char *arg, char *err, size_t errlen)
{
    if (cfg->n_redact >= PROXY_MAX_REDACT) {
        snprintf(err, errlen, "%s: at most %d redaction rules in all", flag, PROXY_MAX_REDACT);
        return -1;
    }
    redact *r = redact_new();
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int kind = !strcmp(flag, "redact-header") ? REDACT_HEADER
               : !strcmp(flag, "redact-json") ? REDACT_JSON
               : !strcmp(flag, "redact-query") ? REDACT_QUERY
               : !strcmp(flag, "redact-cookie") ? REDACT_COOKIE
                                                : REDACT_FORM;
    int rc = redact_add(r, (redact_kind)kind, arg, err, errlen);
    redact_free(r);
    if (rc != REDACT_OK)
        return -1;
    cfg->redact[cfg->n_redact].kind = kind;
    cfg->redact[cfg->n_redact++].arg = arg;
    return 0;
}

static int cfg_regex(const char *flag, const char *arg, regex_t *re, int *has, char *err, size_t errlen)
{
    if (*has) {
        snprintf(err, errlen, "%s given twice (combine the patterns with '|')", flag);
        return -1;
    }
    int rc = regcomp(re, arg, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof msg);
        snprintf(err, errlen, "%s: bad regex '%s': %s", flag, arg, msg);
        return -1;
    }
    *has = 1;
    return 0;
}

static int cfg_percent(const char *flag, const char *arg, double *out, char *err, size_t errlen)
{
    if (tdnum_parse_percent(arg, TDNUM_BARE_PERCENT, 100.0, out) < 0) {
        snprintf(err, errlen, "%s: '%s' is not a percentage from 0 to 100", flag, arg);
        return -1;
    }
    return 0;
}

static void cfg_defaults(proxy_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    cfg->capture_prefix = "tapedeck";
    cfg->sample_pct = 100.0;
    cfg->mirror_pct = 100.0;
    cfg->max_body = 1024 * 1024;
    cfg->rotate_size = 256ull * 1024 * 1024;
    cfg->rotate_age_us = 3600ll * 1000000;
    cfg->workers = 1;
    cfg->header_timeout_us = 10ll * 1000000;
    cfg->idle_timeout_us = 60ll * 1000000;
    cfg->connect_timeout_us = 5ll * 1000000;
    cfg->upstream_timeout_us = 60ll * 1000000;
    cfg->drain_timeout_us = 30ll * 1000000;
    cfg->buffer_high = 64 * 1024;
    cfg->max_head = 64 * 1024;
}

static int cfg_option(proxy_config *cfg, int c, const char *flag, char *err, size_t errlen)
{
    uint64_t u = 0;
    char *end = NULL;
    switch (c) {
    case OPT_LISTEN:
        if (proxy_config_parse_addr(optarg, "0.0.0.0", cfg->listen_host, sizeof cfg->listen_host,
                                    &cfg->listen_port) != 0) {
            snprintf(err, errlen, "--listen: '%s' is not HOST:PORT", optarg);
            return -1;
        }
        return 0;
    case OPT_UPSTREAM: cfg->upstream_url = optarg; return 0;
    case OPT_UPSTREAM_FILE: cfg->upstream_file = optarg; return 0;
    case OPT_WORKERS: {
        long v = strtol(optarg, &end, 10);
        if (!*optarg || *end || v < 1 || v > 256) {
            snprintf(err, errlen, "--workers: '%s' is not a number from 1 to 256", optarg);
            return -1;
        }
        cfg->workers = (int)v;
        return 0;
    }
    case OPT_HEADER_TO: return cfg_duration(flag, optarg, &cfg->header_timeout_us, err, errlen);
    case OPT_IDLE_TO: return cfg_duration(flag, optarg, &cfg->idle_timeout_us, err, errlen);
    case OPT_CONNECT_TO: return cfg_duration(flag, optarg, &cfg->connect_timeout_us, err, errlen);
    case OPT_UPSTREAM_TO: return cfg_duration(flag, optarg, &cfg->upstream_timeout_us, err, errlen);
    case OPT_DRAIN_TO: return cfg_duration(flag, optarg, &cfg->drain_timeout_us, err, errlen);
    case OPT_BUFSIZE:
        if (cfg_size(flag, optarg, &u, err, errlen) != 0)
            return -1;
        if (u < 4096 || u > 64ull * 1024 * 1024) {
            snprintf(err, errlen, "--buffer-size: %s is outside 4K..64M", optarg);
            return -1;
        }
        cfg->buffer_high = (size_t)u;
        return 0;
    case OPT_CAPDIR: cfg->capture_dir = optarg; return 0;
    case OPT_CAPPREFIX:
        if (!*optarg || strchr(optarg, '/')) {
            snprintf(err, errlen, "--capture-prefix: '%s' must be a non-empty name without '/'", optarg);
            return -1;
        }
        cfg->capture_prefix = optarg;
        return 0;
    case OPT_SAMPLE: return cfg_percent(flag, optarg, &cfg->sample_pct, err, errlen);
    case OPT_MIRROR:
    case OPT_MIRROR_BASELINE:
        if (strncasecmp(optarg, "http://", 7) != 0) {
            snprintf(err, errlen,
                     "%s: '%s' is not an http:// URL (https:// shadows are not supported: point it at "
                     "a plain-HTTP listener of the shadow, or a TLS-originating proxy in front of it)",
                     flag, optarg);
            return -1;
        }
        *(c == OPT_MIRROR ? &cfg->mirror_url : &cfg->mirror_baseline_url) = optarg;
        return 0;
    case OPT_MIRROR_RECORD: cfg->mirror_record = 1; return 0;
    case OPT_MIRROR_PCT: return cfg_percent(flag, optarg, &cfg->mirror_pct, err, errlen);
    case OPT_MIRROR_WRITES: cfg->mirror_writes = 1; return 0;
    case OPT_RECPATH: return cfg_regex(flag, optarg, &cfg->record_path, &cfg->has_record_path, err, errlen);
    case OPT_SKIPPATH: return cfg_regex(flag, optarg, &cfg->skip_path, &cfg->has_skip_path, err, errlen);
    case OPT_MAXBODY: return cfg_size(flag, optarg, &cfg->max_body, err, errlen);
    case OPT_REDACT:
    case OPT_REDACT_JSON:
    case OPT_REDACT_QUERY:
    case OPT_REDACT_COOKIE:
    case OPT_REDACT_FORM: return cfg_redact(cfg, flag, optarg, err, errlen);
    case OPT_REDACT_KEY: cfg->redact_key_file = optarg; return 0;
    case OPT_ROT_SIZE: return cfg_size(flag, optarg, &cfg->rotate_size, err, errlen);
    case OPT_ROT_AGE: return cfg_duration(flag, optarg, &cfg->rotate_age_us, err, errlen);
    case OPT_NODICT: cfg->no_dictionary = 1; return 0;
    case OPT_NODIGEST: cfg->no_payload_digest = 1; return 0;
    case OPT_ADMIN:
        if (proxy_config_parse_addr(optarg, "127.0.0.1", cfg->admin_host, sizeof cfg->admin_host,
                                    &cfg->admin_port) != 0 || cfg->admin_port == 0) {
            snprintf(err, errlen, "--admin: '%s' is not PORT or HOST:PORT", optarg);
            return -1;
        }
        return 0;
    case OPT_TLS_CERT: cfg->tls_cert = optarg; return 0;
    case OPT_TLS_KEY: cfg->tls_key = optarg; return 0;
    case OPT_UPSTREAM_CA: cfg->upstream_ca = optarg; return 0;
    case OPT_H2C: cfg->h2c = 1; return 0;
    case 'v': cfg->verbose = 1; return 0;
    default:
        snprintf(err, errlen, "unknown option (see --help)");
        return -1;
    }
}

int proxy_config_parse(proxy_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    cfg_defaults(cfg);
    opterr = 0;
    optind = 1;
    int c, idx = 0;
    while ((c = getopt_long(argc, argv, ":vh", proxy_long_opts, &idx)) != -1) {
        const char *flag = argv[optind - 1];
        if (c == 'h')
            return PROXY_CONFIG_HELP;
        if (c == OPT_VERSION)
            return PROXY_CONFIG_VERSION;
        if (c == '?') {
            snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
            return PROXY_CONFIG_EBAD;
        }
        if (c == ':') {
            snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
            return PROXY_CONFIG_EBAD;
        }
        for (const struct option *o = proxy_long_opts; o->name; o++)
            if (o->val == c) {
                flag = o->name;
                break;
            }
        char ferr[512];
        if (cfg_option(cfg, c, flag, ferr, sizeof ferr) != 0) {
            snprintf(err, errlen, "%s%s", ferr[0] == '-' ? "" : "--", ferr);
            return PROXY_CONFIG_EBAD;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return PROXY_CONFIG_EBAD;
    }
    if (!cfg->mirror_url && (cfg->mirror_writes || cfg->mirror_pct != 100.0)) {
        snprintf(err, errlen, "--mirror-percent and --mirror-writes need --mirror URL");
        return PROXY_CONFIG_EBAD;
    }
    if (!cfg->mirror_url && (cfg->mirror_record || cfg->mirror_baseline_url)) {
        snprintf(err, errlen, "--mirror-record and --mirror-baseline need --mirror URL");
        return PROXY_CONFIG_EBAD;
    }
    if ((cfg->mirror_record || cfg->mirror_baseline_url) && !cfg->capture_dir) {
        snprintf(err, errlen, "--mirror-record and --mirror-baseline need --capture-dir (the shadows' answers "
                              "are recorded there)");
        return PROXY_CONFIG_EBAD;
    }
    if (cfg->mirror_baseline_url)
        cfg->mirror_record = 1; /* a baseline is only of use beside recorded shadow answers */
    if (!cfg->tls_cert != !cfg->tls_key) {
        snprintf(err, errlen, "--tls-cert and --tls-key go together");
        return PROXY_CONFIG_EBAD;
    }
    if (cfg->h2c && cfg->tls_cert) {
        snprintf(err, errlen, "--h2c is for a cleartext listener (over TLS, ALPN offers h2 already)");
        return PROXY_CONFIG_EBAD;
    }
    if (!cfg->upstream_url && !cfg->upstream_file) {
        snprintf(err, errlen, "no upstream: give --upstream URL or --upstream-file FILE");
        return PROXY_CONFIG_EBAD;
    }
    return PROXY_CONFIG_OK;
}

void proxy_config_clear(proxy_config *cfg)
{
    if (!cfg)
        return;
    if (cfg->has_record_path)
        regfree(&cfg->record_path);
    if (cfg->has_skip_path)
        regfree(&cfg->skip_path);
    cfg->has_record_path = cfg->has_skip_path = 0;
}
