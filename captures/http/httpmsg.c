/* httpmsg: the one wrapper around http-parser 2.9.
 *
 * How a message goes through: the head is gathered in parser-owned storage first and checked by our own
 * scanner (httpmsg_headscan), then fed to http-parser in one call, so every
 * header callback points into one contiguous buffer and the strings handed to on_head stay valid until
 * the next message starts. Framing headers are checked again after http-parser has read them (duplicate
 * Content-Length, Content-Length with Transfer-Encoding, coding lists); where our reading and
 * http-parser's could differ, the message is refused. Body bytes go straight through http-parser.
 * http-parser is paused at the end of every message so the next head goes through the scanner too. */
#include "httpmsg.h"
#include "httpmsg_chunk.h"
#include "httpmsg_headscan.h"

#include <http_parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { DEFAULT_MAX_HEAD = 64 * 1024, DEFAULT_MAX_HEADERS = 128 };
enum { HEAD_STEP = 4096 }; /* bytes gathered at a time while looking for a head's end */
/* http-parser's own head limit is a process-wide setting; ours is enforced before it sees a byte, so
 * its limit is set once above anything a caller may ask for. */
enum { HP_HEADER_LIMIT = 64 * 1024 * 1024 };

typedef enum { PH_HEAD, PH_BODY, PH_PAUSED, PH_UPGRADED, PH_DEAD } phase_t;

typedef struct span {
    size_t off, len;
} span;

typedef struct hspan {
    span name, value;
} hspan;

struct httpmsg_parser {
    http_parser hp;
    http_parser_settings settings;
    httpmsg_type type;
    httpmsg_callbacks cb;
    void *ctx;
    size_t max_head, max_headers;
    bool accept_codings;
    phase_t phase;

    /* the head being gathered: raw bytes and the scanner's position */
    char *raw;
    size_t raw_len, raw_cap;
    httpmsg_headscan hs;

    /* spans into raw, filled by http-parser's callbacks */
    span url, reason;
    hspan *spans;
    size_t nspans, spans_cap;
    int last_cb; /* 0 none, 1 field, 2 value */

    /* NUL-terminated copies handed to on_head */
    char *strs;
    size_t strs_cap;
    httpmsg_header *headers;
    size_t headers_cap;
    httpmsg_head head;

    bool req_head, req_connect; /* method of the request a response answers */
    bool in_callback_head;      /* on_head running: header callbacks are ours, trailers are not */
    bool msg_done;
    bool chunk_check; /* the body is chunked: run our own framing scanner over it */
    httpmsg_chunkscan chunk;
    int status;
    char err[192];
};

static pthread_once_t hp_once = PTHREAD_ONCE_INIT;
static void hp_setup(void)
{
    http_parser_set_max_header_size(HP_HEADER_LIMIT);
}

static int fail(httpmsg_parser *p, int status, const char *fmt, const char *arg)
{
    p->status = status;
    snprintf(p->err, sizeof p->err, fmt, arg ? arg : "");
    p->phase = PH_DEAD;
    return status;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *nb = realloc(*buf, n * elem);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = n;
    return 0;
}

/* ---- http-parser callbacks ---- */

static int extend(span *s, httpmsg_parser *p, const char *at, size_t len)
{
    size_t off = (size_t)(at - p->raw);
    if (s->len == 0)
        s->off = off;
    else if (s->off + s->len != off)
        return -1; /* never happens: the head is fed in one piece */
    s->len += len;
    return 0;
}

static int cb_url(http_parser *hp, const char *at, size_t len)
{
    httpmsg_parser *p = hp->data;
    return p->phase == PH_HEAD ? extend(&p->url, p, at, len) : 0;
}

static int cb_status(http_parser *hp, const char *at, size_t len)
{
    httpmsg_parser *p = hp->data;
    return p->phase == PH_HEAD ? extend(&p->reason, p, at, len) : 0;
}

static int cb_field(http_parser *hp, const char *at, size_t len)
{
    httpmsg_parser *p = hp->data;
    if (p->phase != PH_HEAD)
        return 0; /* trailer fields: not part of the head */
    if (p->last_cb != 1) {
        if (p->nspans >= p->max_headers) {
            p->status = HTTPMSG_ETOOLARGE;
            snprintf(p->err, sizeof p->err, "more than %zu header fields", p->max_headers);
            return -1;
        }
        if (grow((void **)&p->spans, &p->spans_cap, p->nspans + 1, sizeof *p->spans) != 0) {
            p->status = HTTPMSG_EBAD;
            snprintf(p->err, sizeof p->err, "out of memory");
            return -1;
        }
        memset(&p->spans[p->nspans++], 0, sizeof *p->spans);
        p->last_cb = 1;
    }
    return extend(&p->spans[p->nspans - 1].name, p, at, len);
}

