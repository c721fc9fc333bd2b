/* capreader: streams records and exchanges out of one .warc.zst file with bounded memory.
 *
 * Honours a leading dictionary frame (skippable magic 0x184D2A5D), and reads plain (dictionary-less)
 * files and uncompressed .warc files too. A truncated last frame is not an error: reading ends, and
 * capreader_truncated() says how many bytes were skipped. A damaged frame anywhere else is an error
 * naming the file and the byte offset of the frame. */
#ifndef TAPEDECK_CAPREADER_H
#define TAPEDECK_CAPREADER_H

#include <stddef.h>
#include <stdint.h>

#include "td_status.h"
#include "exchange.h"
#include "warc.h"

typedef struct capreader capreader;

typedef enum {
    CAPREADER_OK = TD_OK,
    CAPREADER_EIO = TD_EIO,           /* open/read failed */
    CAPREADER_ECORRUPT = TD_ECORRUPT, /* a bad frame, a record that does not parse, a checksum mismatch */
    CAPREADER_ETOOBIG = TD_ETOOBIG,   /* a record over max_record */
    CAPREADER_ENOMEM = TD_ENOMEM,
} capreader_status;

typedef struct capreader_opts {
    size_t max_record; /* largest decompressed record accepted; 0 = 256 MiB */
} capreader_opts;

/* NULL on failure (err names the file and the reason). opts may be NULL. */
capreader *capreader_open(const char *path, const capreader_opts *opts, char *err, size_t errlen);
void capreader_free(capreader *r); /* NULL is a no-op */

/* Next record: 1 = got one (rec initialised by the call, caller clears), 0 = end, < 0 = error. */
int capreader_next_record(capreader *r, warc_record *rec);
/* Next exchange (warcinfo and other record types skipped; a request is paired with the response that
 * follows it and names it in WARC-Concurrent-To): 1 = got one (x initialised, caller clears), 0 = end,
 * < 0 = error. x->id is left 0 (capset numbers exchanges). */
int capreader_next(capreader *r, exchange *x);

const char *capreader_error(const capreader *r); /* "FILE: offset N: what" after an error */
const char *capreader_path(const capreader *r);
uint64_t capreader_offset(const capreader *r);    /* compressed bytes consumed */
uint64_t capreader_truncated(const capreader *r); /* bytes skipped at a cut-off end (0 if none) */
uint64_t capreader_records(const capreader *r);
int capreader_has_dictionary(const capreader *r);
/* The warcinfo record, once read (the first record), else NULL. */
const warc_record *capreader_warcinfo(const capreader *r);

#endif
