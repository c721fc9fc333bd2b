/* proxy_mirror_read: a shadow connection's answers, read as they come (proxy_mirror_conn.c keeps the
 * connection, its queue and its timer). One recv per wakeup, into the kept answer's own buffer when
 * enough of a kept body is due, else the scratch; a body nobody keeps and Content-Length frames is dropped
 * in the kernel (recv MSG_TRUNC) while the parser is fed as many zero bytes. */
#include "proxy_mirror_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define MC_DROP_MAX (1024 * 1024) /* body bytes dropped by one recv(MSG_TRUNC) */

/* what the parser is fed for dropped body bytes: an identity body is counted, never read */
static const char mc_zeros[64 * 1024];

/* Body bytes of the head copy's answer still due, when they can be dropped unread: framed by
 * Content-Length and not kept. 0 otherwise. */
static uint64_t mc_droppable(const mconn *mc)
{
    if (!mc->head || mc->head->join || !mc->head_len || mc->body_len <= 0)
        return 0;
    uint64_t body = mc->msg_bytes - mc->head_len;
    return body < (uint64_t)mc->body_len ? (uint64_t)mc->body_len - body : 0;
}

/* Drops up to the rest of the body in the kernel. Returns what recv returned (-1 with errno); when
 * bytes went, mc may be gone (*gone set). */
static ssize_t mc_drop(mconn *mc, uint64_t left, int *gone)
{
    ssize_t k = recv(mc->fd, NULL, left > MC_DROP_MAX ? MC_DROP_MAX : (size_t)left, MSG_TRUNC | MSG_DONTWAIT);
    for (ssize_t fed = 0; k > 0 && fed < k && !*gone;) {
        size_t piece = (size_t)(k - fed) > sizeof mc_zeros ? sizeof mc_zeros : (size_t)(k - fed);
        *gone = proxy_mirror_conn_feed(mc, mc_zeros, piece) != 0;
        fed += (ssize_t)piece;
    }
    return k;
}

/* One recv: into a kept body when enough of it is due, else the scratch (PROXY_MIRROR_READ_FIRST while
 * a kept head is unread). Returns recv's result; mc may be gone (*gone); *full: the read filled up. */
static ssize_t mc_recv(mconn *mc, int *gone, int *full)
{
    int keep = mc->head->join != NULL;
    size_t want = !keep ? PROXY_MIRROR_READ_DROP : mc->head_len ? PROXY_MIRROR_READ_MAX : PROXY_MIRROR_READ_FIRST;
    char *buf = keep ? proxy_mirror_join_room(mc, &want) : NULL;
    buf = buf ? buf : mc->pool->mi->scratch;
    ssize_t k = recv(mc->fd, buf, want, MSG_DONTWAIT);
    if (k > 0)
        *gone = proxy_mirror_conn_feed(mc, buf, (size_t)k) != 0;
    *full = k > 0 && !*gone && (size_t)k == want && mc->head;
    return k;
}

static void mc_eof(mconn *mc)
{
    mc->done = 0;
    if (httpmsg_parser_eof(mc->rs) == 0 && mc->done) { /* an answer delimited by close */
        mc->keep_alive = 0;
        proxy_mirror_conn_done(mc);
        return;
    }
    proxy_mirror_conn_fail(mc, PROXY_METRICS_UPERR_RESET, "closed the connection before the response ended");
}

void proxy_mirror_read_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    mconn *mc = arg;
    if (!mc->head) { /* idle: the shadow closed it, or sent bytes nobody asked for */
        proxy_mirror_conn_free(mc);
        return;
    }
    int gone = 0;
    ssize_t k;
    uint64_t left = mc_droppable(mc);
    if (left > 0) {
        k = mc_drop(mc, left, &gone);
    } else {
        int full = 0;
        k = mc_recv(mc, &gone, &full);
        /* a full read of a large body: the rest is most likely there already */
        size_t room;
        if (full && !gone && mc->head->join && proxy_mirror_join_room(mc, &room))
            mc_recv(mc, &gone, &full);
        else if (full && !gone && (left = mc_droppable(mc)) > 0)
            mc_drop(mc, left, &gone);
    }
    if (gone || k > 0)
        return;
    if (k == 0) {
        mc_eof(mc);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "recv: %s", strerror(errno));
    proxy_mirror_conn_fail(mc, PROXY_METRICS_UPERR_RESET, msg);
}
