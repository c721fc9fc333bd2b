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

#include "engine_int.h"
#include "tdtime.h"

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

void engine_finish(engine *e, xfer *xf, engine_response *r)
{
    active_unlink(e, xf);
    engine_done_fn done = xf->done;
    void *user = xf->user;
    done(user, r);
    engine_xfer_put(e, xf); /* after the callback: r points into xf */
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

        engine_response r;
        memset(&r, 0, sizeof r);
        r.sent_us = xf->sent_us;
        r.first_byte_us = xf->first_byte_us;
        r.done_us = tdtime_mono_us();
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
        engine_finish(e, xf, &r);
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
    /* The native HTTP/1.1 client serves http:// (the default); libcurl does TLS and HTTP/2, and
     * everything when asked (--engine curl). */
    e->native = !strncasecmp(e->base_url, "http://", 7) && !e->opts.http2 && e->opts.kind != ENGINE_CURL;
    if (e->native)
        return engine_h1_init(e, err, errlen) < 0 ? (engine_free(e), NULL) : e;
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

int engine_kind_parse(const char *s, engine_kind *out)
{
    if (s && !strcmp(s, "native")) {
        *out = ENGINE_AUTO;
        return 0;
    }
    if (s && !strcmp(s, "curl")) {
        *out = ENGINE_CURL;
        return 0;
    }
    return -1;
}

void engine_free(engine *e)
{
    if (!e)
        return;
    if (e->native) {
        engine_h1_free(e); /* connections closed; the transfers are still on the active list */
        while (e->active) {
            xfer *xf = e->active;
            active_unlink(e, xf);
            engine_xfer_destroy(xf);
        }
    }
    if (e->multi) {
        /* In-flight transfers: detach and destroy without calling back. */
        while (e->active) {
            xfer *xf = e->active;
            curl_multi_remove_handle(e->multi, xf->easy);
            active_unlink(e, xf);
            engine_xfer_destroy(xf);
        }
    }
    while (e->free_list) {
        xfer *xf = e->free_list;
        e->free_list = xf->next_free;
        engine_xfer_destroy(xf);
    }
    if (e->multi)
        curl_multi_cleanup(e->multi); /* closes pooled connections; socket callbacks free their events */
    if (e->timer)
        event_free(e->timer);
    free(e->base_url);
    free(e);
}

int engine_submit(engine *e, const engine_request *req, engine_done_fn done, void *user)
{
    if (!e || !req || !req->method || !req->target || !done)
        return -1;
    xfer *xf = engine_xfer_get(e);
    if (!xf)
        return -1;
    if (e->native) {
        xf->done = done;
        xf->user = user;
        xf->prev_active = NULL;
        xf->next_active = e->active;
        if (e->active)
            e->active->prev_active = xf;
        e->active = xf;
        e->inflight++;
        if (engine_h1_submit(e, xf, req) < 0) {
            active_unlink(e, xf);
            goto fail;
        }
        return 0;
    }
    if (engine_xfer_prepare(e, xf, req) < 0)
        goto fail;
    xf->done = done;
    xf->user = user;
    xf->sent_us = tdtime_mono_us();
    if (curl_multi_add_handle(e->multi, xf->easy) != CURLM_OK)
        goto fail;
    xf->prev_active = NULL;
    xf->next_active = e->active;
    if (e->active)
        e->active->prev_active = xf;
    e->active = xf;
    e->inflight++;
    return 0;
fail:
    engine_xfer_put(e, xf);
    return -1;
}

size_t engine_inflight(const engine *e)
{
    return e ? e->inflight : 0;
}

int engine_is_native(const engine *e)
{
    return e->native;
}
