/* proxy_sock: the reading half of one connection's socket (a client's or an upstream's), behind one
 * small interface whatever the transport.
 *
 * On a plain TCP bufferevent the proxy reads the socket itself: a persistent read event, one readv
 * into the bufferevent's input per wakeup (64 KiB, more once a read filled its window, never past the
 * read limit). libevent 2.1's own read asks ioctl(FIONREAD) before every readv: one syscall more per read,
 * two per proxied request. On a TLS bufferevent (bufferevent_openssl) every byte must go through
 * OpenSSL, so the bufferevent reads as usual; the calls below then map onto bufferevent_setcb,
 * bufferevent_set_timeouts, bufferevent_setwatermark and bufferevent_enable/disable. A new transport
 * slots in here.
 *
 * Writing stays the bufferevent's (proxy_io_send writes directly when nothing is queued). The callbacks
 * keep libevent's shapes and meanings: the read callback after bytes were appended to the input; the
 * event callback with BEV_EVENT_READING | EOF, ERROR (errno kept) or TIMEOUT, after which reading is
 * disabled (as libevent does), and with the bufferevent's own write-side events (CONNECTED, write
 * errors and timeouts). Both may free the connection: the sock touches nothing after calling them.
 * One event loop; not thread-safe. */
#ifndef TAPEDECK_PROXY_SOCK_H
#define TAPEDECK_PROXY_SOCK_H

#include <stddef.h>
#include <sys/time.h>

#include <event2/bufferevent.h>

typedef struct proxy_sock proxy_sock;

/* Takes over reading bev (which has its socket: after bufferevent_socket_connect for a connection
 * being made). bev stays the caller's: free the sock first, then bev. NULL when out of memory. */
proxy_sock *proxy_sock_new(struct bufferevent *bev);
void proxy_sock_free(proxy_sock *s); /* NULL is a no-op */

/* rd, wr, ev as bufferevent_setcb (any may be NULL); wr and the write-side events come from bev. */
void proxy_sock_setcb(proxy_sock *s, bufferevent_data_cb rd, bufferevent_data_cb wr, bufferevent_event_cb ev,
                      void *ctx);
/* tv as a libevent common timeout of base (the same pointer for the same duration), or tv itself when
 * libevent refuses; NULL stays NULL. For timeouts set on bufferevents outside proxy_sock too. */
const struct timeval *proxy_sock_common_tv(struct event_base *base, const struct timeval *tv);
/* rd: reading idle timeout (restarts with every read); wr: bev's write timeout. NULL = none. */
void proxy_sock_set_timeouts(proxy_sock *s, const struct timeval *rd, const struct timeval *wr);
/* rd as proxy_sock_set_timeouts, the write timeout left as proxy_sock set it last (none when it never
 * did): for a socket with nothing to write, whose write timeout cannot fire. */
void proxy_sock_set_read_timeout(proxy_sock *s, const struct timeval *rd);
/* Stop reading while high bytes or more wait in the input; it resumes as they are drained. 0 = no limit. */
void proxy_sock_read_limit(proxy_sock *s, size_t high);
void proxy_sock_read(proxy_sock *s, int on); /* enable (1) or disable (0) reading */

/* A sink takes a read's bytes into the owner's memory instead of the input (the recorder's buffer: the
 * bytes land once, where they are kept). Before a read, and only while the input is empty (so the
 * bytes stay in order), get(ctx, &len) names where up to len bytes may go, or returns NULL (this read
 * goes into the input); after the read, got(ctx, n) says how many landed there, before rd runs. Set
 * after proxy_sock_setcb (which clears it), with its ctx. A TLS sock never asks. */
typedef char *(*proxy_sock_sink_get)(void *ctx, size_t *len);
typedef void (*proxy_sock_sink_got)(void *ctx, size_t n);
void proxy_sock_set_sink(proxy_sock *s, proxy_sock_sink_get get, proxy_sock_sink_got got);

#endif
