/* warc_exchange: maps an exchange to its request/response records and back, and computes the payload
 * digest (sha256 of the de-chunked body, base32 as WARC tools expect). Deliberately does not use httpmsg:
 * the writer must record whatever crossed the wire, even a message httpmsg would reject. */
#include "warc.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdtime.h"

static const EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Fetch once: OpenSSL 3 otherwise looks the algorithm up (under a lock) on every digest. */
static void sha256_init(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256_md)
        sha256_md = EVP_sha256();
}

/* Where the head ends (index of the first body byte), or len when there is no blank line. */
static size_t http_head_len(const char *m, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (m[i] != '\n')
            continue;
        if (m[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && m[i + 1] == '\r' && m[i + 2] == '\n')
            return i + 3;
    }
    return len;
}

/* Does the head end with a final "chunked" transfer coding? */
static int http_head_chunked(const char *m, size_t hl)
{
    const char *p = m, *end = m + hl;
    int chunked = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n > 18 && !strncasecmp(p, "transfer-encoding:", 18)) {
            const char *v = le;
            while (v > p + 18 && (v[-1] == '\r' || v[-1] == ' ' || v[-1] == '\t'))
                v--;
            /* The last coding in the list is the one that frames the body. */
            const char *s = v;
            while (s > p + 18 && s[-1] != ',' && s[-1] != ' ' && s[-1] != '\t' && s[-1] != ':')
                s--;
            chunked = (size_t)(v - s) == 7 && !strncasecmp(s, "chunked", 7);
        }
        p = le + 1;
    }
    return chunked;
}

/* Feed the de-chunked body to the digest; a cut or malformed chunk stream just ends the body. */
static void digest_chunked(EVP_MD_CTX *c, const char *b, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t sz = 0;
        int nd = 0;
        while (i < n && isxdigit((unsigned char)b[i]) && nd < 16) {
            int d = isdigit((unsigned char)b[i]) ? b[i] - '0' : (tolower((unsigned char)b[i]) - 'a' + 10);
            sz = sz * 16 + (uint64_t)d;
            i++;
            nd++;
        }
        if (nd == 0)
            return;
        const char *nl = memchr(b + i, '\n', n - i); /* skip extensions */
        if (!nl)
            return;
        i = (size_t)(nl - b) + 1;
        if (sz == 0)
            return;
        size_t take = sz < n - i ? (size_t)sz : n - i;
        EVP_DigestUpdate(c, b + i, take);
        i += take;
        if (i + 2 <= n && b[i] == '\r' && b[i + 1] == '\n')
            i += 2;
        else if (i < n && b[i] == '\n')
            i += 1;
    }
}

/* "sha256:" + RFC 4648 base32 of the payload digest; 0 on success. */
static int payload_digest(const char *m, size_t len, char *out, size_t outsz)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char md[32];
    unsigned int mdlen = 0;
    pthread_once(&sha256_once, sha256_init);
    size_t hl = http_head_len(m, len);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, sha256_md, NULL)) {
        EVP_MD_CTX_free(c);
        return -1;
    }
    if (hl < len) {
        if (http_head_chunked(m, hl))
            digest_chunked(c, m + hl, len - hl);
        else
            EVP_DigestUpdate(c, m + hl, len - hl);
    }
    int ok = EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    if (!ok || mdlen != 32 || outsz < 7 + 56 + 1)
        return -1;
    memcpy(out, "sha256:", 7);
    size_t o = 7;
    for (size_t i = 0; i < 32; i += 5) {
        uint64_t v = 0;
        size_t nb = 32 - i < 5 ? 32 - i : 5;
        for (size_t k = 0; k < 5; k++)
            v = (v << 8) | (k < nb ? md[i + k] : 0);
        size_t nchars = (nb * 8 + 4) / 5;
        for (size_t k = 0; k < 8; k++)
            out[o++] = k < nchars ? b32[(v >> (35 - 5 * k)) & 31] : '=';
    }
    out[o] = '\0';
    return 0;
}

/* A field value must stay on one line. */
static int put_field(tdbuf *o, const char *name, const char *value)
{
    int rc = tdbuf_puts(o, name);
    rc = rc ? rc : tdbuf_append(o, ": ", 2);
    for (const char *p = value; !rc && *p;) {
        size_t n = strcspn(p, "\r\n");
        rc = tdbuf_append(o, p, n);
        p += n;
        if (*p) {
            rc = rc ? rc : tdbuf_append(o, " ", 1);
            p++;
        }
    }
    return rc ? rc : tdbuf_append(o, "\r\n", 2);
}

