/* engine_h1: the native HTTP/1.1 path for http:// targets. Each connection slot is a non-blocking socket
 * on the caller's loop carrying one request at a time (keep-alive, no pipelining): its read event stays
 * registered while it lives, a request is serialised once and sent straight away (the write event only
 * when the socket is full), the response is received straight into the transfer's buffer and framed by
 * httpmsg's streaming parser while the raw bytes stay as they came (interim 1xx responses cut out). Per
 * request that is one send and one or two recv: no epoll_ctl, no poll. A request that meets a pooled connection
 * the server has closed in the meantime is retried once on a fresh one, as libcurl does. */
#include <errno.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine_int.h"
#include "httpmsg.h"
#include "tdtime.h"

struct h1conn {
    engine *e;
    evutil_socket_t fd;      /* -1: not connected */
    struct event *rev;       /* readable: persistent while connected (no epoll_ctl per request) */
    struct event *wev;       /* writable: only while connecting or after a partial write */
    struct event *timer;     /* the current request's timeout */
    httpmsg_parser *parser;
    xfer *cur;
    size_t sent;             /* bytes of cur's request written */
    int connecting;          /* connect not confirmed yet */
    int served;              /* requests completed on this connection (a reused one may be stale) */
    char why[400];           /* error text built here (no static buffers: one engine per thread) */
};

static void conn_close(h1conn *c)
{
    if (c->fd >= 0) {
        event_del(c->rev);
        event_del(c->wev);
        evutil_closesocket(c->fd);
    }
    c->fd = -1;
    httpmsg_parser_free(c->parser); /* its state belongs to this connection's byte stream */
    c->parser = NULL;
    c->connecting = 0;
    c->served = 0;
    if (c->timer)
        evtimer_del(c->timer);
}


/* The transfer on c ends (ok or not); the connection is kept when it may be. */
static void conn_done(h1conn *c, int ok, engine_error_kind kind, const char *why, int keep)
{
    engine *e = c->e;
    xfer *xf = c->cur;
    c->cur = NULL;
    evtimer_del(c->timer);
    if (!keep)
        conn_close(c);
    else
        c->served++;
    engine_response r;
    memset(&r, 0, sizeof r);
    r.sent_us = xf->sent_us;
    r.first_byte_us = xf->first_byte_us;
    r.done_us = tdtime_mono_us();
    char err[600];
    if (ok) {
        r.ok = 1;
        r.status = xf->status;
        r.http_version = xf->version == 10 ? 10 : 11;
        r.raw = xf->buf ? xf->buf : "";
        r.raw_len = xf->len;
        r.head_len = xf->head_len;
    } else {
        snprintf(err, sizeof err, "%s http://%s%s: %s", xf->method, e->hostport, xf->url ? xf->url : "", why);
        r.error = err;
        r.error_kind = kind;
    }
    engine_finish(e, xf, &r);
    engine_h1_dispatch(e);
}

static int on_head(void *ctx, const httpmsg_head *h)
{
    h1conn *c = ctx;
    xfer *xf = c->cur;
    xf->status = h->status;
    xf->head_len = h->head_len;
    xf->keep_alive = h->keep_alive;
    xf->version = h->http_major * 10 + h->http_minor;
    xf->interim = h->status >= 100 && h->status < 200 && h->status != 101;
    xf->head_seen = 1;
    return xf->interim || h->status == 101 ? 1 : 0;
}

static int on_complete_mark(void *ctx)
{
    h1conn *c = ctx;
    c->cur->head_seen = 2; /* and pause: on_readable looks at where the message ended */
    return 1;
}

static const httpmsg_callbacks h1_callbacks = {on_head, NULL, on_complete_mark};
/* What libcurl accepts, the native client accepts too (the two must give the same verdicts): heads up to
 * libcurl's 300 KiB, any number of fields, any transfer coding before a final chunked. */
static const httpmsg_limits h1_limits = {.max_head = 300 * 1024, .max_headers = 100000, .accept_codings = true};

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    h1conn *c = arg;
    char why[96];
    snprintf(why, sizeof why, "Operation timed out after %ld milliseconds", c->e->opts.timeout_ms);
    conn_done(c, 0, ENGINE_ERR_TIMEOUT, why, 0);
}

/* Write the current transfer's request on c (connecting first when needed). 0 or -1 (why set). */
static int conn_start(h1conn *c, const char **why);

