/* proxy_h2_req: an HTTP/2 request's header list (pseudo-headers and fields, as HPACK decoded them)
 * checked and turned into the HTTP/1.1 head it is forwarded upstream and recorded as: request line from
 * :method and :path, Host from :authority, the other fields in order, cookie crumbs joined. The h2 twins
 * of HTTP/1's framing rules live here: no connection-specific fields, pseudo-headers first and once,
 * one Content-Length, a header list size cap. Pure (no I/O), so a fuzz target can drive it. */
#ifndef TAPEDECK_PROXY_H2_REQ_H
#define TAPEDECK_PROXY_H2_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "tdbuf.h"

/* Like httpmsg's: each error is the status the proxy answers with (400 becomes a stream reset, RFC 9113
 * 8.1.1 calls such a request malformed). */
typedef enum {
    PROXY_H2_REQ_OK = 0,
    PROXY_H2_REQ_EBAD = -400,      /* malformed: stream reset with PROTOCOL_ERROR */
    PROXY_H2_REQ_ECONNECT = -405,  /* CONNECT is not proxied (as over HTTP/1) */
    PROXY_H2_REQ_ETOOLARGE = -431, /* header list over the cap */
    PROXY_H2_REQ_ENOMEM = -500,
} proxy_h2_req_status;

typedef struct proxy_h2_req {
    tdbuf fields;  /* "Name: value\r\n" lines of regular fields, in order */
    tdbuf cookie;  /* cookie crumbs joined with "; " (RFC 9113 8.2.3) */
    tdbuf pseudo;  /* :method, :path, :authority, :scheme values, NUL-separated, at the offsets below */
    int have[4];   /* which pseudo-headers were seen (PROXY_H2_REQ_P_*) */
    size_t off[4];
    char host[256]; /* a Host field's value, checked against :authority */
    int has_host;
    size_t list_size, max_list;
    int64_t content_length; /* -1 when absent */
    int regular_seen;
    int status; /* the first error (sticky), or PROXY_H2_REQ_OK */
} proxy_h2_req;

enum { PROXY_H2_REQ_P_METHOD = 0, PROXY_H2_REQ_P_PATH, PROXY_H2_REQ_P_AUTHORITY, PROXY_H2_REQ_P_SCHEME };

/* max_list: the cap on the decoded header list, counted as RFC 9113 6.5.2 does (name + value + 32 per
 * field). */
void proxy_h2_req_init(proxy_h2_req *r, size_t max_list);
void proxy_h2_req_clear(proxy_h2_req *r); /* frees; r can be initialised again */
void proxy_h2_req_reset(proxy_h2_req *r); /* empty for the next request, keeping its memory */
/* One decoded field. Returns r->status: once an error is seen, later fields are only counted. */
int proxy_h2_req_header(proxy_h2_req *r, const char *name, size_t nl, const char *value, size_t vl);
/* After the last field: checks what must be there and appends the HTTP/1.1 head to out. end_stream:
 * the request has no body. *chunked is set when a body without Content-Length must be sent chunked.
 * default_host is the Host when there is neither :authority nor Host. Returns PROXY_H2_REQ_OK or an error. */
int proxy_h2_req_head(proxy_h2_req *r, int end_stream, const char *default_host, tdbuf *out, int *chunked);
/* A pseudo-header's value after proxy_h2_req_head succeeded (NULL when absent). */
const char *proxy_h2_req_pseudo(const proxy_h2_req *r, int which);

#endif
