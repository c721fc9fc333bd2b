/* cli_har_in: HAR 1.2 -> exchanges with raw HTTP/1.1 messages (see cli_har.h). */
#include "cli_har.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_conv.h"
#include "cli_util.h"
#include "tdbuf.h"

#define HAR_MAX_HEADERS 1024
#define HAR_MAX_MESSAGE ((size_t)256 << 20)
#define HAR_MAX_FILE ((size_t)1 << 30)

typedef struct har_ctx {
    const char *cmd, *path;
    size_t idx; /* entry number, 0-based */
} har_ctx;

static int bad(const har_ctx *c, const char *what)
{
    cli_errorf(c->cmd, "%s: entries[%zu]: %s", c->path, c->idx, what);
    return -1;
}

static const char *str_at(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* RFC 9110 5.6.2 token (header names, methods): anything else makes a message no HTTP parser (ours
 * included) reads back, so the capture would hold requests that cannot be replayed. */
static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

/* RFC 9110 5.5: a field value has no control characters but HTAB. */
static bool is_field_value(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 ? *s != '\t' : *s == 0x7f)
            return false;
    return true;
}

/* A URL has no blank and no control character (a raw one would end or break the request line). */
static bool no_blank_or_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Collects name/value pairs; *host set to a Host (or :authority) value when there is one. */
static int headers_of(const har_ctx *c, json_t *arr, cli_hdr *h, size_t *nh, const char **host)
{
    *nh = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return bad(c, "headers is not an array");
    if (json_array_size(arr) > HAR_MAX_HEADERS)
        return bad(c, "more than 1024 headers");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *name = str_at(v, "name"), *value = str_at(v, "value");
        if (!name || !value || !*name)
            return bad(c, "a header without a string name and value");
        if (!is_field_value(value) || !is_token(name[0] == ':' ? name + 1 : name))
            return bad(c, "a header name or value with a line break or a bad character");
        if (host && (!strcasecmp(name, "host") || !strcmp(name, ":authority")))
            *host = value;
        h[(*nh)++] = (cli_hdr){name, value};
    }
    return 0;
}

/* text (+ base64 when enc_obj[enc_key] says so) -> bytes. */
static int body_of(const har_ctx *c, json_t *obj, const char *enc_key, char **body, size_t *n)
{
    *body = NULL;
    *n = 0;
    json_t *t = json_object_get(obj, "text");
    if (!t || json_is_null(t))
        return 0;
    if (!json_is_string(t))
        return bad(c, "a body text that is not a string");
    const char *enc = str_at(obj, enc_key);
    if (enc && !strcmp(enc, "base64")) {
        if (cli_b64_decode(json_string_value(t), json_string_length(t), body, n) < 0)
            return bad(c, "a body marked base64 that is not base64");
        return 0;
    }
    if (!(*body = malloc(json_string_length(t) + 1)))
        return bad(c, "out of memory");
    *n = json_string_length(t);
    memcpy(*body, json_string_value(t), *n + 1);
    return 0;
}

/* "HTTP/1.0" stays 1.0 (an export keeps the recorded version); anything else (1.1, h2, h3, "") is
 * rebuilt as HTTP/1.1. */
static const char *version_of(json_t *o)
{
    const char *v = str_at(o, "httpVersion");
    return v && !strcasecmp(v, "HTTP/1.0") ? "HTTP/1.0" : "HTTP/1.1";
}

/* A string that holds a NUL (\u0000) cannot go into a URL or a header. */
static bool has_nul(json_t *v)
{
    return json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v);
}

/* postData.params without text (HAR writers do that for forms): name=value&... (urlencoded). */
static int params_body(const har_ctx *c, json_t *params, char **body, size_t *n)
{
    tdbuf b;
    tdbuf_init(&b, HAR_MAX_MESSAGE);
    size_t i;
    json_t *p;
    int rc = 0;
    json_array_foreach(params, i, p) {
        const char *kv[2] = {str_at(p, "name"), str_at(p, "value")};
        if (!kv[0])
            continue;
        if (i && tdbuf_append(&b, "&", 1))
            rc = -1;
        for (int k = 0; k < 2 && !rc; k++) {
            if (k && tdbuf_append(&b, "=", 1))
                rc = -1;
            for (const unsigned char *q = (const unsigned char *)(kv[k] ? kv[k] : ""); *q && !rc; q++)
                rc = isalnum(*q) || strchr("-._~", *q) ? tdbuf_append(&b, q, 1)
                     : *q == ' '                        ? tdbuf_append(&b, "+", 1)
                                                        : tdbuf_printf(&b, "%%%02X", *q);
        }
    }
    if (rc) {
        tdbuf_free(&b);
        return bad(c, "postData.params too large");
    }
    *n = b.len;
    *body = tdbuf_steal(&b, n);
    if (!*body && !(*body = calloc(1, 1)))
        return bad(c, "out of memory");
    return 0;
}

