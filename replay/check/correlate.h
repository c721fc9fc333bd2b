/* correlate: stateful replay. Values a recorded response handed out (ids and tokens in JSON bodies, path
 * segments of Location headers) that later recorded requests reuse (path segments, query values, JSON
 * body values, header values) are mapped to the values the destination handed out in the same place;
 * later requests are rewritten with them, and in diffs a recorded value whose mapped value appears is
 * not a difference.
 *
 * How: a scan of the recorded requests notes, for every id-like value, the first request that sent it.
 * A value in recorded response i is a candidate when it was first sent by a request after i (handed out,
 * then reused; a value the client sent first is its own, not handed out). Learning happens while the
 * response is diffed (correlate_equiv as the jsondiff hook), so it costs no extra parse.
 *
 * The scan may run ahead on demand (correlate_set_source): the question "who first sent v" only comes
 * up for a value that differs between the recording and the answer, so most runs never need to read
 * the whole capture twice. The answers are the ones a full scan first would give: the first request in
 * scan order that sent v is known as soon as the scan has reached it, and "nobody" only at its end.
 *
 * Id-like: integers, and strings that contain a digit or are at least 16 characters without spaces
 * (ids, UUIDs, tokens) - short words such as "ok" are never taken for ids. One correlate per
 * destination (target, baseline): each numbers its own objects. */
#ifndef TAPEDECK_CORRELATE_H
#define TAPEDECK_CORRELATE_H

#include <stddef.h>
#include <jansson.h>

typedef struct correlate correlate;

correlate *correlate_new(void); /* NULL when out of memory */
void correlate_free(correlate *c); /* NULL is a no-op */

/* ---- scan (every recorded request, any order) ---- */
/* Recorded request number `index` (0-based position in the capture): its target, header lines
 * ("Name: value") and body (may be non-JSON). */
int correlate_scan_request(correlate *c, size_t index, const char *target, const char *const *headers,
                           size_t n_headers, const char *body, size_t body_len);
/* Call once after the scan (frees scan buffers). */
void correlate_scan_done(correlate *c);
/* Scans on demand: more(ud) feeds the next recorded request(s) through correlate_scan_request and
 * returns 1, or 0 when the requests have ended (or cannot be read: the caller says why). Until it
 * returns 0, a value not seen yet is looked for further on. ud is borrowed; more NULL: the scan so far
 * is all there is. */
typedef int (*correlate_more_fn)(void *ud);
void correlate_set_source(correlate *c, correlate_more_fn more, void *ud);
size_t correlate_request_values(const correlate *c); /* distinct id-like values seen in requests */

/* ---- replay ---- */
/* 1 when value, seen in recorded response `index`, was first sent by a later request (may scan on: see
 * correlate_set_source). */
int correlate_is_candidate(correlate *c, size_t index, const char *value);
/* Learn recorded -> actual when recorded is a candidate of response `index` and not mapped yet (first
 * mapping wins). 1 when a mapping was made. */
int correlate_learn_value(correlate *c, size_t index, const char *recorded, const char *actual);
/* The same for the path segments and query pieces of two Location values, in step. */
size_t correlate_learn_location(correlate *c, size_t index, const char *rec_location, const char *act_location);
/* The destination's value for a recorded one, or NULL. */
const char *correlate_lookup(const correlate *c, const char *recorded);
size_t correlate_mappings(const correlate *c);

/* Rewrites: each returns a malloc'ed new string, or NULL when nothing changed (or out of memory). */
char *correlate_rewrite_target(const correlate *c, const char *target);
char *correlate_rewrite_header(const correlate *c, const char *line); /* "Name: value" */
/* A JSON body: the new body in *out (malloc'ed) and its length; 1 rewritten, 0 unchanged. */
int correlate_rewrite_body(const correlate *c, const char *body, size_t len, char **out, size_t *outlen);

/* jsondiff equiv hook (scalar texts): ud is a correlate_ref. Learns first (when ref->learn), then 1 when
 * actual is the value mapped to expected. An integer is learned only from a member whose name says it
 * is an identifier (correlate_id_key): a count or a price that happens to equal a value a later request
 * sends must stay a difference, or correlation would hide a regression. Strings qualify anywhere (an
 * id-like string - digits, or 16+ characters without spaces - does not collide by chance). */
typedef struct correlate_ref {
    correlate *c;
    size_t index; /* the exchange being judged */
    int learn;
} correlate_ref;
int correlate_equiv(void *ud, const char *key, int is_int, const char *expected, const char *actual);
/* 1 for a member name that names an identifier or token: id, uuid, guid, key, token, ref, slug, or one
 * ending in one of those after a word boundary or in camelCase (tripId, trip_id, userUUID, authToken,
 * tripIds, apiKey); case-insensitive for the whole name. NULL: 0. */
int correlate_id_key(const char *key);

#endif
