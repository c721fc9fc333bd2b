/* redact: privacy at capture. Replaces secret values in recorded exchanges by a keyed hash (HMAC-SHA256),
 * so a capture never holds them while equal values still give equal tokens - in requests and responses,
 * across exchanges - and the replayer's correlation of handed-out ids keeps working on the tokens.
 *
 * What can be named: header values (--redact-header), JSON body values by JSONPath (--redact-json, the
 * --ignore subset), query parameters in the request target and WARC-Target-URI (--redact-query), cookies
 * in Cookie and Set-Cookie (--redact-cookie), fields of application/x-www-form-urlencoded request bodies
 * (--redact-form). A body that must be inspected is de-chunked and content-decoded first (gzip, deflate,
 * br); when something in it is replaced it is stored decoded, with Content-Length set and
 * Transfer-Encoding / Content-Encoding dropped, so the stored message is still a valid HTTP message. A body
 * that should be inspected but cannot be (malformed JSON, corrupt coding, over 64 MiB decoded, an
 * unparseable chunked framing) is replaced whole and counted, never kept.
 *
 * Tokens depend on the value's text only (see redact_token): an integer-looking value ("17", 17) becomes
 * a 15-digit number, anything else "hmac-sha256:" + 32 hex digits. JSON keeps its types where it can: a
 * string stays a string, a number a number; a matched object or array becomes a string token of its
 * text; true, false and null are kept (they carry no secret worth a type change).
 *
 * Used by the proxy's writer thread and by `tapedeck-capture redact`. A redact object is built once
 * (redact_new, redact_add..., redact_key_file) and then used by one thread at a time: it keeps scratch
 * buffers between calls. */
#ifndef TAPEDECK_REDACT_H
#define TAPEDECK_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "exchange.h"
#include "td_status.h"

typedef enum {
    REDACT_HEADER = 0, /* a header name, case-insensitive */
    REDACT_JSON,       /* a JSONPath ($.a.b, $.a[*].b, $.a[0], $..b) */
    REDACT_QUERY,      /* a query parameter name, exact after percent-decoding */
    REDACT_COOKIE,     /* a cookie name, exact */
    REDACT_FORM,       /* a form field name, exact after percent-decoding */
    REDACT__KINDS
} redact_kind;

typedef enum {
    REDACT_OK = TD_OK,
    REDACT_EBAD = TD_EINVAL, /* a bad rule or key file (message in err) */
    REDACT_ENOMEM = TD_ENOMEM,
} redact_status;

#define REDACT_MAX_RULES 64 /* per kind */
#define REDACT_MAX_KEY 256  /* key file bytes used */
#define REDACT_TOKEN_MAX 48 /* a token and its NUL fit */

/* Counters, added to by redact_exchange. */
typedef struct redact_counts {
    uint64_t exchanges;       /* exchanges in which something was replaced */
    uint64_t bodies_replaced; /* bodies replaced whole because they could not be inspected */
} redact_counts;

typedef struct redact redact;

/* A random key (32 bytes from the system's generator) and no rules. NULL on failure. */
redact *redact_new(void);
void redact_free(redact *r); /* NULL is a no-op; the key is wiped */

/* Adds one rule. REDACT_OK, or REDACT_EBAD / REDACT_ENOMEM with the reason in err (which names the flag). */
int redact_add(redact *r, redact_kind kind, const char *arg, char *err, size_t errlen);
/* The same by the flag's long name without dashes ("redact-json", ...). 1 = not a redaction flag. */
int redact_add_flag(redact *r, const char *flag, const char *arg, char *err, size_t errlen);
/* Replaces the random key by the bytes of path (at most REDACT_MAX_KEY used; an empty file is an error):
 * the same key gives the same tokens in every run and tool. */
int redact_key_file(redact *r, const char *path, char *err, size_t errlen);
/* Rules of all kinds. */
size_t redact_rule_count(const redact *r);

/* Redacts x in place: request (head, target, body), response (head, body) and target_uri, and merges
 * what was replaced into x->redacted_request / x->redacted_response. 1 something changed, 0 nothing,
 * REDACT_ENOMEM (x may then be partly redacted: the caller must drop it, never store it). */
int redact_exchange(redact *r, exchange *x, redact_counts *counts);

/* One raw HTTP message (head and body) rewritten. is_request selects the query and Cookie rules (else
 * Set-Cookie), and form bodies. On 1 *out / *outlen get a new malloc'ed message and *list (may be NULL)
 * what was replaced, comma separated (malloc'ed; free it); on 0 nothing changed and nothing is set.
 * *body_replaced (may be NULL) is set to 1 when the body was replaced whole. REDACT_ENOMEM on failure. */
int redact_message(redact *r, int is_request, const char *msg, size_t len, char **out, size_t *outlen,
                   char **list, int *body_replaced);

/* The token for one value's text (n bytes) into out (>= REDACT_TOKEN_MAX): a 15-digit decimal number for
 * an optional '-' and 1..19 digits, else "hmac-sha256:" and 32 hex digits. Thread-safe. */
void redact_token(const redact *r, const char *value, size_t n, char *out, size_t outsz);

#endif
