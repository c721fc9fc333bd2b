/* tdnum: see tdnum.h. */
#include "tdnum.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int tdnum_parse_percent(const char *s, tdnum_bare bare, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    const char *p = skip_blanks(end);
    int pct = *p == '%';
    if (pct)
        p = skip_blanks(p + 1);
    if (*p)
        return -1;
    /* Divide only when the units differ, so "0.05" stays exactly the double the user wrote. */
    if (pct && bare == TDNUM_BARE_FRACTION)
        v /= 100.0;
    if (max >= 0 && v > max)
        return -1;
    *out = v;
    return 0;
}

double tdnum_draw_percent(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 100.0;
}
