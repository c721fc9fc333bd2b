/* redact_msg: one raw HTTP message. The head is rewritten line by line (so bytes no rule touches stay as
 * recorded); the body only when a body rule applies to its media type. A body is taken as recorded,
 * de-chunked (through httpmsg) when chunked, and content-decoded (captures/http content) when coded; if a
 * rule replaced something in it, the decoded, redacted body is stored with a Content-Length and without
 * Transfer-Encoding and Content-Encoding. A body that was left unchanged keeps its original bytes and
 * framing. A body a rule should inspect but cannot is replaced whole. */
#include "redact_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content.h"
#include "decode.h"
#include "httpmsg.h"
#include "httpmsg_facts.h"

#define REDACT_MAX_DECODED (64u * 1024 * 1024)

typedef struct head_scan {
    size_t head_len; /* start line through the blank line; the whole message when there is none */
    int complete;    /* a blank line was found */
    char media[128]; /* lower-cased media type, "" when absent */
    char coding[256]; /* Content-Encoding, "" when absent ("?" when too long to be real) */
    int chunked;
} head_scan;

static int name_is(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n == k && !strncasecmp(line, name, k);
}

/* Value of a header line (after the colon) without surrounding whitespace. */
static void value_of(const char *colon, const char *eol, const char **v, const char **ve)
{
    const char *a = colon + 1, *b = eol;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == '\r' || b[-1] == '\n' || b[-1] == ' ' || b[-1] == '\t'))
        b--;
    *v = a;
    *ve = b;
}

static void scan_head(const char *m, size_t len, head_scan *h)
{
    memset(h, 0, sizeof *h);
    h->head_len = len;
    const char *p = memchr(m, '\n', len);
    if (!p)
        return;
    p++;
    const char *end = m + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            return;
        if (eol == p || (eol == p + 1 && *p == '\r')) {
            h->head_len = (size_t)(eol + 1 - m);
            h->complete = 1;
            /* the same reading of the framing as the writer's payload digest */
            h->chunked = httpmsg_raw_chunked(m, h->head_len);
            return;
        }
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon) {
            const char *v, *ve;
            value_of(colon, eol, &v, &ve);
            size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
            if (name_is(p, nl, "content-type")) {
                decode_media_type(v, vl, h->media, sizeof h->media);
            } else if (name_is(p, nl, "content-encoding")) {
                if (vl < sizeof h->coding) {
                    memcpy(h->coding, v, vl);
                    h->coding[vl] = '\0';
                } else {
                    snprintf(h->coding, sizeof h->coding, "?");
                }
            }
        }
        p = eol + 1;
    }
}

/* Which body rules apply to this media type. */
static int body_kind(const redact *r, const head_scan *h)
{
    if (r->n[REDACT_JSON] && decode_is_json_type(h->media))
        return REDACT_JSON;
    if (r->n[REDACT_FORM] && !strcmp(h->media, "application/x-www-form-urlencoded"))
        return REDACT_FORM;
    return -1;
}

/* Replaces the whole body by one bare token. A malformed JSON body stays malformed (not a JSON string),
 * so a replay still exercises the target's error path as the recorded request did. */
static int whole_body(redact *r, const char *b, size_t n, redact_acc *a)
{
    char tok[REDACT_TOKEN_MAX];
    redact_token(r, b, n, tok, sizeof tok);
    tdbuf_reset(&r->body);
    if (tdbuf_puts(&r->body, tok))
        return -1;
    return redact_acc_note(a, REDACT__KINDS, NULL) ? -1 : 1;
}

/* The body: 1 = r->body holds the new one, 0 = keep the recorded body, -1 no memory. *whole set when
 * it was replaced whole. */
