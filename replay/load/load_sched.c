/* load_sched: the load schedule (see load_sched.h). */
#include "load_sched.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct load_sched {
    load_sched_opts o;
    size_t n;
    size_t *order;    /* exchange indexes in recorded time order (speed) or capture order (rate) */
    int64_t *offset;  /* speed: (t_i - t_0) per position in order, recorded µs */
    unsigned char *mine; /* per exchange: belongs to this shard */
    size_t nmine;
    int64_t period_rec; /* speed: loop period in recorded µs */
    uint64_t pos;     /* next position: loop·n + i (speed) or slot number (rate) */
};

unsigned load_sched_shard_of(uint64_t conn_id, unsigned n)
{
    if (n <= 1)
        return 0;
    /* splitmix64 finaliser: consecutive connection ids spread evenly over the shards */
    uint64_t z = conn_id + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (unsigned)(z % n);
}

static const int64_t *g_start; /* qsort has no context argument; load_sched_new is not reentrant for this */

static int by_start(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (g_start[i] != g_start[j])
        return g_start[i] < g_start[j] ? -1 : 1;
    return i < j ? -1 : i > j; /* stable: recorded order breaks ties */
}

load_sched *load_sched_new(const int64_t *start_us, const uint64_t *conn, size_t n, const load_sched_opts *o, char *err,
                 size_t errlen)
{
    load_sched *s = NULL;
    if (n == 0) {
        snprintf(err, errlen, "the capture holds no exchanges");
        return NULL;
    }
    if (o->rate <= 0 && o->speed <= 0) {
        snprintf(err, errlen, "need --speed or --rate");
        return NULL;
    }
    if (o->shard_n > 1 && o->shard_k >= o->shard_n) {
        snprintf(err, errlen, "shard %u/%u: K must be below N (0-based)", o->shard_k, o->shard_n);
        return NULL;
    }
    /* --rate replays in capture order: the time order and offsets are only --speed's (16 bytes per
     * exchange that a long capture does not pay for nothing) */
    int timed = o->rate <= 0;
    if (!(s = calloc(1, sizeof *s)) || (timed && !(s->order = calloc(n, sizeof *s->order))) ||
        (timed && !(s->offset = calloc(n, sizeof *s->offset))) || !(s->mine = calloc(n, 1))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->o = *o;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        if (timed)
            s->order[i] = i;
        s->mine[i] = o->shard_n <= 1 || load_sched_shard_of(conn[i], o->shard_n) == o->shard_k;
        s->nmine += s->mine[i];
    }
    if (o->rate <= 0) {
        for (size_t i = 0; i < n; i++)
            if (start_us[i] == 0) {
                snprintf(err, errlen, "exchange %zu has no recorded start time: --speed needs timing, use --rate",
                         i + 1);
                goto fail;
            }
        g_start = start_us;
        qsort(s->order, n, sizeof *s->order, by_start);
        g_start = NULL;
        int64_t t0 = start_us[s->order[0]], span = start_us[s->order[n - 1]] - t0;
        for (size_t i = 0; i < n; i++)
            s->offset[i] = start_us[s->order[i]] - t0;
        /* one mean gap between the last request of a pass and the first of the next */
        int64_t gap = n > 1 ? span / (int64_t)(n - 1) : 1000000;
        if (gap <= 0)
            gap = 1000;
        s->period_rec = span + gap;
    }
    return s;
fail:
    load_sched_free(s);
    return NULL;
}

void load_sched_free(load_sched *s)
{
    if (!s)
        return;
    free(s->order);
    free(s->offset);
    free(s->mine);
    free(s);
}

int load_sched_next(load_sched *s, size_t *index, int64_t *at_us)
{
    if (s->nmine == 0)
        return 0;
    for (;;) {
        uint64_t p = s->pos;
        uint64_t loop = p / s->n;
        size_t i = (size_t)(p % s->n);
        int64_t at;
        if (s->o.rate > 0)
            at = (int64_t)floor((double)p * 1e6 / s->o.rate);
        else
            at = (int64_t)floor(((double)loop * (double)s->period_rec + (double)s->offset[i]) / s->o.speed);
        if (s->o.duration_us > 0 ? at >= s->o.duration_us : loop >= 1)
            return 0;
        s->pos++;
        size_t x = s->o.rate > 0 ? i : s->order[i];
        if (!s->mine[x])
            continue;
        *index = x;
        *at_us = at;
        return 1;
    }
}

int load_sched_parse_shard(const char *str, unsigned *k, unsigned *n)
{
    char *end;
    errno = 0;
    unsigned long a = strtoul(str, &end, 10);
    if (end == str || *end != '/' || str[0] == '-')
        return -1;
    const char *p = end + 1;
    unsigned long b = strtoul(p, &end, 10);
    if (end == p || *end || p[0] == '-' || errno || b == 0 || b > 100000 || a >= b)
        return -1;
    *k = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}

int load_sched_parse_rate(const char *str, double *per_s)
{
    char *end;
    errno = 0;
    double v = strtod(str, &end);
    if (end == str || errno || !(v > 0) || v > 1e7)
        return -1;
    double div = 1;
    if (!strcmp(end, "") || !strcmp(end, "/s"))
        div = 1;
    else if (!strcmp(end, "/m") || !strcmp(end, "/min"))
        div = 60;
    else
        return -1;
    *per_s = v / div;
    return 0;
}