static int64_t int_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static double ms_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    double d = json_is_number(v) ? json_number_value(v) : 0.0;
    return d > 0 ? (d < 1e9 ? d : 1e9) : 0.0; /* capped: a day is 8.64e7 ms; no overflow when converted */
}

static int build_request(const har_ctx *c, json_t *req, exchange *x, const char **method)
{
    cli_hdr h[HAR_MAX_HEADERS + 2];
    size_t nh;
    const char *url = str_at(req, "url"), *host = NULL;
    *method = str_at(req, "method");
    if (!*method || !is_token(*method))
        return bad(c, "request.method missing or not a method");
    if (!url || !*url || !no_blank_or_control(url))
        return bad(c, "request.url missing or not a URL");
    /* "trips/1" or "a/b://c" would make a request line no HTTP parser (ours included) reads back */
    const char *target = cli_url_target(url);
    if (target[0] != '/' && strcmp(target, "*"))
        return bad(c, "request.url is neither an absolute URL nor a path starting with '/'");
    if (headers_of(c, json_object_get(req, "headers"), h, &nh, &host))
        return -1;
    char authority[512];
    bool has_host = false;
    for (size_t i = 0; i < nh; i++)
        has_host |= !strcasecmp(h[i].name, "host");
    if (!has_host && (host || cli_url_authority(url, authority, sizeof authority) == 0))
        h[nh++] = (cli_hdr){"Host", host ? host : authority};
    char *body = NULL;
    size_t blen = 0;
    json_t *pd = json_object_get(req, "postData");
    if (json_is_object(pd) && body_of(c, pd, json_object_get(pd, "_encoding") ? "_encoding" : "encoding", &body, &blen))
        return -1;
    json_t *params = json_object_get(pd, "params");
    bool form = false;
    if (!body && json_is_array(params) && json_array_size(params) > 0) {
        if (params_body(c, params, &body, &blen))
            return -1;
        form = true;
    }
    bool has_ct = false;
    for (size_t i = 0; i < nh; i++)
        has_ct |= !strcasecmp(h[i].name, "content-type");
    if (form && !has_ct)
        h[nh++] = (cli_hdr){"Content-Type", "application/x-www-form-urlencoded"};
    tdbuf b, start;
    tdbuf_init(&b, HAR_MAX_MESSAGE);
    tdbuf_init(&start, 1 << 16);
    bool want = blen || !strcasecmp(*method, "POST") || !strcasecmp(*method, "PUT") || !strcasecmp(*method, "PATCH");
    /* a fragment is the browser's, never sent */
    int rc = tdbuf_printf(&start, "%s %.*s %s", *method, (int)strcspn(target, "#"), target, version_of(req)) ||
                     cli_http_build(&b, start.data, h, nh, NULL, body, blen, want,
                                    x->truncated & EXCHANGE_TRUNC_REQUEST)
                 ? bad(c, "request too large")
                 : 0;
    free(body);
    tdbuf_free(&start);
    if (!rc) {
        if (x->target_uri)
            ; /* from "_tapedeck" */
        else if (strstr(url, "://"))
            rc = exchange_set_buf(&x->target_uri, &(size_t){0}, url, strcspn(url, "#"));
        else if (!(x->target_uri = malloc(strlen(url) + 16 + (host ? strlen(host) : 9))))
            rc = -1;
        else
            sprintf(x->target_uri, "http://%s%s", host ? host : "localhost", url);
        x->request_len = b.len;
        x->request = tdbuf_steal(&b, &x->request_len);
        if (rc || !x->request)
            rc = bad(c, "out of memory");
    }
    tdbuf_free(&b);
    return rc;
}