static void retry_or_fail(h1conn *c, engine_error_kind kind, const char *why)
{
    xfer *xf = c->cur;
    /* A pooled connection the server closed while idle: nothing of the response came; once more on a
     * fresh connection. */
    if (c->served > 0 && !xf->retried && xf->len == 0 && kind != ENGINE_ERR_TIMEOUT) {
        xf->retried = 1;
        conn_close(c);
        const char *w2 = NULL;
        if (conn_start(c, &w2) == 0)
            return;
        why = w2 ? w2 : why;
    }
    conn_done(c, 0, c->connecting ? ENGINE_ERR_CONNECT : kind, why, 0);
}

/* The peer closed (n == 0 from recv) or the socket failed (err != 0). */
static void conn_broken(h1conn *c, int err)
{
    if (!c->cur) { /* an idle connection closed by the server */
        conn_close(c);
        return;
    }
    if (!err && c->cur->head_seen) {
        /* a body delimited by the close */
        if (httpmsg_parser_eof(c->parser) == 0 && c->cur->head_seen == 2) {
            conn_done(c, 1, ENGINE_ERR_NONE, NULL, 0);
            return;
        }
        conn_done(c, 0, ENGINE_ERR_OTHER, "connection closed inside the response", 0);
        return;
    }
    char why[512];
    if (c->connecting)
        snprintf(why, sizeof why, "Failed to connect to %s: %s", c->e->hostport,
                 err ? evutil_socket_error_to_string(err) : "connection closed");
    else
        snprintf(why, sizeof why, "%s", !err ? "Empty reply from server (connection closed)"
                                             : evutil_socket_error_to_string(err));
    retry_or_fail(c, ENGINE_ERR_OTHER, why);
}

