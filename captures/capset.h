/* capset: the CAPTURE arguments of every command. Each is a capture file (.warc.zst, .part, .warc.gz,
 * .warc: any kind capreader reads, whatever the name) or a folder meaning every such file in it; the
 * set is read in time order (the timestamp in segment names, then the sequence number, then the name),
 * and exchanges are numbered 1, 2, ... across it. */
#ifndef TAPEDECK_CAPSET_H
#define TAPEDECK_CAPSET_H

#include <stddef.h>
#include <stdint.h>
#include "capreader.h"
#include "exchange.h"

typedef struct capset capset;

/* Expands args into the ordered list of files. NULL on error (an unreadable path, a folder with no
 * capture file) with the reason in err. */
capset *capset_open(char *const *args, size_t nargs, char *err, size_t errlen);
void capset_free(capset *s); /* NULL is a no-op */
size_t capset_nfiles(const capset *s);
const char *capset_file(const capset *s, size_t i);

/* Next exchange across all files: 1 = got one (x initialised, caller clears), 0 = end, < 0 = error
 * (capset_error tells). A truncated tail is skipped and counted, not an error. */
int capset_next(capset *s, exchange *x);
const char *capset_error(const capset *s);
uint64_t capset_truncated_bytes(const capset *s); /* over all files read so far */
/* What was skipped over all files read so far (records that are not exchanges); *out is set. */
void capset_skipped(const capset *s, capreader_skips *out);

/* Reads every exchange into a new array (caller frees with capset_free_all). 0 or < 0 (err set). */
int capset_load_all(char *const *args, size_t nargs, exchange **out, size_t *n, char *err, size_t errlen);
void capset_free_all(exchange *xs, size_t n);

#endif