static int build_response(const har_ctx *c, json_t *resp, const char *method, exchange *x)
{
    cli_hdr h[HAR_MAX_HEADERS];
    static const char *const drop_coding[] = {"content-encoding", NULL};
    size_t nh;
    json_t *st = json_object_get(resp, "status");
    if (!json_is_integer(st) || json_integer_value(st) < 0 || json_integer_value(st) > 999)
        return bad(c, "response.status missing or not a status code");
    int status = (int)json_integer_value(st);
    if (status == 0)
        return 0; /* the upstream failed */
    if (status < 100)
        return bad(c, "response.status is not a status code");
    if (headers_of(c, json_object_get(resp, "headers"), h, &nh, NULL))
        return -1;
    json_t *content = json_object_get(resp, "content");
    char *body = NULL;
    size_t blen = 0;
    bool bodyless = cli_http_bodyless(method, status);
    /* A cut body keeps the Content-Length it was sent with, as the proxy recorded it. */
    bool keep = bodyless || (x->truncated & EXCHANGE_TRUNC_RESPONSE);
    if (json_is_object(content) && !bodyless && body_of(c, content, "encoding", &body, &blen))
        return -1;
    /* HAR bodies are decoded text, except ours, which keep the coding (and say so). */
    bool coded = json_is_true(json_object_get(content, "_tapedeckEncoded"));
    const char *text = str_at(resp, "statusText");
    char start[512];
    snprintf(start, sizeof start, "%s %d %.400s", version_of(resp), status,
             text && *text && !strpbrk(text, "\r\n") ? text : cli_http_reason(status));
    tdbuf b;
    tdbuf_init(&b, HAR_MAX_MESSAGE);
    int rc = cli_http_build(&b, start, h, nh, coded ? NULL : drop_coding, body, blen, true, keep)
                 ? bad(c, "response too large")
                 : 0;
    free(body);
    if (!rc && !(x->response = tdbuf_steal(&b, &x->response_len)))
        rc = bad(c, "out of memory");
    tdbuf_free(&b);
    return rc;
}

static int apply_tapedeck(const har_ctx *c, json_t *t, exchange *x)
{
    if (!json_is_object(t))
        return 0;
    x->conn_id = (uint64_t)int_at(t, "conn");
    x->conn_seq = (uint64_t)int_at(t, "seq");
    static const int64_t year_2286 = 10000000000000000; /* µs; later (or negative) is not a time */
    int64_t start = int_at(t, "req_start_us"), first = int_at(t, "resp_first_us"), end = int_at(t, "resp_end_us");
    if (start < 0 || start > year_2286 || first < 0 || first > year_2286 || end < 0 || end > year_2286)
        return bad(c, "_tapedeck: a time out of range");
    if (start)
        x->req_start_us = start;
    x->resp_first_us = first;
    x->resp_end_us = end;
    const char *s;
    if ((s = str_at(t, "target_uri")) && exchange_set_str(&x->target_uri, s))
        return bad(c, "out of memory");
    if ((s = str_at(t, "client")) && exchange_set_str(&x->client_addr, s))
        return bad(c, "out of memory");
    if ((s = str_at(t, "error")) && exchange_set_str(&x->error, s))
        return bad(c, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(t, "interim"), i, v) {
        if (x->n_interim < EXCHANGE_MAX_INTERIM && json_is_integer(v))
            x->interim[x->n_interim++] = (int)json_integer_value(v);
    }
    json_array_foreach(json_object_get(t, "truncated"), i, v) {
        const char *w = json_string_value(v);
        if (w && !strcmp(w, "request"))
            x->truncated |= EXCHANGE_TRUNC_REQUEST;
        else if (w && !strcmp(w, "response"))
            x->truncated |= EXCHANGE_TRUNC_RESPONSE;
    }
    return 0;
}

/* Entries that are no HTTP exchange to replay: skipped and counted, not an error. NULL = keep. */
static const char *skip_reason(json_t *req)
{
    const char *url = str_at(req, "url");
    if (url && (!strncasecmp(url, "data:", 5) || !strncasecmp(url, "blob:", 5) || !strncasecmp(url, "about:", 6) ||
                !strncasecmp(url, "chrome-extension:", 17)))
        return "a data:, blob: or about: URL (the browser made no request)";
    const char *method = str_at(req, "method");
    if (method && !strcasecmp(method, "CONNECT"))
        return "a CONNECT tunnel (what went through it is not recorded as HTTP here)";
    if (url && (!strncasecmp(url, "ws:", 3) || !strncasecmp(url, "wss:", 4)))
        return NULL;
    if (has_nul(json_object_get(req, "url")))
        return "a URL with a NUL character";
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(req, "headers"), i, v) {
        if (has_nul(json_object_get(v, "name")) || has_nul(json_object_get(v, "value")))
            return "a header with a NUL character";
    }
    return NULL;
}

