/* engine_h1_req: the native path's request side — the target resolved once, each request serialised
 * once into its transfer (recorded headers as given, minus framing and connection headers: the body is
 * framed here with a Content-Length) — and the connection slots set up. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "engine_int.h"
#include "tdbuf.h"

static int req_put(xfer *xf, const char *s, size_t n)
{
    /* the buffer is kept from request to request: growing is rare, the check is not */
    if (xf->req_len + n + 1 > xf->req_cap && engine_grow(&xf->req, &xf->req_cap, xf->req_len + n + 1, 512) != 0)
        return -1;
    memcpy(xf->req + xf->req_len, s, n);
    xf->req_len += n;
    return 0;
}

#define REQ_LIT(xf, s) req_put((xf), (s), sizeof(s) - 1)

int engine_h1_submit(engine *e, xfer *xf, const engine_request *req)
{
    /* per request: snprintf here was a tenth of load's instructions per request (callgrind) */
    size_t ml = strnlen(req->method, sizeof xf->method - 1);
    memcpy(xf->method, req->method, ml);
    xf->method[ml] = '\0';
    xf->retried = 0;
    xf->fresh = req->fresh_connection;
    xf->close_after = req->close_connection;
    xf->first_byte_us = 0;
    xf->status = 0;
    xf->req_len = 0;
    const char *t = engine_origin_path(req->target);
    /* xf->url holds the request target sent (for error messages) */
    size_t pl = strlen(e->path_prefix), tl = strlen(t), sl = t[0] == '/' ? 0 : 1;
    if (engine_grow(&xf->url, &xf->url_cap, pl + tl + 2, 256) != 0)
        return -1;
    memcpy(xf->url, e->path_prefix, pl);
    memcpy(xf->url + pl, "/", sl);
    memcpy(xf->url + pl + sl, t, tl + 1);
    int has_host = 0, rc = 0;
    rc |= req_put(xf, req->method, strlen(req->method));
    rc |= REQ_LIT(xf, " ");
    rc |= req_put(xf, xf->url, pl + sl + tl);
    rc |= REQ_LIT(xf, " HTTP/1.1\r\n");
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *h = req->headers[i];
        if (!strncasecmp(h, "host:", 5) && !has_host) {
            has_host = 1; /* the caller's Host wins */
        } else if (engine_hop_header(h) || !strncasecmp(h, "host:", 5)) {
            /* framing is ours (Content-Length below); a second Host goes */
            continue;
        }
        size_t hl = strlen(h);
        rc |= req_put(xf, h, hl);
        rc |= REQ_LIT(xf, "\r\n");
    }
    if (!has_host) {
        rc |= REQ_LIT(xf, "Host: ");
        rc |= req_put(xf, e->hostport, e->hostport_len);
        rc |= REQ_LIT(xf, "\r\n");
    }
    int bodyless = req->body_len == 0 && (!strcasecmp(req->method, "GET") || !strcasecmp(req->method, "HEAD") ||
                                          !strcasecmp(req->method, "DELETE") || !strcasecmp(req->method, "OPTIONS"));
    if (!bodyless) {
        char num[TDBUF_U64_DIGITS];
        rc |= REQ_LIT(xf, "Content-Length: ");
        rc |= req_put(xf, num, (size_t)(tdbuf_u64_digits(num, req->body_len) - num));
        rc |= REQ_LIT(xf, "\r\n");
    }
    rc |= REQ_LIT(xf, "\r\n");
    if (req->body_len)
        rc |= req_put(xf, req->body, req->body_len);
    if (rc)
        return -1;
    /* queue, then hand to a free connection */
    xf->next_queued = NULL;
    if (e->queue_tail)
        e->queue_tail->next_queued = xf;
    else
        e->queue_head = xf;
    e->queue_tail = xf;
    engine_h1_dispatch(e);
    return 0;
}

int engine_h1_init(engine *e, char *err, size_t errlen)
{
    /* host[:port][/prefix] after "http://" */
    const char *hp = e->base_url + 7;
    const char *slash = strchr(hp, '/');
    size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
    if (!hl || hl >= sizeof e->hostport) {
        snprintf(err, errlen, "target '%s' has no host", e->base_url);
        return -1;
    }
    memcpy(e->hostport, hp, hl);
    e->hostport[hl] = '\0';
    e->hostport_len = hl;
    e->path_prefix = strdup(slash ? slash : "");
    if (!e->path_prefix) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char host[sizeof e->hostport], port[16] = "80";
    const char *h = e->hostport, *colon;
    if (h[0] == '[') { /* [v6]:port */
        const char *rb = strchr(h, ']');
        if (!rb || (size_t)(rb - h - 1) >= sizeof host) {
            snprintf(err, errlen, "target '%s': bad IPv6 address", e->base_url);
            return -1;
        }
        memcpy(host, h + 1, (size_t)(rb - h - 1));
        host[rb - h - 1] = '\0';
        if (rb[1] == ':')
            snprintf(port, sizeof port, "%s", rb + 2);
    } else if ((colon = strrchr(h, ':'))) {
        snprintf(host, sizeof host, "%.*s", (int)(colon - h), h);
        snprintf(port, sizeof port, "%s", colon + 1);
    } else {
        snprintf(host, sizeof host, "%s", h);
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai || !res) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    memcpy(&e->addr, res->ai_addr, res->ai_addrlen);
    e->addr_len = (int)res->ai_addrlen;
    freeaddrinfo(res);
    return engine_h1_slots(e, err, errlen);
}

