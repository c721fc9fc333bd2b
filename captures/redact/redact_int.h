/* redact_int: what the redact_*.c files share (not for users of redact.h). */
#ifndef TAPEDECK_REDACT_INT_H
#define TAPEDECK_REDACT_INT_H

#include <stddef.h>
#include <stdint.h>

/* SHA256_CTX is deprecated in OpenSSL 3 but is a plain struct: the pads below are copied by assignment,
 * with no allocation or provider lookup per token (EVP contexts cost ~1.7 us a token, this ~0.3 us). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "jsonpath.h"
#include "jsontok.h"
#include "redact.h"
#include "tdbuf.h"

struct redact {
    unsigned char key[REDACT_MAX_KEY];
    size_t key_len;
    /* HMAC-SHA256 with the key's pads already hashed: a token costs two struct copies and two short
     * hashes, not a key setup (the one-shot HMAC() took ~5 us a token) */
    SHA256_CTX pad_in, pad_out;
    char *names[REDACT__KINDS][REDACT_MAX_RULES]; /* for JSON: the pattern text, in jsonpath_set order */
    size_t n[REDACT__KINDS];
    jsonpath_set *json;
    /* scratch, kept between calls (one thread at a time) */
    jsontok tok;
    tdbuf msg;  /* the message being rebuilt */
    tdbuf body; /* a body being rebuilt */
    tdbuf tmp;  /* unescaped strings, decoded names */
    tdbuf keys; /* a JSON body's copy whose key quotes become NULs (redact_json.c) */
    struct redact_walk *walk;
};

/* One message's bookkeeping while it is rewritten. */
typedef struct redact_acc {
    tdbuf list;      /* "kind:name, kind:name" */
    uint64_t values; /* values replaced */
} redact_acc;

extern const char *const redact_kind_names[REDACT__KINDS];

/* Notes that a rule replaced something: kind "body" when kind == REDACT__KINDS. 0 or -1 (no memory). */
int redact_acc_note(redact_acc *a, redact_kind kind, const char *name);

/* A token as a JSON number (always digits), for a JSON number or an integer-looking value. */
void redact_token_number(const redact *r, const char *value, size_t n, char *out, size_t outsz);

/* Index of the rule of this kind named name[0..n) (headers case-insensitive), or -1. */
long redact_rule_find(const redact *r, redact_kind kind, const char *name, size_t n);

/* Rewrites s[0..n), pairs separated by '&' (REDACT_QUERY, REDACT_FORM; percent-decoded names and values)
 * or ';' (REDACT_COOKIE; optional spaces, quoted values), appending the result to out. 1 something was
 * replaced, 0 nothing (out still gets the text), REDACT_ENOMEM. */
int redact_pairs(redact *r, redact_kind kind, const char *s, size_t n, tdbuf *out, redact_acc *a);

#define REDACT_ENOTJSON TD_EOWN /* redact_json_body: the body is not JSON */

/* Rewrites a JSON document into out (appended). 1 replaced, 0 nothing (out holds a copy), REDACT_ENOTJSON,
 * or REDACT_ENOMEM. */
int redact_json_body(redact *r, const char *s, size_t n, tdbuf *out, redact_acc *a);

#endif
