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

enum { MC_CONNECTING = 0, MC_OPEN };

/* Bytes of an answer read from the socket at once: while it is kept (--mirror-record), and while it is
 * only framed, where a body past what was read is dropped in the kernel (recv MSG_TRUNC) instead. */
#define PROXY_MIRROR_READ_MAX (256 * 1024)
#define PROXY_MIRROR_READ_DROP (16 * 1024)
/* ... and while a kept answer's head is not read yet: its size unknown, a large body would land in the
 * scratch and be copied from there (64 KiB answers read whole: a memcpy of the body, ~62 k instructions
 * per copy); this much takes the head and dozens of small answers, and the rest of a large one is read
 * in place (proxy_mirror_join_room) at once. */
#define PROXY_MIRROR_READ_FIRST (16 * 1024)
/* A kept body with at least this much still due is read straight into its kept buffer (no copy from
 * the scratch); less, and one read into the scratch takes it with the answers behind it. */
#define PROXY_MIRROR_DIRECT_MIN (16 * 1024)
/* Kept answers up to this size get their buffer sized from their Content-Length at once. */
#define PROXY_MIRROR_KEEP_MAX (64u * 1024 * 1024)
/* Freed copies (and joins) kept for the next ones, with their buffers when these are at most this large: a copy's
 * calloc, its buffer's malloc and both frees were a tenth of the worker's instructions per copy. */
#define PROXY_MIRROR_SPARE_MAX 64
#define PROXY_MIRROR_SPARE_BUF (8 * 1024)

typedef struct mpool mpool;
typedef struct mconn mconn;

struct proxy_mirror_req {
    proxy_mirror *mi;
    mpool *pool;      /* the shadow it goes to */
    tdbuf buf;        /* the request's bytes: one piece, so the flush points at it with one iovec */
    size_t held;      /* bytes accounted against PROXY_MIRROR_MAX_HELD */
    size_t head_len;  /* bytes of the head; what follows is body */
    char method[24];
    int keep_alive;   /* the client's request allows reuse of the connection */
    int pipeline;     /* may share a connection with copies ahead of it: a safe method, kept alive */
    int requeued;     /* put back once already (its connection closed before answering it) */
    uint64_t out_end; /* where its bytes end in its connection's output, counted from the connect */
    int64_t sent_us;  /* put on its connection (wall clock, for the record) */
    int64_t sent_mono_us; /* the same moment on the monotonic clock, for its deadline */
    proxy_mirror_join *join; /* --mirror-record: where the answer goes (NULL: dropped as it arrives) */
    proxy_mirror_req *next; /* the pool's pending queue, or its connection's copies in flight */
};

/* One connection to a shadow, on its own socket (no bufferevent: one sendmsg per loop turn for every
 * copy queued in it, one recv per wakeup, the bodies nobody keeps dropped in the kernel). */
struct mconn {
    mpool *pool;
    mconn *prev, *next;   /* the pool's connections */
    mconn *flush_next;    /* the mirror's list of connections with bytes to write this turn */
    int fd;
    struct event *rev, *wev, *timer;
    uint64_t queued, written; /* bytes put in out, written to the socket, since the connect */
    httpmsg_parser *rs;
    proxy_mirror_req *head, *tail; /* in flight, in order: the head's answer is the one being read */
    size_t depth;
    int state;
    int dirty;            /* on the flush list */
    int status, interim, done; /* set by the parser callbacks */
    int keep_alive;
    size_t head_len;      /* of the message being parsed, 0 until its head is known */
    int64_t body_len;     /* its body's length when framed by Content-Length, else -1 */
    uint64_t msg_bytes;   /* bytes of the message being parsed fed to the parser */
    /* --mirror-record: the answer kept (head, body up to --max-body) */
    tdbuf kept;
    uint64_t seen;        /* bytes of the current message parsed so far */
    int truncated;
    int64_t first_us;
    int64_t deadline;     /* monotonic us: connect, the head copy's answer, or idle close */
    int64_t armed_at;     /* what the timer is set for (monotonic us), 0 when not set */
};

/* One shadow: its connections and its queue. */
struct mpool {
    proxy_mirror *mi;
    int role;         /* EXCHANGE_SHADOW or EXCHANGE_SHADOW_BASELINE */
    proxy_upstream_target *shadow;
    size_t n_conns;
    mconn *conns;
    proxy_mirror_req *pending, *pending_tail;
    int64_t down_until; /* monotonic us: no new connections before this */
    int64_t serial_until; /* monotonic us: no pipelining before this (a pipelined connection failed) */
    int pumping;        /* in proxy_mirror_pool_pump (a failure below does not re-enter it) */
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
    struct event *flush;  /* active once per loop turn with bytes to write: writes every dirty conn */
    mconn *dirty;
    char *scratch;        /* PROXY_MIRROR_READ_MAX: every answer is read here first */
    proxy_mirror_req *spare; /* freed copies, linked by next (proxy_mirror_req_free) */
    size_t n_spare;
    proxy_mirror_join *spare_join; /* and joins (proxy_mirror_join.c) */
    size_t n_spare_join;
};

