/* cli_gor: see cli_gor.h. */
#include "cli_gor.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_conv.h"
#include "cli_util.h"
#include "httpmsg.h"

#define GOR_SEP "\n\xf0\x9f\x90\xb5\xf0\x9f\x99\x88\xf0\x9f\x99\x89\n" /* "\n🐵🙈🙉\n" */
#define GOR_MAX_FILE ((size_t)1 << 30)

/* Microseconds -> nanoseconds, kept in range (a damaged or imported time must not overflow). */
static int64_t ns_of(int64_t us)
{
    return us > 0 && us < INT64_MAX / 1000 ? us * 1000 : 0;
}

int cli_gor_write(FILE *f, const exchange *x, unsigned long long idx)
{
    fprintf(f, "1 %024llx %" PRId64 " -1\n", idx, ns_of(x->req_start_us));
    fwrite(x->request, 1, x->request_len, f);
    fputs(GOR_SEP, f);
    if (x->response) {
        /* as GoReplay's input_raw writes it: the timestamp of the response's first packet, and the
         * response's own duration */
        int64_t first = x->resp_first_us ? x->resp_first_us : x->resp_end_us;
        int64_t lat = x->resp_end_us > first && first > 0 ? ns_of(x->resp_end_us - first) : 0;
        fprintf(f, "2 %024llx %" PRId64 " %" PRId64 "\n", idx, ns_of(first), lat);
        fwrite(x->response, 1, x->response_len, f);
        fputs(GOR_SEP, f);
    }
    return ferror(f) ? -1 : 0;
}

typedef struct gor_item {
    char id[72];
    int64_t ts, lat; /* nanoseconds */
    const char *raw;
    size_t len;
    const char *resp; /* the matching type 2, or NULL */
    size_t resp_len;
    int64_t resp_ts, resp_lat;
    size_t prev; /* the previous request with the same id (index + 1), or 0 */
} gor_item;

/* Requests by id: an open-addressed table of item numbers (index + 1), the latest request of each id;
 * earlier ones with that id hang off gor_item.prev. A response finds its request without scanning all
 * of them: that scan made a file with many responses whose requests are missing quadratic (50,000 such
 * responses after 50,000 requests: 8.7 s). The table has twice the items' room, so it never fills. */
static size_t id_slot(const gor_item *items, const size_t *tab, size_t tabcap, const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = id; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    size_t i = (size_t)h & (tabcap - 1);
    while (tab[i] && strcmp(items[tab[i] - 1].id, id))
        i = (i + 1) & (tabcap - 1);
    return i;
}

/* "TYPE ID TS [LAT]" -> fields; 0 or -1. */
static int parse_meta(const char *s, size_t n, int *type, char *id, size_t idsz, int64_t *ts, int64_t *lat)
{
    char line[256], fmt[32];
    if (n >= sizeof line)
        return -1;
    memcpy(line, s, n);
    line[n] = '\0';
    long long a = 0, b = 0;
    snprintf(fmt, sizeof fmt, "%%d %%%zus %%lld %%lld", idsz - 1);
    int k = sscanf(line, fmt, type, id, &a, &b);
    if (k < 3 || *type < 1 || *type > 3 || a < 0)
        return -1;
    *ts = a;
    *lat = k == 4 ? b : 0;
    return 0;
}

static int64_t us_of(int64_t ns)
{
    return ns > 0 ? ns / 1000 : 0;
}

/* NULL when raw is a whole HTTP message as the capture readers parse it (the same parser: what import
 * accepts, every reader reads back), else why not. */
static const char *not_http(const char *raw, size_t len, httpmsg_type type, const char *method, char *err,
                            size_t errlen)
{
    httpmsg m;
    if (httpmsg_parse(&m, type, raw, len, method, err, errlen) != 0)
        return err;
    bool whole = m.complete;
    httpmsg_clear(&m);
    return whole ? NULL : "the message is cut off";
}

