/* check_worker: judging (decode both sides, correlate, compare: check_item_judge) on a thread of its
 * own, so that the event loop keeps sending and reading while documents are walked. One worker, one
 * queue: items are judged in the order their answers came in, as on the event loop, and each goes back
 * to the loop (check_sched_judged: accounting, then its group's next exchange) in that order. A group's
 * next exchange still waits for its previous one to be judged, and a write for every earlier write. */
#ifndef TAPEDECK_CHECK_WORKER_H
#define TAPEDECK_CHECK_WORKER_H

#include "check_int.h"

typedef struct check_worker check_worker;

/* Starts the thread and its wake-up on r->base. NULL when it cannot (no second CPU, no thread, no
 * pipe): the caller judges on the event loop. */
check_worker *check_worker_new(check_run *r);
/* Stops and joins the thread; items still queued stay where the scheduler owns them. NULL is a no-op. */
void check_worker_free(check_worker *w);
/* Hands it over until it comes back through check_sched_judged; the loop must not touch it meanwhile. */
void check_worker_push(check_worker *w, check_item *it);

#endif
