/* Unit tests for proxy_mirror: which requests are mirrored (a case table of skip reasons), the caps on a
 * copy being built, and a real round trip on the loopback: a copy reaches a shadow served on the same
 * event loop, byte for byte, its response is counted, and the connection is kept alive for the next. A
 * port that refuses counts a failed connect and then backs off. No timing is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy_mirror.h"

static char *render(proxy_metrics *m)
{
    tdbuf b;
    tdbuf_init(&b, 0);
    assert_int_equal(proxy_metrics_render(m, &b, 0, 0, 0), 0);
    return tdbuf_steal(&b, NULL);
}

static void has(proxy_metrics *m, const char *line)
{
    char *t = render(m);
    if (!strstr(t, line)) {
        fprintf(stderr, "%s", t);
        free(t);
        fail_msg("missing '%s'", line);
    }
    free(t);
}

static proxy_upstream_target *target_on(int port)
{
    char url[64], err[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    proxy_upstream_target *t = proxy_upstream_target_new(url, 0, err, sizeof err);
    if (!t)
        fail_msg("%s", err);
    return t;
}

/* A shadow listening on a loopback port of the kernel's choosing (*port), and a target that points at it. */
static struct evconnlistener *shadow_listen(struct event_base *base, evconnlistener_cb cb, void *arg, int backlog,
                                            proxy_upstream_target **t, int *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct evconnlistener *l = evconnlistener_new_bind(base, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                                       backlog, (struct sockaddr *)&sin, sizeof sin);
    assert_non_null(l);
    struct sockaddr_in bound;
    socklen_t bl = sizeof bound;
    assert_int_equal(getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&bound, &bl), 0);
    *port = ntohs(bound.sin_port);
    *t = target_on(*port);
    return l;
}

/* A mirror without --mirror-record or a baseline, as proxy_mirror_new's config would give. */
static proxy_mirror *mirror_new(struct event_base *base, proxy_upstream_target *t, double pct, int writes,
                                proxy_metrics *m, uint64_t seed)
{
    static proxy_config cfg[16];
    static size_t n;
    proxy_config *c = &cfg[n++ % 16];
    memset(c, 0, sizeof *c);
    c->mirror_pct = pct;
    c->mirror_writes = writes;
    c->max_body = 1024 * 1024;
    return proxy_mirror_new(base, t, NULL, c, m, NULL, seed);
}

static const struct {
    const char *method;
    int upgrade, writes;
    double pct;
    int64_t cl;
    const char *reason; /* NULL: mirrored */
} skip_cases[] = {
    {"GET", 0, 0, 100, -1, NULL},
    {"HEAD", 0, 0, 100, 0, NULL},
    {"OPTIONS", 0, 0, 100, -1, NULL},
    {"TRACE", 0, 0, 100, -1, NULL},
    {"POST", 0, 0, 100, 10, "method"},
    {"DELETE", 0, 0, 100, -1, "method"},
    {"POST", 0, 1, 100, 10, NULL},
    {"PATCH", 0, 1, 100, 10, NULL},
    {"GET", 1, 1, 100, -1, "upgrade"},
    {"GET", 0, 0, 0, -1, "sampled_out"},
    {"POST", 0, 1, 100, PROXY_MIRROR_MAX_BODY + 1, "too_large"},
    {"POST", 0, 1, 100, PROXY_MIRROR_MAX_BODY, NULL},
};

static void skip_reasons(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    proxy_upstream_target *t = target_on(9);
    for (size_t i = 0; i < sizeof skip_cases / sizeof skip_cases[0]; i++) {
        proxy_metrics *m = proxy_metrics_new();
        proxy_mirror *mi = mirror_new(base, t, skip_cases[i].pct, skip_cases[i].writes, m, i + 1);
        assert_non_null(mi);
        proxy_mirror_req *r =
            proxy_mirror_req_begin(mi, skip_cases[i].method, skip_cases[i].upgrade, 1, skip_cases[i].cl, 40);
        char line[128];
        if (skip_cases[i].reason) {
            if (r)
                fail_msg("case %zu (%s) was mirrored, want skipped as %s", i, skip_cases[i].method,
                         skip_cases[i].reason);
            snprintf(line, sizeof line, "tapedeck_proxy_mirror_skipped_total{reason=\"%s\"} 1\n",
                     skip_cases[i].reason);
            has(m, line);
        } else {
            if (!r)
                fail_msg("case %zu (%s) was skipped", i, skip_cases[i].method);
            proxy_mirror_req_abort(r); /* counted as incomplete */
            has(m, "tapedeck_proxy_mirror_skipped_total{reason=\"incomplete\"} 1\n");
        }
        has(m, "tapedeck_proxy_mirror_held_bytes 0\n");
        proxy_mirror_free(mi);
        proxy_metrics_free(m);
    }
    proxy_upstream_target_unref(t);
    event_base_free(base);
}

