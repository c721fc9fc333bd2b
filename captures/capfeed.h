/* capfeed: a capset read ahead on a thread of its own. Reading a capture (zstd, the WARC and HTTP heads,
 * pairing records) is most of what a plain replay does per exchange and a quarter of what check does;
 * on the replay's event loop it holds back every send and every judgement, while the machine's other
 * cores sit idle. The feed thread fills a bounded queue; the replay takes from it in capture order.
 * Hand-overs are batched: either side sleeps only on a full or empty queue and is woken after a batch,
 * not per exchange, so the two threads cost each other a few futex calls per hundred exchanges. */
#ifndef TAPEDECK_CAPFEED_H
#define TAPEDECK_CAPFEED_H

#include <stddef.h>

#include "capset.h"
#include "exchange.h"

typedef struct capfeed capfeed;

/* Starts reading cs (taken: capfeed_free frees it, also when this fails) ahead of the caller, at most
 * max_items exchanges and about max_bytes of their messages at a time (0: defaults, 256 and 32 MiB).
 * NULL with the reason in err when the thread cannot start. */
capfeed *capfeed_open(capset *cs, size_t max_items, size_t max_bytes, char *err, size_t errlen);
/* The next exchange in capture order, as capset_next gives it: 1 got one (x initialised, the caller
 * clears it), 0 the end, < 0 an error (capfeed_error tells). Waits while the feed is behind. */
int capfeed_next(capfeed *f, exchange *x);
const char *capfeed_error(const capfeed *f);
/* Stops the thread (an unfinished read is left where it is), frees what was read ahead and the capset.
 * NULL is a no-op. */
void capfeed_free(capfeed *f);

#endif
