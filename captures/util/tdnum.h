/* tdnum: the number forms the command lines share, parsed one way everywhere: percentages and
 * fractions ("5%", "0.05"); and the one sampler the percentages are drawn against. Durations are
 * tdtime's, sizes proxy_config's. */
#ifndef TAPEDECK_TDNUM_H
#define TAPEDECK_TDNUM_H

#include <stdint.h>

/* What a bare number (no '%') means: the replay gates take fractions ("0.05" = 5%), the proxy's
 * --sample and --mirror-percent take percents ("5" = 5%). */
typedef enum { TDNUM_BARE_FRACTION = 0, TDNUM_BARE_PERCENT = 1 } tdnum_bare;

/* Parses a non-negative number, optionally followed by blanks and '%' (then blanks), into *out:
 * a fraction under TDNUM_BARE_FRACTION ("5%" -> 0.05, "0.05" -> 0.05), a percent under
 * TDNUM_BARE_PERCENT ("5%" -> 5, "5" -> 5). Leading blanks are skipped. Returns 0, or -1 (out
 * untouched) for no number, a negative or non-finite one, an out-of-range one (errno), other
 * trailing text, or a value over max (in out's unit; pass a negative max for no bound). */
int tdnum_parse_percent(const char *s, tdnum_bare bare, double max, double *out);

/* One draw in [0, 100) from an xorshift64* generator whose state is *state (0 = a fixed seed). Cheap and
 * good enough for "record / mirror this percentage"; one state per thread or per owner, never shared.
 * Sampling p percent: tdnum_draw_percent(&s) < p. */
double tdnum_draw_percent(uint64_t *state);

#endif
