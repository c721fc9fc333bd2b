/* decode: HTTP framing via httpmsg (the one HTTP/1 parser), content codings via zlib and libbrotlidec. */
#include "decode.h"

#include <brotli/decode.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* A capped output buffer for the decoders. */
typedef struct obuf {
    char *p;
    size_t len, cap, max;
} obuf;

static int obuf_grow(obuf *o, size_t want)
{
    if (want > o->max + 1)
        return DECODE_ETOOBIG;
    if (want <= o->cap)
        return 0;
    size_t ncap = o->cap ? o->cap : 4096;
    while (ncap < want)
        ncap *= 2;
    if (ncap > o->max + 1)
        ncap = o->max + 1;
    char *np = realloc(o->p, ncap);
    if (!np)
        return DECODE_ENOMEM;
    o->p = np;
    o->cap = ncap;
    return 0;
}

/* windowBits: 15+32 = gzip or zlib header auto-detected; -15 = raw deflate. */
static int inflate_all(const char *in, size_t n, int window_bits, obuf *o)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, window_bits) != Z_OK)
        return DECODE_ENOMEM;
    int rc = DECODE_ECODING;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    for (;;) {
        int g = obuf_grow(o, o->len + 16384 + 1);
        if (g == DECODE_ETOOBIG && o->cap > o->len + 1)
            g = 0; /* use what room is left; overflow is caught below */
        if (g) {
            rc = g;
            break;
        }
        zs.next_out = (Bytef *)o->p + o->len;
        zs.avail_out = (uInt)(o->cap - o->len - 1);
        if (!zs.avail_out) {
            rc = DECODE_ETOOBIG;
            break;
        }
        int zr = inflate(&zs, Z_NO_FLUSH);
        o->len = o->cap - 1 - zs.avail_out;
        if (zr == Z_STREAM_END) {
            /* gzip allows members back to back */
            if (zs.avail_in && window_bits > 0) {
                if (inflateReset(&zs) != Z_OK)
                    break;
                continue;
            }
            rc = 0;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            break;
        if (zr == Z_BUF_ERROR && zs.avail_in == 0)
            break; /* input ended before the stream did */
    }
    inflateEnd(&zs);
    return rc;
}

static int brotli_all(const char *in, size_t n, obuf *o)
{
    BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!st)
        return DECODE_ENOMEM;
    const uint8_t *next_in = (const uint8_t *)in;
    size_t avail_in = n;
    int rc = DECODE_ECODING;
    for (;;) {
        int g = obuf_grow(o, o->len + 16384 + 1);
        if (g == DECODE_ETOOBIG && o->cap > o->len + 1)
            g = 0;
        if (g) {
            rc = g;
            break;
        }
        size_t avail_out = o->cap - o->len - 1;
        if (!avail_out) {
            rc = DECODE_ETOOBIG;
            break;
        }
        uint8_t *next_out = (uint8_t *)o->p + o->len;
        BrotliDecoderResult br = BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out, NULL);
        o->len = (size_t)((char *)next_out - o->p);
        if (br == BROTLI_DECODER_RESULT_SUCCESS) {
            rc = 0;
            break;
        }
        if (br == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
            continue;
        break; /* error, or needs more input that will never come */
    }
    BrotliDecoderDestroyInstance(st);
    return rc;
}

static int decode_one(const char *coding, const char *in, size_t n, obuf *o)
{
    if (!strcasecmp(coding, "gzip") || !strcasecmp(coding, "x-gzip"))
        return inflate_all(in, n, 15 + 32, o);
    if (!strcasecmp(coding, "deflate")) {
        /* "deflate" is zlib-wrapped per the RFC, but servers send raw deflate too: try both. */
        int rc = inflate_all(in, n, 15 + 32, o);
        if (rc == DECODE_ECODING) {
            o->len = 0;
            rc = inflate_all(in, n, -15, o);
        }
        return rc;
    }
    if (!strcasecmp(coding, "br"))
        return brotli_all(in, n, o);
    return DECODE_ECODING;
}

int decode_content(const char *codings, const char *in, size_t n, char **out, size_t *outlen, size_t max,
                   char *err, size_t errlen)
{
    /* Split the list; decode from the last coding applied to the first. */
    char list[8][32];
    int nc = 0;
    const char *p = codings ? codings : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t k = strcspn(p, ", \t");
        if (nc == 8 || k >= sizeof list[0]) {
            snprintf(err, errlen, "content coding list '%s' is too long", codings);
            return DECODE_ECODING;
        }
        memcpy(list[nc], p, k);
        list[nc][k] = '\0';
        if (strcasecmp(list[nc], "identity"))
            nc++;
        p += k;
    }
    *out = NULL;
    *outlen = 0;
    char *cur = NULL;
    size_t cur_len = 0;
    for (int i = nc - 1; i >= 0; i--) {
        obuf o = {.max = max};
        int rc = decode_one(list[i], cur ? cur : in, cur ? cur_len : n, &o);
        free(cur);
        if (rc) {
            free(o.p);
            if (rc == DECODE_ETOOBIG)
                snprintf(err, errlen, "decoded body larger than %zu bytes", max);
            else if (rc == DECODE_ENOMEM)
                snprintf(err, errlen, "out of memory");
            else
                snprintf(err, errlen, "cannot decode content coding '%s'", list[i]);
            return rc;
        }
        if (!o.p && obuf_grow(&o, 1)) {
            snprintf(err, errlen, "out of memory");
            return DECODE_ENOMEM;
        }
        o.p[o.len] = '\0';
        cur = o.p;
        cur_len = o.len;
    }
    *out = cur;
    *outlen = cur_len;
    return 0;
}