/* Appends the pieces in order; stops at the first failure. The headers are built from literals and
 * tdbuf_put_* rather than tdbuf_printf: the format parsing was a tenth of the writer's time. */
static int put_strs(tdbuf *o, const char *const *s, size_t n)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++)
        rc = tdbuf_puts(o, s[i]);
    return rc;
}

/* "Name: " digits "\r\n" */
static int put_num_field(tdbuf *o, const char *name_colon, int64_t v)
{
    int rc = tdbuf_puts(o, name_colon);
    rc = rc ? rc : tdbuf_put_i64(o, v);
    return rc ? rc : tdbuf_append(o, "\r\n", 2);
}

static int put_u64_field(tdbuf *o, const char *name_colon, uint64_t v)
{
    int rc = tdbuf_puts(o, name_colon);
    rc = rc ? rc : tdbuf_put_u64(o, v);
    return rc ? rc : tdbuf_append(o, "\r\n", 2);
}

static int put_common(tdbuf *o, const char *type, const char *id, int64_t date_us, const exchange *x,
                      const char *msgtype, const char *msg, size_t msg_len)
{
    char date[40], digest[80];
    tdtime_format_iso(date_us ? date_us : tdtime_now_us(), 1, date, sizeof date);
    const char *head[] = {"WARC/1.1\r\nWARC-Type: ", type, "\r\nWARC-Record-ID: <", id, ">\r\nWARC-Date: ", date,
                          "\r\n"};
    int rc = put_strs(o, head, sizeof head / sizeof head[0]);
    rc = rc ? rc : put_field(o, "WARC-Target-URI", x->target_uri ? x->target_uri : "http://unknown/");
    if (!rc) {
        const char *ct[] = {"Content-Type: application/http;msgtype=", msgtype, "\r\n"};
        rc = put_strs(o, ct, 3);
    }
    if (!rc && payload_digest(msg, msg_len, digest, sizeof digest) == 0) {
        const char *pd[] = {"WARC-Payload-Digest: ", digest, "\r\n"};
        rc = put_strs(o, pd, 3);
    }
    rc = rc ? rc : put_u64_field(o, "WARC-Tapedeck-Conn: ", x->conn_id);
    rc = rc ? rc : put_u64_field(o, "WARC-Tapedeck-Seq: ", x->conn_seq);
    return rc;
}

static int put_tail(tdbuf *o, const char *msg, size_t len)
{
    int rc = tdbuf_puts(o, "Content-Length: ");
    rc = rc ? rc : tdbuf_put_u64(o, len);
    rc = rc ? rc : tdbuf_append(o, "\r\n\r\n", 4);
    rc = rc ? rc : tdbuf_append(o, msg, len);
    return rc ? rc : tdbuf_append(o, "\r\n\r\n", 4);
}

int warc_format_exchange(const exchange *x, tdbuf *req_out, tdbuf *resp_out)
{
    char req_id[64], resp_id[64];
    const char *req = x->request ? x->request : "";
    warc_new_record_id(req_id, sizeof req_id);
    int rc = put_common(req_out, "request", req_id, x->req_start_us, x, "request", req, x->request_len);
    if (!rc && (x->truncated & EXCHANGE_TRUNC_REQUEST))
        rc = tdbuf_puts(req_out, "WARC-Truncated: length\r\n");
    if (!rc && x->req_start_us)
        rc = put_num_field(req_out, "WARC-Tapedeck-Request-Start: ", x->req_start_us);
    if (!rc && x->client_addr)
        rc = put_field(req_out, "WARC-Tapedeck-Client", x->client_addr);
    if (!rc && (x->error || !x->response))
        rc = put_field(req_out, "WARC-Tapedeck-Error", x->error && *x->error ? x->error : "no response");
    rc = rc ? rc : put_tail(req_out, req, x->request_len);
    if (rc || !x->response)
        return rc ? WARC_ENOMEM : WARC_OK;

    warc_new_record_id(resp_id, sizeof resp_id);
    int64_t date = x->resp_first_us ? x->resp_first_us : x->req_start_us;
    rc = put_common(resp_out, "response", resp_id, date, x, "response", x->response, x->response_len);
    if (!rc) {
        const char *ct[] = {"WARC-Concurrent-To: <", req_id, ">\r\n"};
        rc = put_strs(resp_out, ct, 3);
    }
    if (!rc && (x->truncated & EXCHANGE_TRUNC_RESPONSE))
        rc = tdbuf_puts(resp_out, "WARC-Truncated: length\r\n");
    if (!rc && x->resp_first_us)
        rc = put_num_field(resp_out, "WARC-Tapedeck-Response-First: ", x->resp_first_us);
    if (!rc && x->resp_end_us)
        rc = put_num_field(resp_out, "WARC-Tapedeck-Response-End: ", x->resp_end_us);
    if (!rc && x->n_interim > 0) {
        rc = tdbuf_puts(resp_out, "WARC-Tapedeck-Interim: ");
        for (int i = 0; !rc && i < x->n_interim && i < EXCHANGE_MAX_INTERIM; i++) {
            if (i)
                rc = tdbuf_append(resp_out, ",", 1);
            rc = rc ? rc : tdbuf_put_i64(resp_out, x->interim[i]);
        }
        rc = rc ? rc : tdbuf_append(resp_out, "\r\n", 2);
    }
    rc = rc ? rc : put_tail(resp_out, x->response, x->response_len);
    return rc ? WARC_ENOMEM : WARC_OK;
}

