/* proxy_server: startup order matters: the recorder exists before any worker can push to it, and is
 * closed (segment renamed) only after every worker has been joined. */
#include "proxy_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "proxy_admin.h"
#include "proxy_log.h"
#include "proxy_metrics.h"
#include "proxy_record.h"
#include "proxy_upstream.h"
#include "proxy_worker.h"

typedef struct server {
    const proxy_config *cfg;
    struct event_base *base;
    proxy_metrics *m;
    proxy_record *rec;
    proxy_upstream_holder *targets;
    proxy_upstream_target *shadow; /* --mirror, NULL when off */
    proxy_upstream_target *shadow_baseline; /* --mirror-baseline, NULL when off */
    proxy_tls *tls; /* TLS contexts: the listener's (--tls-cert) and https:// upstreams' */
    proxy_worker **workers;
    int n_workers;
    atomic_int exited;
    struct event *ev_exited;
    proxy_admin *admin;
    int draining;
    uint64_t gen;
    struct sockaddr_storage listen_addr; /* what the first listener is bound to */
    int have_listen_addr;
} server;

/* An upstream that is this proxy's own listener would loop every request back in until file
 * descriptors run out. */
static int is_self(const server *s, const proxy_upstream_target *t)
{
    if (!s->have_listen_addr || s->listen_addr.ss_family != t->addr.ss_family)
        return 0;
    if (t->addr.ss_family == AF_INET) {
        const struct sockaddr_in *l = (const struct sockaddr_in *)&s->listen_addr;
        const struct sockaddr_in *u = (const struct sockaddr_in *)&t->addr;
        return l->sin_port == u->sin_port &&
               (l->sin_addr.s_addr == u->sin_addr.s_addr || l->sin_addr.s_addr == htonl(INADDR_ANY));
    }
    if (t->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)&s->listen_addr;
        const struct sockaddr_in6 *u = (const struct sockaddr_in6 *)&t->addr;
        return l->sin6_port == u->sin6_port &&
               (!memcmp(&l->sin6_addr, &u->sin6_addr, sizeof u->sin6_addr) ||
                !memcmp(&l->sin6_addr, &in6addr_any, sizeof in6addr_any));
    }
    return 0;
}

/* Opens one listening socket; port 0 is replaced by the port the first socket got, so every worker's
 * SO_REUSEPORT socket shares it. */
static evutil_socket_t open_listener(const proxy_config *cfg, int *port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", *port);
    int rc = getaddrinfo(cfg->listen_host, ps, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, errlen, "--listen %s: %s", cfg->listen_host, gai_strerror(rc));
        return -1;
    }
    evutil_socket_t fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
        snprintf(err, errlen, "--listen %s:%d: %s", cfg->listen_host, *port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    if (*port == 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    }
    return fd;
}

static void server_worker_exited(void *arg)
{
    server *s = arg;
    atomic_fetch_add(&s->exited, 1);
    event_active(s->ev_exited, 0, 0);
}

static void on_exited(evutil_socket_t fd, short what, void *arg)
{
    server *s = arg;
    if (atomic_load(&s->exited) >= s->n_workers)
        event_base_loopbreak(s->base);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    server *s = arg;
    if (s->draining) {
        proxy_log(PROXY_LOG_WARN, "second signal: closing every connection now");
        for (int i = 0; i < s->n_workers; i++)
            proxy_worker_stop(s->workers[i]);
        return;
    }
    s->draining = 1;
    proxy_log(PROXY_LOG_INFO, "signal %d: draining (no new connections, in-flight requests finish)",
              (int)sig);
    for (int i = 0; i < s->n_workers; i++)
        proxy_worker_drain(s->workers[i]);
}

