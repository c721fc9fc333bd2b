/* Fuzz target for httpmsg: the input goes to a request and a response parser, streaming in two pieces
 * (the cut taken from the first byte), then to the one-shot parse. Nothing may crash, leak or read out
 * of bounds; the head a callback sees must be self-consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg.h"

/* What a parser reported, folded into a hash: feeding the same bytes whole or in two pieces must give
 * the same transcript and the same verdict. */
typedef struct sink {
    uint64_t h;
    int messages;
} sink;

static void mix(sink *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        s->h = (s->h ^ b[i]) * 0x100000001b3ull;
}

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
    sink *s = ctx;
    mix(s, h->url, strlen(h->url));
    mix(s, &h->status, sizeof h->status);
    mix(s, &h->n_headers, sizeof h->n_headers);
    mix(s, &h->content_length, sizeof h->content_length);
    mix(s, &h->head_len, sizeof h->head_len);
    for (size_t i = 0; i < h->n_headers; i++)
        mix(s, h->headers[i].value, h->headers[i].value_len);
    return 0;
}

static int on_body(void *ctx, const char *at, size_t len)
{
    mix(ctx, at, len);
    return 0;
}

static int on_complete(void *ctx)
{
    sink *s = ctx;
    s->messages++;
    mix(s, "|", 1);
    return 0;
}

/* Returns the transcript hash; *verdict gets the first error (or 0) and how much was consumed. */
static uint64_t stream(httpmsg_type type, const char *method, const char *d, size_t len, size_t cut, long *verdict)
{
    httpmsg_callbacks cb = {on_head, on_body, on_complete};
    httpmsg_limits lim = {.max_head = 4096, .max_headers = 32};
    sink s = {.h = 1469598103934665603ull};
    httpmsg_parser *p = httpmsg_parser_new(type, &cb, &s, &lim);
    *verdict = 0;
    if (!p)
        abort();
    httpmsg_parser_set_request_method(p, method);
    ssize_t n = httpmsg_parser_execute(p, d, cut);
    if (n >= 0 && (size_t)n > cut)
        abort();
    size_t used = n > 0 ? (size_t)n : 0;
    if (n == (ssize_t)cut) {
        n = httpmsg_parser_execute(p, d + cut, len - cut);
        if (n >= 0 && (size_t)n > len - cut)
            abort();
        used += n > 0 ? (size_t)n : 0;
    }
    if (n >= 0 && used == len)
        n = httpmsg_parser_eof(p);
    /* a stop (upgrade) leaves bytes unconsumed: the verdict is where it stopped */
    *verdict = n < 0 ? (long)n : (long)used;
    mix(&s, &s.messages, sizeof s.messages);
    httpmsg_parser_free(p);
    return s.h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *d = (const char *)data + 1;
    size_t len = size - 1;
    size_t cut = len ? data[0] % (len + 1) : 0;
    const char *method = (data[0] & 0x80) ? "HEAD" : (data[0] & 0x40) ? "CONNECT" : "GET";
    for (int t = 0; t < 2; t++) {
        const char *m = t ? method : NULL;
        long v_whole, v_split;
        uint64_t h_whole = stream((httpmsg_type)t, m, d, len, len, &v_whole);
        uint64_t h_split = stream((httpmsg_type)t, m, d, len, cut, &v_split);
        if (v_whole != v_split || (v_whole >= 0 && h_whole != h_split))
            abort(); /* the bytes read differently depending on how they arrived */
    }

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
