/* cli_digest: WARC-Payload-Digest and WARC-Block-Digest values checked against bytes (see cli_digest.c). */
#ifndef TAPEDECK_CLI_DIGEST_H
#define TAPEDECK_CLI_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "warc.h"

/* A digest value ("sha1:..." or "sha256:...") against bytes, in base32, base16 or base64, padded or not.
 * 1 = matches, 0 = does not, -1 = an unknown algorithm. */
int cli_digest_value_matches(const char *want, const void *data, size_t len);
/* The record's WARC-Payload-Digest against its HTTP payload (de-chunked, or as sent). req_method: the
 * paired request's method for a response (HEAD has no body), or NULL. 1 = matches, 0 = does not, -1 =
 * cannot tell (no digest, an unknown algorithm, a message that does not parse or is cut short). */
int cli_digest_matches(const warc_record *rec, bool is_request, const char *req_method);

#endif