static int cb_value(http_parser *hp, const char *at, size_t len)
{
    httpmsg_parser *p = hp->data;
    if (p->phase != PH_HEAD || p->nspans == 0)
        return 0;
    p->last_cb = 2;
    return extend(&p->spans[p->nspans - 1].value, p, at, len);
}

/* Builds p->head from the spans: every string copied, NUL-terminated, into p->strs. */
static int build_head(httpmsg_parser *p)
{
    size_t need = p->url.len + p->reason.len + 2;
    for (size_t i = 0; i < p->nspans; i++)
        need += p->spans[i].name.len + p->spans[i].value.len + 2;
    if (grow((void **)&p->strs, &p->strs_cap, need, 1) != 0 ||
        grow((void **)&p->headers, &p->headers_cap, p->nspans + 1, sizeof *p->headers) != 0)
        return fail(p, HTTPMSG_EBAD, "out of memory%s", NULL);
    char *w = p->strs;
#define COPY(dst, sp)                                                                                      \
    do {                                                                                                   \
        (dst) = w;                                                                                         \
        memcpy(w, p->raw + (sp).off, (sp).len);                                                            \
        w += (sp).len;                                                                                     \
        *w++ = '\0';                                                                                       \
    } while (0)
    httpmsg_head *h = &p->head;
    memset(h, 0, sizeof *h);
    h->type = p->type;
    h->http_major = p->hp.http_major;
    h->http_minor = p->hp.http_minor;
    if (p->type == HTTPMSG_REQUEST) {
        h->method = http_method_str((enum http_method)p->hp.method);
        COPY(h->url, p->url);
        h->url_len = p->url.len;
        h->reason = "";
    } else {
        h->status = (int)p->hp.status_code;
        COPY(h->reason, p->reason);
        h->url = "";
    }
    h->headers = p->headers;
    for (size_t i = 0; i < p->nspans; i++) {
        httpmsg_header *f = &p->headers[i];
        span v = p->spans[i].value;
        while (v.len && (p->raw[v.off + v.len - 1] == ' ' || p->raw[v.off + v.len - 1] == '\t'))
            v.len--; /* http-parser keeps trailing OWS */
        COPY(f->name, p->spans[i].name);
        f->name_len = p->spans[i].name.len;
        COPY(f->value, v);
        f->value_len = v.len;
    }
#undef COPY
    h->n_headers = p->nspans;
    h->head_len = p->raw_len;
    return 0;
}

/* The framing checks http-parser does not make, or makes differently (httpmsg_chunk). */
static int check_framing(httpmsg_parser *p)
{
    const char *why = NULL;
    bool hp_chunked = (p->hp.flags & F_CHUNKED) != 0;
    int st = httpmsg_check_framing(&p->head, hp_chunked, &why);
    if (st == HTTPMSG_EUNSUPPORTED && p->accept_codings && p->type == HTTPMSG_RESPONSE) {
        /* only the other codings were refused: the list is well formed; its final chunked (or
         * not: then the close delimits the body) must be read as http-parser reads it */
        bool final_chunked = false, others = false;
        httpmsg_chunk_codings(&p->head, &final_chunked, &others);
        st = final_chunked == hp_chunked ? HTTPMSG_OK : HTTPMSG_EBAD;
        why = "ambiguous Transfer-Encoding";
    }
    if (st < 0)
        return fail(p, st, "%s", why);
    p->head.chunked = (p->hp.flags & F_CHUNKED) != 0;
    p->head.content_length = p->head.content_length >= 0 ? (int64_t)p->hp.content_length : -1;
    return 0;
}

static int cb_headers_complete(http_parser *hp)
{
    httpmsg_parser *p = hp->data;
    if (build_head(p) != 0 || check_framing(p) != 0)
        return -1;
    httpmsg_head *h = &p->head;
    int skip = 0;
    h->keep_alive = http_should_keep_alive(hp) != 0;
    char buf[32];
    h->expect_continue = p->type == HTTPMSG_REQUEST && httpmsg_header_value(h, "Expect", buf, sizeof buf) &&
                         strcasecmp(buf, "100-continue") == 0;
    if (p->type == HTTPMSG_REQUEST) {
        h->upgrade = hp->upgrade != 0;
    } else {
        h->upgrade = h->status == 101;
        if (p->req_head || h->status < 200 || h->status == 204 || h->status == 304)
            skip = 1; /* no body whatever the headers say (RFC 9112 6.3) */
        if (p->req_connect && h->status >= 200 && h->status < 300) {
            h->upgrade = true;
            skip = 2; /* a tunnel: no body, no further responses */
        }
    }
    p->phase = PH_BODY;
    if (p->cb.on_head) {
        int r = p->cb.on_head(p->ctx, h);
        if (r < 0) {
            fail(p, HTTPMSG_EBAD, "stopped by the head callback%s", NULL);
            return -1;
        }
        if (r == 1 && skip == 0)
            skip = 1;
    }
    p->chunk_check = h->chunked && skip == 0;
    if (p->chunk_check)
        httpmsg_chunkscan_init(&p->chunk, p->max_head);
    return skip;
}

