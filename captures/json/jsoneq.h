/* jsoneq: "are these two documents equal, as jsondiff would find them?" without naming paths or building
 * a token array for the second one: its text is parsed and matched against the first document's tokens
 * in one pass. Used by jsondiff before the full walk, since most documents a passing gate compares are
 * equal; any doubt (a difference, a duplicate key, a large object, deep nesting, text that is not JSON)
 * answers 0 and the full walk decides, so a 1 is only ever given where the walk would report nothing
 * and call no hook. */
#ifndef TAPEDECK_JSONEQ_H
#define TAPEDECK_JSONEQ_H

#include <stddef.h>
#include <stdint.h>

#include "jsontok.h"

/* The walk's scalar equality (e from the expected text, a from the actual one); 1 equal. */
typedef int (*jsoneq_scalar_fn)(void *ud, const jt_token *e, const jt_token *a);

typedef struct jsoneq_doc {
    const char *es;           /* expected text */
    const jt_token *et;       /* its tokens (jsontok_parse) */
    size_t n;                 /* how many */
    uint8_t *seen;            /* n bytes of scratch, all 0 (left dirty) */
    size_t max_depth;         /* containers at this path depth or deeper: 0 (the walk compares them raw) */
    size_t max_members;       /* objects with more members: 0 (the walk indexes them) */
    jsoneq_scalar_fn scalar_eq;
    void *ud;
} jsoneq_doc;

/* 1 when actual a[0..al) is one JSON value equal to the expected document; 0 when not, or not sure. */
int jsoneq_document(const jsoneq_doc *d, const char *a, size_t al);

#endif
