/* load_prep: the capture turned into requests ready to send, parsed once before the run so the
 * timer path only hands prepared strings to the engine. */
#ifndef TAPEDECK_LOAD_PREP_H
#define TAPEDECK_LOAD_PREP_H

#include <stddef.h>
#include <stdint.h>

typedef struct load_req {
    char *method;
    char *target;   /* request target as recorded: "/path?query" */
    char **headers; /* "Name: value" lines (hop-by-hop, framing and Host headers left out) */
    size_t n_headers;
    char *body;     /* de-chunked */
    size_t body_len;
    uint32_t route; /* index into load_set.routes */
} load_req;

typedef struct load_route {
    char *method;
    char *path; /* normalised (route.h) */
} load_route;

typedef struct load_set {
    load_req *reqs;
    size_t n;
    int64_t *start_us; /* recorded request start per request */
    uint64_t *conn;    /* recorded connection per request */
    load_route *routes;
    size_t nroutes;
    size_t skipped;    /* exchanges left out (unparsable request, CONNECT, Upgrade) */
} load_set;

/* Reads every exchange of the capture set. set_headers ("Name: value") replace recorded headers of the
 * same name or are added. 0, or -1 with the reason in err (s is left empty). */
int load_prep_read(load_set *s, char *const *captures, size_t ncaptures, const char *const *set_headers,
                  size_t nset, char *err, size_t errlen);
void load_prep_free(load_set *s);

#endif
