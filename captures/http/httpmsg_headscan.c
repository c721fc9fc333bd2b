/* httpmsg_headscan: see httpmsg_headscan.h. */
#include "httpmsg_headscan.h"

#include <stdio.h>

void httpmsg_headscan_init(httpmsg_headscan *s)
{
    *s = (httpmsg_headscan){0};
}

/* 1: ends a run anywhere (NUL, CR, LF); 2: ends a run in a field's name (colon, SP, HTAB) */
static const unsigned char byte_class[256] = {['\0'] = 1, ['\r'] = 1, ['\n'] = 1, [':'] = 2, [' '] = 2, ['\t'] = 2};

static int bad(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s in the message head", what);
    return HTTPMSG_HEAD_EBAD;
}

int httpmsg_headscan_feed(httpmsg_headscan *s, const char *raw, size_t *raw_len, size_t max_head,
                          size_t max_headers, char *err, size_t errlen)
{
    for (size_t i = s->scan; i < *raw_len; i++) {
        /* most bytes change nothing below: skip them a table look-up each (every head of every message
         * goes through here) */
        if (!s->cr_pending && i != s->line_start) {
            unsigned mask = s->nlines > 0 && !s->colon_seen ? 3u : 1u;
            while (i < *raw_len && !(byte_class[(unsigned char)raw[i]] & mask))
                i++;
            if (i == *raw_len)
                break;
        }
        char c = raw[i];
        if (s->cr_pending) {
            if (c != '\n')
                return bad(err, errlen, "bare CR");
            s->cr_pending = false;
        }
        if (c == '\0')
            return bad(err, errlen, "NUL byte");
        if (i == s->line_start && s->nlines > 0 && (c == ' ' || c == '\t'))
            return bad(err, errlen, "obsolete line folding");
        /* "Transfer-Encoding : chunked" is read as chunked by some peers and ignored by others: a name
         * with white space before its colon is refused (RFC 9112 5.1). */
        if (s->nlines > 0 && !s->colon_seen) {
            if (c == ':')
                s->colon_seen = true;
            else if (c == ' ' || c == '\t')
                return bad(err, errlen, "white space before a header field's colon");
        }
        if (c == '\r') {
            s->cr_pending = true;
            continue;
        }
        if (c != '\n')
            continue;
        size_t line_len = i - s->line_start;
        if (line_len > 0 && raw[i - 1] == '\r')
            line_len--;
        if (line_len == 0 && s->nlines > 0) {
            *raw_len = i + 1;
            s->scan = *raw_len;
            if (*raw_len <= max_head)
                return HTTPMSG_HEAD_DONE;
            break; /* one byte over: the check below refuses it */
        }
        if (++s->nlines > max_headers + 1) {
            snprintf(err, errlen, "more than %zu header fields", max_headers);
            return HTTPMSG_HEAD_ETOOLARGE;
        }
        s->line_start = i + 1;
        s->colon_seen = false;
    }
    s->scan = *raw_len;
    if (*raw_len > max_head) {
        snprintf(err, errlen, "message head over %zu bytes", max_head);
        return HTTPMSG_HEAD_ETOOLARGE;
    }
    return HTTPMSG_HEAD_MORE;
}
