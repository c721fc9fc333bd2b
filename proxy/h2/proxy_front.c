/* proxy_front: TLS handshakes and the --h2c preface sniff, each bounded by --header-timeout. */
#include "proxy_front.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "proxy_h2.h"
#include "proxy_io.h"
#include "proxy_log.h"
#include "proxy_tls.h"

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN (sizeof h2_preface - 1)

typedef struct pfront {
    proxy_side side; /* first: a proxy_side * is a pfront * */
    proxy_wctx *w;
    struct bufferevent *bev;
    int tls;
    char peer[64];
} pfront;

void proxy_front_link(proxy_wctx *w, proxy_side *s)
{
    s->prev = NULL;
    s->next = w->sides;
    if (w->sides)
        w->sides->prev = s;
    w->sides = s;
    w->n_conns++;
    proxy_metrics_conn_open(w->m);
}

void proxy_front_unlink(proxy_wctx *w, proxy_side *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        w->sides = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    w->n_conns--;
    proxy_metrics_conn_close(w->m);
    if (w->on_conn_closed)
        w->on_conn_closed(w);
}

void proxy_front_drain_all(proxy_wctx *w)
{
    proxy_side *s = w->sides;
    while (s) {
        proxy_side *next = s->next; /* drain may free s */
        s->drain(s);
        s = next;
    }
}

void proxy_front_close_all(proxy_wctx *w)
{
    while (w->sides)
        w->sides->close(w->sides);
}

int proxy_front_needed(const proxy_wctx *w)
{
    return proxy_tls_listening(w->tls) || w->cfg->h2c;
}

static void front_free(pfront *f)
{
    proxy_wctx *w = f->w;
    if (f->bev)
        bufferevent_free(f->bev);
    proxy_front_unlink(w, &f->side);
    free(f);
}

static void front_side_close(proxy_side *s)
{
    front_free((pfront *)s);
}

static void front_side_drain(proxy_side *s)
{
    front_free((pfront *)s); /* nothing was asked yet */
}

/* The protocol is known: hand the bufferevent to its owner and go. */
static void front_dispatch(pfront *f, int h2, const char *proto)
{
    proxy_wctx *w = f->w;
    struct bufferevent *bev = f->bev;
    char peer[64];
    memcpy(peer, f->peer, sizeof peer);
    f->bev = NULL;
    bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
    bufferevent_set_timeouts(bev, NULL, NULL);
    front_free(f);
    if (h2)
        proxy_h2_adopt(w, bev, peer, proto);
    else
        proxy_conn_adopt(w, bev, peer, proto);
}

static void front_sniff(struct bufferevent *bev, void *ctx)
{
    pfront *f = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    unsigned char b[H2_PREFACE_LEN];
    size_t k = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;
    evbuffer_copyout(in, b, k);
    if (memcmp(b, h2_preface, k) != 0)
        front_dispatch(f, 0, NULL); /* HTTP/1.x */
    else if (k == H2_PREFACE_LEN)
        front_dispatch(f, 1, "h2");
    /* else: a prefix of the preface so far; wait for more */
}

static void front_event(struct bufferevent *bev, short what, void *ctx)
{
    pfront *f = ctx;
    if (f->tls && (what & BEV_EVENT_CONNECTED)) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        proxy_metrics_tls_handshake(f->w->m, PROXY_METRICS_TLS_OK);
        int h2 = proxy_tls_alpn_h2(ssl);
        /* the token strings are static, so a record can point at them */
        const char *v = proxy_tls_version_token(ssl);
        const char *proto = h2 ? (!strcmp(v, "tls/1.3") ? "h2 tls/1.3" : !strcmp(v, "tls/1.2") ? "h2 tls/1.2" : "h2 tls")
                               : v;
        front_dispatch(f, h2, proto);
        return;
    }
    if (f->tls) {
        proxy_metrics_tls_result r = (what & BEV_EVENT_TIMEOUT) ? PROXY_METRICS_TLS_TIMEOUT
                                     : (what & BEV_EVENT_ERROR) ? PROXY_METRICS_TLS_FAILED
                                                                : PROXY_METRICS_TLS_CLOSED;
        if (r == PROXY_METRICS_TLS_FAILED) {
            char e[256];
            proxy_log(PROXY_LOG_DEBUG, "%s: TLS handshake failed: %s", f->peer,
                      proxy_tls_last_error(e, sizeof e));
        }
        ERR_clear_error();
        proxy_metrics_tls_handshake(f->w->m, r);
    }
    front_free(f);
}

void proxy_front_accept(proxy_wctx *w, evutil_socket_t fd, const struct sockaddr *sa, int salen)
{
    pfront *f = calloc(1, sizeof *f);
    SSL *ssl = NULL;
    if (!f) {
        evutil_closesocket(fd);
        return;
    }
    f->w = w;
    f->side.drain = front_side_drain;
    f->side.close = front_side_close;
    proxy_io_peer_name(sa, salen, f->peer, sizeof f->peer);
    proxy_front_link(w, &f->side);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (proxy_tls_listening(w->tls)) {
        f->tls = 1;
        ssl = proxy_tls_server_ssl(w->tls);
        if (ssl)
            f->bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                    BEV_OPT_CLOSE_ON_FREE);
        if (!f->bev) {
            SSL_free(ssl);
            evutil_closesocket(fd);
        }
    } else {
        f->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!f->bev)
            evutil_closesocket(fd);
    }
    if (!f->bev) {
        proxy_log(PROXY_LOG_ERROR, "out of memory accepting a connection");
        front_free(f);
        return;
    }
    if (f->tls)
        /* a peer that closes without close_notify has still said all it meant to (HTTP frames its own
         * messages), so that is an EOF, not an error */
        bufferevent_openssl_set_allow_dirty_shutdown(f->bev, 1);
    bufferevent_setcb(f->bev, f->tls ? NULL : front_sniff, NULL, front_event, f);
    struct timeval tv = {(time_t)(w->cfg->header_timeout_us / 1000000),
                         (suseconds_t)(w->cfg->header_timeout_us % 1000000)};
    bufferevent_set_timeouts(f->bev, &tv, NULL);
    bufferevent_enable(f->bev, EV_READ);
}
