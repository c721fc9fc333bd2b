/* proxy_h2_req: field checks and the HTTP/1.1 form. Everything written into the head is checked for
 * bytes that would let the HTTP/1 reader see something else (CR, LF, NUL, spaces in the request line):
 * HPACK carries arbitrary octets, HTTP/1.1 does not. */
#include "proxy_h2_req.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const pseudo_names[4] = {":method", ":path", ":authority", ":scheme"};
static const size_t pseudo_lens[4] = {7, 5, 10, 7};

/* Byte classes, one table lookup per byte (these run over every field of every request):
 * C_TCHAR RFC 9110 5.6.2 tchar other than an uppercase letter (RFC 9113 8.2.1: uppercase in a field name
 * is malformed), C_UPPER A-Z, C_VALUE allowed in a value (no NUL, CR, LF: RFC 9113 8.2.1; other controls
 * are refused too, HTTP/1 readers differ on them), C_VISIBLE visible ASCII (the request line's target,
 * Host: no space). */
enum { C_TCHAR = 1, C_UPPER = 2, C_VALUE = 4, C_VISIBLE = 8 };
static unsigned char byte_class[256];

static void classes_init(void)
{
    for (int c = 0; c < 256; c++) {
        unsigned char k = 0;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c)))
            k |= C_TCHAR;
        if (c >= 'A' && c <= 'Z')
            k |= C_UPPER;
        if ((c >= 0x20 || c == '\t') && c != 0x7f)
            k |= C_VALUE;
        if (c > 0x20 && c < 0x7f)
            k |= C_VISIBLE;
        byte_class[c] = k;
    }
}

static pthread_once_t classes_once = PTHREAD_ONCE_INIT;

/* every byte of p[0..n) in one of the classes of mask (the table is filled by proxy_h2_req_init) */
static int all_in(const char *p, size_t n, unsigned mask)
{
    for (size_t i = 0; i < n; i++)
        if (!(byte_class[(unsigned char)p[i]] & mask))
            return 0;
    return 1;
}

void proxy_h2_req_init(proxy_h2_req *r, size_t max_list)
{
    pthread_once(&classes_once, classes_init);
    memset(r, 0, sizeof *r);
    tdbuf_init(&r->fields, 0);
    tdbuf_init(&r->cookie, 0);
    tdbuf_init(&r->pseudo, 0);
    r->max_list = max_list;
    r->content_length = -1;
}

void proxy_h2_req_clear(proxy_h2_req *r)
{
    tdbuf_free(&r->fields);
    tdbuf_free(&r->cookie);
    tdbuf_free(&r->pseudo);
}

void proxy_h2_req_reset(proxy_h2_req *r)
{
    tdbuf_reset(&r->fields);
    tdbuf_reset(&r->cookie);
    tdbuf_reset(&r->pseudo);
    memset(r->have, 0, sizeof r->have);
    r->has_host = r->regular_seen = 0;
    r->list_size = 0;
    r->content_length = -1;
    r->status = PROXY_H2_REQ_OK;
}

static int token_lower(const char *p, size_t n)
{
    return n > 0 && all_in(p, n, C_TCHAR);
}

static int token_any(const char *p, size_t n)
{
    return n > 0 && all_in(p, n, C_TCHAR | C_UPPER);
}

/* no leading or trailing SP/HTAB (RFC 9113 8.2.1) */
static int value_ok(const char *v, size_t n)
{
    if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        return 0;
    return all_in(v, n, C_VALUE);
}

static int visible(const char *v, size_t n)
{
    return all_in(v, n, C_VISIBLE);
}

/* The methods HTTP/1 requests may use here: http-parser's (httpmsg) list. Another token would be
 * forwarded over h2 where the same request over HTTP/1 is refused (found by fuzz_h2). */
