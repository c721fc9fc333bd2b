/* check_worker: a mutex and a condition variable for the queue in, a pipe to wake the event loop for
 * the queue out (written only when that queue was empty: one wake-up for a batch). The loop listens on
 * the pipe only while items are out, so an idle worker never keeps event_base_dispatch running. */
#include "check_worker.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct check_worker {
    check_run *r;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    check_item *in_head, *in_tail, *out_head, *out_tail;
    int stop, waiting;
    int fds[2];
    struct event *ev;
    size_t out; /* pushed, not yet back (the loop's count) */
};

static void q_push(check_item **head, check_item **tail, check_item *it)
{
    it->next_judge = NULL;
    if (*tail)
        (*tail)->next_judge = it;
    else
        *head = it;
    *tail = it;
}

static void *run(void *arg)
{
    check_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->in_head && !w->stop) {
            w->waiting = 1;
            pthread_cond_wait(&w->cond, &w->mu);
            w->waiting = 0;
        }
        if (w->stop)
            break;
        check_item *it = w->in_head;
        w->in_head = it->next_judge;
        if (!w->in_head)
            w->in_tail = NULL;
        pthread_mutex_unlock(&w->mu);
        check_item_judge(w->r, it);
        pthread_mutex_lock(&w->mu);
        int wake = !w->out_head;
        q_push(&w->out_head, &w->out_tail, it);
        if (wake) {
            char b = 1;
            while (write(w->fds[1], &b, 1) < 0 && errno == EINTR)
                ;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    check_worker *w = arg;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&w->mu);
    check_item *it = w->out_head;
    w->out_head = w->out_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (it) {
        check_item *next = it->next_judge; /* it may be freed by the call below */
        w->out--;
        if (!w->out)
            event_del(w->ev);
        check_sched_judged(w->r, it);
        it = next;
    }
}

check_worker *check_worker_new(check_run *r)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return NULL; /* a second thread would only take turns with the loop */
    check_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->r = r;
    w->fds[0] = w->fds[1] = -1;
    if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) < 0)
        goto fail;
    if (!(w->ev = event_new(r->base, w->fds[0], EV_READ | EV_PERSIST, on_wake, w)))
        goto fail;
    if (pthread_mutex_init(&w->mu, NULL))
        goto fail;
    if (pthread_cond_init(&w->cond, NULL)) {
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    if (pthread_create(&w->thread, NULL, run, w)) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    return w;
fail:
    if (w->ev)
        event_free(w->ev);
    if (w->fds[0] >= 0)
        close(w->fds[0]);
    if (w->fds[1] >= 0)
        close(w->fds[1]);
    free(w);
    return NULL;
}

void check_worker_free(check_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    event_free(w->ev);
    close(w->fds[0]);
    close(w->fds[1]);
    free(w);
}

void check_worker_push(check_worker *w, check_item *it)
{
    if (!w->out++)
        event_add(w->ev, NULL);
    pthread_mutex_lock(&w->mu);
    q_push(&w->in_head, &w->in_tail, it);
    if (w->waiting)
        pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}
