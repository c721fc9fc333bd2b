/* engine: libcurl multi on our libevent loop (the hiperfifo pattern: curl tells us which sockets to watch
 * and when to wake it; we call curl_multi_socket_action and reap finished transfers after each call).
 *
 * Speed matters (the load gate compares itself with wrk): transfers (easy handle + buffers) are kept on a
 * free list and reused, so a steady run allocates almost nothing per request; connections stay in curl's
 * pool between requests. */
#include "engine.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tdtime.h"

#define ENGINE_DEFAULT_MAX_RESPONSE (64u * 1024 * 1024)

typedef struct xfer {
    struct xfer *next_free;
    struct xfer *prev_active, *next_active; /* in engine.active while in flight */
    engine *eng;
    CURL *easy;
    struct curl_slist *headers;
    char *buf; /* raw response: head, then body */
    size_t len, cap;
    size_t head_len;
    int in_body; /* body bytes arrived: header lines now are trailers */
    char *url;
    size_t url_cap;
    char *body; /* request body copy */
    size_t body_cap;
    char method[24];
    int64_t sent_us, first_byte_us;
    int too_big;
    engine_done_fn done;
    void *user;
    char errbuf[CURL_ERROR_SIZE];
} xfer;

typedef struct sockctx {
    struct event *ev;
    engine *eng;
    curl_socket_t fd;
} sockctx;

struct engine {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    engine_opts opts;
    char *base_url; /* opts.target without a trailing '/' */
    size_t base_len;
    xfer *free_list;
    xfer *active; /* in flight, so engine_free can cancel them */
    size_t inflight;
    int curl_inited;
    /* libcurl before 8.0 breaks a reused prior-knowledge HTTP/2 connection ("Error in the HTTP2 framing
     * layer", curl issue 10634): there, h2c gets a fresh connection per request. Slower, but right. */
    int h2c_no_reuse;
};

static int64_t mono_us(void)
{
    return tdtime_mono_us();
}

/* Grow xf->buf to hold extra more bytes, within max_response. 0 or -1. */
static int buf_reserve(xfer *xf, size_t extra)
{
    size_t need = xf->len + extra + 1;
    if (need > xf->eng->opts.max_response + 1)
        return -1;
    if (need <= xf->cap)
        return 0;
    size_t ncap = xf->cap ? xf->cap : 4096;
    while (ncap < need)
        ncap *= 2;
    char *p = realloc(xf->buf, ncap);
    if (!p)
        return -1;
    xf->buf = p;
    xf->cap = ncap;
    return 0;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
    xfer *xf = ud;
    size_t len = size * n;
    if (!xf->first_byte_us)
        xf->first_byte_us = mono_us();
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
        xf->first_byte_us = mono_us();
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

static xfer *xfer_get(engine *e)
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

static void xfer_destroy(xfer *xf)
{
    if (!xf)
        return;
    curl_easy_cleanup(xf->easy);
    curl_slist_free_all(xf->headers);
    free(xf->buf);
    free(xf->url);
    free(xf->body);
    free(xf);
}

static void xfer_put(engine *e, xfer *xf)
{
    curl_slist_free_all(xf->headers);
    xf->headers = NULL;
    xf->done = NULL;
    xf->user = NULL;
    xf->next_free = e->free_list;
    e->free_list = xf;
}

/* Headers the engine sets itself (framing and connection management are libcurl's job). */
static int skip_header(const char *line)
{
    static const char *const names[] = {"content-length", "transfer-encoding", "connection", "keep-alive",
                                        "proxy-connection", "te", "upgrade", "expect", "trailer",
                                        "http2-settings"};
    const char *colon = strchr(line, ':');
    if (!colon)
        return 1;
    size_t n = (size_t)(colon - line);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && !strncasecmp(line, names[i], n))
            return 1;
    return 0;
}

static void active_unlink(engine *e, xfer *xf)
{
    if (xf->prev_active)
        xf->prev_active->next_active = xf->next_active;
    else
        e->active = xf->next_active;
    if (xf->next_active)
        xf->next_active->prev_active = xf->prev_active;
    xf->prev_active = xf->next_active = NULL;
    e->inflight--;
}

