/* proxy_conn_err: the short error responses the proxy answers with itself (400, 408, 431, 501, 502,
 * 504, ...), always followed by closing the client connection. Part of the client side (proxy_conn). */
#include "proxy_conn_int.h"

#include <stdio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "proxy_log.h"
#include "tdtime.h"

static const char *status_reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

void proxy_conn_err_send(proxy_conn *c, int status, const char *detail)
{
    char body[160], head[256];
    const char *reason = status_reason(status);
    int bl = snprintf(body, sizeof body, "%d %s\n", status, reason);
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n",
                      status, reason, bl);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, head, (size_t)hl);
    if (!c->is_head)
        evbuffer_add(out, body, (size_t)bl);
    proxy_metrics_bytes(c->w->m, 0, (uint64_t)hl + (c->is_head ? 0 : (uint64_t)bl));
    proxy_metrics_request(c->w->m, status, tdtime_mono_us() - c->t0_mono);
    proxy_log(PROXY_LOG_DEBUG, "conn %llu %s: %d %s %s: %s", (unsigned long long)c->id, c->peer, status,
              c->method, c->url ? c->url : "-", detail ? detail : reason);
    proxy_conn_finish_close(c);
}
