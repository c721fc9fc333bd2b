/* warc_exchange: maps an exchange to its request/response records and back, and computes the payload
 * digest (sha256 of the de-chunked body, base32 as WARC tools expect). Does not parse with httpmsg: the
 * writer must record whatever crossed the wire, even a message httpmsg would reject; the lenient raw
 * readers of httpmsg_facts.h (head length, chunked, de-chunking) find the payload. */
#include "warc.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpmsg_facts.h"
#include "tdtime.h"

static const EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static pthread_key_t sha256_ctx_key; /* the thread's EVP_MD_CTX, freed when the thread ends */

static void sha256_ctx_free(void *c)
{
    EVP_MD_CTX_free(c);
}

/* Fetch once: OpenSSL 3 otherwise looks the algorithm up (under a lock) on every digest. */
static void sha256_init(void)
{
    pthread_key_create(&sha256_ctx_key, sha256_ctx_free);
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256_md)
        sha256_md = EVP_sha256();
}

static void digest_sink(void *ctx, const char *data, size_t n)
{
    EVP_DigestUpdate(ctx, data, n);
}

/* sha256 of no bytes, as payload_digest writes it */
#define WARC_EMPTY_DIGEST "sha256:4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ===="

/* "sha256:" + RFC 4648 base32 of the payload digest; 0 on success. */
static int payload_digest(const char *m, size_t len, char *out, size_t outsz)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char md[32];
    unsigned int mdlen = 0;
    size_t hl = httpmsg_raw_head_len(m, len);
    if (outsz < sizeof WARC_EMPTY_DIGEST)
        return -1;
    if (hl >= len) {
        /* No payload (most requests): its digest is a constant, not worth a context and a block. */
        memcpy(out, WARC_EMPTY_DIGEST, sizeof WARC_EMPTY_DIGEST);
        return 0;
    }
    pthread_once(&sha256_once, sha256_init);
    /* One context per thread, reset by each Init: allocating and freeing one per record cost more than
     * hashing a small body. */
    EVP_MD_CTX *c = pthread_getspecific(sha256_ctx_key);
    if (!c && (!(c = EVP_MD_CTX_new()) || pthread_setspecific(sha256_ctx_key, c) != 0)) {
        EVP_MD_CTX_free(c);
        return -1;
    }
    if (!EVP_DigestInit_ex(c, sha256_md, NULL))
        return -1;
    if (httpmsg_raw_chunked(m, hl))
        httpmsg_dechunk(m + hl, len - hl, digest_sink, c); /* a cut stream: the digest of what is there */
    else
        EVP_DigestUpdate(c, m + hl, len - hl);
    int ok = EVP_DigestFinal_ex(c, md, &mdlen);
    if (!ok || mdlen != 32)
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

/* The payload digest of msg into buf, or NULL when the record goes without one (WARC_FMT_NO_DIGEST, or
 * the digest failed: the field is optional). */
static const char *digest_of(const char *msg, size_t len, unsigned flags, char *buf, size_t bufsz)
{
    return !(flags & WARC_FMT_NO_DIGEST) && payload_digest(msg, len, buf, bufsz) == 0 ? buf : NULL;
}

/* Whether a and b carry the same payload: the same bytes after the head, framed the same way (both
 * chunked or neither), so one digest serves both. A shadow as good as the primary answers with the
 * primary's bytes: a memcmp instead of a second sha256 over the body (half the writer's time on 64 KiB). */
static int same_payload(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t ha = httpmsg_raw_head_len(a, alen), hb = httpmsg_raw_head_len(b, blen);
    return alen - ha == blen - hb && memcmp(a + ha, b + hb, alen - ha) == 0 &&
           httpmsg_raw_chunked(a, ha) == httpmsg_raw_chunked(b, hb);
}

