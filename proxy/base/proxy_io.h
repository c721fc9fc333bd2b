/* proxy_io: socket-level helpers for socket bufferevents (one event loop; not thread-safe). On a TLS
 * bufferevent (bufferevent_openssl) the shortcuts around libevent are skipped: its socket carries TLS
 * records, so every byte goes through the bufferevent. */
#ifndef TAPEDECK_PROXY_IO_H
#define TAPEDECK_PROXY_IO_H

#include <stddef.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/bufferevent.h>

/* Moves n bytes from the front of src to bev's peer: straight into the socket when nothing is queued
 * (saves a loop turn and the epoll_ctl pair of enabling writes), the rest through bev's output so
 * order and backpressure stay the bufferevent's. connected = 0 while a connect is in progress. */
void proxy_io_send(struct bufferevent *bev, int connected, struct evbuffer *src, size_t n);
/* The same from iovecs, for a message made of pieces: one writev when nothing is queued, no copy of
 * what it took. Returns 0, or -1 out of memory (part of the message may be queued: close bev). */
int proxy_io_sendv(struct bufferevent *bev, int connected, const struct iovec *parts, int n_parts);
/* Ends our sending side: a TLS close_notify first on a TLS bufferevent, then shutdown(SHUT_WR) of the
 * socket (the output must be flushed). 0 or -1. */
int proxy_io_shutdown_write(struct bufferevent *bev);
/* "ip:port" or "[ip6]:port" of sa into buf ("?" when unknown). */
void proxy_io_peer_name(const struct sockaddr *sa, int salen, char *buf, size_t bufsz);
/* Larger single writes than libevent's 16 KiB default. */
void proxy_io_tune_bev(struct bufferevent *bev, size_t high);

#endif
