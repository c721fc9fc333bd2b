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
    int chunked;
    size_t hl = httpmsg_raw_head_scan(m, len, &chunked);
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
    if (chunked)
        httpmsg_dechunk(m + hl, len - hl, digest_sink, c); /* a cut stream: the digest of what is there */
    else
        EVP_DigestUpdate(c, m + hl, len - hl);
    int ok = EVP_DigestFinal_ex(c, md, &mdlen);
    if (!ok || mdlen != 32)
        return -1;
    /* Six whole 5-byte groups, 8 characters each, then the last 2 bytes: 4 characters and "====" (a
     * group loop that tested every byte and character against the group's length was ~1000
     * instructions a digest). */
    memcpy(out, "sha256:", 7);
    char *o = out + 7;
    for (size_t i = 0; i < 30; i += 5, o += 8) {
        uint64_t v = (uint64_t)md[i] << 32 | (uint64_t)md[i + 1] << 24 | (uint64_t)md[i + 2] << 16 |
                     (uint64_t)md[i + 3] << 8 | md[i + 4];
        o[0] = b32[v >> 35], o[1] = b32[(v >> 30) & 31], o[2] = b32[(v >> 25) & 31], o[3] = b32[(v >> 20) & 31];
        o[4] = b32[(v >> 15) & 31], o[5] = b32[(v >> 10) & 31], o[6] = b32[(v >> 5) & 31], o[7] = b32[v & 31];
    }
    unsigned t = (unsigned)md[30] << 8 | md[31]; /* 16 bits: 5 + 5 + 5 + 1 (padded with 4 zero bits) */
    o[0] = b32[t >> 11];
    o[1] = b32[(t >> 6) & 31];
    o[2] = b32[(t >> 1) & 31];
    o[3] = b32[(t << 4) & 31];
    memcpy(o + 4, "====", 5);
    return 0;
}

/* Record heads are written in place: room for the whole record is reserved once (a bound: the fixed
 * text, the variable strings' lengths and the message), then filled through a cursor. A tdbuf call per
 * piece, each checking room and measuring its string, was a tenth of the writer's instructions. */
#define PUT(p, lit) ((char *)memcpy((p), (lit), sizeof(lit) - 1) + sizeof(lit) - 1)
#define HEAD_FIXED 1024 /* every literal, number, id, date and digest of one head, with room to spare */

static char *put_mem(char *p, const char *s, size_t n)
{
    return (char *)memcpy(p, s, n) + n;
}

static char *put_str(char *p, const char *s)
{
    return put_mem(p, s, strlen(s));
}

static char *put_u64(char *p, uint64_t v)
{
    return tdbuf_u64_digits(p, v);
}

static char *put_i64(char *p, int64_t v)
{
    if (v >= 0)
        return put_u64(p, (uint64_t)v);
    *p++ = '-';
    return put_u64(p, (uint64_t)0 - (uint64_t)v);
}

