/* engine against a real HTTP server (libevent's evhttp on 127.0.0.1, port 0) in the same event loop —
 * every case twice: through libcurl (ENGINE_CURL, `--engine curl`), then through the native HTTP/1.1
 * path (the default for http://):
 * raw responses come back as sent (chunked stays chunked), methods and bodies go out as asked, a refused
 * connection is a transport error of the connect kind, and many requests share a few connections. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "engine.h"

static engine_kind test_kind; /* which client the group runs through */

typedef struct fixture {
    struct event_base *base;
    struct evhttp *http;
    int port;
    char url[64];
} fixture;

typedef struct result {
    int calls;
    int ok, status, kind;
    char *raw;
    size_t raw_len, head_len;
    int want; /* loopbreak when calls reaches it */
    struct event_base *base;
} result;

static void on_req(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *out = evbuffer_new();
    if (!strcmp(uri, "/hello")) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "X-T", "1");
        evbuffer_add_printf(out, "hi");
        evhttp_send_reply(req, 200, "OK", out);
    } else if (!strncmp(uri, "/echo", 5)) {
        const char *m = "?";
        switch (evhttp_request_get_command(req)) {
        case EVHTTP_REQ_GET: m = "GET"; break;
        case EVHTTP_REQ_POST: m = "POST"; break;
        case EVHTTP_REQ_PUT: m = "PUT"; break;
        case EVHTTP_REQ_DELETE: m = "DELETE"; break;
        case EVHTTP_REQ_PATCH: m = "PATCH"; break;
        case EVHTTP_REQ_HEAD: m = "HEAD"; break;
        default: break;
        }
        const char *x = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Case");
        evbuffer_add_printf(out, "%s %s %s:", m, uri, x ? x : "-");
        evbuffer_add_buffer(out, evhttp_request_get_input_buffer(req));
        evhttp_send_reply(req, 201, "Created", out);
    } else if (!strcmp(uri, "/chunked")) {
        evhttp_send_reply_start(req, 200, "OK");
        evbuffer_add(out, "ab", 2);
        evhttp_send_reply_chunk(req, out);
        evbuffer_add(out, "cde", 3);
        evhttp_send_reply_chunk(req, out);
        evhttp_send_reply_end(req);
    } else {
        evhttp_send_reply(req, 404, "Not Found", out);
    }
    evbuffer_free(out);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->base = event_base_new();
    f->http = evhttp_new(f->base);
    evhttp_set_allowed_methods(f->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(f->http, on_req, NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
    assert_non_null(bs);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl);
    f->port = ntohs(sa.sin_port);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->port);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    evhttp_free(f->http);
    event_base_free(f->base);
    free(f);
    return 0;
}

static void done_cb(void *user, const engine_response *r)
{
    result *res = user;
    res->calls++;
    res->ok = r->ok;
    res->status = r->status;
    res->kind = r->error_kind;
    free(res->raw);
    res->raw = malloc(r->raw_len + 1);
    memcpy(res->raw, r->raw ? r->raw : "", r->raw_len);
    res->raw[r->raw_len] = '\0';
    res->raw_len = r->raw_len;
    res->head_len = r->head_len;
    if (r->ok) {
        assert_true(r->first_byte_us >= r->sent_us);
        assert_true(r->done_us >= r->first_byte_us);
    } else {
        assert_non_null(r->error);
    }
    if (res->calls >= res->want)
        event_base_loopbreak(res->base);
}

static void run_one(fixture *f, const char *target_url, const engine_request *rq, result *res)
{
    char err[256];
    engine_opts o = {.target = target_url, .connect_timeout_ms = 2000, .timeout_ms = 5000, .kind = test_kind};
    engine *e = engine_new(f->base, &o, err, sizeof err);
    assert_non_null(e);
    res->want = 1;
    res->base = f->base;
    assert_int_equal(engine_submit(e, rq, done_cb, res), 0);
    assert_int_equal(engine_inflight(e), 1);
    event_base_dispatch(f->base);
    assert_int_equal(res->calls, 1);
    assert_int_equal(engine_inflight(e), 0);
    engine_free(e);
}

static void get_returns_raw_head_and_body(void **state)
{
    fixture *f = *state;
    result res = {0};
    engine_request rq = {.method = "GET", .target = "/hello"};
    run_one(f, f->url, &rq, &res);
    assert_true(res.ok);
    assert_int_equal(res.status, 200);
    assert_memory_equal(res.raw, "HTTP/1.1 200 OK\r\n", 17);
    assert_non_null(strstr(res.raw, "X-T: 1\r\n"));
    assert_string_equal(res.raw + res.head_len, "hi");
    assert_memory_equal(res.raw + res.head_len - 4, "\r\n\r\n", 4);
    free(res.raw);
}

static void methods_bodies_and_headers_go_out(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *method, *body, *want;
    } cases[] = {
        {"POST", "{\"a\":1}", "POST /echo?q=1 yes:{\"a\":1}"},
        {"PUT", "x", "PUT /echo?q=1 yes:x"},
        {"PATCH", "", "PATCH /echo?q=1 yes:"},
        {"DELETE", "", "DELETE /echo?q=1 yes:"},
        {"GET", "", "GET /echo?q=1 yes:"},
    };
    /* Framing headers from a recording are dropped (curl frames the body itself). */
    const char *hdrs[] = {"X-Case: yes", "Content-Length: 999", "Transfer-Encoding: chunked",
                          "Connection: close"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result res = {0};
        engine_request rq = {.method = cases[i].method, .target = "/echo?q=1", .headers = hdrs,
                             .n_headers = 4, .body = cases[i].body, .body_len = strlen(cases[i].body)};
        run_one(f, f->url, &rq, &res);
        assert_true(res.ok);
        assert_int_equal(res.status, 201);
        assert_string_equal(res.raw + res.head_len, cases[i].want);
        free(res.raw);
    }
}