static int entry_to_exchange(const har_ctx *c, json_t *e, exchange *x)
{
    const char *method;
    if (!json_is_object(e))
        return bad(c, "not an object");
    json_t *req = json_object_get(e, "request"), *resp = json_object_get(e, "response");
    if (!json_is_object(req))
        return bad(c, "no request object");
    if (!json_is_object(resp))
        return bad(c, "no response object");
    const char *when = str_at(e, "startedDateTime");
    char utc[64];
    /* a time without its zone (some writers leave it out, against the spec): taken as UTC */
    if (when && cli_parse_time(when, &x->req_start_us) < 0 && strlen(when) < sizeof utc - 1 &&
        !strpbrk(when + (strlen(when) > 10 ? 10 : 0), "Z+-") && snprintf(utc, sizeof utc, "%sZ", when) > 0)
        when = utc;
    if (!when || cli_parse_time(when, &x->req_start_us) < 0)
        return bad(c, "startedDateTime missing or not an ISO 8601 time");
    x->conn_id = c->idx + 1;
    if (apply_tapedeck(c, json_object_get(e, "_tapedeck"), x) || build_request(c, req, x, &method) ||
        build_response(c, resp, method, x))
        return -1;
    json_t *tm = json_object_get(e, "timings");
    double total = ms_at(e, "time");
    double first = ms_at(tm, "blocked") + ms_at(tm, "dns") + ms_at(tm, "connect") + ms_at(tm, "send") +
                   ms_at(tm, "wait");
    if (x->response && !x->resp_end_us) {
        x->resp_end_us = x->req_start_us + (int64_t)(total * 1000.0 + 0.5);
        x->resp_first_us = x->req_start_us + (int64_t)((first < total ? first : total) * 1000.0 + 0.5);
    }
    if (!x->response) {
        x->resp_first_us = x->resp_end_us = 0;
        const char *why = str_at(resp, "_error");
        if (!x->error && exchange_set_str(&x->error, why ? why : "no response (HAR status 0)"))
            return bad(c, "out of memory");
    }
    return 0;
}

long cli_har_import(const char *cmd, const char *path, int (*each)(const exchange *x, void *ctx), void *ctx)
{
    json_error_t je;
    char *data = NULL;
    size_t len = 0;
    if (cli_read_file(cmd, path, HAR_MAX_FILE, &data, &len) < 0)
        return -1;
    /* The HAR spec: readers ignore a UTF-8 byte order mark. \u0000 is allowed (binary text bodies). */
    size_t bom = len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3) ? 3 : 0;
    json_t *root = json_loadb(data + bom, len - bom, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    free(data);
    har_ctx c = {cmd, path, 0};
    long n = -1;
    if (!root) {
        if (je.line > 0)
            cli_errorf(cmd, "%s: not a HAR file: line %d, column %d: %s", path, je.line, je.column, je.text);
        else
            cli_errorf(cmd, "%s: not a HAR file: %s", path, je.text);
        return -1;
    }
    json_t *entries = json_object_get(json_object_get(root, "log"), "entries");
    if (!json_is_array(entries)) {
        cli_errorf(cmd, "%s: not a HAR file: no log.entries array", path);
        goto done;
    }
    size_t i, skipped = 0, first_skip = 0;
    const char *why = NULL;
    json_t *e;
    n = 0;
    json_array_foreach(entries, i, e) {
        const char *skip = json_is_object(e) ? skip_reason(json_object_get(e, "request")) : NULL;
        if (skip) {
            if (!skipped++) {
                first_skip = i;
                why = skip;
            }
            continue;
        }
        exchange x;
        exchange_init(&x);
        c.idx = i;
        int r = entry_to_exchange(&c, e, &x);
        if (!r)
            r = each(&x, ctx);
        exchange_clear(&x);
        if (r < 0) {
            n = r;
            goto done;
        }
        n++;
    }
    if (skipped)
        cli_errorf(cmd, "warning: %s: skipped %zu %s (the first, entries[%zu]: %s)", path, skipped,
                   skipped == 1 ? "entry that is not an HTTP exchange" : "entries that are not HTTP exchanges",
                   first_skip, why);
done:
    json_decref(root);
    return n;
}
