/* jsontok_scan: the byte classes and single-token scanners jsontok_parse runs on, inline so that a
 * reader that keeps no tokens (jsoneq) scans at the tokenizer's speed and rejects exactly what it
 * rejects. Each scanner takes p at the token's first byte (the quote; a '-' or a digit) and returns
 * the byte after the token, or NULL when the text is not one. Not a public interface of jsontok. */
#ifndef TAPEDECK_JSONTOK_SCAN_H
#define TAPEDECK_JSONTOK_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { JSONTOK_C_WS = 1, JSONTOK_C_STOP = 2 /* ends a plain run inside a string: '"', '\\', a control character */,
       JSONTOK_C_DIGIT = 4, JSONTOK_C_HEX = 8, JSONTOK_C_NUM = 16 /* may go on a number: digits . e E + - */ };

/* clang-format off */
static const unsigned char jsontok_cls[256] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 2, 2, 3, 2, 2, /* \t \n \r: also whitespace */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 16, 16, 0, /* ' ', '"', + - . */
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 0, 0, 0, 0, 0, 0, /* 0-9 */
    0, 8, 8, 8, 8, 24, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* A-F (E) */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, /* '\\' */
    0, 8, 8, 8, 8, 24, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* a-f (e) */
};
/* clang-format on */

/* A string from its opening quote at p: returns the byte after the closing quote, or NULL. */
static inline const unsigned char *jsontok_scan_string(const unsigned char *p, const unsigned char *end, int *esc)
{
    p++;
    for (;;) {
        while (p < end && !(jsontok_cls[*p] & JSONTOK_C_STOP))
            p++;
        if (p >= end || *p < 0x20)
            return NULL;
        if (*p == '"')
            return p + 1;
        /* a backslash */
        *esc = 1;
        if (end - p < 2)
            return NULL;
        unsigned char e = p[1];
        if (e == 'u') {
            if (end - p < 6 || !(jsontok_cls[p[2]] & JSONTOK_C_HEX) || !(jsontok_cls[p[3]] & JSONTOK_C_HEX) || !(jsontok_cls[p[4]] & JSONTOK_C_HEX) ||
                !(jsontok_cls[p[5]] & JSONTOK_C_HEX))
                return NULL;
            p += 6;
            continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't')
            return NULL;
        p += 2;
    }
}

static inline const unsigned char *jsontok_scan_digits(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *st = p;
    while (p < end && (jsontok_cls[*p] & JSONTOK_C_DIGIT))
        p++;
    return p > st ? p : NULL;
}

/* A number from p (a '-' or a digit): returns the byte after it, or NULL. */
static inline const unsigned char *jsontok_scan_number(const unsigned char *p, const unsigned char *end)
{
    if (*p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (!(p = jsontok_scan_digits(p, end)))
        return NULL;
    if (p < end && *p == '.' && !(p = jsontok_scan_digits(p + 1, end)))
        return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!(p = jsontok_scan_digits(p, end)))
            return NULL;
    }
    return p;
}

static inline const unsigned char *jsontok_skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (jsontok_cls[*p] & JSONTOK_C_WS))
        p++;
    return p;
}

/* 1 when a[0..n) and b[0..n) are the same bytes: the short runs most keys and scalars are, without a
 * call (two overlapping loads cover 4..16 bytes) */
static inline int jsontok_same(const unsigned char *a, const unsigned char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t x, y, u, v;
        memcpy(&x, a, 8), memcpy(&y, b, 8), memcpy(&u, a + n - 8, 8), memcpy(&v, b + n - 8, 8);
        return x == y && u == v;
    }
    if (n >= 4 && n < 8) {
        uint32_t x, y, u, v;
        memcpy(&x, a, 4), memcpy(&y, b, 4), memcpy(&u, a + n - 4, 4), memcpy(&v, b + n - 4, 4);
        return x == y && u == v;
    }
    if (n > 16)
        return !memcmp(a, b, n);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

#endif
