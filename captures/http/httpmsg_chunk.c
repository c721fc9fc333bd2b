/* httpmsg_chunk: see httpmsg_chunk.h. RFC 9112 section 7.1:
 *   chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF;  last-chunk = 1*"0" [ chunk-ext ] CRLF
 *   trailer-section = *( field-line CRLF ) CRLF */
#include "httpmsg_chunk.h"

#include <string.h>
#include <strings.h>

enum {
    CS_SIZE,        /* hex digits */
    CS_EXT,         /* after the digits: BWS, extensions, up to CR */
    CS_SIZE_LF,     /* LF ending the size line */
    CS_DATA,        /* chunk data */
    CS_DATA_CR,     /* CRLF after the data */
    CS_DATA_LF,
    CS_TRAILER,     /* start of a trailer line, or the final CRLF */
    CS_TRAILER_TXT, /* inside a trailer line */
    CS_TRAILER_LF,
    CS_END_LF,
    CS_DONE
};

void httpmsg_chunkscan_init(httpmsg_chunkscan *c, size_t max_trailer)
{
    c->state = CS_SIZE;
    c->remaining = 0;
    c->digits = 0;
    c->trailer_bytes = 0;
    c->max_trailer = max_trailer;
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Text allowed in an extension or a trailer line: visible ASCII, SP, HTAB, obs-text. */
static int is_text(unsigned char ch)
{
    return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

int httpmsg_chunkscan_feed(httpmsg_chunkscan *c, const char *data, size_t len, size_t *used, const char **why)
{
    size_t i = 0;
    *why = NULL;
    while (i < len) {
        unsigned char ch = (unsigned char)data[i];
        switch (c->state) {
        case CS_SIZE: {
            int v = hexval(ch);
            if (v >= 0) {
                if (++c->digits > 15) {
                    *why = "chunk size too large";
                    goto bad;
                }
                c->remaining = c->remaining * 16 + (uint64_t)v;
                break;
            }
            if (c->digits == 0) {
                *why = "chunk size expected";
                goto bad;
            }
            c->state = CS_EXT;
        }
            /* the byte after the digits starts the extension part */
            __attribute__((fallthrough));
        case CS_EXT:
            if (ch == '\r')
                c->state = CS_SIZE_LF;
            else if (!is_text(ch)) {
                *why = "control byte or bare LF in a chunk-size line";
                goto bad;
            }
            break;
        case CS_SIZE_LF:
            if (ch != '\n') {
                *why = "bare CR in a chunk-size line";
                goto bad;
            }
            c->digits = 0;
            c->state = c->remaining ? CS_DATA : CS_TRAILER;
            break;
        case CS_DATA: {
            uint64_t n = len - i < c->remaining ? len - i : c->remaining;
            c->remaining -= n;
            i += (size_t)n;
            if (c->remaining == 0)
                c->state = CS_DATA_CR;
            continue;
        }
        case CS_DATA_CR:
            if (ch != '\r') {
                *why = "chunk data longer than its size";
                goto bad;
            }
            c->state = CS_DATA_LF;
            break;
        case CS_DATA_LF:
            if (ch != '\n') {
                *why = "CRLF expected after chunk data";
                goto bad;
            }
            c->state = CS_SIZE;
            break;
        case CS_TRAILER:
            if (ch == '\r') {
                c->state = CS_END_LF;
                break;
            }
            if (ch == ' ' || ch == '\t') {
                *why = "obsolete line folding in the trailer section";
                goto bad;
            }
            c->state = CS_TRAILER_TXT;
            __attribute__((fallthrough));
        case CS_TRAILER_TXT:
            if (ch == '\r')
                c->state = CS_TRAILER_LF;
            else if (!is_text(ch)) {
                *why = "control byte or bare LF in the trailer section";
                goto bad;
            }
            break;
        case CS_TRAILER_LF:
        case CS_END_LF:
            if (ch != '\n') {
                *why = "bare CR in the trailer section";
                goto bad;
            }
            if (c->state == CS_END_LF) {
                c->state = CS_DONE;
                *used = i + 1;
                return HTTPMSG_CHUNK_END;
            }
            c->state = CS_TRAILER;
            break;
        default:
            *used = i;
            return HTTPMSG_CHUNK_END;
        }
        if (c->state >= CS_TRAILER && ++c->trailer_bytes > c->max_trailer) {
            *why = "trailer section too large";
            *used = i;
            return HTTPMSG_CHUNK_ETOOLARGE;
        }
        i++;
    }
    *used = len;
    return HTTPMSG_CHUNK_MORE;
bad:
    *used = i;
    return HTTPMSG_CHUNK_EBAD;
}

/* every field of every head is asked about three names: length, then first letter, spare most
 * strncasecmp calls */
static inline bool name_is_n(const httpmsg_header *h, const char *name, size_t len)
{
    return h->name_len == len && (h->name[0] | 0x20) == (name[0] | 0x20) && strncasecmp(h->name, name, len) == 0;
}
#define name_is(h, lit) name_is_n((h), lit, sizeof lit - 1)

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int httpmsg_chunk_codings(const httpmsg_head *h, bool *final_chunked, bool *others)
{
    int n_chunked = 0, n = 0;
    bool last_chunked = false;
    *others = false;
    for (size_t i = 0; i < h->n_headers; i++) {
        const httpmsg_header *f = &h->headers[i];
        if (!name_is(f, "Transfer-Encoding"))
            continue;
        const char *s = f->value, *end = f->value + f->value_len;
        for (;;) {
            while (s < end && is_ows(*s))
                s++;
            const char *t = s;
            while (t < end && *t != ',' && *t != ';')
                t++;
            const char *te = t;
            while (te > s && is_ows(te[-1]))
                te--;
            if (te == s)
                return -1; /* empty element: "chunked,," or an empty field */
            bool ch = (size_t)(te - s) == 7 && strncasecmp(s, "chunked", 7) == 0;
            if (ch && t < end && *t == ';')
                return -1; /* chunked takes no parameters */
            n++;
            n_chunked += ch;
            if (!ch)
                *others = true;
            last_chunked = ch;
            while (t < end && *t != ',')
                t++; /* skip parameters of other codings */
            if (t >= end)
                break;
            s = t + 1;
        }
    }
    if (n_chunked > 1 || (n_chunked == 1 && !last_chunked))
        return -1;
    *final_chunked = n > 0 && last_chunked;
    return 0;
}

int httpmsg_check_framing(httpmsg_head *h, bool hp_chunked, const char **why)
{
    int n_cl = 0, n_te = 0, n_host = 0;
    for (size_t i = 0; i < h->n_headers; i++) {
        n_cl += name_is(&h->headers[i], "Content-Length");
        n_te += name_is(&h->headers[i], "Transfer-Encoding");
        n_host += name_is(&h->headers[i], "Host");
    }
    h->content_length = n_cl ? 0 : -1; /* the value is http-parser's; the caller fills it in */
    *why = NULL;
    if (h->http_major != 1)
        *why = "unsupported HTTP version";
    else if (h->type == HTTPMSG_RESPONSE && h->status < 100)
        *why = "response status below 100";
    /* two Host fields: the proxy and the upstream could route the request differently (RFC 9112 3.2) */
    else if (n_host > 1)
        *why = "more than one Host field";
    else if (n_cl > 1)
        *why = "more than one Content-Length field";
    else if (n_cl && n_te)
        *why = "Content-Length together with Transfer-Encoding";
    else if (n_te && h->http_minor == 0)
        *why = "Transfer-Encoding in an HTTP/1.0 message";
    if (*why || !n_te)
        return *why ? HTTPMSG_EBAD : HTTPMSG_OK;
    bool final_chunked = false, others = false;
    if (httpmsg_chunk_codings(h, &final_chunked, &others) != 0)
        *why = "malformed Transfer-Encoding";
    else if (!final_chunked && h->type == HTTPMSG_REQUEST)
        *why = "request whose final transfer coding is not chunked";
    else if (others) {
        *why = "transfer coding other than chunked";
        return HTTPMSG_EUNSUPPORTED;
    } else if (final_chunked != hp_chunked)
        *why = "ambiguous Transfer-Encoding";
    return *why ? HTTPMSG_EBAD : HTTPMSG_OK;
}
