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

#include "proxy/proxy_mirror.h"

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
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct evconnlistener *l = evconnlistener_new_bind(base, sh_accept, &s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                                       16, (struct sockaddr *)&sin, sizeof sin);
    assert_non_null(l);
    struct sockaddr_in bound;
    socklen_t bl = sizeof bound;
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&bound, &bl);
    proxy_upstream_target *t = target_on(ntohs(bound.sin_port));
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
    t = target_on(ntohs(bound.sin_port));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(skip_reasons),
        cmocka_unit_test(caps),
        cmocka_unit_test(round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
