/* Fuzz target for route_normalise (captures/http/route.c): request targets come straight from recorded
 * traffic. The input (cut at its first NUL) is the target; the first byte also picks a small output
 * size. Checks, beyond no crash or UB:
 *   - the output is a NUL-terminated string of the returned length inside its buffer (the buffer is
 *     allocated to its exact size, so ASan sees any byte past it); -1 only when it does not fit;
 *   - a small buffer gives the same result as a large one, or -1;
 *   - it starts with '/' (or is "*", or the target had no leading '/'), has no '?' or '#', and
 *     normalising the result again changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

static int normalise(const char *t, char *out, size_t outsz)
{
    int n = route_normalise(t, out, outsz);
    if (n < -1)
        abort();
    if (n >= 0 && ((size_t)n >= outsz || strlen(out) != (size_t)n))
        abort();
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t = malloc(size + 1);
    if (!t)
        return 0;
    memcpy(t, data, size);
    t[size] = '\0';
    size_t big = 3 * size + 16; /* "1/" (2 bytes) becomes "{id}/" (5) */
    char *out = malloc(big);
    int n = normalise(t, out, big);
    if (n < 0)
        abort(); /* a buffer three times the input always fits */
    if (strpbrk(out, "?#"))
        abort();

    size_t small = size ? (size_t)data[0] % 64 : 0;
    char *sm = malloc(small ? small : 1);
    int m = normalise(t, sm, small);
    if (m >= 0 && strcmp(sm, out))
        abort();
    if (m < 0 && (size_t)n < small)
        abort(); /* it fit but was refused */
    free(sm);

    char *again = malloc(big);
    if (normalise(out, again, big) < 0 || strcmp(again, out))
        abort(); /* not idempotent */
    free(again);
    free(out);
    free(t);
    return 0;
}