static void target_path_prefix_is_kept(void **state)
{
    fixture *f = *state;
    char base[96];
    snprintf(base, sizeof base, "%s/echo/", f->url);
    result res = {0};
    engine_request rq = {.method = "GET", .target = "/x?y=1"};
    run_one(f, base, &rq, &res);
    assert_true(res.ok);
    assert_string_equal(res.raw + res.head_len, "GET /echo/x?y=1 -:");
    free(res.raw);
}

static void chunked_body_stays_chunked(void **state)
{
    fixture *f = *state;
    result res = {0};
    engine_request rq = {.method = "GET", .target = "http://recorded.example:8080/chunked"};
    run_one(f, f->url, &rq, &res);
    assert_true(res.ok);
    assert_non_null(strcasestr(res.raw, "Transfer-Encoding: chunked"));
    assert_string_equal(res.raw + res.head_len, "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
    free(res.raw);
}

static void head_has_no_body(void **state)
{
    fixture *f = *state;
    result res = {0};
    engine_request rq = {.method = "HEAD", .target = "/hello"};
    run_one(f, f->url, &rq, &res);
    assert_true(res.ok);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.head_len, res.raw_len);
    free(res.raw);
}

static void refused_connection_is_connect_error(void **state)
{
    fixture *f = *state;
    /* A port that was free a moment ago: bind, read it, close. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &sl);
    close(s);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    result res = {0};
    engine_request rq = {.method = "GET", .target = "/"};
    run_one(f, url, &rq, &res);
    assert_false(res.ok);
    assert_int_equal(res.kind, ENGINE_ERR_CONNECT);
    free(res.raw);
}

static void many_requests_complete(void **state)
{
    fixture *f = *state;
    char err[256];
    engine_opts o = {.target = f->url, .max_connections = 4, .kind = test_kind};
    engine *e = engine_new(f->base, &o, err, sizeof err);
    assert_non_null(e);
    result res = {.want = 300, .base = f->base};
    engine_request rq = {.method = "GET", .target = "/hello"};
    for (int i = 0; i < 300; i++)
        assert_int_equal(engine_submit(e, &rq, done_cb, &res), 0);
    event_base_dispatch(f->base);
    assert_int_equal(res.calls, 300);
    assert_int_equal(res.status, 200);
    free(res.raw);
    /* Freeing with requests in flight cancels them without callbacks. */
    result res2 = {.want = 1000, .base = f->base};
    for (int i = 0; i < 5; i++)
        assert_int_equal(engine_submit(e, &rq, done_cb, &res2), 0);
    engine_free(e);
    assert_int_equal(res2.calls, 0);
}

static void bad_target_is_refused(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    engine_opts o = {.target = "ftp://x", .kind = test_kind};
    assert_null(engine_new(f->base, &o, err, sizeof err));
    assert_non_null(strstr(err, "ftp://x"));
    engine_free(NULL);
}

/* A raw server: every request (once its head is in) gets the canned bytes, then the connection closes. */
static const char *canned;

static void raw_written(struct bufferevent *bev, void *ctx)
{
    (void)ctx;
    bufferevent_free(bev); /* all written: close (BEV_OPT_CLOSE_ON_FREE) */
}

static void raw_read(struct bufferevent *bev, void *ctx)
{
    (void)ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (evbuffer_search(in, "\r\n\r\n", 4, NULL).pos < 0)
        return; /* head not complete yet */
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_setcb(bev, NULL, raw_written, NULL, NULL);
    bufferevent_write(bev, canned, strlen(canned));
}

static void raw_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *ctx)
{
    (void)sa;
    (void)len;
    (void)ctx;
    struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev, raw_read, NULL, NULL, NULL);
    bufferevent_enable(bev, EV_READ);
}

static void interim_and_close_delimited(void **state)
{
    fixture *f = *state;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct evconnlistener *l = evconnlistener_new_bind(f->base, raw_accept, NULL, LEV_OPT_CLOSE_ON_FREE |
                                                       LEV_OPT_REUSEABLE, -1, (struct sockaddr *)&sa, sizeof sa);
    assert_non_null(l);
    socklen_t sl = sizeof sa;
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sa, &sl);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    static const struct {
        const char *reply, *want_raw;
        int status;
    } cases[] = {
        /* interim responses are dropped: raw holds the final response only */
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200},
        /* a body delimited by the close */
        {"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
         "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close", 200},
        {"HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n", "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n", 204},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        canned = cases[i].reply;
        result res = {0};
        engine_request rq = {.method = "GET", .target = "/x"};
        run_one(f, url, &rq, &res);
        assert_true(res.ok);
        assert_int_equal(res.status, cases[i].status);
        assert_string_equal(res.raw, cases[i].want_raw);
        assert_int_equal(res.head_len, strstr(cases[i].want_raw, "\r\n\r\n") + 4 - cases[i].want_raw);
        free(res.raw);
    }
    evconnlistener_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(get_returns_raw_head_and_body, setup, teardown),
        cmocka_unit_test_setup_teardown(methods_bodies_and_headers_go_out, setup, teardown),
        cmocka_unit_test_setup_teardown(target_path_prefix_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(chunked_body_stays_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(head_has_no_body, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_connection_is_connect_error, setup, teardown),
        cmocka_unit_test_setup_teardown(many_requests_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_target_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(interim_and_close_delimited, setup, teardown),
    };
    test_kind = ENGINE_CURL;
    int failed = cmocka_run_group_tests_name("libcurl", tests, NULL, NULL);
    test_kind = ENGINE_AUTO;
    failed += cmocka_run_group_tests_name("native HTTP/1.1", tests, NULL, NULL);
    return failed;
}
