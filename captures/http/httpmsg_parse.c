/* httpmsg, one-shot side: a whole raw message parsed into a head and a de-chunked body, built on the
 * streaming parser so both paths apply the same framing rules. Also the header lookups. */
#include "httpmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Tools read captures that a proxy with its own limits wrote; be generous here. */
enum { ONESHOT_MAX_HEAD = 1024 * 1024, ONESHOT_MAX_HEADERS = 4096 };

typedef struct oneshot {
    httpmsg_type type;
    bool final_head; /* the head being read is the final one (not a 1xx) */
    bool done;
    const httpmsg_head *head; /* the parser's, valid while it lives */
    char *body;
    size_t body_len, body_cap;
    bool oom;
} oneshot;

static int os_head(void *ctx, const httpmsg_head *h)
{
    oneshot *o = ctx;
    o->head = h;
    o->final_head = o->type == HTTPMSG_REQUEST || h->status >= 200 || h->status == 101;
    return 0;
}

static int os_body(void *ctx, const char *at, size_t len)
{
    oneshot *o = ctx;
    if (!o->final_head)
        return 0;
    if (o->body_len + len + 1 > o->body_cap) {
        size_t cap = o->body_cap ? o->body_cap : 256;
        while (cap < o->body_len + len + 1)
            cap *= 2;
        char *nb = realloc(o->body, cap);
        if (!nb) {
            o->oom = true;
            return -1;
        }
        o->body = nb;
        o->body_cap = cap;
    }
    memcpy(o->body + o->body_len, at, len);
    o->body_len += len;
    return 0;
}

static int os_complete(void *ctx)
{
    oneshot *o = ctx;
    if (!o->final_head)
        return 0; /* a 1xx: the final response follows */
    o->done = true;
    return 1;
}

int httpmsg_parse(httpmsg *m, httpmsg_type type, const char *raw, size_t len, const char *request_method,
                  char *err, size_t errlen)
{
    int rc = HTTPMSG_EBAD;
    oneshot o = {.type = type};
    httpmsg_callbacks cb = {.on_head = os_head, .on_body = os_body, .on_complete = os_complete};
    httpmsg_limits lim = {.max_head = ONESHOT_MAX_HEAD, .max_headers = ONESHOT_MAX_HEADERS};
    httpmsg_parser *p = httpmsg_parser_new(type, &cb, &o, &lim);
    memset(m, 0, sizeof *m);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (type == HTTPMSG_RESPONSE)
        httpmsg_parser_set_request_method(p, request_method);
    ssize_t n = httpmsg_parser_execute(p, raw, len);
    if (n < 0) {
        rc = (int)n;
        snprintf(err, errlen, "%s", o.oom ? "out of memory" : httpmsg_parser_error(p));
        goto out;
    }
    size_t consumed = (size_t)n;
    if (!o.done && !o.final_head) {
        snprintf(err, errlen, len ? "incomplete message head" : "empty message");
        goto out;
    }
    if (!o.done && type == HTTPMSG_RESPONSE && httpmsg_parser_eof(p) == 0 && o.done)
        consumed = len; /* a response delimited by the end of the input */
    if (!o.body) {
        o.body = malloc(1);
        if (!o.body) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    o.body[o.body_len] = '\0';
    m->head = *o.head;
    m->body = o.body;
    m->body_len = o.body_len;
    m->complete = o.done;
    m->consumed = consumed;
    m->priv = p;
    p = NULL;
    o.body = NULL;
    rc = HTTPMSG_OK;
out:
    httpmsg_parser_free(p);
    free(o.body);
    return rc;
}

void httpmsg_clear(httpmsg *m)
{
    if (!m)
        return;
    free(m->body);
    httpmsg_parser_free(m->priv);
    memset(m, 0, sizeof *m);
}

static bool name_is(const httpmsg_header *h, const char *name)
{
    return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

const httpmsg_header *httpmsg_find_header(const httpmsg_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_headers; i++)
        if (name_is(&h->headers[i], name))
            return &h->headers[i];
    return NULL;
}

int httpmsg_header_value(const httpmsg_head *h, const char *name, char *buf, size_t bufsz)
{
    const httpmsg_header *f = httpmsg_find_header(h, name);
    if (!f)
        return 0;
    if (bufsz) {
        size_t n = f->value_len < bufsz - 1 ? f->value_len : bufsz - 1;
        memcpy(buf, f->value, n);
        buf[n] = '\0';
    }
    return 1;
}