static int to_exchange(const gor_item *it, size_t i, exchange *x)
{
    x->conn_id = i + 1;
    x->req_start_us = us_of(it->ts);
    if (exchange_set_buf(&x->request, &x->request_len, it->raw, it->len))
        return -1;
    /* Host from the request for the WARC-Target-URI. */
    const char *h = NULL, *p = it->raw, *end = it->raw + it->len;
    for (const char *l = memchr(p, '\n', it->len); l && l + 1 < end; l = memchr(l + 1, '\n', (size_t)(end - l - 1))) {
        if (end - l > 6 && !strncasecmp(l + 1, "host:", 5)) {
            h = l + 6;
            break;
        }
        if (l[1] == '\r' || l[1] == '\n')
            break;
    }
    const char *tgt = memchr(it->raw, ' ', it->len);
    tgt = tgt ? tgt + 1 : end;
    size_t tn = 0, hn = 0;
    while (tgt + tn < end && !strchr(" \r\n", tgt[tn]))
        tn++;
    while (h && h < end && (*h == ' ' || *h == '\t'))
        h++;
    while (h && h + hn < end && h[hn] != '\r' && h[hn] != '\n')
        hn++;
    if (!(x->target_uri = malloc(hn + tn + 16)))
        return -1;
    size_t scheme = tn > 7 && !strncasecmp(tgt, "http://", 7) ? 7 : tn > 8 && !strncasecmp(tgt, "https://", 8) ? 8 : 0;
    if (scheme && tgt[scheme] != '/') /* absolute form, with a host */
        snprintf(x->target_uri, hn + tn + 16, "%.*s", (int)tn, tgt);
    else /* no Host (HTTP/1.0): never "http:///" */
        snprintf(x->target_uri, hn + tn + 16, "http://%.*s%.*s", hn ? (int)hn : 9, hn ? h : "localhost", (int)tn, tgt);
    /* after the target URI: a request without a response (an upstream failure) needs one too. An empty
     * response payload is no response either (a capture's response is never zero bytes). */
    if (!it->resp || !it->resp_len)
        return exchange_set_str(&x->error, it->resp ? "an empty response in the GoReplay file"
                                                    : "no response in the GoReplay file");
    if (exchange_set_buf(&x->response, &x->response_len, it->resp, it->resp_len))
        return -1;
    x->resp_first_us = us_of(it->resp_ts);
    x->resp_end_us = it->resp_lat > 0 && x->resp_first_us ? x->resp_first_us + it->resp_lat / 1000 : x->resp_first_us;
    return 0;
}

