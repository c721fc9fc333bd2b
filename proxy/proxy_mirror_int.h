/* proxy_mirror_int: the mirror's internals shared by proxy_mirror.c (the shadow connections),
 * proxy_mirror_req.c (the request copies being built) and proxy_mirror_join.c (--mirror-record: the
 * shadows' answers kept and joined to the recorded exchange). Not a public interface. */
#ifndef TAPEDECK_PROXY_MIRROR_INT_H
#define TAPEDECK_PROXY_MIRROR_INT_H

#include <event2/bufferevent.h>

#include "exchange.h"
#include "httpmsg.h"
#include "proxy_mirror.h"
#include "tdbuf.h"

enum { MC_CONNECTING = 0, MC_BUSY, MC_IDLE };

#define PROXY_MIRROR_READ_MAX (256 * 1024) /* bytes of an answer read from the socket at once */

typedef struct mpool mpool;

struct proxy_mirror_req {
    proxy_mirror *mi;
    mpool *pool;      /* the shadow it goes to */
    struct evbuffer *buf;
    size_t held;      /* bytes accounted against PROXY_MIRROR_MAX_HELD */
    size_t head_len;  /* bytes of the head; what follows is body */
    char method[24];
    int keep_alive;   /* the client's request allows reuse of the connection */
    proxy_mirror_join *join; /* --mirror-record: where the answer goes (NULL: dropped as it arrives) */
    proxy_mirror_req *next; /* pending queue */
};

typedef struct mconn {
    mpool *pool;
    struct mconn *prev, *next;
    struct bufferevent *bev;
    struct event *timer;
    httpmsg_parser *rs;
    proxy_mirror_req *req; /* the request in flight (MC_CONNECTING, MC_BUSY) */
    int state;
    int status, interim, done; /* set by the parser callbacks */
    int keep_alive;
    size_t head_len;  /* of the message being parsed, 0 until its head is known */
    /* --mirror-record: the answer kept (head, body up to --max-body) */
    tdbuf kept;
    uint64_t seen;    /* bytes of the current message parsed so far */
    int truncated;
    int64_t sent_us, first_us;
} mconn;

/* One shadow: its connections and its queue. */
struct mpool {
    proxy_mirror *mi;
    int role;         /* EXCHANGE_SHADOW or EXCHANGE_SHADOW_BASELINE */
    proxy_upstream_target *shadow;
    size_t n_conns;
    mconn *conns;
    proxy_mirror_req *pending, *pending_tail;
    int64_t down_until; /* monotonic us: no new connections before this */
};

struct proxy_mirror {
    struct event_base *base;
    proxy_metrics *m;
    double percent;
    int writes;
    uint64_t rnd;
    size_t held, inflight;
    mpool pools[EXCHANGE_N_SHADOW];
    int n_pools;          /* 1, or 2 with --mirror-baseline */
    proxy_record *rec;    /* --mirror-record: where joined exchanges go; NULL: answers dropped */
    uint64_t max_body;
};

/* Frees r and gives back what it held (bytes, its in-flight slot). A join still waiting for r's answer
 * is told there will be none. */
void proxy_mirror_req_free(proxy_mirror_req *r);
/* Counts r as skipped for why, then frees it. */
void proxy_mirror_req_skip(proxy_mirror_req *r, proxy_metrics_mirror_skip why);
/* A copy of r for another shadow (same bytes, same join), or NULL (counted as skipped). */
proxy_mirror_req *proxy_mirror_req_clone(proxy_mirror_req *r, mpool *to);
/* proxy_mirror.c: queue or send r on its pool */
void proxy_mirror_pool_submit(proxy_mirror_req *r);

/* proxy_mirror_join.c */
void proxy_mirror_join_add(proxy_mirror_join *j); /* one more answer due (a copy for the baseline) */
/* The answer on mc: the bytes the parser consumed (p, n) for the message being parsed. */
void proxy_mirror_join_keep(mconn *mc, const char *p, size_t n);
/* An interim (1xx) message ended: what was kept is not the final answer. */
void proxy_mirror_join_keep_reset(mconn *mc);
/* The request on mc got its whole answer (error NULL) or none (error says why; "" = skipped, nothing
 * recorded). Hands it to r's join, if any. */
void proxy_mirror_join_answer(mconn *mc, proxy_mirror_req *r, const char *error);
/* As above for a request that never reached a connection. */
void proxy_mirror_join_fail(proxy_mirror_req *r, const char *error);

#endif
