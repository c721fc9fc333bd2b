/* cli_util: see cli_util.h. */
#include "cli_util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "httpmsg.h"
#include "route.h"
#include "tdtime.h"

void cli_errorf(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tapedeck-capture: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tapedeck-capture: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tapedeck-capture %s --help'.\n", cmd);
    return CLI_EXIT_TROUBLE;
}

int cli_switch_opts(const char *cmd, const char *help, int argc, char **argv, const char *flag, char letter,
                    bool *on)
{
    enum { O_FLAG = 256 };
    /* without a switch, the table starts at --help */
    const struct option opts[] = {{flag ? flag : "", no_argument, NULL, letter ? letter : O_FLAG},
                                  {"help", no_argument, NULL, 'h'},
                                  {NULL, 0, NULL, 0}};
    const char shortopts[] = {'h', letter, '\0'};
    int c;
    *on = false;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, flag ? opts : opts + 1, NULL)) != -1) {
        if (c == 'h') {
            fputs(help, stdout);
            return CLI_EXIT_OK;
        }
        if (flag && c == (letter ? letter : O_FLAG)) {
            *on = true;
            continue;
        }
        return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    }
    return -1;
}

void cli_capset_skips(const char *cmd, const capset *s)
{
    capreader_skips k;
    char what[512];
    capset_skipped(s, &k);
    if (*capreader_skips_describe(&k, what, sizeof what))
        cli_errorf(cmd, "skipped records that are not exchanges: %s", what);
    if (k.rebuilt)
        cli_errorf(cmd, "%" PRIu64 " response%s without a request record: listed with a GET request made from "
                   "WARC-Target-URI", k.rebuilt, k.rebuilt == 1 ? "" : "s");
}

int cli_capset_end(const char *cmd, capset *s, int r)
{
    fflush(stdout);
    cli_capset_skips(cmd, s);
    if (r < 0) {
        cli_errorf(cmd, "%s", capset_error(s));
        return CLI_EXIT_TROUBLE;
    }
    if (capset_truncated_bytes(s))
        cli_errorf(cmd, "warning: skipped %" PRIu64 " bytes of a cut-off last frame", capset_truncated_bytes(s));
    return CLI_EXIT_OK;
}

const char **cli_capset_paths(const char *cmd, const capset *s)
{
    size_t n = capset_nfiles(s);
    const char **paths = calloc(n ? n : 1, sizeof *paths);
    if (!paths) {
        cli_errorf(cmd, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        paths[i] = capset_file(s, i);
    return paths;
}

bool cli_output_is_input(const char *cmd, const char *path, const char *const *inputs, size_t n)
{
    struct stat so, si;
    if (stat(path, &so) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            cli_errorf(cmd, "%s: the output is also an input; write to another file", path);
            return true;
        }
    }
    return false;
}

capset *cli_open_captures(const char *cmd, char *const *args, size_t nargs)
{
    char err[1024];
    if (nargs == 0) {
        cli_usage_error(cmd, "no CAPTURE given (a .warc.zst file or a folder of segments)");
        return NULL;
    }
    capset *s = capset_open(args, nargs, err, sizeof err);
    if (!s)
        cli_errorf(cmd, "%s", err);
    return s;
}

static void copy_cut(char *dst, size_t dstsz, const char *src, size_t n)
{
    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The path and query of an absolute URI ("http://h:p/a?b" -> "/a?b"). */
static const char *uri_target(const char *uri)
{
    const char *s = uri ? strstr(uri, "://") : NULL;
    if (!s)
        return uri && *uri ? uri : "/";
    s = strchr(s + 3, '/');
    return s ? s : "/";
}

void cli_view_of(const exchange *x, cli_view *v)
{
    memset(v, 0, sizeof *v);
    v->latency_ms = -1;
    httpmsg m;
    char err[128];
    if (x->request && httpmsg_parse(&m, HTTPMSG_REQUEST, x->request, x->request_len, NULL, err, sizeof err) == 0) {
        copy_cut(v->method, sizeof v->method, m.head.method, strlen(m.head.method));
        copy_cut(v->target, sizeof v->target, m.head.url, m.head.url_len);
        httpmsg_clear(&m);
    } else {
        strcpy(v->method, "?");
        const char *t = uri_target(x->target_uri);
        copy_cut(v->target, sizeof v->target, t, strlen(t));
    }
    if (route_normalise(v->target, v->route, sizeof v->route) < 0)
        copy_cut(v->route, sizeof v->route, v->target, strcspn(v->target, "?"));
    if (x->response &&
        httpmsg_parse(&m, HTTPMSG_RESPONSE, x->response, x->response_len, cli_view_method_or_null(v), err,
                      sizeof err) == 0) {
        v->status = m.head.status;
        httpmsg_clear(&m);
    }
    if (x->req_start_us && x->resp_end_us && x->resp_end_us >= x->req_start_us)
        v->latency_ms = (double)(x->resp_end_us - x->req_start_us) / 1000.0;
}

const char *cli_view_method_or_null(const cli_view *v)
{
    return strcmp(v->method, "?") ? v->method : NULL;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        need = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        need = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        need = 4;
    else
        return 0;
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) || (s[0] == 0xf0 && s[1] < 0x90) ||
        (s[0] == 0xf4 && s[1] > 0x8f))
        return 0; /* overlong, surrogate, or past U+10FFFF */
    return need;
}

