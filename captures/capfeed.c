/* capfeed: the feed thread and its queue (a ring of exchanges moved by value). */
#include "capfeed.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPFEED_ITEMS 256
#define CAPFEED_BYTES (32u << 20)

struct capfeed {
    capset *cs;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t have_items, have_room;
    exchange *q;
    size_t *qbytes;
    size_t cap, head, count, bytes, max_bytes;
    size_t wake; /* a sleeping side is woken once this many items (or this much room) are there */
    size_t need; /* the waiting producer's next exchange, in bytes */
    int cons_waiting, prod_waiting;
    int done, status; /* the feed reached the end (status 0) or an error (< 0) */
    int stop;
    char err[768];
};

static size_t weight(const exchange *x)
{
    size_t n = sizeof *x + x->request_len + x->response_len;
    if (x->shadow)
        for (int i = 0; i < EXCHANGE_N_SHADOW; i++)
            n += x->shadow[i].response_len;
    return n;
}

/* Room for an exchange of n bytes: a slot, and the byte budget unless the queue is empty (a message
 * larger than the budget still goes through, alone). */
static int room_for(const capfeed *f, size_t n)
{
    return f->count == 0 || (f->count < f->cap && f->bytes + n <= f->max_bytes);
}

/* The producer, once asleep, is woken when a whole batch fits again, not at the first free slot. */
static int room_to_wake(const capfeed *f)
{
    return f->count == 0 || (f->count + f->wake <= f->cap && f->bytes + f->need <= f->max_bytes);
}

static void *feed_main(void *arg)
{
    capfeed *f = arg;
    for (;;) {
        exchange x;
        exchange_init(&x);
        int rc = capset_next(f->cs, &x);
        pthread_mutex_lock(&f->mu);
        if (rc != 1) {
            f->done = 1;
            f->status = rc < 0 ? rc : 0;
            if (rc < 0)
                snprintf(f->err, sizeof f->err, "%s", capset_error(f->cs));
            pthread_cond_signal(&f->have_items);
            pthread_mutex_unlock(&f->mu);
            exchange_clear(&x);
            return NULL;
        }
        size_t n = weight(&x);
        if (!f->stop && !room_for(f, n)) {
            f->need = n;
            f->prod_waiting = 1;
            if (f->cons_waiting) /* it waits for a batch that cannot come now */
                pthread_cond_signal(&f->have_items);
            while (!f->stop && !room_to_wake(f))
                pthread_cond_wait(&f->have_room, &f->mu);
            f->prod_waiting = 0;
        }
        if (f->stop) {
            pthread_mutex_unlock(&f->mu);
            exchange_clear(&x);
            return NULL;
        }
        size_t at = (f->head + f->count) % f->cap;
        f->q[at] = x;
        f->qbytes[at] = n;
        f->count++;
        f->bytes += n;
        if (f->cons_waiting && f->count >= f->wake)
            pthread_cond_signal(&f->have_items);
        pthread_mutex_unlock(&f->mu);
    }
}

capfeed *capfeed_open(capset *cs, size_t max_items, size_t max_bytes, char *err, size_t errlen)
{
    capfeed *f = calloc(1, sizeof *f);
    if (!f) {
        capset_free(cs);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->cs = cs;
    f->cap = max_items ? max_items : CAPFEED_ITEMS;
    f->max_bytes = max_bytes ? max_bytes : CAPFEED_BYTES;
    f->wake = f->cap / 8 ? f->cap / 8 : 1;
    f->q = calloc(f->cap, sizeof *f->q);
    f->qbytes = calloc(f->cap, sizeof *f->qbytes);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->have_items, NULL);
    pthread_cond_init(&f->have_room, NULL);
    if (!f->q || !f->qbytes) {
        snprintf(err, errlen, "out of memory");
        capfeed_free(f);
        return NULL;
    }
    /* Signals stay with the caller's threads (the event loop's handlers). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&f->th, NULL, feed_main, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        snprintf(err, errlen, "cannot start the capture reading thread: %s", strerror(rc));
        capfeed_free(f);
        return NULL;
    }
    f->started = 1;
    return f;
}

int capfeed_next(capfeed *f, exchange *x)
{
    pthread_mutex_lock(&f->mu);
    if (!f->count && !f->done) {
        f->cons_waiting = 1;
        /* A batch, unless the producer sleeps for room (then what is there is all that comes for now);
         * never back with nothing before the end: a producer still flagged asleep may not have run yet. */
        while (!f->done && (!f->count || (f->count < f->wake && !f->prod_waiting)))
            pthread_cond_wait(&f->have_items, &f->mu);
        f->cons_waiting = 0;
    }
    int rc;
    if (f->count) {
        *x = f->q[f->head];
        f->bytes -= f->qbytes[f->head];
        f->head = (f->head + 1) % f->cap;
        f->count--;
        if (f->prod_waiting && room_to_wake(f))
            pthread_cond_signal(&f->have_room);
        rc = 1;
    } else {
        rc = f->status;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

const char *capfeed_error(const capfeed *f)
{
    return f->err;
}

void capfeed_free(capfeed *f)
{
    if (!f)
        return;
    if (f->started) {
        pthread_mutex_lock(&f->mu);
        f->stop = 1;
        pthread_cond_signal(&f->have_room);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
    }
    for (size_t i = 0; i < f->count; i++)
        exchange_clear(&f->q[(f->head + i) % f->cap]);
    free(f->q);
    free(f->qbytes);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->have_items);
    pthread_cond_destroy(&f->have_room);
    capset_free(f->cs);
    free(f);
}