static int redact_body(redact *r, int is_request, const char *m, size_t len, const head_scan *h, redact_acc *a,
                       int *whole)
{
    int kind = body_kind(r, h);
    if (kind < 0 || h->head_len >= len || !h->complete)
        return 0;
    const char *b = m + h->head_len;
    size_t n = len - h->head_len;
    httpmsg hm;
    char *decoded = NULL;
    int rc = -1, parsed = 0;
    memset(&hm, 0, sizeof hm);
    if (h->chunked) {
        if (httpmsg_parse(&hm, is_request ? HTTPMSG_REQUEST : HTTPMSG_RESPONSE, m, len, NULL, NULL, 0) != 0) {
            *whole = 1;
            rc = whole_body(r, b, n, a);
            goto done;
        }
        parsed = 1;
        b = hm.body;
        n = hm.body_len;
    }
    if (h->coding[0]) {
        size_t dn = 0;
        int dr = content_decode(h->coding, b, n, REDACT_MAX_DECODED, &decoded, &dn, NULL, 0);
        if (dr == CONTENT_ENOMEM)
            goto done;
        if (dr != CONTENT_OK) {
            *whole = 1;
            rc = whole_body(r, b, n, a);
            goto done;
        }
        if (decoded) {
            b = decoded;
            n = dn;
        }
    }
    if (n == 0) {
        rc = 0;
        goto done;
    }
    tdbuf_reset(&r->body);
    if (kind == REDACT_JSON) {
        rc = redact_json_body(r, b, n, &r->body, a);
        if (rc == REDACT_ENOTJSON) { /* declared JSON but is not: it may hold anything */
            *whole = 1;
            rc = whole_body(r, b, n, a);
        }
    } else {
        rc = redact_pairs(r, REDACT_FORM, b, n, &r->body, a);
    }
done:
    free(decoded);
    if (parsed)
        httpmsg_clear(&hm);
    return rc;
}

/* The start line; for a request with query rules, its target's query rewritten. */
static int start_line(redact *r, int is_request, const char *line, size_t n, redact_acc *a)
{
    tdbuf *o = &r->msg;
    const char *sp1 = is_request && r->n[REDACT_QUERY] ? memchr(line, ' ', n) : NULL;
    const char *q = sp1 ? memchr(sp1, '?', n - (size_t)(sp1 - line)) : NULL;
    if (!q)
        return tdbuf_append(o, line, n) ? -1 : 0;
    const char *qe = q + 1;
    while (qe < line + n && *qe != ' ' && *qe != '#' && *qe != '\r' && *qe != '\n')
        qe++;
    if (tdbuf_append(o, line, (size_t)(q + 1 - line)))
        return -1;
    int rc = redact_pairs(r, REDACT_QUERY, q + 1, (size_t)(qe - q - 1), o, a);
    if (rc < 0 || tdbuf_append(o, qe, (size_t)(line + n - qe)))
        return -1;
    return rc;
}

/* One header line (with its line end): appended as is or rewritten. drop: a framing header the new body
 * replaces. */
static int header_line(redact *r, int is_request, const char *line, size_t n, int reframe, redact_acc *a)
{
    tdbuf *o = &r->msg;
    const char *eol = line + n, *colon = memchr(line, ':', n);
    if (!colon)
        return tdbuf_append(o, line, n) ? -1 : 0;
    size_t nl = (size_t)(colon - line);
    /* Framing names are dropped by prefix: http-parser takes "Transfer-Encodingx" for the real one, and
     * a Content-Length added beside it would make the stored message ambiguous. */
    if (reframe && ((nl >= 14 && !strncasecmp(line, "content-length", 14)) ||
                    (nl >= 17 && !strncasecmp(line, "transfer-encoding", 17)) || name_is(line, nl, "content-encoding")))
        return 0;
    const char *v, *ve;
    value_of(colon, eol, &v, &ve);
    long rule = redact_rule_find(r, REDACT_HEADER, line, nl);
    if (rule >= 0 && ve > v) {
        char tok[REDACT_TOKEN_MAX];
        redact_token(r, v, (size_t)(ve - v), tok, sizeof tok);
        if (tdbuf_append(o, line, (size_t)(v - line)) || tdbuf_puts(o, tok) || tdbuf_append(o, ve, (size_t)(eol - ve)))
            return -1;
        return redact_acc_note(a, REDACT_HEADER, r->names[REDACT_HEADER][rule]) ? -1 : 1;
    }
    if (r->n[REDACT_COOKIE] && (is_request ? name_is(line, nl, "cookie") : name_is(line, nl, "set-cookie"))) {
        /* Set-Cookie: only the first pair is the cookie; the rest are its attributes */
        const char *pe = is_request ? ve : memchr(v, ';', (size_t)(ve - v));
        if (!pe)
            pe = ve;
        if (tdbuf_append(o, line, (size_t)(v - line)))
            return -1;
        int rc = redact_pairs(r, REDACT_COOKIE, v, (size_t)(pe - v), o, a);
        if (rc < 0 || tdbuf_append(o, pe, (size_t)(eol - pe)))
            return -1;
        return rc;
    }
    return tdbuf_append(o, line, n) ? -1 : 0;
}

