/* jsontok: a strict JSON tokenizer into one flat, reusable array of tokens — no allocation per value —
 * so `check` can compare two documents without building trees. Each token spans its raw text; a
 * container's token says how many children it has and where its subtree ends. Object members are a
 * key token (a string) followed by the value's subtree. */
#ifndef TAPEDECK_JSONTOK_H
#define TAPEDECK_JSONTOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum { JT_NULL, JT_FALSE, JT_TRUE, JT_NUMBER, JT_STRING, JT_ARRAY, JT_OBJECT } jt_type;

typedef struct jt_token {
    uint32_t start, len; /* raw text: strings include their quotes, containers their brackets */
    uint32_t next;       /* index of the first token after this one's subtree */
    uint32_t n;          /* containers: elements (array) or members (object) */
    uint8_t type;        /* jt_type */
    uint8_t escaped;     /* strings: contains a backslash escape */
} jt_token;

typedef struct jsontok {
    jt_token *t;
    size_t n, cap;
    size_t max_tokens; /* 0 = 4 M tokens */
} jsontok;

#define JSONTOK_MAX_DEPTH 256

/* Tokenize s[0..len) (one JSON value, surrounding whitespace allowed). The token array is reused
 * across calls. 0, or -1 when the text is not JSON (or too deep, or over max_tokens, or no memory). */
int jsontok_parse(jsontok *jt, const char *s, size_t len);
void jsontok_free(jsontok *jt); /* frees the array; the struct can be reused */


/* Writes the string token's unescaped content into out (NUL-terminated, cut to outsz-1). Returns the
 * full unescaped length. */
size_t jsontok_string(const char *s, const jt_token *t, char *out, size_t outsz);

#endif
