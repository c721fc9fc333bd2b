/* httpmsg_headscan: see httpmsg_headscan.h.
 *
 * Fast path: at the start of a line whose LF is already in the buffer, the line is checked whole with
 * memchr (vectorised in libc) instead of byte by byte: the per-byte loop was a fifth of the proxy's
 * user-space instructions per request. A line the fast check does not pass (any NUL, stray CR, fold or
 * white space in a field name) goes through the byte loop from its start, so what is refused and the
 * message saying why stay exactly those of the byte loop. */
#include "httpmsg_headscan.h"

#include <stdio.h>
#include <string.h>

enum { LINE_NEXT = 2, LINE_BREAK = 3 }; /* line_end: go on / the head ended past max_head */

void httpmsg_headscan_init(httpmsg_headscan *s)
{
    *s = (httpmsg_headscan){0};
}

static int bad(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s in the message head", what);
    return HTTPMSG_HEAD_EBAD;
}

/* Would the byte loop pass the n bytes of this line (LF excluded) without complaint? header: a field
 * line, not the start line. */
static int line_clean(const char *p, size_t n, int header)
{
    size_t m = n > 0 && p[n - 1] == '\r' ? n - 1 : n; /* the CR of the CRLF */
    if (memchr(p, '\r', m) || memchr(p, '\0', n))
        return 0;
    if (!header)
        return 1;
    if (n > 0 && (p[0] == ' ' || p[0] == '\t'))
        return 0;
    const char *colon = memchr(p, ':', n);
    size_t name = colon ? (size_t)(colon - p) : n;
    for (size_t k = 0; k < name; k++)
        if (p[k] == ' ' || p[k] == '\t')
            return 0;
    return 1;
}

/* The LF at i ends a line. HTTPMSG_HEAD_DONE, LINE_BREAK, LINE_NEXT or an error. */
static int line_end(httpmsg_headscan *s, const char *raw, size_t *raw_len, size_t i, size_t max_head,
                    size_t max_headers, char *err, size_t errlen)
{
    size_t line_len = i - s->line_start;
    if (line_len > 0 && raw[i - 1] == '\r')
        line_len--;
    if (line_len == 0 && s->nlines > 0) {
        *raw_len = i + 1;
        s->scan = *raw_len;
        return *raw_len <= max_head ? HTTPMSG_HEAD_DONE : LINE_BREAK; /* one byte over: refused below */
    }
    if (++s->nlines > max_headers + 1) {
        snprintf(err, errlen, "more than %zu header fields", max_headers);
        return HTTPMSG_HEAD_ETOOLARGE;
    }
    s->line_start = i + 1;
    s->colon_seen = false;
    return LINE_NEXT;
}

int httpmsg_headscan_feed(httpmsg_headscan *s, const char *raw, size_t *raw_len, size_t max_head,
                          size_t max_headers, char *err, size_t errlen)
{
    size_t i = s->scan;
    while (i < *raw_len) {
        if (i == s->line_start && !s->cr_pending) {
            const char *lf = memchr(raw + i, '\n', *raw_len - i);
            if (lf && line_clean(raw + i, (size_t)(lf - raw) - i, s->nlines > 0)) {
                size_t at = (size_t)(lf - raw);
                int r = line_end(s, raw, raw_len, at, max_head, max_headers, err, errlen);
                if (r == LINE_BREAK)
                    break;
                if (r != LINE_NEXT)
                    return r;
                i = at + 1;
                continue;
            }
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
            i++;
            continue;
        }
        if (c != '\n') {
            i++;
            continue;
        }
        int r = line_end(s, raw, raw_len, i, max_head, max_headers, err, errlen);
        if (r == LINE_BREAK)
            break;
        if (r != LINE_NEXT)
            return r;
        i++;
    }
    s->scan = *raw_len;
    if (*raw_len > max_head) {
        snprintf(err, errlen, "message head over %zu bytes", max_head);
        return HTTPMSG_HEAD_ETOOLARGE;
    }
    return HTTPMSG_HEAD_MORE;
}
