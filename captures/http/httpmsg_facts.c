/* httpmsg_facts: see httpmsg_facts.h. */
#include "httpmsg_facts.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, list[i]))
            return 1;
    return 0;
}

static const char *const SAFE[] = {"GET", "HEAD", "OPTIONS", "TRACE"};

int httpmsg_method_is_safe(const char *method)
{
    return in_list(SAFE, sizeof SAFE / sizeof SAFE[0], method);
}

int httpmsg_method_is_idempotent(const char *method)
{
    return httpmsg_method_is_safe(method) || !strcmp(method, "PUT") || !strcmp(method, "DELETE");
}

/* lengths kept beside the names: these lists are asked about every field of every forwarded head */
typedef struct lit {
    const char *s;
    size_t n;
} lit;
#define LIT(x) {x, sizeof x - 1}

static int name_in(const lit *list, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].n == len && !strncasecmp(name, list[i].s, len))
            return 1;
    return 0;
}

static const lit CONN_SPECIFIC[] = {LIT("connection"), LIT("keep-alive"), LIT("proxy-connection"), LIT("te"),
                                    LIT("trailer"),    LIT("upgrade"),    LIT("transfer-encoding")};
static const lit FRAMING[] = {LIT("content-length"), LIT("expect"), LIT("http2-settings")};

int httpmsg_header_is_conn_specific(const char *name, size_t len)
{
    return name_in(CONN_SPECIFIC, sizeof CONN_SPECIFIC / sizeof CONN_SPECIFIC[0], name, len);
}

int httpmsg_header_is_hop(const char *name, size_t len)
{
    return httpmsg_header_is_conn_specific(name, len) ||
           name_in(FRAMING, sizeof FRAMING / sizeof FRAMING[0], name, len);
}

int httpmsg_header_is_replay_skipped(const char *name, size_t len)
{
    return httpmsg_header_is_hop(name, len) || (len == 4 && !strncasecmp(name, "host", 4));
}

int httpmsg_line_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return !strncasecmp(line, name, n) && line[n] == ':';
}

char *httpmsg_header_line(const httpmsg_header *h)
{
    char *line = malloc(h->name_len + h->value_len + 3);
    if (!line)
        return NULL;
    memcpy(line, h->name, h->name_len);
    memcpy(line + h->name_len, ": ", 2);
    memcpy(line + h->name_len + 2, h->value, h->value_len);
    line[h->name_len + 2 + h->value_len] = '\0';
    return line;
}

int httpmsg_raw_status(const char *raw, size_t len)
{
    if (len < 5 || strncmp(raw, "HTTP/", 5))
        return -1;
    const char *sp = memchr(raw + 5, ' ', len - 5);
    if (!sp || sp == raw + 5)
        return -1;
    size_t i = (size_t)(sp - raw) + 1;
    if (i + 3 > len)
        return -1;
    const char *d = raw + i;
    for (int k = 0; k < 3; k++)
        if (!isdigit((unsigned char)d[k]))
            return -1;
    if (i + 3 < len && d[3] != ' ' && d[3] != '\r' && d[3] != '\n')
        return -1; /* four digits */
    return (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
}

/* What the head line [p, p + n) says of chunked framing: 1 or 0 for a Transfer-Encoding field (by its
 * last coding, the one that frames the body), -1 for any other line (the last such field wins). */
static int te_line(const char *p, size_t n)
{
    /* the first letter before strncasecmp: the writer runs this over every head it records */
    if (n <= 18 || (p[0] | 0x20) != 't' || strncasecmp(p, "transfer-encoding:", 18))
        return -1;
    const char *v = p + n;
    while (v > p + 18 && (v[-1] == '\r' || v[-1] == ' ' || v[-1] == '\t'))
        v--;
    const char *s = v;
    while (s > p + 18 && s[-1] != ',' && s[-1] != ' ' && s[-1] != '\t' && s[-1] != ':')
        s--;
    return (size_t)(v - s) == 7 && !strncasecmp(s, "chunked", 7);
}

size_t httpmsg_raw_head_scan(const char *m, size_t len, int *chunked)
{
    int ch = 0;
    /* memchr, not a byte loop, and one pass for both answers: the writer runs this over every recorded
     * message's head (the head's end, then its Transfer-Encoding lines, were a memchr per line each) */
    for (const char *l = m, *p = len ? memchr(m, '\n', len) : NULL; p;
         l = p + 1, p = memchr(p + 1, '\n', len - (size_t)(p + 1 - m))) {
        if (chunked) {
            int te = te_line(l, (size_t)(p - l));
            if (te >= 0)
                ch = te;
        }
        size_t i = (size_t)(p - m);
        if (i + 1 >= len)
            break;
        if (m[i + 1] == '\n' || (i + 2 < len && m[i + 1] == '\r' && m[i + 2] == '\n')) {
            size_t hl = i + 2 + (m[i + 1] == '\r');
            if (chunked)
                *chunked = hl < len ? ch : 0;
            return hl;
        }
    }
    if (chunked)
        *chunked = 0;
    return len;
}

size_t httpmsg_raw_head_len(const char *m, size_t len)
{
    return httpmsg_raw_head_scan(m, len, NULL);
}

int httpmsg_raw_chunked(const char *m, size_t hl)
{
    const char *p = m, *end = m + hl;
    int chunked = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        int te = te_line(p, (size_t)(le - p));
        if (te >= 0)
            chunked = te;
        p = le + 1;
    }
    return chunked;
}

int httpmsg_dechunk(const char *b, size_t n, httpmsg_dechunk_sink sink, void *ctx)
{
    size_t i = 0;
    while (i < n) {
        uint64_t sz = 0;
        int nd = 0;
        while (i < n && isxdigit((unsigned char)b[i]) && nd < 16) {
            int d = isdigit((unsigned char)b[i]) ? b[i] - '0' : (tolower((unsigned char)b[i]) - 'a' + 10);
            sz = sz * 16 + (uint64_t)d;
            i++;
            nd++;
        }
        if (nd == 0)
            return 0;
        const char *nl = memchr(b + i, '\n', n - i); /* skip extensions */
        if (!nl)
            return 0;
        i = (size_t)(nl - b) + 1;
        if (sz == 0)
            return 1;
        size_t take = sz < n - i ? (size_t)sz : n - i;
        sink(ctx, b + i, take);
        i += take;
        if (i + 2 <= n && b[i] == '\r' && b[i + 1] == '\n')
            i += 2;
        else if (i < n && b[i] == '\n')
            i += 1;
    }
    return 0;
}