long cli_gor_import(const char *cmd, const char *path, int (*each)(const exchange *x, void *ctx), void *ctx)
{
    char *data = NULL;
    size_t n = 0, count = 0, cap = 0;
    gor_item *items = NULL;
    size_t *tab = NULL, tabcap = 0;
    long rc = -1;
    char zerr[160];
    if (cli_read_file(cmd, path, GOR_MAX_FILE, &data, &n) < 0)
        return -1;
    if (cli_gunzip(&data, &n, GOR_MAX_FILE, zerr, sizeof zerr) < 0) { /* .gor.gz */
        cli_errorf(cmd, "%s: %s", path, zerr);
        free(data);
        return -1;
    }
    const size_t seplen = strlen(GOR_SEP);
    size_t off = 0;
    while (off < n) {
        const char *nl = memchr(data + off, '\n', n - off);
        int type;
        gor_item it;
        memset(&it, 0, sizeof it);
        if (!nl || parse_meta(data + off, (size_t)(nl - data - off), &type, it.id, sizeof it.id, &it.ts, &it.lat)) {
            cli_errorf(cmd, "%s: offset %zu: not a GoReplay payload header (want 'TYPE ID TIMESTAMP LATENCY')",
                       path, off);
            goto done;
        }
        it.raw = nl + 1;
        const char *sep = memmem(it.raw, (size_t)(data + n - it.raw), GOR_SEP, seplen);
        it.len = sep ? (size_t)(sep - it.raw) : (size_t)(data + n - it.raw);
        off = sep ? (size_t)(sep - data) + seplen : n;
        if (type == 3)
            continue; /* a replayed response: not part of the recording */
        if (type == 2) {
            /* the latest request with this id that has no response yet */
            size_t k = count ? tab[id_slot(items, tab, tabcap, it.id)] : 0;
            while (k && items[k - 1].resp)
                k = items[k - 1].prev;
            if (k == 0) {
                cli_errorf(cmd, "warning: %s: a response (id %s) without its request, skipped", path, it.id);
                continue;
            }
            items[k - 1].resp = it.raw;
            items[k - 1].resp_len = it.len;
            items[k - 1].resp_ts = it.ts;
            items[k - 1].resp_lat = it.lat;
            continue;
        }
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            gor_item *ni = realloc(items, ncap * sizeof *ni);
            size_t *nt = ni ? calloc(2 * ncap, sizeof *nt) : NULL;
            if (ni)
                items = ni;
            if (!nt) {
                cli_errorf(cmd, "out of memory");
                goto done;
            }
            cap = ncap;
            free(tab);
            tab = nt;
            tabcap = 2 * ncap;
            for (size_t i = 0; i < count; i++) /* in file order: the latest of each id stays */
                tab[id_slot(items, tab, tabcap, items[i].id)] = i + 1;
        }
        size_t slot = id_slot(items, tab, tabcap, it.id);
        it.prev = tab[slot];
        items[count++] = it;
        tab[slot] = count;
    }
    size_t skipped = 0, first_bad = 0, cut = 0;
    char why[160] = "";
    for (size_t i = 0; i < count; i++) {
        exchange x;
        char perr[128], method[24] = "";
        const gor_item *g = &items[i];
        const char *bad = not_http(g->raw, g->len, HTTPMSG_REQUEST, NULL, perr, sizeof perr);
        bool req_cut = bad && !strcmp(bad, "the message is cut off");
        if (req_cut) { /* a body cut at --max-body (or by GoReplay's buffer): kept as a cut body */
            bad = NULL;
            cut++;
        }
        if (!bad) {
            size_t m = strcspn(g->raw, " ");
            snprintf(method, sizeof method, "%.*s", (int)(m < sizeof method ? m : 0), g->raw);
        }
        bool resp_cut = false;
        if (!bad && g->resp && g->resp_len) {
            bad = not_http(g->resp, g->resp_len, HTTPMSG_RESPONSE, method, perr, sizeof perr);
            /* a response cut off (GoReplay's buffer, or an export of a body cut at --max-body) is kept
             * as a cut body, as the proxy records one; a cut request cannot be replayed */
            if (bad && !strcmp(bad, "the message is cut off")) {
                bad = NULL;
                resp_cut = true;
                cut++;
            }
        }
        if (bad) {
            if (!skipped++) {
                first_bad = (size_t)(g->raw - data);
                snprintf(why, sizeof why, "%s", bad);
            }
            continue;
        }
        exchange_init(&x);
        int r = to_exchange(&items[i], i, &x);
        if (resp_cut && x.response)
            x.truncated |= EXCHANGE_TRUNC_RESPONSE;
        if (req_cut)
            x.truncated |= EXCHANGE_TRUNC_REQUEST;
        if (r < 0)
            cli_errorf(cmd, "out of memory");
        else
            r = each(&x, ctx);
        exchange_clear(&x);
        if (r < 0) {
            rc = r;
            goto done;
        }
    }
    if (skipped)
        cli_errorf(cmd, "warning: %s: skipped %zu of %zu exchanges whose payloads are not whole HTTP messages (the first at offset %zu: %s)",
                   path, skipped, count, first_bad, why);
    if (cut)
        cli_errorf(cmd, "warning: %s: %zu messages are cut off (kept as cut bodies, WARC-Truncated)", path, cut);
    rc = (long)(count - skipped);
done:
    free(tab);
    free(items);
    free(data);
    return rc;
}