static int reload_upstream(server *s, int startup, char *err, size_t errlen)
{
    char url[1024];
    const char *u = s->cfg->upstream_url;
    if (s->cfg->upstream_file) {
        if (proxy_upstream_target_read_file(s->cfg->upstream_file, url, sizeof url, err, errlen) != 0)
            return -1;
        u = url;
    }
    if (!startup) {
        proxy_upstream_target *cur = proxy_upstream_holder_get(s->targets);
        int same = strcmp(cur->url, u) == 0;
        proxy_upstream_target_unref(cur);
        if (same)
            return 0;
    }
    char why[512];
    proxy_upstream_target *t = proxy_upstream_target_new(u, ++s->gen, why, sizeof why);
    if (!t) {
        snprintf(err, errlen, "upstream %.480s", why);
        return -1;
    }
    if (is_self(s, t)) {
        snprintf(err, errlen, "upstream %.300s is this proxy's own listener", u);
        proxy_upstream_target_unref(t);
        return -1;
    }
    if (startup) {
        s->targets = proxy_upstream_holder_new(t);
        if (!s->targets) {
            proxy_upstream_target_unref(t);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    proxy_upstream_holder_set(s->targets, t);
    proxy_log(PROXY_LOG_WARN, "upstream is now %s (in-flight requests finish on the old one)", u);
    for (int i = 0; i < s->n_workers; i++)
        proxy_worker_notify_upstream(s->workers[i]);
    return 0;
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    server *s = arg;
    char err[512] = "";
    proxy_record_rotate(s->rec);
    if (s->cfg->upstream_file && reload_upstream(s, 0, err, sizeof err) != 0)
        proxy_log(PROXY_LOG_ERROR, "SIGHUP: keeping the current upstream: %s", err);
    if (proxy_tls_listening(s->tls)) {
        if (proxy_tls_reload(s->tls, err, sizeof err) != 0)
            proxy_log(PROXY_LOG_ERROR, "SIGHUP: keeping the current certificate: %s", err);
        else
            proxy_log(PROXY_LOG_INFO, "SIGHUP: certificate re-read (new handshakes use it)");
    }
}

int proxy_server_run(const proxy_config *cfg)
{
    server s = {.cfg = cfg};
    char err[512] = "";
    int rc = 1, port = cfg->listen_port;
    struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
    evutil_socket_t *fds = NULL;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit must fail a write, not kill the proxy */
    proxy_log_set_level(cfg->verbose ? PROXY_LOG_DEBUG : PROXY_LOG_WARN);
    if (evthread_use_pthreads() != 0) {
        fprintf(stderr, "tapedeck-proxy: libevent has no thread support\n");
        return 1;
    }
    if (reload_upstream(&s, 1, err, sizeof err) != 0) {
        fprintf(stderr, "tapedeck-proxy: %s\n", err);
        return 2;
    }
    if (cfg->mirror_url) {
        /* resolves: startup only */
        s.shadow = proxy_upstream_target_new(cfg->mirror_url, 0, err, sizeof err);
        if (!s.shadow) {
            fprintf(stderr, "tapedeck-proxy: --mirror: %s\n", err);
            rc = 2;
            goto out;
        }
    }
    if (cfg->mirror_baseline_url) {
        s.shadow_baseline = proxy_upstream_target_new(cfg->mirror_baseline_url, 0, err, sizeof err);
        if (!s.shadow_baseline) {
            fprintf(stderr, "tapedeck-proxy: --mirror-baseline: %s\n", err);
            rc = 2;
            goto out;
        }
    }
    s.tls = proxy_tls_new(cfg->tls_cert, cfg->tls_key, cfg->upstream_ca, err, sizeof err);
    if (!s.tls) {
        fprintf(stderr, "tapedeck-proxy: %s\n", err);
        rc = 2;
        goto out;
    }
    s.m = proxy_metrics_new();
    s.base = event_base_new();
    s.workers = calloc((size_t)cfg->workers, sizeof *s.workers);
    fds = calloc((size_t)cfg->workers, sizeof *fds);
    if (!s.m || !s.base || !s.workers || !fds) {
        fprintf(stderr, "tapedeck-proxy: out of memory\n");
        goto out;
    }
    if (cfg->capture_dir) {
        proxy_upstream_target *t = proxy_upstream_holder_get(s.targets);
        s.rec = proxy_record_new(cfg, s.m, t->url, err, sizeof err);
        proxy_upstream_target_unref(t);
        if (!s.rec) {
            fprintf(stderr, "tapedeck-proxy: %s\n", err);
            goto out;
        }
    }
    for (int i = 0; i < cfg->workers; i++)
        fds[i] = -1;
    for (int i = 0; i < cfg->workers; i++) {
        fds[i] = open_listener(cfg, &port, err, sizeof err);
        if (fds[i] < 0) {
            fprintf(stderr, "tapedeck-proxy: %s\n", err);
            goto out;
        }
    }
    socklen_t sl = sizeof s.listen_addr;
    if (getsockname(fds[0], (struct sockaddr *)&s.listen_addr, &sl) == 0) {
        s.have_listen_addr = 1;
        proxy_upstream_target *t = proxy_upstream_holder_get(s.targets);
        int self = is_self(&s, t);
        if (self)
            fprintf(stderr, "tapedeck-proxy: upstream %s is this proxy's own --listen address\n", t->url);
        proxy_upstream_target_unref(t);
        if (self) {
            rc = 2;
            goto out;
        }
        if (s.shadow && is_self(&s, s.shadow)) { /* every mirrored copy would be mirrored again */
            fprintf(stderr, "tapedeck-proxy: --mirror %s is this proxy's own --listen address\n", s.shadow->url);
            rc = 2;
            goto out;
        }
    }
    if (s.shadow)
        proxy_metrics_mirror_enable(s.m);
    if (cfg->admin_port) {
        s.admin = proxy_admin_new(s.base, cfg->admin_host, cfg->admin_port, s.m, s.rec, &s.draining, err,
                                  sizeof err);
        if (!s.admin) {
            fprintf(stderr, "tapedeck-proxy: %s\n", err);
            goto out;
        }
    }
    s.ev_exited = event_new(s.base, -1, 0, on_exited, &s);
    ev_term = evsignal_new(s.base, SIGTERM, on_term, &s);
    ev_int = evsignal_new(s.base, SIGINT, on_term, &s);
    ev_hup = evsignal_new(s.base, SIGHUP, on_hup, &s);
    if (!s.ev_exited || !ev_term || !ev_int || !ev_hup || evsignal_add(ev_term, NULL) != 0 ||
        evsignal_add(ev_int, NULL) != 0 || evsignal_add(ev_hup, NULL) != 0) {
        fprintf(stderr, "tapedeck-proxy: cannot set up signal handling\n");
        goto out;
    }
    for (int i = 0; i < cfg->workers; i++) {
        evutil_socket_t fd = fds[i];
        fds[i] = -1; /* the worker owns it now, even on failure */
        s.workers[i] = proxy_worker_new(i, cfg, s.m, s.rec, s.targets, s.shadow, s.shadow_baseline, s.tls, fd,
                                        server_worker_exited, &s, err, sizeof err);
        if (!s.workers[i]) {
            fprintf(stderr, "tapedeck-proxy: %s\n", err);
            goto out;
        }
    }
    for (int i = 0; i < cfg->workers; i++) {
        if (proxy_worker_start(s.workers[i]) != 0) {
            fprintf(stderr, "tapedeck-proxy: cannot start worker thread %d\n", i);
            for (int j = 0; j < i; j++)
                proxy_worker_stop(s.workers[j]);
            s.n_workers = i;
            event_base_dispatch(s.base);
            goto out;
        }
        s.n_workers = i + 1;
    }
    proxy_upstream_target *t = proxy_upstream_holder_get(s.targets);
    proxy_log(PROXY_LOG_INFO, "listening on %s:%d, upstream %s, %d worker(s), recording %s, mirroring %s",
              cfg->listen_host, port, t->url, cfg->workers, cfg->capture_dir ? cfg->capture_dir : "off",
              s.shadow ? s.shadow->url : "off");
    proxy_upstream_target_unref(t);
    event_base_dispatch(s.base);
    rc = 0;
out:
    for (int i = 0; i < s.n_workers; i++)
        proxy_worker_join(s.workers[i]);
    for (int i = 0; s.workers && i < cfg->workers; i++)
        proxy_worker_free(s.workers[i]);
    proxy_record_free(s.rec); /* after the workers: every record they pushed gets written */
    proxy_admin_free(s.admin);
    for (int i = 0; fds && i < cfg->workers; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (ev_term)
        event_free(ev_term);
    if (ev_int)
        event_free(ev_int);
    if (ev_hup)
        event_free(ev_hup);
    if (s.ev_exited)
        event_free(s.ev_exited);
    if (s.base)
        event_base_free(s.base);
    proxy_upstream_holder_free(s.targets);
    proxy_upstream_target_unref(s.shadow);
    proxy_upstream_target_unref(s.shadow_baseline);
    proxy_tls_free(s.tls); /* after the workers: their connections use it */
    proxy_metrics_free(s.m);
    free(s.workers);
    free(fds);
    if (rc == 0)
        proxy_log(PROXY_LOG_INFO, "stopped");
    return rc;
}
