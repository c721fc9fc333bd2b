/* engine_xfer: one transfer — an easy handle kept for reuse with its buffers — and the callbacks that
 * collect the raw response (head lines, then the body exactly as sent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "httpmsg_facts.h"
#include "tdtime.h"

/* Grow xf->buf to hold extra more bytes, within max_response. 0 or -1. */
static int buf_reserve(xfer *xf, size_t extra)
{
    size_t need = xf->len + extra + 1;
    if (need > xf->eng->opts.max_response + 1)
        return -1;
    return engine_grow(&xf->buf, &xf->cap, need, 4096);
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
    xfer *xf = ud;
    size_t len = size * n;
    if (!xf->first_byte_us)
        xf->first_byte_us = tdtime_mono_us();
    if (xf->in_body)
        return len; /* trailers: not part of the head */
    int status_line = len >= 5 && !memcmp(ptr, "HTTP/", 5);
    if (status_line) {
        /* A new response starts (after a 1xx, or the first one): the head starts over. */
        xf->len = 0;
        xf->head_len = 0;
        if (len >= 7 && !memcmp(ptr, "HTTP/2 ", 7)) {
            /* HTTP/2 has no textual status line; make it read like one HTTP/1-style parsers accept. */
            if (buf_reserve(xf, len + 2) < 0)
                goto too_big;
            memcpy(xf->buf, "HTTP/2.0 ", 9);
            memcpy(xf->buf + 9, ptr + 7, len - 7);
            xf->len = len + 2;
            return len;
        }
    }
    if (buf_reserve(xf, len) < 0)
        goto too_big;
    memcpy(xf->buf + xf->len, ptr, len);
    xf->len += len;
    if (len <= 2 && (ptr[0] == '\r' || ptr[0] == '\n'))
        xf->head_len = xf->len; /* end of this head (of a 1xx too: the next status line resets it) */
    return len;
too_big:
    xf->too_big = 1;
    return 0;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
    xfer *xf = ud;
    size_t len = size * n;
    if (!xf->first_byte_us)
        xf->first_byte_us = tdtime_mono_us();
    if (!xf->in_body) {
        xf->in_body = 1;
        if (!xf->head_len)
            xf->head_len = xf->len;
    }
    if (buf_reserve(xf, len) < 0) {
        xf->too_big = 1;
        return 0;
    }
    memcpy(xf->buf + xf->len, ptr, len);
    xf->len += len;
    return len;
}