void decode_media_type(const char *value, size_t len, char *out, size_t outsz)
{
    size_t i = 0, j = 0;
    while (i < len && (value[i] == ' ' || value[i] == '\t'))
        i++;
    while (i < len && value[i] != ';' && value[i] != ' ' && value[i] != '\t' && j + 1 < outsz)
        out[j++] = (char)tolower((unsigned char)value[i++]);
    if (outsz)
        out[j] = '\0';
}

int decode_response(decode_msg *m, const char *raw, size_t len, size_t head_only_len, const char *req_method,
                    char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    int rc;
    if (head_only_len) {
        /* An HTTP/2 head ("HTTP/2.0 200 ..."): the HTTP/1 parser only knows 1.x, and the version says
         * nothing we compare, so it reads a copy labelled 1.1. */
        const char *sp = memchr(raw, ' ', head_only_len);
        size_t rest = sp ? head_only_len - (size_t)(sp - raw) : 0;
        if (!sp || !(m->head_copy = malloc(8 + rest + 1))) {
            snprintf(err, errlen, sp ? "out of memory" : "no status line");
            return sp ? DECODE_ENOMEM : DECODE_EPARSE;
        }
        memcpy(m->head_copy, "HTTP/1.1", 8);
        memcpy(m->head_copy + 8, sp, rest);
        m->head_copy[8 + rest] = '\0';
        rc = httpmsg_parse(&m->msg, HTTPMSG_RESPONSE, m->head_copy, 8 + rest, "HEAD", err, errlen);
    } else {
        rc = httpmsg_parse(&m->msg, HTTPMSG_RESPONSE, raw, len, req_method, err, errlen);
    }
    if (rc != HTTPMSG_OK) {
        free(m->head_copy);
        memset(m, 0, sizeof *m);
        return DECODE_EPARSE;
    }
    m->status = m->msg.head.status;
    const httpmsg_header *ct = httpmsg_find_header(&m->msg.head, "Content-Type");
    if (ct)
        decode_media_type(ct->value, ct->value_len, m->media_type, sizeof m->media_type);
    const char *body = m->msg.body ? m->msg.body : "";
    size_t body_len = m->msg.body_len;
    if (head_only_len) {
        body = raw + head_only_len;
        body_len = len - head_only_len;
    } else {
        m->truncated = !m->msg.complete;
    }
    char enc[256] = "";
    const httpmsg_header *ce = httpmsg_find_header(&m->msg.head, "Content-Encoding");
    if (ce) {
        size_t k = ce->value_len < sizeof enc - 1 ? ce->value_len : sizeof enc - 1;
        memcpy(enc, ce->value, k);
        enc[k] = '\0';
    }
    char *out = NULL;
    size_t out_len = 0;
    if (enc[0] && body_len) {
        rc = decode_content(enc, body, body_len, &out, &out_len, DECODE_MAX_BODY, err, errlen);
        if (rc) {
            decode_msg_clear(m);
            return rc;
        }
    }
    if (out) {
        m->owned = out;
        m->body = out;
        m->body_len = out_len;
    } else if (head_only_len) {
        m->owned = malloc(body_len + 1);
        if (!m->owned) {
            decode_msg_clear(m);
            snprintf(err, errlen, "out of memory");
            return DECODE_ENOMEM;
        }
        memcpy(m->owned, body, body_len);
        m->owned[body_len] = '\0';
        m->body = m->owned;
        m->body_len = body_len;
    } else {
        m->body = body;
        m->body_len = body_len;
    }
    return DECODE_OK;
}

void decode_msg_clear(decode_msg *m)
{
    if (!m)
        return;
    httpmsg_clear(&m->msg);
    free(m->owned);
    free(m->head_copy);
    json_decref(m->json);
    memset(m, 0, sizeof *m);
}

int decode_is_json_type(const char *mt)
{
    size_t n = strlen(mt);
    return !strcmp(mt, "application/json") || (n > 5 && !strcmp(mt + n - 5, "+json"));
}

json_t *decode_json(decode_msg *m)
{
    if (m->json_tried)
        return m->json;
    m->json_tried = 1;
    if (!m->body_len)
        return NULL;
    if (!decode_is_json_type(m->media_type)) {
        /* no JSON media type: only documents that look like an object or an array */
        size_t i = 0;
        while (i < m->body_len && strchr(" \t\r\n", m->body[i]))
            i++;
        if (i == m->body_len || (m->body[i] != '{' && m->body[i] != '['))
            return NULL;
    }
    m->json = json_loadb(m->body, m->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    return m->json;
}