/* Scratch is kept between messages, but not what one huge body grew it to: a writer thread that met a
 * 64 MiB JSON body once must not hold its tokens (up to 80 MiB) for the rest of its life. */
static void trim_scratch(redact *r)
{
    const size_t keep = 1u << 20;
    if (r->tok.cap > keep / sizeof(jt_token))
        jsontok_free(&r->tok);
    tdbuf *bufs[] = {&r->msg, &r->body, &r->tmp, &r->keys};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]->cap > keep)
            tdbuf_free(bufs[i]);
}

int redact_message(redact *r, int is_request, const char *msg, size_t len, char **out, size_t *outlen,
                   char **list, int *body_replaced)
{
    if (!r || !msg || !len)
        return 0;
    head_scan h;
    scan_head(msg, len, &h);
    redact_acc a = {.values = 0};
    tdbuf_init(&a.list, 0);
    int whole = 0, changed = 0, rc = REDACT_ENOMEM;
    int body = redact_body(r, is_request, msg, len, &h, &a, &whole);
    if (body < 0)
        goto done;
    changed = body;
    tdbuf_reset(&r->msg);
    const char *p = msg, *head_end = msg + h.head_len;
    int first = 1;
    while (p < head_end) {
        const char *eol = memchr(p, '\n', (size_t)(head_end - p));
        size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(head_end - p);
        int blank = h.complete && p + n == head_end;
        int lr;
        if (blank && body) {
            lr = tdbuf_printf(&r->msg, "Content-Length: %zu\r\n", r->body.len) ? -1 : 0;
            lr = lr ? lr : (tdbuf_append(&r->msg, p, n) ? -1 : 0);
        } else if (first) {
            lr = start_line(r, is_request, p, n, &a);
        } else if (blank) {
            lr = tdbuf_append(&r->msg, p, n) ? -1 : 0;
        } else {
            lr = header_line(r, is_request, p, n, body, &a);
        }
        if (lr < 0)
            goto done;
        changed |= lr;
        first = 0;
        p += n;
    }
    if (!changed) {
        rc = 0;
        goto done;
    }
    if (body ? tdbuf_append(&r->msg, r->body.data, r->body.len)
             : tdbuf_append(&r->msg, head_end, (size_t)(msg + len - head_end)))
        goto done;
    char *copy = malloc(r->msg.len + 1);
    if (!copy)
        goto done;
    memcpy(copy, r->msg.data, r->msg.len + 1);
    if (list) {
        size_t ln;
        *list = tdbuf_steal(&a.list, &ln);
        if (!*list)
            *list = strdup("");
        if (!*list) {
            free(copy);
            goto done;
        }
    }
    *out = copy;
    *outlen = r->msg.len;
    if (body_replaced)
        *body_replaced = whole;
    rc = 1;
done:
    tdbuf_free(&a.list);
    trim_scratch(r);
    return rc;
}
