/* correlate: stateful replay. Values a recorded response handed out (ids and tokens in JSON bodies, path
 * segments of Location headers) that later recorded requests reuse (path segments, query values, JSON
 * body values, header values) are learned as candidates by a scan of the capture. During the replay,
 * when the target answers the exchange that handed a candidate out, the value it gave in the same place
 * is mapped to the recorded one; later requests are rewritten with the target's values, and in diffs a
 * recorded value whose mapped value appears is not a difference.
 *
 * Candidates: integers, and strings that contain a digit or are at least 16 characters without spaces
 * (ids, UUIDs, tokens) — short words such as "ok" are never taken for ids. A value first seen in a
 * request (the client made it up) is not a candidate. One correlate per destination (target, baseline):
 * each numbers its own objects. */
#ifndef TAPEDECK_CORRELATE_H
#define TAPEDECK_CORRELATE_H

#include <stddef.h>
#include <jansson.h>

typedef struct correlate correlate;

correlate *correlate_new(void); /* NULL when out of memory */
void correlate_free(correlate *c); /* NULL is a no-op */

/* ---- scan (in recorded order) ---- */
/* A recorded request: its target, header lines ("Name: value") and body (may be non-JSON). */
int correlate_scan_request(correlate *c, const char *target, const char *const *headers, size_t n_headers,
                           const char *body, size_t body_len);
/* A recorded response: its decoded body (JSON or not; may be NULL) and Location value (may be NULL). */
int correlate_scan_response(correlate *c, const char *body, size_t body_len, const char *location);
/* Call once after the scan: keeps only values that were handed out and then reused. */
void correlate_scan_done(correlate *c);
size_t correlate_candidates(const correlate *c);

/* ---- replay ---- */
/* Learn from a response: recorded vs the destination's (JSON bodies, either may be NULL; Location
 * values, either may be NULL). Returns how many new mappings were made. */
size_t correlate_learn(correlate *c, const json_t *recorded, const json_t *actual, const char *rec_location,
                       const char *act_location);
/* The destination's value for a recorded one, or NULL. */
const char *correlate_lookup(const correlate *c, const char *recorded);
size_t correlate_mappings(const correlate *c);

/* Rewrites: each returns a malloc'ed new string, or NULL when nothing changed (or out of memory). */
char *correlate_rewrite_target(const correlate *c, const char *target);
char *correlate_rewrite_header(const correlate *c, const char *line); /* "Name: value" */
/* A JSON body: the new body in *out (malloc'ed) and its length; 1 rewritten, 0 unchanged. */
int correlate_rewrite_body(const correlate *c, const char *body, size_t len, char **out, size_t *outlen);

/* jsondiff equiv hook (scalar texts): ud is a correlate. 1 when actual is the value mapped to expected. */
int correlate_equiv(void *ud, const char *expected, const char *actual);

#endif
