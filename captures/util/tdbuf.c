/* tdbuf: growable byte buffer with a hard cap. */
#include "tdbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TDBUF_DEFAULT_LIMIT ((size_t)1 << 30)

static size_t tdbuf_limit(const tdbuf *b)
{
    return b->limit ? b->limit : TDBUF_DEFAULT_LIMIT;
}

void tdbuf_init(tdbuf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void tdbuf_free(tdbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void tdbuf_reset(tdbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int tdbuf_reserve(tdbuf *b, size_t extra)
{
    size_t limit = tdbuf_limit(b);
    if (extra > limit || b->len > limit - extra)
        return TDBUF_ETOOBIG;
    size_t need = b->len + extra + 1; /* room for the terminating NUL */
    if (need <= b->cap)
        return TDBUF_OK;
    /* Grow geometrically so appends stay amortised O(1), but never past limit + 1. */
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
    if (ncap > limit + 1)
        ncap = limit + 1;
    char *nd = realloc(b->data, ncap);
    if (!nd)
        return TDBUF_ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return TDBUF_OK;
}

int tdbuf_append(tdbuf *b, const void *p, size_t n)
{
    int rc = tdbuf_reserve(b, n);
    if (rc != TDBUF_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return TDBUF_OK;
}

int tdbuf_puts(tdbuf *b, const char *s)
{
    return tdbuf_append(b, s, strlen(s));
}

char *tdbuf_u64_digits(char *p, uint64_t v)
{
    /* The length first, then two digits a step from the end, in place: a digit a step into a scratch
     * array and a memcpy of a variable length (a libc call) was ~140 instructions for a 16-digit
     * microsecond time, and the writer puts seven numbers in every exchange's records. */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    static const uint64_t pow10[20] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
                                       1000000000u, 10000000000u, 100000000000u, 1000000000000u,
                                       10000000000000u, 100000000000000u, 1000000000000000u,
                                       10000000000000000u, 100000000000000000u, 1000000000000000000u,
                                       10000000000000000000u};
    /* digits: log2 times log10(2) (1233/4096), one compare to correct it (Bit Twiddling Hacks) */
    unsigned t = ((64u - (unsigned)__builtin_clzll(v | 1)) * 1233u) >> 12;
    size_t n = t + 1 - ((v | 1) < pow10[t]); /* v | 1: 0 has one digit too */
    char *e = p + n, *q = e;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        *--q = pairs[k + 1];
        *--q = pairs[k];
    }
    if (v >= 10) {
        *--q = pairs[v * 2 + 1];
        *--q = pairs[v * 2];
    } else {
        *--q = (char)('0' + v);
    }
    return e;
}

int tdbuf_put_u64(tdbuf *b, uint64_t v)
{
    char d[TDBUF_U64_DIGITS];
    return tdbuf_append(b, d, (size_t)(tdbuf_u64_digits(d, v) - d));
}

int tdbuf_put_i64(tdbuf *b, int64_t v)
{
    if (v >= 0)
        return tdbuf_put_u64(b, (uint64_t)v);
    int rc = tdbuf_append(b, "-", 1);
    return rc ? rc : tdbuf_put_u64(b, 0 - (uint64_t)v);
}

int tdbuf_vprintf(tdbuf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return TDBUF_ENOMEM;
    if ((size_t)n < sizeof small)
        return tdbuf_append(b, small, (size_t)n);
    int rc = tdbuf_reserve(b, (size_t)n);
    if (rc != TDBUF_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return TDBUF_OK;
}

int tdbuf_printf(tdbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tdbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *tdbuf_steal(tdbuf *b, size_t *len)
{
    char *d = b->data;
    if (len)
        *len = b->len;
    if (!d) {
        /* Callers expect a valid (empty, NUL-terminated) string even when nothing was appended. */
        d = malloc(1);
        if (d)
            d[0] = '\0';
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return d;
}
