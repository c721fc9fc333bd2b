/* redact_bench: the proxy writer's work per exchange with and without redaction, on one thread. Built and
 * run by scripts/bench/redact on the capture bench corpus.
 *
 * Usage: redact_bench CAPTURE [RULE ARG]...   (RULE: redact-json, redact-header, ...)
 * Loads every exchange of CAPTURE into memory, then for each configuration (no rules; the rules given)
 * writes all of them as the proxy's writer thread does (capwriter, level 1, per-segment dictionary),
 * redacting each one first (redact_exchange) when there are rules. The exchanges are copied fresh before
 * each run, outside the timing. The configurations alternate, best of 5 runs each; prints key=value lines: wall seconds and thread CPU
 * seconds per configuration, and how many exchanges the rules changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capset.h"
#include "capwriter.h"
#include "exchange.h"
#include "redact.h"

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One run of one configuration over copies of xs; keeps the best wall and CPU time seen. */
static void run(const exchange *xs, size_t n, redact *r, const char *path, double *wall, double *cpu,
                unsigned long long *changed)
{
    exchange *copy = calloc(n, sizeof *copy);
    if (!copy) {
        fprintf(stderr, "redact_bench: out of memory\n");
        exit(2);
    }
    {
        for (size_t i = 0; i < n; i++)
            if (exchange_copy(&copy[i], &xs[i]) != 0) {
                fprintf(stderr, "redact_bench: out of memory\n");
                exit(2);
            }
        char err[512];
        capwriter_opts o;
        memset(&o, 0, sizeof o);
        o.path = path;
        o.level = 1; /* the proxy's writer */
        o.upstream = "http://api.mydriving.test";
        remove(path);
        redact_counts c = {0, 0};
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        capwriter *w = capwriter_open(&o, err, sizeof err);
        if (!w) {
            fprintf(stderr, "redact_bench: %s\n", err);
            exit(2);
        }
        for (size_t i = 0; i < n; i++) {
            if (r && redact_exchange(r, &copy[i], &c) < 0) {
                fprintf(stderr, "redact_bench: out of memory\n");
                exit(2);
            }
            if (capwriter_write(w, &copy[i], err, sizeof err) != CAPWRITER_OK) {
                fprintf(stderr, "redact_bench: %s\n", err);
                exit(2);
            }
        }
        if (capwriter_close(w, err, sizeof err) != CAPWRITER_OK) {
            fprintf(stderr, "redact_bench: %s\n", err);
            exit(2);
        }
        double dw = clock_s(CLOCK_MONOTONIC) - w0, dc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (dw < *wall)
            *wall = dw;
        if (dc < *cpu)
            *cpu = dc;
        *changed = c.exchanges;
        for (size_t i = 0; i < n; i++)
            exchange_clear(&copy[i]);
    }
    free(copy);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc % 2) {
        fprintf(stderr, "usage: redact_bench CAPTURE [RULE ARG]...\n");
        return 2;
    }
    char err[512];
    size_t n = 0;
    exchange *xs = NULL;
    if (capset_load_all(argv + 1, 1, &xs, &n, err, sizeof err) != 0 || n == 0) {
        fprintf(stderr, "redact_bench: cannot read %s: %s\n", argv[1], err);
        return 2;
    }
    redact *r = redact_new();
    for (int i = 2; r && i + 1 < argc; i += 2)
        if (redact_add_flag(r, argv[i], argv[i + 1], err, sizeof err) != REDACT_OK) {
            fprintf(stderr, "redact_bench: %s\n", err);
            return 2;
        }
    if (!r)
        return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s.bench.warc.zst", argv[1]);
    /* the two configurations alternate, best of 5 each: a neighbour's burst on a shared box hits both */
    double w0 = 1e9, c0 = 1e9, w1 = 1e9, c1 = 1e9;
    unsigned long long ch0 = 0, ch1 = 0;
    for (int rep = 0; rep < 5; rep++) {
        run(xs, n, NULL, path, &w0, &c0, &ch0);
        run(xs, n, r, path, &w1, &c1, &ch1);
    }
    remove(path);
    printf("exchanges=%zu\nnone_wall=%.6f\nnone_cpu=%.6f\nrules_wall=%.6f\nrules_cpu=%.6f\nchanged=%llu\n", n, w0, c0,
           w1, c1, ch1);
    capset_free_all(xs, n);
    redact_free(r);
    return 0;
}
