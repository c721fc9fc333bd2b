/* decode: HTTP framing via httpmsg (the one HTTP/1 parser), content codings via captures/content. */
#include "decode.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        rc = content_decode(enc, body, body_len, DECODE_MAX_BODY, &out, &out_len, err, errlen);
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
    memset(m, 0, sizeof *m);
}

int decode_is_json_type(const char *mt)
{
    size_t n = strlen(mt);
    return !strcmp(mt, "application/json") || (n > 5 && !strcmp(mt + n - 5, "+json"));
}
