/* proxy_io: socket-level helpers around libevent bufferevents, for throughput: bigger reads than
 * libevent 2.1 makes on its own, direct writes when nothing is queued, larger write batches. */
#include "proxy_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

static void read_into(struct evbuffer *in, evutil_socket_t fd, size_t have, size_t limit);

/* Is bev's socket ours to read and write around libevent? Not under TLS. */
static int io_raw(struct bufferevent *bev)
{
    return bufferevent_openssl_get_ssl(bev) == NULL;
}

void proxy_read_more(struct bufferevent *bev, size_t limit)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    size_t have = evbuffer_get_length(in);
    /* libevent read less than its 4 KiB: the socket had no more, so skip the syscall (and do not
     * reserve a large chain for a small message) */
    if (fd < 0 || have >= limit || have < 4096 || !io_raw(bev))
        return;
    /* a socket bufferevent keeps the end of its input frozen so that only its own reads append;
     * this is such a read, so open it for the duration */
    evbuffer_unfreeze(in, 0);
    read_into(in, fd, have, limit);
    evbuffer_freeze(in, 0);
}

static void read_into(struct evbuffer *in, evutil_socket_t fd, size_t have, size_t limit)
{
    for (int rounds = 0; have < limit && rounds < 4; rounds++) {
        size_t want = limit - have;
        if (want > 256 * 1024)
            want = 256 * 1024;
        struct evbuffer_iovec v[2];
        int nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
        if (nv <= 0)
            return;
        struct iovec iov[2];
        size_t room = 0;
        for (int i = 0; i < nv; i++) {
            iov[i].iov_base = v[i].iov_base;
            iov[i].iov_len = v[i].iov_len;
            room += v[i].iov_len;
        }
        ssize_t n = readv(fd, iov, nv);
        if (n <= 0) {
            evbuffer_commit_space(in, v, 0);
            return; /* EAGAIN, EOF or an error: the bufferevent reports the last two */
        }
        size_t left = (size_t)n;
        int used = 0;
        for (int i = 0; i < nv && left > 0; i++, used++) {
            if (v[i].iov_len > left)
                v[i].iov_len = left;
            left -= v[i].iov_len;
        }
        evbuffer_commit_space(in, v, used);
        have += (size_t)n;
        if ((size_t)n < room)
            return; /* the socket is empty for now */
    }
}

void proxy_send(struct bufferevent *bev, int connected, struct evbuffer *src, size_t n)
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

void proxy_tune_bev(struct bufferevent *bev, size_t high)
{
    bufferevent_set_max_single_write(bev, high * 2);
    bufferevent_set_max_single_read(bev, high);
}

int proxy_shutdown_write(struct bufferevent *bev)
{
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0)
        return -1;
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (ssl)
        (void)SSL_shutdown(ssl); /* close_notify straight into the socket (the output is flushed) */
    return shutdown(fd, SHUT_WR);
}

void proxy_peer_name(const struct sockaddr *sa, int salen, char *buf, size_t bufsz)
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