/* A copy is capped while it is built: a chunked body (length unknown at the head) that grows past the
 * cap is dropped as too_large, and the worker holds at most PROXY_MIRROR_MAX_INFLIGHT copies. */
static void caps(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    proxy_upstream_target *t = target_on(9);
    proxy_metrics *m = proxy_metrics_new();
    proxy_mirror *mi = mirror_new(base, t, 100, 1, m, 7);
    static char chunk[64 * 1024];
    memset(chunk, 'x', sizeof chunk);
    proxy_mirror_req *r = proxy_mirror_req_begin(mi, "POST", 0, 1, -1, 0);
    assert_non_null(r);
    int rc = 0, n = 0;
    while (rc == 0 && n < 100) {
        rc = proxy_mirror_req_append(r, chunk, sizeof chunk);
        n++;
    }
    assert_int_equal(rc, -1);
    assert_int_equal(n, PROXY_MIRROR_MAX_BODY / (int)sizeof chunk + 1);
    has(m, "tapedeck_proxy_mirror_skipped_total{reason=\"too_large\"} 1\n");
    has(m, "tapedeck_proxy_mirror_held_bytes 0\n");

    proxy_mirror_req *held[PROXY_MIRROR_MAX_INFLIGHT];
    for (int i = 0; i < PROXY_MIRROR_MAX_INFLIGHT; i++) {
        held[i] = proxy_mirror_req_begin(mi, "GET", 0, 1, -1, 10);
        assert_non_null(held[i]);
        assert_int_equal(proxy_mirror_req_append(held[i], "GET / HTTP", 10), 0);
    }
    assert_null(proxy_mirror_req_begin(mi, "GET", 0, 1, -1, 10));
    has(m, "tapedeck_proxy_mirror_skipped_total{reason=\"queue_full\"} 1\n");
    char line[80];
    snprintf(line, sizeof line, "tapedeck_proxy_mirror_held_bytes %d\n", PROXY_MIRROR_MAX_INFLIGHT * 10);
    has(m, line);
    for (int i = 0; i < PROXY_MIRROR_MAX_INFLIGHT; i++)
        proxy_mirror_req_abort(held[i]);
    has(m, "tapedeck_proxy_mirror_held_bytes 0\n");
    proxy_mirror_free(mi);
    proxy_metrics_free(m);
    proxy_upstream_target_unref(t);
    event_base_free(base);
}

/* ---- a shadow on the test's own event loop ---- */
typedef struct {
    struct evbuffer *got; /* every byte the shadow received */
    int accepted, answered;
    struct bufferevent *srv; /* the last accepted connection, freed by the test */
} shadow_state;