/* "Name: value\r\n"; a field value must stay on one line, so each CR or LF in it becomes a space. */
static char *put_field(char *p, const char *name, size_t nlen, const char *value)
{
    p = PUT(put_mem(p, name, nlen), ": ");
    size_t clean = strcspn(value, "\r\n"), n = clean + strlen(value + clean);
    memcpy(p, value, n);
    for (size_t i = clean; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n')
            p[i] = ' ';
    return PUT(p + n, "\r\n");
}
#define PUT_FIELD(p, name, value) put_field((p), name, sizeof(name) - 1, (value))

/* "Name: digits\r\n" */
#define PUT_NUM(p, name, v) PUT(put_i64(PUT((p), name ": "), (v)), "\r\n")

static size_t opt_len(const char *s)
{
    return s ? strlen(s) : 0;
}

/* Reserves room for a record of at most `bound` bytes past o's end; the cursor, or NULL. */
static char *head_begin(tdbuf *o, size_t bound)
{
    return tdbuf_reserve(o, bound) == TDBUF_OK ? o->data + o->len : NULL;
}

static void head_end(tdbuf *o, char *p)
{
    o->len = (size_t)(p - o->data);
    o->data[o->len] = '\0';
}

/* Room the common fields need beyond HEAD_FIXED: the URI, one "WARC-Protocol: \r\n" per protocol. */
static size_t common_extra(const exchange *x)
{
    return opt_len(x->target_uri) + 17 * (opt_len(x->protocol) + 1);
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
    int ca, cb;
    size_t ha = httpmsg_raw_head_scan(a, alen, &ca), hb = httpmsg_raw_head_scan(b, blen, &cb);
    return alen - ha == blen - hb && memcmp(a + ha, b + hb, alen - ha) == 0 && ca == cb;
}

/* digest: the WARC-Payload-Digest value, or NULL for none. */
static char *put_common(char *p, const char *type, const char *id, int64_t date_us, const exchange *x,
                        const char *msgtype, const char *digest)
{
    char date[40];
    tdtime_format_iso(date_us ? date_us : tdtime_now_us(), 1, date, sizeof date);
    p = put_str(PUT(p, "WARC/1.1\r\nWARC-Type: "), type);
    p = put_str(PUT(p, "\r\nWARC-Record-ID: <"), id);
    p = put_str(PUT(p, ">\r\nWARC-Date: "), date);
    p = PUT_FIELD(PUT(p, "\r\n"), "WARC-Target-URI", x->target_uri ? x->target_uri : "http://unknown/");
    p = PUT(put_str(PUT(p, "Content-Type: application/http;msgtype="), msgtype), "\r\n");
    if (digest)
        p = PUT(put_str(PUT(p, "WARC-Payload-Digest: "), digest), "\r\n");
    p = PUT(put_u64(PUT(p, "WARC-Tapedeck-Conn: "), x->conn_id), "\r\n");
    p = PUT(put_u64(PUT(p, "WARC-Tapedeck-Seq: "), x->conn_seq), "\r\n");
    /* WARC-Protocol (warc-specifications issue 42): one field per protocol, outermost last */
    for (const char *q = x->protocol; q && *q;) {
        size_t n = strcspn(q, " ");
        if (n)
            p = PUT(put_mem(PUT(p, "WARC-Protocol: "), q, n), "\r\n");
        q += n;
        q += *q == ' ';
    }
    return p;
}

static char *put_tail(char *p, const char *msg, size_t len)
{
    p = PUT(put_u64(PUT(p, "Content-Length: "), len), "\r\n\r\n");
    return PUT(put_mem(p, msg, len), "\r\n\r\n");
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
    char *p = head_begin(out, HEAD_FIXED + common_extra(x) + sh->response_len);
    if (!p)
        return -1;
    warc_new_record_id(id, sizeof id);
    int64_t date = sh->resp_first_us ? sh->resp_first_us : sh->sent_us;
    p = put_common(p, "response", id, date, x, "response", digest);
    p = put_str(PUT(p, "WARC-Concurrent-To: <"), req_id);
    p = PUT(put_str(PUT(p, ">\r\nWARC-Tapedeck-Role: "), shadow_role[which]), "\r\n");
    if (sh->truncated)
        p = PUT(p, "WARC-Truncated: length\r\n");
    if (sh->sent_us)
        p = PUT_NUM(p, "WARC-Tapedeck-Request-Start", sh->sent_us);
    if (sh->resp_first_us)
        p = PUT_NUM(p, "WARC-Tapedeck-Response-First", sh->resp_first_us);
    if (sh->resp_end_us)
        p = PUT_NUM(p, "WARC-Tapedeck-Response-End", sh->resp_end_us);
    head_end(out, put_tail(p, sh->response, sh->response_len));
    return 0;
}

int warc_format_exchange(const exchange *x, tdbuf *req_out, tdbuf *resp_out)
{
    return warc_format_exchange_opts(x, req_out, resp_out, 0);
}

int warc_format_exchange_opts(const exchange *x, tdbuf *req_out, tdbuf *resp_out, unsigned flags)
{
    return warc_format_exchange_shadow(x, req_out, resp_out, NULL, flags);
}

static int format_request(const exchange *x, const char *req_id, tdbuf *out, int shadows, unsigned flags)
{
    char digest[80];
    const char *req = x->request ? x->request : "";
    const char *error = x->error || !x->response ? (x->error && *x->error ? x->error : "no response") : NULL;
    size_t extra = opt_len(x->client_addr) + opt_len(x->redacted_request) + opt_len(error);
    for (int i = 0; shadows && i < EXCHANGE_N_SHADOW; i++) {
        const exchange_shadow *sh = exchange_shadow_get(x, i);
        if (sh && !sh->response)
            extra += 64 + (sh->error && *sh->error ? strlen(sh->error) : 9);
    }
    char *p = head_begin(out, HEAD_FIXED + common_extra(x) + extra + x->request_len);
    if (!p)
        return -1;
    p = put_common(p, "request", req_id, x->req_start_us, x, "request",
                   digest_of(req, x->request_len, flags, digest, sizeof digest));
    if (x->truncated & EXCHANGE_TRUNC_REQUEST)
        p = PUT(p, "WARC-Truncated: length\r\n");
    if (x->req_start_us)
        p = PUT_NUM(p, "WARC-Tapedeck-Request-Start", x->req_start_us);
    if (x->client_addr)
        p = PUT_FIELD(p, "WARC-Tapedeck-Client", x->client_addr);
    if (x->redacted_request && *x->redacted_request)
        p = PUT_FIELD(p, "WARC-Tapedeck-Redacted", x->redacted_request);
    if (error)
        p = PUT_FIELD(p, "WARC-Tapedeck-Error", error);
    for (int i = 0; shadows && i < EXCHANGE_N_SHADOW; i++) {
        const exchange_shadow *sh = exchange_shadow_get(x, i);
        if (sh && !sh->response)
            p = put_field(p, shadow_err_field[i], strlen(shadow_err_field[i]),
                          sh->error && *sh->error ? sh->error : "no answer");
    }
    head_end(out, put_tail(p, req, x->request_len));
    return 0;
}

/* digest: the response's payload digest, NULL for none. */
static int format_response(const exchange *x, const char *req_id, tdbuf *out, const char *digest)
{
    char resp_id[64];
    char *p = head_begin(out, HEAD_FIXED + 12 * EXCHANGE_MAX_INTERIM + common_extra(x) +
                                  opt_len(x->redacted_response) + x->response_len);
    if (!p)
        return -1;
    warc_new_record_id(resp_id, sizeof resp_id);
    int64_t date = x->resp_first_us ? x->resp_first_us : x->req_start_us;
    p = put_common(p, "response", resp_id, date, x, "response", digest);
    p = PUT(put_str(PUT(p, "WARC-Concurrent-To: <"), req_id), ">\r\n");
    if (x->truncated & EXCHANGE_TRUNC_RESPONSE)
        p = PUT(p, "WARC-Truncated: length\r\n");
    if (x->resp_first_us)
        p = PUT_NUM(p, "WARC-Tapedeck-Response-First", x->resp_first_us);
    if (x->resp_end_us)
        p = PUT_NUM(p, "WARC-Tapedeck-Response-End", x->resp_end_us);
    if (x->redacted_response && *x->redacted_response)
        p = PUT_FIELD(p, "WARC-Tapedeck-Redacted", x->redacted_response);
    if (x->n_interim > 0) {
        p = PUT(p, "WARC-Tapedeck-Interim: ");
        for (int i = 0; i < x->n_interim && i < EXCHANGE_MAX_INTERIM; i++) {
            if (i)
                *p++ = ',';
            p = put_i64(p, x->interim[i]);
        }
        p = PUT(p, "\r\n");
    }
    head_end(out, put_tail(p, x->response, x->response_len));
    return 0;
}

int warc_format_exchange_shadow(const exchange *x, tdbuf *req_out, tdbuf *resp_out, tdbuf *shadow_out,
                                unsigned flags)
{
    char req_id[64], resp_digest[80];
    const char *rd = x->response ? digest_of(x->response, x->response_len, flags, resp_digest, sizeof resp_digest)
                                 : NULL;
    warc_new_record_id(req_id, sizeof req_id);
    int rc = format_request(x, req_id, req_out, shadow_out != NULL, flags);
    for (int i = 0; shadow_out && !rc && i < EXCHANGE_N_SHADOW; i++)
        rc = put_shadow(x, i, req_id, &shadow_out[i], flags, rd);
    if (!rc && x->response)
        rc = format_response(x, req_id, resp_out, rd);
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