xfer *engine_xfer_get(engine *e)
{
    xfer *xf = e->free_list;
    if (xf) {
        e->free_list = xf->next_free;
        xf->next_free = NULL;
        return xf;
    }
    xf = calloc(1, sizeof *xf);
    if (!xf)
        return NULL;
    xf->eng = e;
    if (e->native)
        return xf; /* the native path needs no easy handle */
    xf->easy = curl_easy_init();
    if (!xf->easy) {
        free(xf);
        return NULL;
    }
    CURL *c = xf->easy;
    /* Options that never change for this handle. */
    curl_easy_setopt(c, CURLOPT_PRIVATE, xf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, xf->errbuf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, xf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, xf);
    /* Bodies exactly as sent: we de-chunk and decode ourselves, the same way for recorded responses. */
    curl_easy_setopt(c, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
    curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never an http_proxy from the environment */
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, e->opts.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, e->opts.timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
                     e->opts.http2 ? (strncasecmp(e->base_url, "https:", 6) == 0
                                          ? CURL_HTTP_VERSION_2TLS
                                          : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
                                   : CURL_HTTP_VERSION_1_1);
    if (e->h2c_no_reuse)
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    if (getenv("TAPEDECK_CURL_VERBOSE")) /* debugging aid: libcurl's trace on stderr */
        curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    if (e->opts.insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return xf;
}

void engine_xfer_destroy(xfer *xf)
{
    if (!xf)
        return;
    if (xf->easy)
        curl_easy_cleanup(xf->easy);
    curl_slist_free_all(xf->headers);
    free(xf->buf);
    free(xf->url);
    free(xf->body);
    free(xf->req);
    free(xf);
}

void engine_xfer_put(engine *e, xfer *xf)
{
    curl_slist_free_all(xf->headers);
    xf->headers = NULL;
    xf->done = NULL;
    xf->user = NULL;
    xf->next_free = e->free_list;
    e->free_list = xf;
}

int engine_grow(char **buf, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : first;
    while (ncap < need)
        ncap *= 2;
    char *p = realloc(*buf, ncap);
    if (!p)
        return -1;
    *buf = p;
    *cap = ncap;
    return 0;
}

const char *engine_origin_path(const char *t)
{
    if (t[0] == '/')
        return t; /* origin-form, as recorded nearly always: no scheme to compare */
    if (!strncasecmp(t, "http://", 7) || !strncasecmp(t, "https://", 8)) {
        const char *p = strchr(strstr(t, "//") + 2, '/');
        return p ? p : "/";
    }
    return t;
}

int engine_hop_header(const char *line)
{
    const char *colon = strchr(line, ':');
    return !colon || httpmsg_header_is_hop(line, (size_t)(colon - line));
}

static int grow_copy(char **dst, size_t *cap, const char *src, size_t n)
{
    if (engine_grow(dst, cap, n + 1, 256) != 0)
        return -1;
    if (n)
        memcpy(*dst, src, n);
    (*dst)[n] = '\0';
    return 0;
}

int engine_xfer_prepare(engine *e, xfer *xf, const engine_request *req)
{
    CURL *c = xf->easy;
    xf->len = 0;
    xf->head_len = 0;
    xf->in_body = 0;
    xf->too_big = 0;
    xf->first_byte_us = 0;
    xf->errbuf[0] = '\0';
    snprintf(xf->method, sizeof xf->method, "%s", req->method);
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, req->fresh_connection ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, req->close_connection || e->h2c_no_reuse ? 1L : 0L);

    /* URL: base + request target; an absolute-form target (as proxies receive) keeps only its path. */
    const char *t = engine_origin_path(req->target);
    size_t tlen = strlen(t);
    if (engine_grow(&xf->url, &xf->url_cap, e->base_len + 1 + tlen + 1, 256) != 0)
        return -1;
    memcpy(xf->url, e->base_url, e->base_len);
    size_t ul = e->base_len;
    if (t[0] != '/')
        xf->url[ul++] = '/';
    memcpy(xf->url + ul, t, tlen + 1);

    /* Headers: the caller's, minus those libcurl manages; and no headers libcurl would add on its own
     * (Accept, Expect) unless the caller gave them. */
    struct curl_slist *hl = NULL, *tmp;
    int has_accept = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *h = req->headers[i];
        if (engine_hop_header(h))
            continue;
        if (!strncasecmp(h, "accept:", 7))
            has_accept = 1;
        if (!(tmp = curl_slist_append(hl, h)))
            goto fail;
        hl = tmp;
    }
    if (!has_accept) {
        if (!(tmp = curl_slist_append(hl, "Accept:")))
            goto fail;
        hl = tmp;
    }
    if (!(tmp = curl_slist_append(hl, "Expect:")))
        goto fail;
    hl = tmp;
    xf->headers = hl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_URL, xf->url);

    /* Method and body. */
    int is_head = !strcasecmp(req->method, "HEAD");
    if (is_head) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req->body_len == 0 && (!strcasecmp(req->method, "GET") || !strcasecmp(req->method, "DELETE") ||
                                      !strcasecmp(req->method, "OPTIONS"))) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(req->method, "GET") ? xf->method : NULL);
    } else {
        curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
        if (grow_copy(&xf->body, &xf->body_cap, req->body ? req->body : "", req->body_len) < 0)
            return -1;
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, xf->body);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(req->method, "POST") ? xf->method : NULL);
    }
    return 0;
fail:
    curl_slist_free_all(hl);
    return -1;
}
