/* capreader: streams records and exchanges out of one capture file with bounded memory.
 *
 * Reads .warc.zst (one zstd frame per record; honours a leading dictionary frame, skippable magic
 * 0x184D2A5D), .warc.gz (one gzip member per record as wget, warcio, jwarc and Heritrix write them, or a
 * whole file in one member) and plain .warc, WARC/1.0 and 1.1; the kind is told by the first bytes, not
 * the name. A truncated last frame (or member) is not an error: reading ends, and capreader_truncated()
 * says how many bytes were skipped. A damaged frame anywhere else is an error naming the file and the
 * byte offset of the frame (of the record, in a plain file). */
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

/* Records capreader_next skipped, by kind. Records of other types are not exchanges; responses whose
 * request is not in the file (or not within the look-ahead) are orphans; more responses to a request
 * already paired (a shadow's answer, a second capture of the same request) are extras. */
typedef struct capreader_skips {
    uint64_t warcinfo, metadata, resource, revisit, conversion, other; /* by WARC-Type */
    uint64_t not_http;                                                 /* request/response not application/http */
    uint64_t orphans, extras;
    uint64_t rebuilt; /* not skipped: responses without request, given a GET of their URI */
} capreader_skips;

typedef struct capreader_opts {
    size_t max_record; /* largest decompressed record accepted; 0 = 256 MiB */
    size_t lookahead_bytes; /* capreader_next: blocks held while pairing; 0 = 64 MiB */
} capreader_opts;

/* NULL on failure (err names the file and the reason). opts may be NULL. */
capreader *capreader_open(const char *path, const capreader_opts *opts, char *err, size_t errlen);
void capreader_free(capreader *r); /* NULL is a no-op */

/* Next record: 1 = got one (rec initialised by the call, caller clears), 0 = end, < 0 = error. */
int capreader_next_record(capreader *r, warc_record *rec);
/* Next record as stored: *data and *len are its bytes (valid until the next call on r), *off the file
 * offset of its frame (of the record itself in a plain file). Same returns as capreader_next_record. */
int capreader_next_raw(capreader *r, const char **data, size_t *len, uint64_t *off);
/* Next exchange. A request and a response are paired when either names the other in
 * WARC-Concurrent-To (whichever comes first), or, neither naming any, when they are adjacent with the
 * same WARC-Target-URI. Records wait for their partner in a look-ahead of at most 64 records (and
 * 64 MiB): memory stays bounded however the file is ordered. Exchanges come out in the order of their
 * first record. A request without a partner becomes an exchange without response (its error is
 * WARC-Tapedeck-Error or "no response recorded"); a response without one (crawlers that write only
 * responses) gets a GET request rebuilt from its WARC-Target-URI (counted in capreader_skips.rebuilt). Other records are skipped and counted
 * (capreader_skipped). 1 = got one (x initialised, caller clears), 0 = end, < 0 = error (after the
 * exchanges read before it). x->id is left 0 (capset numbers exchanges). Do not mix with
 * capreader_next_record or capreader_next_raw on the same reader. */
int capreader_next(capreader *r, exchange *x);
/* What capreader_next skipped so far (adds to *out). */
void capreader_skipped(const capreader *r, capreader_skips *out);
void capreader_skips_add(capreader_skips *to, const capreader_skips *from);
/* "2 metadata, 1 resource, 3 responses without request" into buf (warcinfo left out: every file has
 * one); "" when nothing but warcinfo was skipped. Returns buf. */
char *capreader_skips_describe(const capreader_skips *k, char *buf, size_t bufsz);

const char *capreader_error(const capreader *r); /* "FILE: offset N: what" after an error */
const char *capreader_path(const capreader *r);
uint64_t capreader_offset(const capreader *r);    /* compressed bytes consumed */
uint64_t capreader_truncated(const capreader *r); /* bytes skipped at a cut-off end (0 if none) */
uint64_t capreader_records(const capreader *r);
int capreader_has_dictionary(const capreader *r);
/* "zstd", "gzip", "plain" or "" (nothing read yet). */
const char *capreader_kind(const capreader *r);
/* The warcinfo record, once read (the first record), else NULL. */
const warc_record *capreader_warcinfo(const capreader *r);

#endif
