/* load_prep: the capture turned into requests ready to send, parsed once before the run so the
 * timer path only hands prepared strings to the engine. */
#ifndef TAPEDECK_LOAD_PREP_H
#define TAPEDECK_LOAD_PREP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Everything a request points to lives in the set's pool (interned where requests share it). 32 bytes:
 * a capture of millions of requests is held whole. */
typedef struct load_req {
    const char *target;   /* request target as recorded: "/path?query", then a NUL and the body */
    const char *const *headers; /* "Name: value" lines (hop-by-hop, framing and Host headers left out) */
    uint32_t body_len;    /* de-chunked body, after the target (load_req_body) */
    uint32_t n_headers;
    uint32_t route;       /* index into load_set.routes */
    uint8_t method;       /* index into load_set.methods */
} load_req;

#define LOAD_MAX_METHODS 64

static inline const char *load_req_body(const load_req *q)
{
    return q->body_len ? q->target + strlen(q->target) + 1 : NULL;
}

typedef struct load_route {
    char *method;
    char *path; /* normalised (route.h) */
} load_route;

struct load_pool;

typedef struct load_set {
    struct load_pool *pool; /* the requests' strings */
    load_req *reqs;
    size_t n;
    int64_t *start_us; /* recorded request start per request */
    uint64_t *conn;    /* recorded connection per request */
    load_route *routes;
    size_t nroutes;
    const char *methods[LOAD_MAX_METHODS]; /* in the pool */
    size_t nmethods;
    size_t skipped;    /* exchanges left out (unparsable request, CONNECT, Upgrade) */
} load_set;

/* Reads every exchange of the capture set. set_headers ("Name: value") replace recorded headers of the
 * same name or are added. 0, or -1 with the reason in err (s is left empty). */
int load_prep_read(load_set *s, char *const *captures, size_t ncaptures, const char *const *set_headers,
                  size_t nset, char *err, size_t errlen);
void load_prep_free(load_set *s);

#endif
