/* warc: WARC/1.1 records in memory, and the mapping between an exchange and its request/response
 * records. No I/O and no compression here (capwriter/capreader do that). */
#ifndef TAPEDECK_WARC_H
#define TAPEDECK_WARC_H

#include <stddef.h>

#include "td_status.h"
#include "exchange.h"
#include "tdbuf.h"

typedef struct warc_field {
    char *name;
    char *value;
    size_t name_len; /* strlen(name), set by warc_record_parse; 0: not known (fields built by hand) */
} warc_field;

typedef struct warc_record {
    char *version; /* "WARC/1.1" */
    warc_field *fields;
    size_t n_fields;
    char *strings; /* parsed records: one buffer holding the version, names and values (NULL otherwise) */
    char *block; /* the record block (Content-Length bytes), owned */
    size_t block_len;
} warc_record;

/* The skippable zstd frame that carries a capture segment's dictionary (the warc-zstd convention): its
 * magic, little-endian, then the frame size, then a zstd frame holding the dictionary. capwriter writes
 * it, capreader and tapedeck-capture read it. */
#define WARC_ZSTD_DICT_MAGIC 0x184D2A5Du

enum { WARC_OK = TD_OK, WARC_EPARSE = TD_ECORRUPT, WARC_ENOMEM = TD_ENOMEM };

/* Parse exactly one record (header, block, and the trailing CRLFCRLF) from buf. Lines may end in LF
 * alone (some writers): the record then ends with LF LF. */
int warc_record_parse(warc_record *r, const char *buf, size_t len, char *err, size_t errlen);
void warc_record_clear(warc_record *r);
/* How long the record at the start of buf is: 1 = known (*head_len: bytes through the blank line after
 * the fields; *total: head, block and the trailing CRLFCRLF), 0 = the head is not complete yet, -1 = not a
 * WARC record head (no "WARC/" start, no valid Content-Length, or a head over 64 KiB). Either out-pointer
 * may be NULL. */
int warc_record_measure(const char *buf, size_t len, size_t *head_len, size_t *total);
/* A record at the end of a file whose block is whole but whose trailing CRLF CRLF is missing or cut
 * (some writers leave it out of the last record): how many bytes complete it (1..4; *bytes points to
 * them), or 0 when buf is not such a record. */
size_t warc_record_missing_trailer(const char *buf, size_t len, const char **bytes);
#define WARC_TRAILER "\r\n\r\n" /* after every record's block */
/* Case-insensitive field lookup; NULL when absent. */
const char *warc_record_get(const warc_record *r, const char *name);
/* "<urn:uuid:x>" -> "urn:uuid:x" into buf (a value without brackets is copied; NULL gives ""; cut to
 * bufsz - 1). WARC/1.0 and 1.1 bracket record ids, and WARC/1.0 writers the target URI too. */
void warc_strip_brackets(const char *v, char *buf, size_t bufsz);
/* The WARC-Type. */
const char *warc_record_type(const warc_record *r);

/* Serialise: "WARC/1.1\r\n" fields "\r\n" block "\r\n\r\n". */
int warc_record_format(const warc_record *r, tdbuf *out);

/* A fresh "urn:uuid:..." into buf (>= 46 bytes): version-4 layout, 74 random bits fixed per thread and
 * a 48-bit counter from a random start, so ids are unique yet compress well in per-record frames. */
void warc_new_record_id(char *buf, size_t bufsz);

/* The warcinfo record that opens every capture file. info is "key: value\r\n" lines (may be NULL). */
int warc_format_warcinfo(tdbuf *out, const char *filename, const char *info);

/* Append the request record, then the response record, of x to req_out and resp_out (two records:
 * the writer compresses each into its own frame). An exchange without a response gives a request
 * record only (resp_out untouched) carrying WARC-Tapedeck-Error. */
int warc_format_exchange(const exchange *x, tdbuf *req_out, tdbuf *resp_out);
/* The same with flags: WARC_FMT_NO_DIGEST leaves out WARC-Payload-Digest (an optional field; its sha256
 * over every body is the writer's largest cost on large bodies). */
#define WARC_FMT_NO_DIGEST 1u
int warc_format_exchange_opts(const exchange *x, tdbuf *req_out, tdbuf *resp_out, unsigned flags);
/* warc_format_exchange_opts, plus one more response record per shadow answer of x (--mirror-record) into
 * shadow_out[EXCHANGE_SHADOW*] (left empty when that shadow has no answer): WARC-Concurrent-To the
 * request record, WARC-Tapedeck-Role "shadow" or "shadow-baseline", the shadow's own timings. A copy
 * that got no answer is a WARC-Tapedeck-Shadow-Error (-Baseline-Error) field of the request record. */
int warc_format_exchange_shadow(const exchange *x, tdbuf *req_out, tdbuf *resp_out, tdbuf *shadow_out,
                                unsigned flags);

/* The WARC-Tapedeck-Role of a response record: EXCHANGE_SHADOW, EXCHANGE_SHADOW_BASELINE, -1 for the
 * primary response (no role field, or "primary"), -2 for a role this version does not know (skipped by
 * readers). */
int warc_record_role(const warc_record *r);
/* Fills x's shadow slot `which` from a shadow response record; the block is moved out of rec (rec keeps
 * its fields). 0, or WARC_ENOMEM. */
int warc_record_to_shadow(warc_record *rec, int which, exchange *x);

/* Build an exchange from a request record and its response record (resp may be NULL). x is
 * initialised by the call; on error it is left cleared. */
int warc_records_to_exchange(const warc_record *req, const warc_record *resp, exchange *x, char *err,
                             size_t errlen);

#endif
