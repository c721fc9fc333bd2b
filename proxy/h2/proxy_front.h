/* proxy_front: a client connection before its protocol is known. On a TLS listener: the handshake, then
 * ALPN picks HTTP/2 (proxy_h2) or HTTP/1.x (proxy_conn). With --h2c on cleartext: the first bytes, the
 * HTTP/2 connection preface or not. Also the list of such non-proxy_conn connections a worker drains. */
#ifndef TAPEDECK_PROXY_FRONT_H
#define TAPEDECK_PROXY_FRONT_H

#include <event2/util.h>

#include "proxy_conn.h"

/* Takes over fd, an accepted client socket. Plain HTTP/1.x listeners use proxy_conn_accept instead. */
void proxy_front_accept(proxy_wctx *w, evutil_socket_t fd, const struct sockaddr *sa, int salen);
/* 1 when accepted sockets go through proxy_front_accept (TLS listener or --h2c). */
int proxy_front_needed(const proxy_wctx *w);

/* The side list: link counts s in w->n_conns (and the metrics' open connections); unlink undoes it and
 * tells the worker (which may be waiting for the last connection of a drain). */
void proxy_front_link(proxy_wctx *w, proxy_side *s);
void proxy_front_unlink(proxy_wctx *w, proxy_side *s);
void proxy_front_drain_all(proxy_wctx *w);
void proxy_front_close_all(proxy_wctx *w);

#endif
