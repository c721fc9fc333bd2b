/* proxy_admin: a deliberately tiny HTTP endpoint. The request head is parsed by httpmsg like every
 * other HTTP message in tapedeck; the answer always closes the connection. */
#include "proxy_admin.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "httpmsg.h"
#include "proxy_log.h"
#include "proxy_mirror_cmp.h"
#include "tdbuf.h"

#define ADMIN_MAX_HEAD 8192

typedef struct admin_conn {
    struct proxy_admin *a;
    struct bufferevent *bev;
    struct admin_conn *prev, *next;
    int replied;
} admin_conn;

struct proxy_admin {
    struct evconnlistener *lst;
    proxy_metrics *m;
    proxy_record *rec;
    const int *draining;
    admin_conn *conns;
};

static void admin_conn_free(admin_conn *ac)
{
    proxy_admin *a = ac->a;
    if (ac->prev)
        ac->prev->next = ac->next;
    else
        a->conns = ac->next;
    if (ac->next)
        ac->next->prev = ac->prev;
    bufferevent_free(ac->bev);
    free(ac);
}

static void admin_reply(admin_conn *ac, int status, const char *reason, const char *ctype, const char *body,
                        size_t len)
{
    struct evbuffer *out = bufferevent_get_output(ac->bev);
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n"
                        "\r\n",
                        status, reason, ctype, len);
    evbuffer_add(out, body, len);
    ac->replied = 1;
    bufferevent_disable(ac->bev, EV_READ);
}

static void admin_handle(admin_conn *ac, const httpmsg *msg)
{
    proxy_admin *a = ac->a;
    const char *url = msg->head.url;
    size_t plen = strcspn(url, "?");
    if (strcmp(msg->head.method, "GET") != 0 && strcmp(msg->head.method, "HEAD") != 0) {
        admin_reply(ac, 405, "Method Not Allowed", "text/plain", "GET only\n", 9);
    } else if (plen == 8 && !strncmp(url, "/metrics", 8)) {
        tdbuf b;
        tdbuf_init(&b, 4 * 1024 * 1024);
        if (proxy_metrics_render(a->m, &b, proxy_record_depth(a->rec), proxy_record_capacity(a->rec),
                                 a->rec != NULL) != 0 ||
            proxy_mirror_cmp_render(proxy_record_shadow_cmp(a->rec), &b) != 0)
            admin_reply(ac, 500, "Internal Server Error", "text/plain", "out of memory\n", 14);
        else
            admin_reply(ac, 200, "OK", "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
        tdbuf_free(&b);
    } else if (plen == 8 && !strncmp(url, "/healthz", 8)) {
        if (*a->draining)
            admin_reply(ac, 503, "Service Unavailable", "text/plain", "draining\n", 9);
        else
            admin_reply(ac, 200, "OK", "text/plain", "ok\n", 3);
    } else {
        admin_reply(ac, 404, "Not Found", "text/plain", "try /metrics or /healthz\n", 25);
    }
}

static void admin_read(struct bufferevent *bev, void *ctx)
{
    admin_conn *ac = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (ac->replied)
        return;
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) {
        if (evbuffer_get_length(in) > ADMIN_MAX_HEAD)
            admin_reply(ac, 431, "Request Header Fields Too Large", "text/plain", "too large\n", 10);
        return;
    }
    size_t len = (size_t)end.pos + 4;
    const char *raw = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
    httpmsg msg;
    char err[128];
    if (!raw || httpmsg_parse(&msg, HTTPMSG_REQUEST, raw, len, NULL, err, sizeof err) != HTTPMSG_OK) {
        admin_reply(ac, 400, "Bad Request", "text/plain", "bad request\n", 12);
        return;
    }
    admin_handle(ac, &msg);
    httpmsg_clear(&msg);
}

static void admin_write(struct bufferevent *bev, void *ctx)
{
    admin_conn *ac = ctx;
    if (ac->replied && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        admin_conn_free(ac);
}

static void admin_event(struct bufferevent *bev, short what, void *ctx)
{
    admin_conn_free(ctx);
}

static void admin_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    proxy_admin *a = arg;
    admin_conn *ac = calloc(1, sizeof *ac);
    struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    if (!ac || !bev) {
        free(ac);
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        return;
    }
    ac->a = a;
    ac->bev = bev;
    ac->next = a->conns;
    if (a->conns)
        a->conns->prev = ac;
    a->conns = ac;
    struct timeval tv = {5, 0};
    bufferevent_set_timeouts(bev, &tv, &tv);
    bufferevent_setcb(bev, admin_read, admin_write, admin_event, ac);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

proxy_admin *proxy_admin_new(struct event_base *base, const char *host, int port, proxy_metrics *m,
                             proxy_record *rec, const int *draining, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    char spec[300];
    snprintf(spec, sizeof spec, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
        snprintf(err, errlen, "--admin %s: not a numeric address", spec);
        return NULL;
    }
    proxy_admin *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->m = m;
    a->rec = rec;
    a->draining = draining;
    a->lst = evconnlistener_new_bind(base, admin_accept, a, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
                                     (struct sockaddr *)&ss, sslen);
    if (!a->lst) {
        snprintf(err, errlen, "--admin %s: %s", spec, strerror(errno));
        free(a);
        return NULL;
    }
    return a;
}

void proxy_admin_free(proxy_admin *a)
{
    if (!a)
        return;
    while (a->conns)
        admin_conn_free(a->conns);
    evconnlistener_free(a->lst);
    free(a);
}
