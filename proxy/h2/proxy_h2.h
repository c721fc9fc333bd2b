/* proxy_h2: HTTP/2 client connections (nghttp2), over TLS (ALPN h2) or cleartext with prior knowledge
 * (--h2c). Each stream is one exchange, forwarded over the worker's HTTP/1.1 upstream pool and recorded
 * with WARC-Protocol h2, its request in HTTP/1.1 form. Runs on one worker's event loop. */
#ifndef TAPEDECK_PROXY_H2_H
#define TAPEDECK_PROXY_H2_H

#include <event2/bufferevent.h>

#include "proxy_conn.h"

/* Takes over bev (past the TLS handshake, or holding the cleartext preface in its input). proto: the
 * WARC-Protocol tokens ("h2 tls/1.3", "h2"; static). Returns 0, or -1 (bev freed). */
int proxy_h2_adopt(proxy_wctx *w, struct bufferevent *bev, const char *peer, const char *proto);

#endif
