/* tdnum: the number forms the command lines share, parsed one way everywhere: percentages and
 * fractions ("5%", "0.05"). Durations are tdtime's, sizes proxy_config's. */
#ifndef TAPEDECK_TDNUM_H
#define TAPEDECK_TDNUM_H

/* What a bare number (no '%') means: the replay gates take fractions ("0.05" = 5%), the proxy's
 * --sample and --mirror-percent take percents ("5" = 5%). */
typedef enum { TDNUM_BARE_FRACTION = 0, TDNUM_BARE_PERCENT = 1 } tdnum_bare;

/* Parses a non-negative number, optionally followed by blanks and '%' (then blanks), into *out:
 * a fraction under TDNUM_BARE_FRACTION ("5%" -> 0.05, "0.05" -> 0.05), a percent under
 * TDNUM_BARE_PERCENT ("5%" -> 5, "5" -> 5). Leading blanks are skipped. Returns 0, or -1 (out
 * untouched) for no number, a negative or non-finite one, an out-of-range one (errno), other
 * trailing text, or a value over max (in out's unit; pass a negative max for no bound). */
int tdnum_parse_percent(const char *s, tdnum_bare bare, double max, double *out);

#endif