static void reap(engine *e)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(e->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *c = msg->easy_handle;
        CURLcode rc = msg->data.result;
        xfer *xf = NULL;
        curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&xf);
        curl_multi_remove_handle(e->multi, c);
        active_unlink(e, xf);

        engine_response r;
        memset(&r, 0, sizeof r);
        r.sent_us = xf->sent_us;
        r.first_byte_us = xf->first_byte_us;
        r.done_us = mono_us();
        char err[CURL_ERROR_SIZE + 160];
        if (rc == CURLE_OK) {
            long status = 0, ver = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &ver);
            r.ok = 1;
            r.status = (int)status;
            r.http_version = ver == CURL_HTTP_VERSION_2_0 ? 20 : ver == CURL_HTTP_VERSION_1_0 ? 10 : 11;
            if (!xf->head_len)
                xf->head_len = xf->len; /* no body bytes at all */
            r.raw = xf->buf ? xf->buf : "";
            r.raw_len = xf->len;
            r.head_len = xf->head_len;
        } else {
            const char *why = xf->too_big ? "response larger than the limit"
                              : xf->errbuf[0] ? xf->errbuf : curl_easy_strerror(rc);
            snprintf(err, sizeof err, "%s %s: %s", xf->method, xf->url, why);
            r.error = err;
            /* No connection could be made (refused, unresolvable, TLS handshake or certificate):
             * the target as a whole is unusable, not one exchange. */
            int no_conn = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                          rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
                          rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE;
            r.error_kind = no_conn ? ENGINE_ERR_CONNECT
                           : rc == CURLE_OPERATION_TIMEDOUT ? ENGINE_ERR_TIMEOUT
                                                            : ENGINE_ERR_OTHER;
        }
        engine_done_fn done = xf->done;
        void *user = xf->user;
        done(user, &r);
        xfer_put(e, xf); /* after the callback: r points into xf */
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    engine *e = arg;
    int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(e->multi, fd, action, &running);
    reap(e);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    engine *e = arg;
    int running;
    curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    reap(e);
}

static int curl_socket_cb(CURL *c, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)c;
    engine *e = userp;
    sockctx *sc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sc) {
            event_free(sc->ev);
            free(sc);
            curl_multi_assign(e->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc)
            return -1;
        sc->eng = e;
        sc->fd = s;
        sc->ev = event_new(e->base, s, kind, on_socket_event, e);
        if (!sc->ev) {
            free(sc);
            return -1;
        }
        curl_multi_assign(e->multi, s, sc);
    } else {
        event_del(sc->ev);
        event_assign(sc->ev, e->base, s, kind, on_socket_event, e);
    }
    event_add(sc->ev, NULL);
    return 0;
}

static int curl_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    engine *e = userp;
    if (timeout_ms < 0) {
        evtimer_del(e->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(e->timer, &tv);
    return 0;
}

engine *engine_new(struct event_base *base, const engine_opts *opts, char *err, size_t errlen)
{
    engine *e = NULL;
    if (!base || !opts || !opts->target) {
        snprintf(err, errlen, "engine: no event base or target");
        goto fail;
    }
    if (strncasecmp(opts->target, "http://", 7) && strncasecmp(opts->target, "https://", 8)) {
        snprintf(err, errlen, "target '%s' is not an http:// or https:// URL", opts->target);
        goto fail;
    }
    {
        /* A malformed URL would fail every request later; say so now, once. */
        CURLU *u = curl_url();
        CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, opts->target, 0) : CURLUE_OUT_OF_MEMORY;
        curl_url_cleanup(u);
        if (uc != CURLUE_OK) {
            snprintf(err, errlen, "target '%s' is not a valid URL (%s)", opts->target, curl_url_strerror(uc));
            goto fail;
        }
    }
    static int global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "curl_global_init failed");
            goto fail;
        }
        global_done = 1;
    }
    e = calloc(1, sizeof *e);
    if (!e)
        goto oom;
    e->base = base;
    e->opts = *opts;
    if (e->opts.connect_timeout_ms <= 0)
        e->opts.connect_timeout_ms = 5000;
    if (e->opts.timeout_ms <= 0)
        e->opts.timeout_ms = 30000;
    if (e->opts.max_connections <= 0)
        e->opts.max_connections = 64;
    if (!e->opts.max_response)
        e->opts.max_response = ENGINE_DEFAULT_MAX_RESPONSE;
    e->base_url = strdup(opts->target);
    if (!e->base_url)
        goto oom;
    e->base_len = strlen(e->base_url);
    while (e->base_len > 0 && e->base_url[e->base_len - 1] == '/')
        e->base_url[--e->base_len] = '\0';
    e->opts.target = e->base_url;
    if (e->opts.http2 && strncasecmp(e->base_url, "https:", 6) && curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
        e->h2c_no_reuse = 1;
    e->multi = curl_multi_init();
    e->timer = evtimer_new(base, on_timer, e);
    if (!e->multi || !e->timer)
        goto oom;
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e->opts.max_connections);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)e->opts.max_connections);
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->opts.max_connections);
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING,
                      e->opts.http2 && !e->h2c_no_reuse ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
    return e;
