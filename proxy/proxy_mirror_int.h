/* proxy_mirror_int: the mirror's internals shared by proxy_mirror.c (the shadow connections) and
 * proxy_mirror_req.c (the request copies being built). Not a public interface. */
#ifndef TAPEDECK_PROXY_MIRROR_INT_H
#define TAPEDECK_PROXY_MIRROR_INT_H

#include <event2/bufferevent.h>

#include "httpmsg.h"
#include "proxy_mirror.h"

enum { MC_CONNECTING = 0, MC_BUSY, MC_IDLE };

struct pmirror_req {
    pmirror *mi;
    struct evbuffer *buf;
    size_t held;      /* bytes accounted against PMIRROR_MAX_HELD */
    size_t head_len;  /* bytes of the head; what follows is body */
    char method[24];
    int keep_alive;   /* the client's request allows reuse of the connection */
    pmirror_req *next; /* pending queue */
};

typedef struct mconn {
    pmirror *mi;
    struct mconn *prev, *next;
    struct bufferevent *bev;
    struct event *timer;
    httpmsg_parser *rs;
    pmirror_req *req; /* the request in flight (MC_CONNECTING, MC_BUSY) */
    int state;
    int status, interim, done; /* set by the parser callbacks */
    int keep_alive;
} mconn;

struct pmirror {
    struct event_base *base;
    up_target *shadow;
    proxy_metrics *m;
    double percent;
    int writes;
    uint64_t rnd;
    size_t held, inflight, n_conns;
    mconn *conns;
    pmirror_req *pending, *pending_tail;
    int64_t down_until; /* monotonic us: no new connections before this */
};

/* Frees r and gives back what it held (bytes, its in-flight slot). */
void pmirror_req_free(pmirror_req *r);
/* Counts r as skipped for why, then frees it. */
void pmirror_req_skip(pmirror_req *r, pm_mirror_skip why);

#endif