static int known_method(const char *m)
{
    static const char *const methods[] = {
        "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL", "MOVE",
        "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY",
        "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR",
        "LINK", "UNLINK", "SOURCE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(m, methods[i]))
            return 1;
    return 0;
}

static int fail(proxy_h2_req *r, int st)
{
    if (r->status == PROXY_H2_REQ_OK)
        r->status = st;
    return r->status;
}

static int is_name_n(const char *n, size_t nl, const char *lit, size_t ll)
{
    return nl == ll && memcmp(n, lit, nl) == 0;
}
/* lit is a string literal: its length is known at compile time */
#define is_name(n, nl, lit) is_name_n((n), (nl), (lit), sizeof(lit) - 1)

static int parse_cl(const char *v, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return -1;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

static int add_pseudo(proxy_h2_req *r, const char *name, size_t nl, const char *value, size_t vl)
{
    int which = -1;
    for (int i = 0; i < 4; i++)
        if (is_name_n(name, nl, pseudo_names[i], pseudo_lens[i]))
            which = i;
    if (which < 0 || r->regular_seen || r->have[which]) /* unknown, after a field, or repeated */
        return fail(r, PROXY_H2_REQ_EBAD);
    int ok = which == PROXY_H2_REQ_P_METHOD   ? token_any(value, vl)
             : which == PROXY_H2_REQ_P_SCHEME ? token_any(value, vl)
                                              : visible(value, vl);
    if (!ok || (which != PROXY_H2_REQ_P_AUTHORITY && vl == 0))
        return fail(r, PROXY_H2_REQ_EBAD);
    r->have[which] = 1;
    r->off[which] = r->pseudo.len;
    if (tdbuf_reserve(&r->pseudo, vl + 1) != 0) /* the value and its NUL, as proxy_h2_req_pseudo reads it */
        return fail(r, PROXY_H2_REQ_ENOMEM);
    memcpy(r->pseudo.data + r->pseudo.len, value, vl);
    r->pseudo.len += vl + 1;
    r->pseudo.data[r->pseudo.len - 1] = r->pseudo.data[r->pseudo.len] = '\0';
    return PROXY_H2_REQ_OK;
}

int proxy_h2_req_header(proxy_h2_req *r, const char *name, size_t nl, const char *value, size_t vl)
{
    r->list_size += nl + vl + 32;
    if (r->list_size > r->max_list)
        return fail(r, PROXY_H2_REQ_ETOOLARGE);
    if (r->status != PROXY_H2_REQ_OK)
        return r->status;
    if (nl > 0 && name[0] == ':')
        return add_pseudo(r, name, nl, value, vl);
    r->regular_seen = 1;
    if (!token_lower(name, nl) || !value_ok(value, vl))
        return fail(r, PROXY_H2_REQ_EBAD);
    /* RFC 9113 8.2.2: connection-specific fields make a request malformed; TE may only say trailers */
    if (is_name(name, nl, "connection") || is_name(name, nl, "keep-alive") ||
        is_name(name, nl, "proxy-connection") || is_name(name, nl, "transfer-encoding") ||
        is_name(name, nl, "upgrade"))
        return fail(r, PROXY_H2_REQ_EBAD);
    if (is_name(name, nl, "te")) {
        if (vl != 8 || strncasecmp(value, "trailers", 8) != 0)
            return fail(r, PROXY_H2_REQ_EBAD);
        return PROXY_H2_REQ_OK; /* trailers are not forwarded to the HTTP/1.1 upstream, so neither is TE */
    }
    if (is_name(name, nl, "content-length")) {
        int64_t cl;
        if (parse_cl(value, vl, &cl) != 0 || (r->content_length >= 0 && r->content_length != cl))
            return fail(r, PROXY_H2_REQ_EBAD);
        if (r->content_length >= 0)
            return PROXY_H2_REQ_OK; /* the same value twice: forwarded once */
        r->content_length = cl;
    }
    if (is_name(name, nl, "host")) {
        if (r->has_host || !visible(value, vl) || vl >= sizeof r->host)
            return fail(r, PROXY_H2_REQ_EBAD);
        memcpy(r->host, value, vl);
        r->host[vl] = '\0';
        r->has_host = 1;
        return PROXY_H2_REQ_OK; /* written first, from :authority or from here */
    }
    if (is_name(name, nl, "cookie")) {
        int rc = r->cookie.len ? tdbuf_append(&r->cookie, "; ", 2) : 0;
        if (rc || tdbuf_append(&r->cookie, value, vl) != 0)
            return fail(r, PROXY_H2_REQ_ENOMEM);
        return PROXY_H2_REQ_OK;
    }
    /* the name as sent (lowercase: HTTP/1.1 field names are case-insensitive) */
    tdbuf *f = &r->fields; /* one reserve, then plain copies: this runs for every field */
    if (tdbuf_reserve(f, nl + vl + 4) != 0)
        return fail(r, PROXY_H2_REQ_ENOMEM);
    char *w = f->data + f->len;
    memcpy(w, name, nl);
    memcpy(w + nl, ": ", 2);
    memcpy(w + nl + 2, value, vl);
    memcpy(w + nl + 2 + vl, "\r\n\0", 3); /* tdbuf keeps its bytes NUL-terminated */
    f->len += nl + vl + 4;
    return PROXY_H2_REQ_OK;
}

const char *proxy_h2_req_pseudo(const proxy_h2_req *r, int which)
{
    return r->have[which] ? r->pseudo.data + r->off[which] : NULL;
}

int proxy_h2_req_head(proxy_h2_req *r, int end_stream, const char *default_host, tdbuf *out, int *chunked)
{
    if (r->status != PROXY_H2_REQ_OK)
        return r->status;
    const char *method = proxy_h2_req_pseudo(r, PROXY_H2_REQ_P_METHOD);
    if (method && !strcmp(method, "CONNECT"))
        return fail(r, PROXY_H2_REQ_ECONNECT);
    const char *path = proxy_h2_req_pseudo(r, PROXY_H2_REQ_P_PATH),
               *scheme = proxy_h2_req_pseudo(r, PROXY_H2_REQ_P_SCHEME);
    if (!method || !path || !scheme || !known_method(method)) /* RFC 9113 8.3.1 */
        return fail(r, PROXY_H2_REQ_EBAD);
    if (path[0] != '/' && !(path[0] == '*' && !path[1] && !strcmp(method, "OPTIONS")))
        return fail(r, PROXY_H2_REQ_EBAD);
    const char *auth = proxy_h2_req_pseudo(r, PROXY_H2_REQ_P_AUTHORITY);
    if (auth && !*auth)
        auth = NULL;
    if (auth && r->has_host && strcasecmp(auth, r->host) != 0) /* RFC 9113 8.3.1: the same entity */
        return fail(r, PROXY_H2_REQ_EBAD);
    const char *host = auth ? auth : r->has_host ? r->host : default_host;
    if (end_stream && r->content_length > 0) /* RFC 9113 8.1.1: the body must match Content-Length */
        return fail(r, PROXY_H2_REQ_EBAD);
    *chunked = !end_stream && r->content_length < 0;
    /* one reserve for the whole head, then plain copies through a cursor (a tdbuf_append a piece was
     * ten calls a request) */
    size_t ml = strlen(method), pl = strlen(path), hl = strlen(host);
    static const char te[] = "transfer-encoding: chunked\r\n";
    size_t need = ml + 1 + pl + 17 + hl + 2 + r->fields.len + (r->cookie.len ? 8 + r->cookie.len + 2 : 0) +
                  (*chunked ? sizeof te - 1 : 0) + 2;
    if (tdbuf_reserve(out, need) != 0)
        return fail(r, PROXY_H2_REQ_ENOMEM);
    char *w = out->data + out->len;
#define PUT(p, n) (memcpy(w, (p), (n)), w += (n))
    PUT(method, ml);
    PUT(" ", 1);
    PUT(path, pl);
    PUT(" HTTP/1.1\r\nHost: ", 17);
    PUT(host, hl);
    PUT("\r\n", 2);
    if (r->fields.len)
        PUT(r->fields.data, r->fields.len);
    if (r->cookie.len) {
        PUT("cookie: ", 8);
        PUT(r->cookie.data, r->cookie.len);
        PUT("\r\n", 2);
    }
    if (*chunked)
        PUT(te, sizeof te - 1);
    PUT("\r\n", 2);
#undef PUT
    *w = '\0'; /* tdbuf keeps its bytes NUL-terminated */
    out->len = (size_t)(w - out->data);
    return PROXY_H2_REQ_OK;
}