static int cb_body(http_parser *hp, const char *at, size_t len)
{
    httpmsg_parser *p = hp->data;
    if (p->cb.on_body && p->cb.on_body(p->ctx, at, len) < 0) {
        fail(p, HTTPMSG_EBAD, "stopped by the body callback%s", NULL);
        return -1;
    }
    return 0;
}

static int cb_message_complete(http_parser *hp)
{
    httpmsg_parser *p = hp->data;
    p->msg_done = true;
    http_parser_pause(hp, 1); /* the next head goes through our scanner first */
    return 0;
}

/* ---- life cycle ---- */

static void start_message(httpmsg_parser *p)
{
    http_parser_init(&p->hp, p->type == HTTPMSG_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
    p->hp.data = p;
    p->phase = PH_HEAD;
    p->raw_len = 0;
    httpmsg_headscan_init(&p->hs);
    memset(&p->url, 0, sizeof p->url);
    memset(&p->reason, 0, sizeof p->reason);
    p->nspans = 0;
    p->last_cb = 0;
    p->msg_done = false;
    p->chunk_check = false;
}

httpmsg_parser *httpmsg_parser_new(httpmsg_type type, const httpmsg_callbacks *cb, void *ctx,
                                   const httpmsg_limits *limits)
{
    pthread_once(&hp_once, hp_setup);
    httpmsg_parser *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->type = type;
    if (cb)
        p->cb = *cb;
    p->ctx = ctx;
    p->max_head = limits && limits->max_head ? limits->max_head : DEFAULT_MAX_HEAD;
    p->max_headers = limits && limits->max_headers ? limits->max_headers : DEFAULT_MAX_HEADERS;
    p->accept_codings = limits && limits->accept_codings;
    if (p->max_head > HP_HEADER_LIMIT)
        p->max_head = HP_HEADER_LIMIT;
    http_parser_settings_init(&p->settings);
    p->settings.on_url = cb_url;
    p->settings.on_status = cb_status;
    p->settings.on_header_field = cb_field;
    p->settings.on_header_value = cb_value;
    p->settings.on_headers_complete = cb_headers_complete;
    p->settings.on_body = cb_body;
    p->settings.on_message_complete = cb_message_complete;
    start_message(p);
    return p;
}

void httpmsg_parser_free(httpmsg_parser *p)
{
    if (!p)
        return;
    free(p->raw);
    free(p->spans);
    free(p->strs);
    free(p->headers);
    free(p);
}

void httpmsg_parser_reuse(httpmsg_parser *p, void *ctx)
{
    p->ctx = ctx;
    memset(&p->head, 0, sizeof p->head);
    memset(&p->chunk, 0, sizeof p->chunk);
    p->req_head = p->req_connect = p->in_callback_head = false;
    p->status = 0;
    p->err[0] = '\0';
    start_message(p);
}

void httpmsg_parser_set_request_method(httpmsg_parser *p, const char *method)
{
    char c = method ? (char)(method[0] | 0x20) : 0; /* spares most methods two strcasecmp */
    p->req_head = c == 'h' && strcasecmp(method, "HEAD") == 0;
    p->req_connect = c == 'c' && strcasecmp(method, "CONNECT") == 0;
}

const char *httpmsg_parser_error(const httpmsg_parser *p)
{
    return p->err[0] ? p->err : "no error";
}

void httpmsg_parser_resume(httpmsg_parser *p)
{
    if (p->phase == PH_PAUSED)
        start_message(p);
}

/* Scans the gathered head; 1 = complete (p->raw_len cut at the blank line), 0 = more needed, < 0 error. */
static int scan_head(httpmsg_parser *p)
{
    int r = httpmsg_headscan_feed(&p->hs, p->raw, &p->raw_len, p->max_head, p->max_headers, p->err,
                                  sizeof p->err);
    if (r >= 0)
        return r;
    p->status = r == HTTPMSG_HEAD_ETOOLARGE ? HTTPMSG_ETOOLARGE : HTTPMSG_EBAD;
    p->phase = PH_DEAD;
    return p->status;
}

static int map_hp_error(httpmsg_parser *p)
{
    if (p->status < 0) { /* set by one of our callbacks */
        p->phase = PH_DEAD;
        return p->status;
    }
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    if (e == HPE_UNEXPECTED_CONTENT_LENGTH)
        return fail(p, HTTPMSG_EBAD, "duplicate Content-Length, or Content-Length with Transfer-Encoding%s", NULL);
    return fail(p, e == HPE_HEADER_OVERFLOW ? HTTPMSG_ETOOLARGE : HTTPMSG_EBAD, "%s",
                http_errno_description(e));
}

/* Runs http-parser over data; returns bytes consumed or an error. Handles a message's end. */
static ssize_t run_hp(httpmsg_parser *p, const char *data, size_t len)
{
    size_t n = http_parser_execute(&p->hp, &p->settings, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    if (e != HPE_OK && !(e == HPE_PAUSED && p->msg_done))
        return map_hp_error(p);
    if (p->msg_done) {
        http_parser_pause(&p->hp, 0);
        p->phase = p->hp.upgrade || p->head.upgrade ? PH_UPGRADED : PH_PAUSED;
    }
    return (ssize_t)n;
}

ssize_t httpmsg_parser_execute(httpmsg_parser *p, const char *data, size_t len)
{
    size_t used = 0;
    while (used < len) {
        if (p->phase == PH_DEAD)
            return p->status ? p->status : HTTPMSG_EBAD;
        if (p->phase == PH_UPGRADED)
            break;
        if (p->phase == PH_PAUSED) {
            /* paused by the caller, or handed to on_complete below */
            break;
        }
        if (p->phase == PH_HEAD) {
            if (p->raw_len == 0) { /* empty lines before a message are skipped (RFC 9112 2.2) */
                while (used < len && (data[used] == '\r' || data[used] == '\n'))
                    used++;
                if (used == len)
                    break;
            }
            /* Gather no more than a step past what is held (doubling): the head ends in the first
             * few KiB nearly always, and taking the whole input copied up to max_head bytes of body
             * per message (a 64 KiB memcpy per 64 KiB response, a fifth of the proxy's time on it). */
            size_t room = p->max_head + 1 - p->raw_len, take = len - used < room ? len - used : room;
            size_t step = p->raw_len < HEAD_STEP ? HEAD_STEP : p->raw_len;
            if (take > step)
                take = step;
            if (grow((void **)&p->raw, &p->raw_cap, p->raw_len + take + 1, 1) != 0)
                return fail(p, HTTPMSG_EBAD, "out of memory%s", NULL);
            size_t before = p->raw_len;
            memcpy(p->raw + before, data + used, take);
            p->raw_len += take;
            int r = scan_head(p);
            if (r < 0)
                return r;
            used += p->raw_len - before;
            if (r == 0)
                continue;
            ssize_t n = run_hp(p, p->raw, p->raw_len);
            if (n < 0)
                return n;
            if (p->phase == PH_HEAD || (size_t)n != p->raw_len)
                return fail(p, HTTPMSG_EBAD, "message head not understood%s", NULL);
        } else { /* PH_BODY */
            size_t good = len - used;
            const char *why = NULL;
            int cs = p->chunk_check ? httpmsg_chunkscan_feed(&p->chunk, data + used, good, &good, &why)
                                    : HTTPMSG_CHUNK_MORE;
            ssize_t n = run_hp(p, data + used, good);
            if (n < 0)
                return n;
            used += (size_t)n;
            if (cs < 0)
                return fail(p, cs == HTTPMSG_CHUNK_ETOOLARGE ? HTTPMSG_ETOOLARGE : HTTPMSG_EBAD, "%s", why);
            if (p->chunk_check && (cs == HTTPMSG_CHUNK_END) != (p->phase == PH_PAUSED))
                return fail(p, HTTPMSG_EBAD, "chunked framing read two ways%s", NULL);
        }
        if (p->phase == PH_PAUSED || p->phase == PH_UPGRADED) {
            int r = p->cb.on_complete ? p->cb.on_complete(p->ctx) : 0;
            if (r < 0)
                return fail(p, HTTPMSG_EBAD, "stopped by the completion callback%s", NULL);
            if (p->phase == PH_UPGRADED || r == 1)
                break;
            start_message(p);
        }
    }
    return (ssize_t)used;
}

int httpmsg_parser_eof(httpmsg_parser *p)
{
    switch (p->phase) {
    case PH_DEAD:
        return p->status ? p->status : HTTPMSG_EBAD;
    case PH_PAUSED:
    case PH_UPGRADED:
        return 0;
    case PH_HEAD:
        if (p->raw_len == 0)
            return 0;
        return fail(p, HTTPMSG_EBAD, "connection closed inside a message head%s", NULL);
    case PH_BODY:
        break;
    }
    ssize_t n = run_hp(p, NULL, 0);
    if (n < 0)
        return (int)n;
    if (p->phase != PH_PAUSED)
        return fail(p, HTTPMSG_EBAD, "connection closed inside a message body%s", NULL);
    if (p->cb.on_complete && p->cb.on_complete(p->ctx) < 0)
        return fail(p, HTTPMSG_EBAD, "stopped by the completion callback%s", NULL);
    return 0;
}
