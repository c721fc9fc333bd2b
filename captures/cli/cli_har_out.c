/* cli_har_out: captures -> HAR 1.2 (see cli_har.h). */
#include "cli_har.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_body.h"
#include "cli_conv.h"
#include "cli_util.h"
#include "httpmsg.h"
#include "tdtime.h"

struct cli_har_writer {
    FILE *f;
    unsigned long n;
};

/* A JSON string of n bytes; bytes that are not UTF-8 (obs-text in a header) are taken as Latin-1. */
static json_t *jstr(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j || !s)
        return j;
    char *u = malloc(2 * n + 1);
    if (!u)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            u[k++] = (char)c;
        } else {
            u[k++] = (char)(0xc0 | (c >> 6));
            u[k++] = (char)(0x80 | (c & 0x3f));
        }
    }
    j = json_stringn(u, k);
    free(u);
    return j;
}

static json_t *headers_json(const httpmsg_head *h)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < h->n_headers; i++) {
        if (json_array_append_new(a, json_pack("{s:o,s:o}", "name", jstr(h->headers[i].name, h->headers[i].name_len),
                                               "value", jstr(h->headers[i].value, h->headers[i].value_len)))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The query of a target as HAR pairs, left percent-encoded as sent. */
static json_t *query_json(const char *target)
{
    json_t *a = json_array();
    const char *q = strchr(target, '?');
    while (a && q && *q) {
        q++;
        size_t n = strcspn(q, "&#");
        const char *eq = memchr(q, '=', n);
        size_t kn = eq ? (size_t)(eq - q) : n;
        if (n && json_array_append_new(a, json_pack("{s:o,s:o}", "name", jstr(q, kn), "value",
                                                     eq ? jstr(eq + 1, n - kn - 1) : json_string("")))) {
            json_decref(a);
            return NULL;
        }
        q += n;
        if (*q == '#')
            break;
    }
    return a;
}

/* Puts the body into obj as "text" (+ encoding_key: "base64" when it is not text). */
static int set_body(json_t *obj, const char *body, size_t n, const char *encoding_key)
{
    if (cli_body_is_text(body, n))
        return json_object_set_new(obj, "text", jstr(body, n));
    char *b = cli_b64_encode(body, n);
    int rc = b ? json_object_set_new(obj, "text", json_string(b)) : -1;
    free(b);
    if (!rc)
        rc = json_object_set_new(obj, encoding_key, json_string("base64"));
    return rc;
}

static json_t *request_json(const exchange *x, const httpmsg *m)
{
    char ver[16], ct[256];
    snprintf(ver, sizeof ver, "HTTP/%d.%d", m->head.http_major, m->head.http_minor);
    json_t *r = json_pack("{s:s,s:s,s:s,s:[],s:o,s:o,s:I,s:I}", "method", m->head.method, "url",
                          x->target_uri ? x->target_uri : m->head.url, "httpVersion", ver, "cookies", "headers",
                          headers_json(&m->head), "queryString", query_json(m->head.url), "headersSize",
                          (json_int_t)m->head.head_len, "bodySize", (json_int_t)(x->request_len - m->head.head_len));
    if (r && m->body_len) {
        if (!httpmsg_header_value(&m->head, "Content-Type", ct, sizeof ct))
            ct[0] = '\0';
        json_t *pd = json_pack("{s:s}", "mimeType", ct);
        if (!pd || set_body(pd, m->body, m->body_len, "_encoding") || json_object_set_new(r, "postData", pd)) {
            json_decref(r);
            return NULL;
        }
    }
    return r;
}

static json_t *response_json(const exchange *x, const httpmsg *m)
{
    if (!m)
        return json_pack("{s:i,s:s,s:s,s:[],s:[],s:{s:i,s:s},s:s,s:i,s:i}", "status", 0, "statusText", "",
                         "httpVersion", "", "cookies", "headers", "content", "size", 0, "mimeType", "",
                         "redirectURL", "", "headersSize", -1, "bodySize", -1);
    char ver[16], ct[256], loc[2048], enc[64];
    snprintf(ver, sizeof ver, "HTTP/%d.%d", m->head.http_major, m->head.http_minor);
    if (!httpmsg_header_value(&m->head, "Content-Type", ct, sizeof ct))
        ct[0] = '\0';
    if (!httpmsg_header_value(&m->head, "Location", loc, sizeof loc))
        loc[0] = '\0';
    json_t *content = json_pack("{s:I,s:s}", "size", (json_int_t)m->body_len, "mimeType", ct);
    if (content && m->body_len && set_body(content, m->body, m->body_len, "encoding"))
        json_decref(content), content = NULL;
    if (content && httpmsg_header_value(&m->head, "Content-Encoding", enc, sizeof enc) && strcasecmp(enc, "identity") &&
        json_object_set_new(content, "_tapedeckEncoded", json_true()))
        json_decref(content), content = NULL;
    return json_pack("{s:i,s:s,s:s,s:[],s:o,s:o,s:s,s:I,s:I}", "status", m->head.status, "statusText",
                     m->head.reason ? m->head.reason : "", "httpVersion", ver, "cookies", "headers",
                     headers_json(&m->head), "content", content, "redirectURL", loc, "headersSize",
                     (json_int_t)m->head.head_len, "bodySize", (json_int_t)(x->response_len - m->head.head_len));
}

static json_t *tapedeck_json(const exchange *x)
{
    json_t *t = json_pack("{s:I,s:I,s:I,s:I,s:I}", "conn", (json_int_t)x->conn_id, "seq", (json_int_t)x->conn_seq,
                          "req_start_us", (json_int_t)x->req_start_us, "resp_first_us",
                          (json_int_t)x->resp_first_us, "resp_end_us", (json_int_t)x->resp_end_us);
    json_t *interim = json_array(), *trunc = json_array();
    for (int i = 0; interim && i < x->n_interim; i++)
        json_array_append_new(interim, json_integer(x->interim[i]));
    if (trunc && (x->truncated & EXCHANGE_TRUNC_REQUEST))
        json_array_append_new(trunc, json_string("request"));
    if (trunc && (x->truncated & EXCHANGE_TRUNC_RESPONSE))
        json_array_append_new(trunc, json_string("response"));
    if (!t || json_object_set_new(t, "interim", interim) || json_object_set_new(t, "truncated", trunc) ||
        (x->target_uri && json_object_set_new(t, "target_uri", jstr(x->target_uri, strlen(x->target_uri)))) ||
        (x->client_addr && json_object_set_new(t, "client", jstr(x->client_addr, strlen(x->client_addr)))) ||
        (x->error && json_object_set_new(t, "error", jstr(x->error, strlen(x->error))))) {
        json_decref(t);
        return NULL;
    }
    return t;
}

static double ms_between(int64_t a, int64_t b)
{
    return a && b && b >= a ? (double)(b - a) / 1000.0 : 0.0;
}

cli_har_writer *cli_har_writer_new(FILE *f)
{
    cli_har_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->f = f;
    fprintf(f, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"tapedeck-capture\",\"version\":\"%s\"},"
               "\"pages\":[],\"entries\":[\n",
            TAPEDECK_VERSION);
    return w;
}

int cli_har_writer_add(cli_har_writer *w, const exchange *x)
{
    httpmsg req, resp;
    char err[128], when[48];
    int rc = -1;
    bool have_resp = false;
    json_t *e = NULL;
    if (httpmsg_parse(&req, HTTPMSG_REQUEST, x->request, x->request_len, NULL, err, sizeof err) != 0)
        return 1; /* not HTTP: nothing HAR can say */
    have_resp = x->response && httpmsg_parse(&resp, HTTPMSG_RESPONSE, x->response, x->response_len,
                                             req.head.method, err, sizeof err) == 0;
    double total = ms_between(x->req_start_us, x->resp_end_us);
    double wait = x->resp_first_us ? ms_between(x->req_start_us, x->resp_first_us) : total;
    double receive = x->resp_first_us ? ms_between(x->resp_first_us, x->resp_end_us) : 0.0;
    char conn[32];
    snprintf(conn, sizeof conn, "%llu", (unsigned long long)x->conn_id);
    e = json_pack("{s:s,s:f,s:o,s:o,s:{},s:{s:i,s:i,s:i,s:i,s:f,s:f,s:f},s:s,s:o}", "startedDateTime",
                  tdtime_format_iso(x->req_start_us, 1, when, sizeof when), "time", total, "request",
                  request_json(x, &req), "response", response_json(x, have_resp ? &resp : NULL), "cache",
                  "timings", "blocked", -1, "dns", -1, "connect", -1, "ssl", -1, "send", 0.0, "wait", wait,
                  "receive", receive, "connection", conn, "_tapedeck", tapedeck_json(x));
    if (!e)
        goto done;
    if (w->n++)
        fputs(",\n", w->f);
    rc = json_dumpf(e, w->f, JSON_COMPACT | JSON_REAL_PRECISION(12)) == 0 ? 0 : -1;
done:
    json_decref(e);
    httpmsg_clear(&req);
    if (have_resp)
        httpmsg_clear(&resp);
    return rc;
}

void cli_har_writer_free(cli_har_writer *w)
{
    if (!w)
        return;
    fputs("\n]}}\n", w->f);
    free(w);
}
