/* tdbuf: a growable byte buffer with a hard cap, so no input can make it grow without bound. */
#ifndef TAPEDECK_TDBUF_H
#define TAPEDECK_TDBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "td_status.h"

typedef struct tdbuf {
    char *data; /* always NUL-terminated when non-NULL (the NUL is not counted in len) */
    size_t len;
    size_t cap;   /* allocated */
    size_t limit; /* most bytes it may hold; 0 = 1 GiB */
} tdbuf;

enum { TDBUF_OK = TD_OK, TDBUF_ENOMEM = TD_ENOMEM, TDBUF_ETOOBIG = TD_ETOOBIG };

void tdbuf_init(tdbuf *b, size_t limit);
void tdbuf_free(tdbuf *b);  /* frees data, keeps limit, len = 0 */
void tdbuf_reset(tdbuf *b); /* len = 0, keeps memory */
int tdbuf_reserve(tdbuf *b, size_t extra);
int tdbuf_append(tdbuf *b, const void *p, size_t n);
int tdbuf_puts(tdbuf *b, const char *s);
/* Decimal digits of v (the hot paths' alternative to tdbuf_printf("%llu")). */
int tdbuf_put_u64(tdbuf *b, uint64_t v);
/* The same digits written at p (room for TDBUF_U64_DIGITS bytes; no NUL); returns the end. For writers
 * that format into memory of their own. */
#define TDBUF_U64_DIGITS 20
char *tdbuf_u64_digits(char *p, uint64_t v);
int tdbuf_put_i64(tdbuf *b, int64_t v);
int tdbuf_printf(tdbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tdbuf_vprintf(tdbuf *b, const char *fmt, va_list ap);
/* Hand the bytes over: returns data (caller frees), leaves b empty. */
char *tdbuf_steal(tdbuf *b, size_t *len);

#endif