/* digest: the WARC-Payload-Digest value, or NULL for none. */
static int put_common(tdbuf *o, const char *type, const char *id, int64_t date_us, const exchange *x,
                      const char *msgtype, const char *digest)
{
    char date[40];
    tdtime_format_iso(date_us ? date_us : tdtime_now_us(), 1, date, sizeof date);
    const char *head[] = {"WARC/1.1\r\nWARC-Type: ", type, "\r\nWARC-Record-ID: <", id, ">\r\nWARC-Date: ", date,
                          "\r\n"};
    int rc = put_strs(o, head, sizeof head / sizeof head[0]);
    rc = rc ? rc : put_field(o, "WARC-Target-URI", x->target_uri ? x->target_uri : "http://unknown/");
    if (!rc) {
        const char *ct[] = {"Content-Type: application/http;msgtype=", msgtype, "\r\n"};
        rc = put_strs(o, ct, 3);
    }
    if (!rc && digest) {
        const char *pd[] = {"WARC-Payload-Digest: ", digest, "\r\n"};
        rc = put_strs(o, pd, 3);
    }
    rc = rc ? rc : put_u64_field(o, "WARC-Tapedeck-Conn: ", x->conn_id);
    rc = rc ? rc : put_u64_field(o, "WARC-Tapedeck-Seq: ", x->conn_seq);
    /* WARC-Protocol (warc-specifications issue 42): one field per protocol, outermost last */
    for (const char *p = x->protocol; !rc && p && *p;) {
        size_t n = strcspn(p, " ");
        if (n) {
            rc = tdbuf_puts(o, "WARC-Protocol: ");
            rc = rc ? rc : tdbuf_append(o, p, n);
            rc = rc ? rc : tdbuf_append(o, "\r\n", 2);
        }
        p += n;
        p += *p == ' ';
    }
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

static const char *const shadow_role[EXCHANGE_N_SHADOW] = {"shadow", "shadow-baseline"};
static const char *const shadow_err_field[EXCHANGE_N_SHADOW] = {"WARC-Tapedeck-Shadow-Error",
                                                                "WARC-Tapedeck-Shadow-Baseline-Error"};

/* resp_digest: the primary response's digest (NULL: none), reused when the payloads are the same. */
static int put_shadow(const exchange *x, int which, const char *req_id, tdbuf *out, unsigned flags,
                      const char *resp_digest)
{
    const exchange_shadow *sh = exchange_shadow_get(x, which);
    char id[64], dbuf[80];
    if (!sh || !sh->response)
        return 0;
    const char *digest = resp_digest && same_payload(sh->response, sh->response_len, x->response, x->response_len)
                             ? resp_digest
                             : digest_of(sh->response, sh->response_len, flags, dbuf, sizeof dbuf);
    warc_new_record_id(id, sizeof id);
    int64_t date = sh->resp_first_us ? sh->resp_first_us : sh->sent_us;
    int rc = put_common(out, "response", id, date, x, "response", digest);
    rc = rc ? rc : tdbuf_printf(out, "WARC-Concurrent-To: <%s>\r\nWARC-Tapedeck-Role: %s\r\n", req_id,
                                shadow_role[which]);
    if (!rc && sh->truncated)
        rc = tdbuf_puts(out, "WARC-Truncated: length\r\n");
    if (!rc && sh->sent_us)
        rc = put_num_field(out, "WARC-Tapedeck-Request-Start: ", sh->sent_us);
    if (!rc && sh->resp_first_us)
        rc = put_num_field(out, "WARC-Tapedeck-Response-First: ", sh->resp_first_us);
    if (!rc && sh->resp_end_us)
        rc = put_num_field(out, "WARC-Tapedeck-Response-End: ", sh->resp_end_us);
    return rc ? rc : put_tail(out, sh->response, sh->response_len);
}

int warc_format_exchange(const exchange *x, tdbuf *req_out, tdbuf *resp_out)
{
    return warc_format_exchange_opts(x, req_out, resp_out, 0);
}

int warc_format_exchange_opts(const exchange *x, tdbuf *req_out, tdbuf *resp_out, unsigned flags)
{
    return warc_format_exchange_shadow(x, req_out, resp_out, NULL, flags);
}

int warc_format_exchange_shadow(const exchange *x, tdbuf *req_out, tdbuf *resp_out, tdbuf *shadow_out,
                                unsigned flags)
{
    char req_id[64], resp_id[64], req_digest[80], resp_digest[80];
    const char *req = x->request ? x->request : "";
    const char *rd = x->response ? digest_of(x->response, x->response_len, flags, resp_digest, sizeof resp_digest)
                                 : NULL;
    warc_new_record_id(req_id, sizeof req_id);
    int rc = put_common(req_out, "request", req_id, x->req_start_us, x, "request",
                        digest_of(req, x->request_len, flags, req_digest, sizeof req_digest));
    if (!rc && (x->truncated & EXCHANGE_TRUNC_REQUEST))
        rc = tdbuf_puts(req_out, "WARC-Truncated: length\r\n");
    if (!rc && x->req_start_us)
        rc = put_num_field(req_out, "WARC-Tapedeck-Request-Start: ", x->req_start_us);
    if (!rc && x->client_addr)
        rc = put_field(req_out, "WARC-Tapedeck-Client", x->client_addr);
    if (!rc && x->redacted_request && *x->redacted_request)
        rc = put_field(req_out, "WARC-Tapedeck-Redacted", x->redacted_request);
    if (!rc && (x->error || !x->response))
        rc = put_field(req_out, "WARC-Tapedeck-Error", x->error && *x->error ? x->error : "no response");
    for (int i = 0; shadow_out && !rc && i < EXCHANGE_N_SHADOW; i++) {
        const exchange_shadow *sh = exchange_shadow_get(x, i);
        if (sh && !sh->response)
            rc = put_field(req_out, shadow_err_field[i], sh->error && *sh->error ? sh->error : "no answer");
    }
    rc = rc ? rc : put_tail(req_out, req, x->request_len);
    for (int i = 0; shadow_out && !rc && i < EXCHANGE_N_SHADOW; i++)
        rc = put_shadow(x, i, req_id, &shadow_out[i], flags, rd);
    if (rc || !x->response)
        return rc ? WARC_ENOMEM : WARC_OK;

    warc_new_record_id(resp_id, sizeof resp_id);
    int64_t date = x->resp_first_us ? x->resp_first_us : x->req_start_us;
    rc = put_common(resp_out, "response", resp_id, date, x, "response", rd);
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
    if (!rc && x->redacted_response && *x->redacted_response)
        rc = put_field(resp_out, "WARC-Tapedeck-Redacted", x->redacted_response);
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

int warc_record_role(const warc_record *r)
{
    const char *v = warc_record_get(r, "WARC-Tapedeck-Role");
    if (!v || !strcasecmp(v, "primary"))
        return -1;
    for (int i = 0; i < EXCHANGE_N_SHADOW; i++)
        if (!strcasecmp(v, shadow_role[i]))
            return i;
    return -2;
}

int warc_record_to_shadow(warc_record *rec, int which, exchange *x)
{
    exchange_shadow *sh = exchange_shadow_slot(x, which);
    if (!sh)
        return WARC_ENOMEM;
    free(sh->response);
    free(sh->error);
    memset(sh, 0, sizeof *sh);
    sh->present = 1;
    sh->sent_us = field_i64(rec, "WARC-Tapedeck-Request-Start");
    sh->resp_first_us = field_i64(rec, "WARC-Tapedeck-Response-First");
    sh->resp_end_us = field_i64(rec, "WARC-Tapedeck-Response-End");
    sh->truncated = field_truncated(rec);
    if (rec->block) {
        sh->response = rec->block;
        sh->response_len = rec->block_len;
        rec->block = NULL;
        rec->block_len = 0;
        return WARC_OK;
    }
    return exchange_set_buf(&sh->response, &sh->response_len, "", 0) ? WARC_ENOMEM : WARC_OK;
}

/* A copy the proxy sent to a shadow that never answered: the request record says why. */
static int shadow_errors_from(const warc_record *req, exchange *x)
{
    for (int i = 0; i < EXCHANGE_N_SHADOW; i++) {
        const char *e = warc_record_get(req, shadow_err_field[i]);
        if (!e)
            continue;
        exchange_shadow *sh = exchange_shadow_slot(x, i);
        if (!sh || exchange_set_str(&sh->error, e))
            return WARC_ENOMEM;
        sh->present = 1;
    }
    return WARC_OK;
}

/* Every WARC-Protocol field's value, space-separated, into *out (left NULL when there is none). */
static int join_protocols(const warc_record *r, char **out)
{
    tdbuf b;
    tdbuf_init(&b, 4096);
    int rc = 0;
    for (size_t i = 0; !rc && i < r->n_fields; i++)
        if (!strcasecmp(r->fields[i].name, "WARC-Protocol") && r->fields[i].value[0])
            rc = tdbuf_printf(&b, b.len ? " %s" : "%s", r->fields[i].value);
    if (!rc && b.len) {
        *out = tdbuf_steal(&b, NULL);
        return *out ? 0 : -1;
    }
    tdbuf_free(&b);
    return rc ? -1 : 0;
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
    warc_strip_brackets(warc_record_get(req, "WARC-Record-ID"), x->record_id, sizeof x->record_id);
    if (join_protocols(req, &x->protocol) != 0)
        goto nomem;
    if (field_truncated(req))
        x->truncated |= EXCHANGE_TRUNC_REQUEST;
    /* WARC/1.0 writers (wget) put the URI in <>: the brackets are not part of it. */
    const char *uri = warc_record_get(req, "WARC-Target-URI");
    if (!uri && resp)
        uri = warc_record_get(resp, "WARC-Target-URI");
    size_t ul = uri ? strlen(uri) : 0;
    if (ul >= 2 && uri[0] == '<' && uri[ul - 1] == '>') {
        if (!(x->target_uri = malloc(ul - 1)))
            goto nomem;
        memcpy(x->target_uri, uri + 1, ul - 2);
        x->target_uri[ul - 2] = '\0';
        uri = NULL;
    }
    if ((uri && exchange_set_str(&x->target_uri, uri)) ||
        exchange_set_str(&x->client_addr, warc_record_get(req, "WARC-Tapedeck-Client")) ||
        exchange_set_str(&x->error, warc_record_get(req, "WARC-Tapedeck-Error")) ||
        exchange_set_str(&x->redacted_request, warc_record_get(req, "WARC-Tapedeck-Redacted")) ||
        exchange_set_buf(&x->request, &x->request_len, req->block ? req->block : "", req->block_len) ||
        shadow_errors_from(req, x))
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
        if (exchange_set_buf(&x->response, &x->response_len, resp->block ? resp->block : "", resp->block_len) ||
            exchange_set_str(&x->redacted_response, warc_record_get(resp, "WARC-Tapedeck-Redacted")))
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