oom:
    snprintf(err, errlen, "engine: out of memory");
fail:
    engine_free(e);
    return NULL;
}

void engine_free(engine *e)
{
    if (!e)
        return;
    if (e->multi) {
        /* In-flight transfers: detach and destroy without calling back. */
        while (e->active) {
            xfer *xf = e->active;
            curl_multi_remove_handle(e->multi, xf->easy);
            active_unlink(e, xf);
            xfer_destroy(xf);
        }
    }
    while (e->free_list) {
        xfer *xf = e->free_list;
        e->free_list = xf->next_free;
        xfer_destroy(xf);
    }
    if (e->multi)
        curl_multi_cleanup(e->multi); /* closes pooled connections; socket callbacks free their events */
    if (e->timer)
        event_free(e->timer);
    free(e->base_url);
    free(e);
}

/* Copy n bytes into a growable field. 0 or -1. */
static int grow_copy(char **dst, size_t *cap, const char *src, size_t n)
{
    if (n + 1 > *cap) {
        size_t ncap = *cap ? *cap : 256;
        while (ncap < n + 1)
            ncap *= 2;
        char *p = realloc(*dst, ncap);
        if (!p)
            return -1;
        *dst = p;
        *cap = ncap;
    }
    if (n)
        memcpy(*dst, src, n);
    (*dst)[n] = '\0';
    return 0;
}

int engine_submit(engine *e, const engine_request *req, engine_done_fn done, void *user)
{
    if (!e || !req || !req->method || !req->target || !done)
        return -1;
    xfer *xf = xfer_get(e);
    if (!xf)
        return -1;
    CURL *c = xf->easy;
    xf->len = 0;
    xf->head_len = 0;
    xf->in_body = 0;
    xf->too_big = 0;
    xf->first_byte_us = 0;
    xf->errbuf[0] = '\0';
    snprintf(xf->method, sizeof xf->method, "%s", req->method);

    /* URL: base + request target; an absolute-form target (as proxies receive) keeps only its path. */
    const char *t = req->target;
    if (!strncasecmp(t, "http://", 7) || !strncasecmp(t, "https://", 8)) {
        const char *p = strchr(strstr(t, "//") + 2, '/');
        t = p ? p : "/";
    }
    size_t tlen = strlen(t);
    size_t need = e->base_len + 1 + tlen + 1;
    if (need > xf->url_cap) {
        char *p = realloc(xf->url, need);
        if (!p)
            goto fail;
        xf->url = p;
        xf->url_cap = need;
    }
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
        if (skip_header(h))
            continue;
        if (!strncasecmp(h, "accept:", 7))
            has_accept = 1;
        if (!(tmp = curl_slist_append(hl, h)))
            goto fail_hl;
        hl = tmp;
    }
    if (!has_accept) {
        if (!(tmp = curl_slist_append(hl, "Accept:")))
            goto fail_hl;
        hl = tmp;
    }
    if (!(tmp = curl_slist_append(hl, "Expect:")))
        goto fail_hl;
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
    } else if (curl_easy_setopt(c, CURLOPT_NOBODY, 0L), req->body_len == 0 && (!strcasecmp(req->method, "GET") || !strcasecmp(req->method, "DELETE") ||
                                      !strcasecmp(req->method, "OPTIONS"))) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(req->method, "GET") ? xf->method : NULL);
    } else {
        if (grow_copy(&xf->body, &xf->body_cap, req->body ? req->body : "", req->body_len) < 0)
            goto fail;
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, xf->body);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(req->method, "POST") ? xf->method : NULL);
    }
    xf->done = done;
    xf->user = user;
    xf->sent_us = mono_us();
    if (curl_multi_add_handle(e->multi, c) != CURLM_OK)
        goto fail;
    xf->prev_active = NULL;
    xf->next_active = e->active;
    if (e->active)
        e->active->prev_active = xf;
    e->active = xf;
    e->inflight++;
    return 0;
fail_hl:
    curl_slist_free_all(hl);
fail:
    xfer_put(e, xf);
    return -1;
}

size_t engine_inflight(const engine *e)
{
    return e ? e->inflight : 0;
}
