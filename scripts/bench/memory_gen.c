/* memory_gen: writes a large capture quickly with the capture library, for scripts/bench/memory.
 *
 * Usage: memory_gen OUT.warc.zst N [CONNS]
 * N exchanges interleaved over CONNS client connections open at once (default 64), each connection
 * carrying 50 exchanges before a new one takes its place, as a busy API sees them: GET /api/trips/ID
 * (10 000 distinct ids, so correlation's value map stays the size of the data, not of the capture) and
 * every tenth a POST /api/trips with a JSON body. Every response is the one nginx gives for
 * `default_type application/json; return 200 '{"ok":true}'`, so a check against that nginx matches
 * every exchange: the benchmark measures what a passing gate costs. Prints the exchanges written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwriter.h"
#include "exchange.h"

#define PER_CONN 50

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: memory_gen OUT.warc.zst N [CONNS]\n");
        return 2;
    }
    long n = atol(argv[2]), conns = argc > 3 ? atol(argv[3]) : 64;
    if (n <= 0 || conns <= 0) {
        fprintf(stderr, "memory_gen: N and CONNS must be positive\n");
        return 2;
    }
    char err[512];
    capwriter_opts o;
    memset(&o, 0, sizeof o);
    o.path = argv[1];
    o.upstream = "http://api.bench.test";
    remove(argv[1]);
    capwriter *w = capwriter_open(&o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "memory_gen: %s\n", err);
        return 2;
    }
    static const char resp[] = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\n"
                               "Content-Length: 11\r\nConnection: keep-alive\r\n\r\n{\"ok\":true}";
    uint64_t *conn_id = calloc((size_t)conns, sizeof *conn_id), next_conn = 1;
    uint64_t *seq = calloc((size_t)conns, sizeof *seq);
    if (!conn_id || !seq)
        return 2;
    int64_t t0 = 1796205600000000; /* 2026-12-02T10:00:00Z */
    for (long i = 0; i < n; i++) {
        long c = i % conns;
        if (!conn_id[c] || seq[c] == PER_CONN) {
            conn_id[c] = next_conn++;
            seq[c] = 0;
        }
        char req[512], uri[128];
        int post = i % 10 == 9;
        long id = 1000 + (i * 7919) % 10000;
        int len;
        if (post)
            len = snprintf(req, sizeof req,
                           "POST /api/trips HTTP/1.1\r\nHost: api.bench.test\r\nUser-Agent: bench/1.0\r\n"
                           "Accept: application/json\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n"
                           "{\"name\":\"trip\",\"n\":%5ld}",
                           id % 100000);
        else
            len = snprintf(req, sizeof req,
                           "GET /api/trips/%ld HTTP/1.1\r\nHost: api.bench.test\r\nUser-Agent: bench/1.0\r\n"
                           "Accept: application/json\r\n\r\n",
                           id);
        snprintf(uri, sizeof uri, "http://api.bench.test/api/trips%s%ld", post ? "" : "/", post ? 0L : id);
        exchange x;
        exchange_init(&x);
        x.conn_id = conn_id[c];
        x.conn_seq = seq[c]++;
        x.req_start_us = t0 + i * 100;
        x.resp_first_us = x.req_start_us + 400;
        x.resp_end_us = x.resp_first_us + 50;
        if (exchange_set_str(&x.target_uri, post ? "http://api.bench.test/api/trips" : uri) ||
            exchange_set_buf(&x.request, &x.request_len, req, (size_t)len) ||
            exchange_set_buf(&x.response, &x.response_len, resp, sizeof resp - 1) ||
            capwriter_write(w, &x, err, sizeof err) != 0) {
            fprintf(stderr, "memory_gen: %s\n", err[0] ? err : "out of memory");
            return 2;
        }
        exchange_clear(&x);
    }
    if (capwriter_close(w, err, sizeof err) != 0) {
        fprintf(stderr, "memory_gen: %s\n", err);
        return 2;
    }
    free(conn_id);
    free(seq);
    printf("%ld\n", n);
    return 0;
}
