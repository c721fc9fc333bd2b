/* proxy_record_spare: written exchanges on their way back from the writer thread to the workers, to be
 * reused for the next records. The writer used to free them, and free() of chunks another thread
 * allocated takes that thread's malloc arena lock: worker and writer met on it about once per exchange
 * (0.37 futex calls per proxied request on small JSON), and every large body was fresh memory again
 * (page faults, realloc growth). Now the worker that takes an exchange back frees what is not reused on
 * its own thread, and reuses the shell and both message buffers. */
#ifndef TAPEDECK_PROXY_RECORD_SPARE_H
#define TAPEDECK_PROXY_RECORD_SPARE_H

#include <stddef.h>

#include "exchange.h"
#include "tdbuf.h"

typedef struct proxy_record_spare proxy_record_spare;

/* A worker's share: the bundles it took, owned by one worker, zeroed at start, emptied by
 * proxy_record_spare_release. */
typedef struct proxy_record_spares {
    struct proxy_record_bundle *b; /* the bundle being used up, and the ones after it */
    size_t i;                      /* next exchange in b */
} proxy_record_spares;

/* NULL when out of memory. */
proxy_record_spare *proxy_record_spare_new(void);
/* Frees every exchange still waiting. After the workers and the writer are done; NULL is a no-op. */
void proxy_record_spare_free(proxy_record_spare *sp);

/* The writer thread: takes the written exchanges xs[0..n) (heap, as proxy_record_push takes them) and
 * sends them back, or frees them when over the bounds. drop_messages: free the request and response
 * here (redaction may have replaced them with buffers of this thread, of a size not known). */
void proxy_record_spare_return(proxy_record_spare *sp, exchange **xs, size_t n, int drop_messages);

/* A worker: a written exchange zeroed as exchange_init leaves it, with its old request and response
 * buffers moved into rq and rs (len 0, memory kept; what they held before is freed) and its old
 * client_addr string in *addr (the caller's to keep or free); or NULL when none is spare. */
exchange *proxy_record_spare_take(proxy_record_spare *sp, proxy_record_spares *s, tdbuf *rq, tdbuf *rs,
                                  char **addr);
/* Frees what s still holds (the worker is ending). */
void proxy_record_spare_release(proxy_record_spare *sp, proxy_record_spares *s);

#endif