void cli_json_str(FILE *f, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        size_t k = utf8_len(u + i, n - i);
        if (k > 1) {
            fwrite(u + i, 1, k, f);
            i += k;
            continue;
        }
        i++;
        cli_put_escaped(f, c, true);
    }
    fputc('"', f);
}

void cli_put_escaped(FILE *f, unsigned char c, bool json)
{
    if (c == (json ? '"' : '\'') || c == '\\')
        fprintf(f, "\\%c", c);
    else if (c == '\n')
        fputs("\\n", f);
    else if (c == '\r')
        fputs("\\r", f);
    else if (c == '\t')
        fputs("\\t", f);
    else if ((c < 0x20 || c >= 0x7f) && json)
        fprintf(f, "\\u%04x", c);
    else if (c < 0x20 || c >= 0x7f)
        fprintf(f, "\\x%02x", c); /* two digits at most: a hex digit after it stays a character */
    else
        fputc(c, f);
}

const char *cli_iso_time(int64_t us, char *buf, size_t bufsz)
{
    if (!us) {
        copy_cut(buf, bufsz, "-", 1);
        return buf;
    }
    return tdtime_format_iso(us, 1, buf, bufsz);
}

int cli_parse_time(const char *s, int64_t *us)
{
    char buf[64];
    size_t n = strlen(s);
    if (n < 6 || n >= sizeof buf)
        return tdtime_parse_iso(s, us);
    const char *z = s + n - 6; /* "+HH:MM" */
    if ((z[0] != '+' && z[0] != '-') || z[3] != ':' || !strchr(s, 'T'))
        return tdtime_parse_iso(s, us);
    int hh, mm;
    if (sscanf(z + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
        return -1;
    memcpy(buf, s, (size_t)(z - s));
    strcpy(buf + (z - s), "Z");
    if (tdtime_parse_iso(buf, us) < 0)
        return -1;
    int64_t off = ((int64_t)hh * 3600 + mm * 60) * 1000000;
    *us += z[0] == '+' ? -off : off;
    return 0;
}

int cli_read_file(const char *cmd, const char *path, size_t max, char **out, size_t *n)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    if (!f) {
        cli_errorf(cmd, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (cap - len < 65536 + 1) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            char *nb;
            if (ncap > max + 65536 + 1)
                ncap = max + 65536 + 1;
            if (ncap <= cap) {
                cli_errorf(cmd, "%s: larger than %zu MiB", path, max >> 20);
                goto done;
            }
            if (!(nb = realloc(buf, ncap))) {
                cli_errorf(cmd, "%s: out of memory", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (len > max) {
            cli_errorf(cmd, "%s: larger than %zu MiB", path, max >> 20);
            goto done;
        }
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        cli_errorf(cmd, "%s: read failed: %s", path, strerror(errno));
        goto done;
    }
    buf[len] = '\0';
    *out = buf;
    *n = len;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    if (f != stdin)
        fclose(f);
    return rc;
}
