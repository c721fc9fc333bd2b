/* proxy_io: socket-level helpers around libevent bufferevents, for throughput: direct writes when
 * nothing is queued, larger write batches (reading is proxy_sock's). */
#include "proxy_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

/* Is bev's socket ours to read and write around libevent? Not under TLS. */
static int io_raw(struct bufferevent *bev)
{
    return bufferevent_openssl_get_ssl(bev) == NULL;
}

void proxy_io_send(struct bufferevent *bev, int connected, struct evbuffer *src, size_t n)
{
    struct evbuffer *out = bufferevent_get_output(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (connected && fd >= 0 && n > 0 && evbuffer_get_length(out) == 0 && io_raw(bev)) {
        int w = evbuffer_write_atmost(src, fd, (ev_ssize_t)n);
        if (w > 0)
            n -= (size_t)w; /* an error is left for the bufferevent's own write to report */
    }
    if (n > 0)
        evbuffer_remove_buffer(src, out, n);
}

int proxy_io_sendv(struct bufferevent *bev, int connected, const struct iovec *parts, int n_parts)
{
    struct evbuffer *out = bufferevent_get_output(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    size_t done = 0;
    if (connected && fd >= 0 && n_parts > 0 && evbuffer_get_length(out) == 0 && io_raw(bev)) {
        ssize_t w;
        do
            w = writev(fd, parts, n_parts);
        while (w < 0 && errno == EINTR);
        if (w > 0)
            done = (size_t)w; /* an error is left for the bufferevent's own write to report */
    }
    for (int i = 0; i < n_parts; i++) {
        size_t len = parts[i].iov_len;
        if (done >= len) {
            done -= len;
            continue;
        }
        if (evbuffer_add(out, (const char *)parts[i].iov_base + done, len - done) != 0)
            return -1;
        done = 0;
    }
    return 0;
}

void proxy_io_tune_bev(struct bufferevent *bev, size_t high)
{
    bufferevent_set_max_single_write(bev, high * 2);
    bufferevent_set_max_single_read(bev, high);
}

int proxy_io_shutdown_write(struct bufferevent *bev)
{
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0)
        return -1;
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (ssl)
        (void)SSL_shutdown(ssl); /* close_notify straight into the socket (the output is flushed) */
    return shutdown(fd, SHUT_WR);
}

void proxy_io_peer_name(const struct sockaddr *sa, int salen, char *buf, size_t bufsz)
{
    char host[INET6_ADDRSTRLEN] = "?";
    snprintf(buf, bufsz, "?");
    if (sa->sa_family == AF_INET && (size_t)salen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        evutil_inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        snprintf(buf, bufsz, "%s:%d", host, ntohs(s4->sin_port));
    } else if (sa->sa_family == AF_INET6 && (size_t)salen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        evutil_inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        snprintf(buf, bufsz, "[%s]:%d", host, ntohs(s6->sin6_port));
    }
}