/* Write what is left of the request; arm the write event when the socket is full. */
static void conn_flush(h1conn *c)
{
    xfer *xf = c->cur;
    while (c->sent < xf->req_len) {
        ssize_t n = send(c->fd, xf->req + c->sent, xf->req_len - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        int err = evutil_socket_geterror(c->fd);
        if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)) {
            event_add(c->wev, NULL);
            return;
        }
        conn_broken(c, err ? err : EPIPE);
        return;
    }
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    h1conn *c = arg;
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            conn_broken(c, err);
            return;
        }
        c->connecting = 0;
        event_add(c->rev, NULL);
        if (c->cur) {
            /* connected: from now on the request's own limit, counted from when it was handed over */
            int64_t left = c->e->opts.timeout_ms * 1000 - (tdtime_mono_us() - c->cur->sent_us);
            struct timeval tv = {left > 0 ? left / 1000000 : 0, left > 0 ? left % 1000000 : 0};
            evtimer_add(c->timer, &tv);
        }
    }
    if (c->cur)
        conn_flush(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    h1conn *c = arg;
    xfer *xf = c->cur;
    if (!xf) { /* an idle connection: only its close (or junk, equally fatal) can arrive */
        conn_close(c);
        return;
    }
    if (engine_grow(&xf->buf, &xf->cap, xf->len + 16384 + 1, 4096) != 0) {
        conn_done(c, 0, ENGINE_ERR_OTHER, "out of memory", 0);
        return;
    }
    ssize_t n = recv(fd, xf->buf + xf->len, xf->cap - xf->len - 1, 0);
    if (n < 0) {
        int err = evutil_socket_geterror(fd);
        if (!(err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
            conn_broken(c, err);
        return;
    }
    if (n == 0) {
        conn_broken(c, 0);
        return;
    }
    if (!xf->first_byte_us)
        xf->first_byte_us = tdtime_mono_us();
    size_t from = xf->len;
    xf->len += (size_t)n;
    if (xf->len > c->e->opts.max_response) {
        conn_done(c, 0, ENGINE_ERR_OTHER, "response larger than the limit", 0);
        return;
    }
    while (from < xf->len) {
        ssize_t k = httpmsg_parser_execute(c->parser, xf->buf + from, xf->len - from);
        if (k < 0) {
            char why[200];
            snprintf(why, sizeof why, "bad response: %s", httpmsg_parser_error(c->parser));
            conn_done(c, 0, ENGINE_ERR_OTHER, why, 0);
            return;
        }
        size_t end = from + (size_t)k;
        if (xf->head_seen != 2)
            return; /* all consumed, the message goes on */
        if (xf->interim) {
            /* cut the 1xx out: the raw response is the final one only */
            memmove(xf->buf + xf->msg_start, xf->buf + end, xf->len - end);
            xf->len -= end - xf->msg_start;
            from = xf->msg_start;
            xf->head_seen = 0;
            xf->interim = 0;
            httpmsg_parser_resume(c->parser);
            continue;
        }
        /* the final response; anything after it was not asked for */
        int keep = xf->keep_alive && end == xf->len && xf->status != 101 && !xf->close_after;
        xf->len = end;
        httpmsg_parser_resume(c->parser);
        conn_done(c, 1, ENGINE_ERR_NONE, NULL, keep);
        return;
    }
}

static int conn_start(h1conn *c, const char **why)
{
    engine *e = c->e;
    xfer *xf = c->cur;
    if (xf->fresh && c->fd >= 0 && !xf->retried)
        conn_close(c); /* a new connection was asked for: the idle one goes */
    /* One parser per connection, reused from response to response (it is dropped with the
     * connection, so one that stopped on an error never sees another byte). */
    if (!c->parser && !(c->parser = httpmsg_parser_new(HTTPMSG_RESPONSE, &h1_callbacks, c, &h1_limits))) {
        *why = "out of memory";
        return -1;
    }
    httpmsg_parser_set_request_method(c->parser, xf->method);
    xf->len = 0;
    xf->msg_start = 0;
    xf->head_seen = 0;
    xf->interim = 0;
    c->sent = 0;
    if (c->fd < 0) {
        evutil_socket_t fd = socket(e->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            *why = "cannot create a socket";
            return -1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->connecting = 1;
        event_assign(c->rev, e->base, fd, EV_READ | EV_PERSIST, on_readable, c);
        event_assign(c->wev, e->base, fd, EV_WRITE, on_writable, c);
        if (connect(fd, (struct sockaddr *)&e->addr, (socklen_t)e->addr_len) < 0 && errno != EINPROGRESS) {
            snprintf(c->why, sizeof c->why, "Failed to connect to %s: %s", e->hostport, strerror(errno));
            *why = c->why;
            conn_close(c);
            return -1;
        }
        event_add(c->wev, NULL); /* writable = connected (or failed) */
    }
    xf->sent_us = tdtime_mono_us();
    /* not connected yet: the (shorter) connect limit applies until the answer is complete */
    evtimer_add(c->timer, c->connecting && e->opts.connect_timeout_ms < e->opts.timeout_ms ? e->connect_tv : e->req_tv);
    if (!c->connecting)
        conn_flush(c); /* may finish c->cur at once on a dead socket: the caller must not touch xf */
    return 0;
}

/* Hand queued transfers to free connections. */
void engine_h1_dispatch(engine *e)
{
    for (int i = 0; i < e->opts.max_connections && e->queue_head; i++) {
        h1conn *c = &e->conns[i];
        if (c->cur)
            continue;
        xfer *xf = e->queue_head;
        e->queue_head = xf->next_queued;
        if (!e->queue_head)
            e->queue_tail = NULL;
        xf->next_queued = NULL;
        c->cur = xf;
        const char *why = NULL;
        if (conn_start(c, &why) < 0)
            conn_done(c, 0, c->fd < 0 ? ENGINE_ERR_CONNECT : ENGINE_ERR_OTHER, why, 0);
    }
}

int engine_h1_slots(engine *e, char *err, size_t errlen)
{
    struct timeval tv = {e->opts.timeout_ms / 1000, (e->opts.timeout_ms % 1000) * 1000};
    struct timeval ctv = {e->opts.connect_timeout_ms / 1000, (e->opts.connect_timeout_ms % 1000) * 1000};
    e->req_tv = event_base_init_common_timeout(e->base, &tv);
    e->connect_tv = event_base_init_common_timeout(e->base, &ctv);
    if (!e->req_tv || !e->connect_tv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->conns = calloc((size_t)e->opts.max_connections, sizeof *e->conns);
    if (!e->conns) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < e->opts.max_connections; i++) {
        h1conn *c = &e->conns[i];
        c->e = e;
        c->fd = -1;
        /* events are assigned to each new socket; allocated once per slot */
        c->rev = event_new(e->base, -1, EV_READ | EV_PERSIST, on_readable, c);
        c->wev = event_new(e->base, -1, EV_WRITE, on_writable, c);
        if (!c->rev || !c->wev || !(c->timer = evtimer_new(e->base, on_timeout, c))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

void engine_h1_free(engine *e)
{
    for (int i = 0; e->conns && i < e->opts.max_connections; i++) {
        h1conn *c = &e->conns[i];
        conn_close(c);
        if (c->rev)
            event_free(c->rev);
        if (c->wev)
            event_free(c->wev);
        if (c->timer)
            event_free(c->timer);
    }
    free(e->conns);
    e->conns = NULL;
    e->queue_head = e->queue_tail = NULL; /* the transfers themselves are on the active list */
    free(e->path_prefix);
    e->path_prefix = NULL;
}
