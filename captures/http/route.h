/* route: normalise request paths for reporting, so /api/trips/42 and /api/trips/43 count as one route. */
#ifndef TAPEDECK_ROUTE_H
#define TAPEDECK_ROUTE_H

#include <stddef.h>

/* Writes the normalised path of `target` (a request target or absolute URI; the query is dropped) into
 * out: segments that are all digits, a UUID, or long hex (>= 8 hex digits with at least one digit)
 * become {id}. Returns the length written, or -1 if out is too small. */
int route_normalise(const char *target, char *out, size_t outsz);

#endif