/* "<urn:uuid:...>" -> "urn:uuid:..." into buf. */
static void strip_brackets(const char *v, char *buf, size_t bufsz)
{
    if (!v) {
        buf[0] = '\0';
        return;
    }
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
        v++;
        n -= 2;
    }
    if (n >= bufsz)
        n = bufsz - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
}

static int64_t field_i64(const warc_record *r, const char *name)
{
    const char *v = warc_record_get(r, name);
    if (!v)
        return 0;
    char *e;
    long long n = strtoll(v, &e, 10);
    return e == v ? 0 : (int64_t)n;
}

static int field_truncated(const warc_record *r)
{
    const char *v = warc_record_get(r, "WARC-Truncated");
    return v != NULL && *v != '\0';
}

int warc_records_to_exchange(const warc_record *req, const warc_record *resp, exchange *x, char *err,
                             size_t errlen)
{
    exchange_init(x);
    const char *t = warc_record_type(req);
    if (!t || strcasecmp(t, "request") != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a request record");
        return WARC_EPARSE;
    }
    x->conn_id = (uint64_t)field_i64(req, "WARC-Tapedeck-Conn");
    x->conn_seq = (uint64_t)field_i64(req, "WARC-Tapedeck-Seq");
    x->req_start_us = field_i64(req, "WARC-Tapedeck-Request-Start");
    if (!x->req_start_us) {
        const char *d = warc_record_get(req, "WARC-Date");
        int64_t us;
        if (d && tdtime_parse_iso(d, &us) == 0)
            x->req_start_us = us;
    }
    strip_brackets(warc_record_get(req, "WARC-Record-ID"), x->record_id, sizeof x->record_id);
    if (field_truncated(req))
        x->truncated |= EXCHANGE_TRUNC_REQUEST;
    if (exchange_set_str(&x->target_uri, warc_record_get(req, "WARC-Target-URI")) ||
        exchange_set_str(&x->client_addr, warc_record_get(req, "WARC-Tapedeck-Client")) ||
        exchange_set_str(&x->error, warc_record_get(req, "WARC-Tapedeck-Error")) ||
        exchange_set_buf(&x->request, &x->request_len, req->block ? req->block : "", req->block_len))
        goto nomem;
    if (resp) {
        x->resp_first_us = field_i64(resp, "WARC-Tapedeck-Response-First");
        x->resp_end_us = field_i64(resp, "WARC-Tapedeck-Response-End");
        if (field_truncated(resp))
            x->truncated |= EXCHANGE_TRUNC_RESPONSE;
        const char *im = warc_record_get(resp, "WARC-Tapedeck-Interim");
        while (im && *im && x->n_interim < EXCHANGE_MAX_INTERIM) {
            char *e;
            long c = strtol(im, &e, 10);
            if (e == im)
                break;
            x->interim[x->n_interim++] = (int)c;
            im = e;
            while (*im == ',' || *im == ' ')
                im++;
        }
        if (exchange_set_buf(&x->response, &x->response_len, resp->block ? resp->block : "", resp->block_len))
            goto nomem;
    } else if (!x->error && exchange_set_str(&x->error, "no response recorded")) {
        goto nomem;
    }
    return WARC_OK;
nomem:
    exchange_clear(x);
    if (err && errlen)
        snprintf(err, errlen, "out of memory");
    return WARC_ENOMEM;
}
