/* The send lag of a client that does nothing but keep an open-loop schedule: the floor under the
 * replayer's own `rate.lag_ms` on this machine. It waits the way tapedeck-replay load does (a timerfd in
 * epoll, at most one wake-up per 100 µs, everything due at a wake-up "sent" at once) and records how late
 * each item was. A VM that stalls its vCPU for milliseconds shows up here with no network, no peer and
 * no work at all, so scripts/bench/load prints it beside the replayer's lag measured in the same run.
 * Usage: lag_floor RATE SECONDS -> "p50 p99 p99.9 max" in ms on one line. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define WAKE_GAP_US 100 /* as replay/load/load_run.c */

static int64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    double rate = argc > 1 ? atof(argv[1]) : 0, secs = argc > 2 ? atof(argv[2]) : 0;
    if (rate < 1 || rate > 10e6 || secs <= 0 || secs > 60) {
        fprintf(stderr, "usage: lag_floor RATE SECONDS (1..10e6 per second, at most 60 s)\n");
        return 2;
    }
    size_t n = (size_t)(rate * secs);
    int64_t *lag = malloc(n * sizeof *lag);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    if (!lag || tfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0) {
        perror("lag_floor");
        return 2;
    }
    int64_t t0 = mono_us();
    size_t i = 0;
    while (i < n) {
        int64_t now = mono_us() - t0;
        for (int64_t due; i < n && (due = (int64_t)((double)i * 1e6 / rate)) <= now; i++)
            lag[i] = now - due;
        if (i == n)
            break;
        int64_t next = (int64_t)((double)i * 1e6 / rate);
        if (next < now + WAKE_GAP_US)
            next = now + WAKE_GAP_US;
        int64_t at = t0 + next;
        struct itimerspec its = {.it_value = {.tv_sec = at / 1000000, .tv_nsec = (at % 1000000) * 1000}};
        uint64_t fired;
        if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 || epoll_wait(ep, &ev, 1, -1) < 0 ||
            read(tfd, &fired, sizeof fired) < 0) {
            perror("lag_floor");
            return 2;
        }
    }
    qsort(lag, n, sizeof *lag, cmp_i64);
    printf("%.3f %.3f %.3f %.3f\n", lag[n / 2] / 1e3, lag[n * 99 / 100] / 1e3, lag[n * 999 / 1000] / 1e3,
           lag[n - 1] / 1e3);
    free(lag);
    return 0;
}
