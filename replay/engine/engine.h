/* engine: the replayer's HTTP client on the caller's libevent event_base. Shared by `check` and `load`.
 * Two paths behind one interface: HTTP/1.1 to `http://` targets goes through a native client (plain
 * non-blocking sockets, responses framed by httpmsg, the parser the proxy uses): the default, because
 * libcurl's per-request cost is what the load gate cannot afford. `https://` and HTTP/2 go through
 * libcurl's multi interface driven by that loop (socket and timer callbacks); ENGINE_CURL forces libcurl
 * for everything (`--engine curl`). Both give the same responses and error kinds.
 *
 * The caller owns the event_base and runs it; the engine submits requests and calls back once per
 * request, on the loop thread, when it finished or failed. Connections are pooled and reused; requests
 * beyond max_connections wait in the engine. One engine belongs to one thread. */
#ifndef TAPEDECK_ENGINE_H
#define TAPEDECK_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
typedef struct engine engine;

typedef enum {
    ENGINE_AUTO = 0, /* native for http:// without HTTP/2, libcurl otherwise */
    ENGINE_CURL = 1, /* libcurl for everything */
} engine_kind;

/* "native" -> ENGINE_AUTO (native where it applies), "curl" -> ENGINE_CURL; -1 for anything else. */
int engine_kind_parse(const char *s, engine_kind *out);

typedef struct engine_opts {
    const char *target;       /* base URL: scheme://host:port[/prefix]; request targets are appended */
    long connect_timeout_ms;  /* 0 = 5000 */
    long timeout_ms;          /* whole request; 0 = 30000 */
    int max_connections;      /* total connections to the target; 0 = 64 */
    int http2;                /* ask for HTTP/2 (h2 over TLS, prior knowledge over cleartext) */
    int insecure;             /* do not verify TLS certificates */
    size_t max_response;      /* largest raw response kept (head + body); 0 = 64 MiB. Larger: error */
    engine_kind kind;         /* --engine */
} engine_opts;

typedef struct engine_request {
    const char *method;
    const char *target;       /* request target as recorded: "/path?query" (appended to opts.target) */
    const char *const *headers; /* "Name: value" lines to send, in order (Host is set from the target
                                 * unless given) */
    size_t n_headers;
    const char *body;
    size_t body_len;
    /* Connection control, for replaying one recorded connection on one connection of its own (an
     * engine with max_connections 1 per recorded connection in flight): fresh_connection opens a new
     * connection for this request (an idle one is closed); close_connection closes it after the
     * response. Both 0: any pooled connection. */
    int fresh_connection;
    int close_connection;
} engine_request;

typedef enum {
    ENGINE_ERR_NONE = 0,
    ENGINE_ERR_CONNECT = 1, /* could not connect / resolve / complete TLS: the target is unreachable */
    ENGINE_ERR_TIMEOUT = 2, /* connect or request timeout */
    ENGINE_ERR_OTHER = 3,   /* anything else (protocol error, reset, response over max_response) */
} engine_error_kind;

typedef struct engine_response {
    int ok;           /* 1: a response arrived; 0: transport failure (error says why) */
    const char *error; /* "connect to 127.0.0.1:9 failed: Connection refused", ... */
    engine_error_kind error_kind;
    int status;
    int http_version; /* 10, 11 or 20 */
    /* The final response as received: head (status line + headers + blank line) and body exactly as
     * sent (still chunked / content-encoded: the caller decodes, as it does for recorded responses). */
    const char *raw;
    size_t raw_len;
    size_t head_len;  /* raw[0..head_len) is the head; the body (as sent) follows. For HTTP/2 the status
                       * line reads "HTTP/2.0 NNN ..." so HTTP/1-style parsers accept the head. */
    /* Monotonic microseconds (tdtime_mono_us): handed to libcurl, first response byte, done. */
    int64_t sent_us;
    int64_t first_byte_us;
    int64_t done_us;
} engine_response;

/* Called once per submitted request. resp and everything it points to is valid only during the call. */
typedef void (*engine_done_fn)(void *user, const engine_response *resp);

/* NULL on failure, with the reason in err. The engine does not own base. */
engine *engine_new(struct event_base *base, const engine_opts *opts, char *err, size_t errlen);
/* Cancels what is in flight (callbacks are not called) and frees. NULL is a no-op. */
void engine_free(engine *e);
/* Start a request now. The request's strings are copied. 0, or -1 when it could not be started (the
 * callback is not called then). */
int engine_submit(engine *e, const engine_request *req, engine_done_fn done, void *user);
size_t engine_inflight(const engine *e);
/* 1 when e is tapedeck's own HTTP/1.1 client, 0 when it is libcurl (https://, --http2, --engine curl). */
int engine_is_native(const engine *e);

#endif
