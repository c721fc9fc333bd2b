/* Fuzz target for httpmsg: the input goes to a request and a response parser, streaming in two pieces
 * (the cut taken from the first byte), then to the one-shot parse. Nothing may crash, leak or read out
 * of bounds; the head a callback sees must be self-consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg.h"

typedef struct sink {
    size_t body;
    int messages;
} sink;

static int on_head(void *ctx, const httpmsg_head *h)
{
    /* touch every string so ASan checks they are live and terminated */
    size_t n = strlen(h->url) + strlen(h->reason);
    for (size_t i = 0; i < h->n_headers; i++)
        n += strlen(h->headers[i].name) + strlen(h->headers[i].value);
    if (h->type == HTTPMSG_REQUEST && !h->method)
        abort();
    if (n > h->head_len * 2 + 16)
        abort();
    return 0;
}

static int on_body(void *ctx, const char *at, size_t len)
{
    sink *s = ctx;
    for (size_t i = 0; i < len; i++)
        s->body += (unsigned char)at[i] != 0;
    return 0;
}

static int on_complete(void *ctx)
{
    sink *s = ctx;
    s->messages++;
    return 0;
}

static void stream(httpmsg_type type, const char *method, const char *d, size_t len, size_t cut)
{
    httpmsg_callbacks cb = {on_head, on_body, on_complete};
    httpmsg_limits lim = {.max_head = 4096, .max_headers = 32};
    sink s = {0};
    httpmsg_parser *p = httpmsg_parser_new(type, &cb, &s, &lim);
    if (!p)
        return;
    httpmsg_parser_set_request_method(p, method);
    ssize_t n = httpmsg_parser_execute(p, d, cut);
    if (n >= 0 && (size_t)n > cut)
        abort();
    if (n == (ssize_t)cut) {
        n = httpmsg_parser_execute(p, d + cut, len - cut);
        if (n >= 0 && (size_t)n > len - cut)
            abort();
    }
    if (n >= 0)
        httpmsg_parser_eof(p);
    httpmsg_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *d = (const char *)data + 1;
    size_t len = size - 1;
    size_t cut = len ? data[0] % (len + 1) : 0;
    const char *method = (data[0] & 0x80) ? "HEAD" : (data[0] & 0x40) ? "CONNECT" : "GET";
    stream(HTTPMSG_REQUEST, NULL, d, len, cut);
    stream(HTTPMSG_RESPONSE, method, d, len, cut);

    for (int t = 0; t < 2; t++) {
        httpmsg m;
        char err[128];
        if (httpmsg_parse(&m, (httpmsg_type)t, d, len, method, err, sizeof err) == HTTPMSG_OK) {
            if (m.consumed > len || !m.body || m.body[m.body_len] != '\0')
                abort();
            httpmsg_clear(&m);
        }
    }
    return 0;
}
