/* exchange: one recorded request/response pair, the type the proxy, the replayer and the capture tool
 * share. Messages are kept exactly as they crossed the wire; parsed views come from httpmsg on demand. */
#ifndef TAPEDECK_EXCHANGE_H
#define TAPEDECK_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

enum {
    EXCHANGE_TRUNC_REQUEST = 1u << 0,  /* request body cut at --max-body */
    EXCHANGE_TRUNC_RESPONSE = 1u << 1, /* response body cut at --max-body */
};

#define EXCHANGE_MAX_INTERIM 8

typedef struct exchange {
    uint64_t id;       /* reader: 1-based position in the capture set; writer: ignored */
    uint64_t conn_id;  /* client connection id (WARC-Tapedeck-Conn) */
    uint64_t conn_seq; /* 0-based exchange number on that connection (WARC-Tapedeck-Seq) */

    /* Unix time in microseconds; 0 = unknown. */
    int64_t req_start_us;  /* first byte of the request head received */
    int64_t resp_first_us; /* first byte of the response received from the upstream */
    int64_t resp_end_us;   /* last byte of the response received */

    char *target_uri; /* absolute URI, e.g. http://host:port/path?q (WARC-Target-URI) */
    char *client_addr; /* "ip:port" of the client, or NULL */
    char *request;     /* raw request: head + body as received (chunked stays chunked) */
    size_t request_len;
    char *response; /* raw final response as sent by the upstream; NULL when it failed */
    size_t response_len;
    char *error; /* why the upstream failed (e.g. "connect: Connection refused"), or NULL */
    char *protocol; /* the client side's protocols, space-separated ("h2 tls/1.3"; WARC-Protocol, one
                     * field each), or NULL for cleartext HTTP/1.x */
    int interim[EXCHANGE_MAX_INTERIM]; /* status codes of 1xx responses that came first */
    int n_interim;
    unsigned truncated; /* EXCHANGE_TRUNC_* */
    /* What redaction replaced in each message (WARC-Tapedeck-Redacted on its record): flag kinds with
     * names or paths, e.g. "json:$.password, query:token", never values. NULL = nothing. */
    char *redacted_request;
    char *redacted_response;

    /* Filled by the reader: the WARC-Record-ID of the request record (urn:uuid:...). */
    char record_id[64];
} exchange;

/* Zero an exchange. */
void exchange_init(exchange *x);
/* Free every owned string and buffer, then zero. Safe on an initialised or zeroed exchange. */
void exchange_clear(exchange *x);
/* A zeroed exchange on the heap, NULL when out of memory; exchange_free clears and frees it (NULL is a
 * no-op). */
exchange *exchange_new(void);
void exchange_free(exchange *x);
/* For a reader done with one message before the rest (check keeps the parts of a request it sends, and
 * drops a recorded response once judged): frees the raw request / response and leaves it NULL with
 * length 0. The exchange stays valid; exchange_clear frees the rest. */
void exchange_release_request(exchange *x);
void exchange_release_response(exchange *x);
/* Deep copy; returns 0 on success, -1 on allocation failure (dst is left zeroed). */
int exchange_copy(exchange *dst, const exchange *src);
/* Setters that copy their argument; return 0 or -1 (out of memory). */
int exchange_set_str(char **field, const char *s);
int exchange_set_buf(char **field, size_t *len, const void *data, size_t n);

#endif