/* A zeroed copy for mi (a spare when there is one; its buffer may hold memory, len 0), or NULL. */
proxy_mirror_req *proxy_mirror_req_alloc(proxy_mirror *mi);
/* Frees every spare copy (at the end of mi). */
void proxy_mirror_req_free_spares(proxy_mirror *mi);
/* Frees r and gives back what it held (bytes, its in-flight slot). A join still waiting for r's answer
 * is told there will be none. */
void proxy_mirror_req_free(proxy_mirror_req *r);
/* Counts r as skipped for why, then frees it. */
void proxy_mirror_req_skip(proxy_mirror_req *r, proxy_metrics_mirror_skip why);
/* A copy of r for another shadow (same bytes, same join), or NULL (counted as skipped). */
proxy_mirror_req *proxy_mirror_req_clone(proxy_mirror_req *r, mpool *to);
/* proxy_mirror.c: the pool. Puts r on a connection (batched with the copies of this loop turn, else an
 * idle one, else a new one, else pipelined behind others) or queues it. */
void proxy_mirror_pool_submit(proxy_mirror_req *r);
/* Queued copies get connections while there is room. */
void proxy_mirror_pool_pump(mpool *pl);
/* r (not answered on a connection that closed) goes back to the front of its pool's queue; a copy put
 * back once already fails instead (counted as kind). */
void proxy_mirror_pool_requeue(proxy_mirror_req *r, proxy_metrics_uperr_kind kind, const char *what);
/* mc has bytes to write: written at the end of this loop turn. */
void proxy_mirror_pool_dirty(mconn *mc);

/* proxy_mirror_conn.c: one connection. NULL when it could not even start (r is then still the
 * caller's, the failure counted and the backoff started when the shadow refused). */
mconn *proxy_mirror_conn_open(mpool *pl, proxy_mirror_req *r);
/* Puts r behind mc's copies in flight (written at the end of this loop turn). */
void proxy_mirror_conn_queue(mconn *mc, proxy_mirror_req *r);
/* Writes what mc has queued. Returns 0, or -1 when mc failed and is gone. */
int proxy_mirror_conn_flush(mconn *mc);
/* Closes mc; its copies in flight are freed (not answered; nothing counted). */
void proxy_mirror_conn_free(mconn *mc);
/* For proxy_mirror_read.c: n bytes of answers fed to mc's parser (0, or -1 when mc is gone); the answer
 * to the head copy ended (0, or -1 when mc is gone); the head copy failed (counted, mc closed). */
int proxy_mirror_conn_feed(mconn *mc, const char *p, size_t n);
int proxy_mirror_conn_done(mconn *mc);
void proxy_mirror_conn_fail(mconn *mc, proxy_metrics_uperr_kind kind, const char *what);
/* proxy_mirror_read.c: mc's read event. */
void proxy_mirror_read_on_read(evutil_socket_t fd, short what, void *arg);
/* mc may take r: open, r pipelines behind mc's copies (or mc has none), and mc has room. */
int proxy_mirror_conn_takes(const mconn *mc, const proxy_mirror_req *r);

/* proxy_mirror_join.c */
void proxy_mirror_join_free_spares(proxy_mirror *mi); /* at the end of mi */
void proxy_mirror_join_add(proxy_mirror_join *j); /* one more answer due (a copy for the baseline) */
/* The answer on mc: the bytes the parser consumed (p, n) for the message being parsed. */
void proxy_mirror_join_keep(mconn *mc, const char *p, size_t n);
/* mc's head is parsed (head_len, body_len set): a kept answer of known size gets its buffer at once. */
void proxy_mirror_join_head(mconn *mc);
/* Where the rest of a kept body framed by Content-Length can be read in place, and how much of it (*n),
 * when enough is due; NULL otherwise (read into the scratch). Bytes read there go to
 * proxy_mirror_join_keep as usual, which sees they are in place. */
char *proxy_mirror_join_room(mconn *mc, size_t *n);
/* An interim (1xx) message ended: what was kept is not the final answer. */
void proxy_mirror_join_keep_reset(mconn *mc);
/* The request on mc got its whole answer (error NULL) or none (error says why; "" = skipped, nothing
 * recorded). Hands it to r's join, if any. */
void proxy_mirror_join_answer(mconn *mc, proxy_mirror_req *r, const char *error);
/* As above for a request that never reached a connection. */
void proxy_mirror_join_fail(proxy_mirror_req *r, const char *error);

#endif
