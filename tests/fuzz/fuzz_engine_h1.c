/* Fuzz target for the native HTTP/1.1 client's response path (replay/engine/engine_h1.c): a listener on
 * 127.0.0.1 in the same event loop answers one request with the input's bytes (after the first, which
 * picks the method) and closes; the engine reads them off a real socket, frames them (interim 1xx cut
 * out, bodies by length, chunks or the close) and calls back. Nothing may crash, leak or hang; the
 * callback comes exactly once; a response it accepts is a piece of what was sent, with a 3-digit
 * status and its head inside it. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine.h"

typedef struct fz {
    struct event_base *base;
    struct evconnlistener *l;
    char url[64];
    const uint8_t *data;
    size_t len;
    int calls;
} fz;

static void server_written(struct bufferevent *bev, void *arg)
{
    (void)arg;
    bufferevent_free(bev); /* all sent: close (BEV_OPT_CLOSE_ON_FREE) */
}

static void server_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    (void)arg;
    bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    (void)l;
    (void)sa;
    (void)salen;
    fz *f = arg;
    struct bufferevent *bev = bufferevent_socket_new(f->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        abort();
    bufferevent_setcb(bev, NULL, server_written, server_event, f);
    bufferevent_enable(bev, EV_WRITE);
    if (f->len)
        bufferevent_write(bev, f->data, f->len);
    else
        bufferevent_free(bev);
}

static void on_done(void *user, const engine_response *r)
{
    fz *f = user;
    f->calls++;
    if (r->ok) {
        if (r->status < 100 || r->status > 999 || r->head_len > r->raw_len || r->raw_len > f->len)
            abort();
        if (r->raw_len && !memmem(f->data, f->len, r->raw, r->raw_len))
            abort();
    } else if (!r->error || (r->error_kind != ENGINE_ERR_OTHER && r->error_kind != ENGINE_ERR_TIMEOUT)) {
        abort(); /* the listener is up: never a connect error */
    }
    event_base_loopbreak(f->base);
}

static fz *setup(void)
{
    static fz f;
    if (f.base)
        return &f;
    f.base = event_base_new();
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f.l = evconnlistener_new_bind(f.base, on_accept, &f, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 16,
                                  (struct sockaddr *)&sin, sizeof sin);
    if (!f.base || !f.l)
        abort();
    socklen_t sl = sizeof sin;
    getsockname(evconnlistener_get_fd(f.l), (struct sockaddr *)&sin, &sl);
    snprintf(f.url, sizeof f.url, "http://127.0.0.1:%d", ntohs(sin.sin_port));
    return &f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    fz *f = setup();
    f->data = data + 1;
    f->len = size - 1;
    f->calls = 0;
    char err[256];
    engine_opts o = {.target = f->url, .max_connections = 1, .timeout_ms = 3000, .max_response = 1u << 20};
    engine *e = engine_new(f->base, &o, err, sizeof err);
    if (!e)
        abort();
    static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE"};
    engine_request rq = {.method = methods[data[0] & 3], .target = "/fuzz", .body = "b",
                         .body_len = (data[0] & 3) == 2};
    if (engine_submit(e, &rq, on_done, f) < 0)
        abort();
    event_base_dispatch(f->base);
    if (f->calls != 1)
        abort();
    engine_free(e);
    /* let the server side finish closing before the next input */
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    return 0;
}
