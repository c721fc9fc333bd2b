/* proxy_conn_close: how a client connection ends - freeing it with everything it holds (its exchange
 * finished for the capture, its upstream released), and the lingering close that keeps an RST from
 * destroying a response the client has not read yet. */
#include "proxy_conn_int.h"

#include <stdlib.h>

#include "proxy_log.h"
#include "tdtime.h"

void proxy_conn_free(proxy_conn *c, const char *why)
{
    proxy_wctx *w = c->w;
    if (c->x)
        proxy_conn_rec_finish(c, why ? why : "client closed the connection");
    proxy_conn_mirror_end(c, 0);
    if (c->up)
        proxy_relay_release(c, 0);
    proxy_log(PROXY_LOG_DEBUG, "conn %llu %s: closed%s%s", (unsigned long long)c->id, c->peer,
              why ? ": " : "", why ? why : "");
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->n_conns--;
    proxy_conn_parser_put(w, PROXY_CONN_RQ, c->rq);
    proxy_conn_parser_put(w, PROXY_CONN_RS, c->rs);
    proxy_conn_kit_park(c);
    proxy_sock_free(c->io); /* before the bufferevent closes the socket */
    if (c->bev)
        bufferevent_free(c->bev);
    tdbuf_free(&c->rqbuf);
    tdbuf_free(&c->rsbuf);
    free(c->target_uri);
    free(c->url);
    free(c);
    proxy_metrics_conn_close(w->m);
    if (w->on_conn_closed)
        w->on_conn_closed(w);
}

/* Lingering close: closing a socket with unread input makes the kernel send RST, which can destroy the
 * response the client has not read yet. So: shut down our side, discard what the client still sends for
 * a moment, and free on its EOF or after PCONN_LINGER_US. */
#define PCONN_LINGER_US 1000000
void proxy_conn_linger(proxy_conn *c)
{
    if (c->lingering)
        return;
    if (c->client_eof || c->up || c->tunnel) {
        proxy_conn_free(c, NULL);
        return;
    }
    c->lingering = 1;
    if (proxy_io_shutdown_write(c->bev) != 0) {
        proxy_conn_free(c, NULL);
        return;
    }
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    struct timeval tv = tdtime_tv(PCONN_LINGER_US);
    proxy_sock_set_timeouts(c->io, &tv, NULL);
    proxy_sock_read(c->io, 1);
}

void proxy_conn_finish_close(proxy_conn *c)
{
    c->closing = 1;
    if (c->hdr_timer)
        evtimer_del(c->hdr_timer);
    proxy_sock_read(c->io, 0);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        proxy_conn_linger(c);
        return;
    }
    struct timeval tv = tdtime_tv(c->w->cfg->idle_timeout_us);
    proxy_sock_set_timeouts(c->io, NULL, &tv); /* a client that stops reading is dropped */
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    /* deferred callbacks can fold a write error into an EOF report; writing again is what makes
     * sure the connection ends (flushed, or a fresh error) rather than waiting for nothing */
    bufferevent_enable(c->bev, EV_WRITE);
}