static void sh_read(struct bufferevent *bev, void *ctx)
{
    shadow_state *s = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_add_buffer(s->got, in);
    /* answer once per complete request head (the test's requests have no body) */
    size_t n = evbuffer_get_length(s->got);
    const char *p = (const char *)evbuffer_pullup(s->got, -1);
    int heads = 0;
    for (size_t i = 0; i + 3 < n; i++)
        if (!memcmp(p + i, "\r\n\r\n", 4))
            heads++;
    while (s->answered < heads) {
        evbuffer_add_printf(bufferevent_get_output(bev), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        s->answered++;
    }
}

static void sh_event(struct bufferevent *bev, short what, void *ctx)
{
    shadow_state *s = ctx;
    if (s->srv == bev)
        s->srv = NULL;
    bufferevent_free(bev);
}

static void sh_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *ctx)
{
    shadow_state *s = ctx;
    s->accepted++;
    struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    if (s->srv)
        bufferevent_free(s->srv);
    s->srv = bev;
    bufferevent_setcb(bev, sh_read, NULL, sh_event, s);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static int responses(proxy_metrics *m)
{
    char *t = render(m);
    const char *p = strstr(t, "tapedeck_proxy_mirror_responses_total{code=\"2xx\"} ");
    int v = p ? atoi(p + strlen("tapedeck_proxy_mirror_responses_total{code=\"2xx\"} ")) : -1;
    free(t);
    return v;
}

static void send_one(proxy_mirror *mi, const char *req)
{
    proxy_mirror_req *r = proxy_mirror_req_begin(mi, "GET", 0, 1, -1, strlen(req));
    assert_non_null(r);
    assert_int_equal(proxy_mirror_req_append(r, req, strlen(req)), 0);
    proxy_mirror_submit(r);
}

static void round_trip(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    shadow_state s = {.got = evbuffer_new()};
    proxy_upstream_target *t;
    int port;
    struct evconnlistener *l = shadow_listen(base, sh_accept, &s, 16, &t, &port);
    proxy_metrics *m = proxy_metrics_new();
    proxy_mirror *mi = mirror_new(base, t, 100, 0, m, 3);

    const char *a = "GET /a?x=1 HTTP/1.1\r\nHost: primary.example\r\n\r\n";
    const char *b = "GET /b HTTP/1.1\r\nHost: primary.example\r\n\r\n";
    send_one(mi, a);
    for (int i = 0; i < 2000 && responses(m) < 1; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(responses(m), 1);
    send_one(mi, b); /* on the kept-alive connection */
    for (int i = 0; i < 2000 && responses(m) < 2; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(responses(m), 2);
    assert_int_equal(s.accepted, 1);
    has(m, "tapedeck_proxy_mirror_requests_total 2\n");
    has(m, "tapedeck_proxy_mirror_connections_total 1\n");
    has(m, "tapedeck_proxy_mirror_held_bytes 0\n");
    /* the shadow got the requests exactly as given, Host kept */
    size_t n = evbuffer_get_length(s.got);
    assert_int_equal(n, strlen(a) + strlen(b));
    const char *p = (const char *)evbuffer_pullup(s.got, -1);
    assert_memory_equal(p, a, strlen(a));
    assert_memory_equal(p + strlen(a), b, strlen(b));
    proxy_mirror_free(mi);
    proxy_upstream_target_unref(t);

    /* a port nothing listens on: one failed connect, then requests are skipped while backing off */
    evconnlistener_free(l);
    t = target_on(port);
    mi = mirror_new(base, t, 100, 0, m, 4);
    send_one(mi, a);
    char *txt = NULL;
    for (int i = 0; i < 2000; i++) {
        free(txt);
        txt = render(m);
        if (strstr(txt, "tapedeck_proxy_mirror_failed_total{kind=\"connect\"} 1\n"))
            break;
        event_base_loop(base, EVLOOP_ONCE);
    }
    if (!strstr(txt, "tapedeck_proxy_mirror_failed_total{kind=\"connect\"} 1\n"))
        fail_msg("no failed connect counted:\n%s", txt);
    free(txt);
    assert_null(proxy_mirror_req_begin(mi, "GET", 0, 1, -1, 10));
    has(m, "tapedeck_proxy_mirror_skipped_total{reason=\"shadow_down\"} 1\n");
    proxy_mirror_free(mi);
    proxy_upstream_target_unref(t);
    proxy_metrics_free(m);
    if (s.srv)
        bufferevent_free(s.srv);
    evbuffer_free(s.got);
    event_base_free(base);
}

/* ---- pipelining: a shadow that answers each request head as it comes, on many connections ---- */
typedef struct {
    size_t body;     /* bytes of each answer's body (Content-Length; none to HEAD) */
    int close_after; /* answer one request per connection with Connection: close, then close */
    int accepted, answered, heads, open;
} pshadow;

typedef struct {
    pshadow *s;
    struct evbuffer *got;
    int closing;
} pconn;

static void ps_free(struct bufferevent *bev, pconn *c)
{
    c->s->open--;
    evbuffer_free(c->got);
    free(c);
    bufferevent_free(bev);
}

static void ps_event(struct bufferevent *bev, short what, void *ctx)
{
    (void)what;
    ps_free(bev, ctx);
}

/* After the answer: a lingering close, as servers do (closing with unread requests would reset the
 * connection, and the answer with it) */
static void ps_drained(struct bufferevent *bev, void *ctx)
{
    pconn *c = ctx;
    if (c->closing == 1) {
        shutdown(bufferevent_getfd(bev), SHUT_WR);
        c->closing = 2;
    }
}

static void ps_read(struct bufferevent *bev, void *ctx)
{
    pconn *c = ctx;
    pshadow *s = c->s;
    evbuffer_add_buffer(c->got, bufferevent_get_input(bev));
    if (c->closing)
        evbuffer_drain(c->got, evbuffer_get_length(c->got)); /* never answered */
    struct evbuffer_ptr e;
    while (!c->closing && (e = evbuffer_search(c->got, "\r\n\r\n", 4, NULL)).pos >= 0) {
        int head = evbuffer_get_length(c->got) >= 5 && !memcmp(evbuffer_pullup(c->got, 5), "HEAD ", 5);
        evbuffer_drain(c->got, (size_t)e.pos + 4);
        s->heads++;
        struct evbuffer *out = bufferevent_get_output(bev);
        evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n%s\r\n", s->body,
                            s->close_after ? "Connection: close\r\n" : "");
        static char body[256 * 1024];
        if (!head)
            evbuffer_add(out, body, s->body);
        s->answered++;
        c->closing = s->close_after;
    }
}

static void ps_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *ctx)
{
    (void)sa, (void)len;
    pshadow *s = ctx;
    s->accepted++;
    s->open++;
    pconn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->s = s;
    c->got = evbuffer_new();
    struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev, ps_read, ps_drained, ps_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static int metric(proxy_metrics *m, const char *name) /* name: "\nNAME " */
{
    char *t = render(m);
    const char *p = strstr(t, name);
    int v = p ? atoi(p + strlen(name)) : -1;
    free(t);
    return v;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* 24 copies in one loop turn (a GET, a HEAD, ...): they share connections (pipelined, 8 deep) and every
 * one is answered, with small bodies and with 200 KiB ones (dropped unread, framing kept: the answers
 * behind them parse); from a shadow that closes after every answer, the copies behind each answer are
 * sent again on new connections, none counted as failed. */
static void pipelined(void **state)
{
    (void)state;
    static const struct {
        size_t body;
        int close_after;
    } cases[] = {{2, 0}, {200 * 1024, 0}, {2, 1}, {70 * 1024, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct event_base *base = event_base_new();
        pshadow s = {.body = cases[k].body, .close_after = cases[k].close_after};
        proxy_upstream_target *t;
        int port;
        struct evconnlistener *l = shadow_listen(base, ps_accept, &s, 64, &t, &port);
        proxy_metrics *m = proxy_metrics_new();
        proxy_mirror *mi = mirror_new(base, t, 100, 0, m, 5);
        enum { N = 24 };
        for (int i = 0; i < N; i++) {
            const char *req = i % 3 == 1 ? "HEAD /h HTTP/1.1\r\nHost: p\r\n\r\n" : "GET /g HTTP/1.1\r\nHost: p\r\n\r\n";
            proxy_mirror_req *r = proxy_mirror_req_begin(mi, i % 3 == 1 ? "HEAD" : "GET", 0, 1, -1, strlen(req));
            assert_non_null(r);
            assert_int_equal(proxy_mirror_req_append(r, req, strlen(req)), 0);
            proxy_mirror_submit(r);
        }
        struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL); /* the loop never blocks for good */
        struct timeval tv = {0, 10000};
        event_add(tick, &tv);
        for (int i = 0; i < 2000 && responses(m) < N; i++)
            event_base_loop(base, EVLOOP_ONCE);
        if (responses(m) != N)
            fail_msg("case %zu: %d of %d copies answered", k, responses(m), N);
        int conns = metric(m, "\ntapedeck_proxy_mirror_connections_total ");
        if (cases[k].close_after ? conns < N : conns < 1 || conns > N / PROXY_MIRROR_PIPELINE)
            fail_msg("case %zu: %d connections for %d copies", k, conns, N);
        char *txt = render(m);
        long failed = 0;
        for (const char *p = txt; (p = strstr(p, "tapedeck_proxy_mirror_failed_total{")) != NULL; p++)
            failed += atol(strchr(p, ' ') + 1);
        if (failed)
            fail_msg("case %zu: %ld failures counted:\n%s", k, failed, txt);
        free(txt);
        has(m, "tapedeck_proxy_mirror_requests_total 24\n");
        for (int i = 0; i < 100; i++) /* the last copy's bytes are given back as it is freed */
            event_base_loop(base, EVLOOP_NONBLOCK);
        has(m, "tapedeck_proxy_mirror_held_bytes 0\n");
        proxy_mirror_free(mi);
        for (int i = 0; i < 2000 && s.open > 0; i++) /* the shadow's side sees its connections close */
            event_base_loop(base, EVLOOP_ONCE);
        event_free(tick);
        proxy_upstream_target_unref(t);
        proxy_metrics_free(m);
        evconnlistener_free(l);
        event_base_free(base);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(skip_reasons),
        cmocka_unit_test(caps),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(pipelined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
