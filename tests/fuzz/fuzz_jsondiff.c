/* Fuzz target: check's parsers of untrusted response bodies. The input is split at its first NUL byte
 * into two documents (expected, actual) that go through the JSON tokenizer and structural diff (with
 * --ignore patterns and the correlation hook), and the first one also through every content decoder.
 * Invariants: no crash or leak; a document compared with itself has no differences; the one-pass check
 * for equal documents never answers otherwise than the walk alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "decode.h"
#include "jsondiff.h"
#include "jsonpath.h"

static int emit(void *ud, const char *path, const char *e, const char *a)
{
    size_t *n = ud;
    (*n)++;
    return !path || (!e && !a); /* never both missing */
}

static int equiv(void *ud, const char *key, int is_int, const char *e, const char *a)
{
    return correlate_equiv(ud, key, is_int, e, a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nul = memchr(s, '\0', size);
    size_t el = nul ? (size_t)(nul - s) : size;
    const char *a = nul ? nul + 1 : s;
    size_t al = nul ? size - el - 1 : size;

    static jsondiff_ctx *ctx;
    static jsonpath_set *ign;
    if (!ctx) {
        char err[128];
        ctx = jsondiff_ctx_new();
        ign = jsonpath_set_new();
        jsonpath_set_add(ign, "$..requestId", err, sizeof err);
        jsonpath_set_add(ign, "$.items[*].ts", err, sizeof err);
    }
    correlate *c = correlate_new();
    correlate_scan_request(c, 1, "/x/1?y=2", NULL, 0, a, al);
    correlate_scan_done(c);
    correlate_ref ref = {c, 0, 1};
    jsondiff_opts o = {.ignore = ign, .equiv = equiv, .equiv_ud = &ref};
    size_t n = 0, n_walk = 0;
    jsondiff(ctx, s, el, a, al, &o, emit, &n);
    /* the one-pass check against the walk alone, without the hook (correlation learns as it goes) */
    jsondiff_opts plain = {.ignore = ign};
    n = 0;
    long rc = jsondiff(ctx, s, el, a, al, &plain, emit, &n);
    plain.walk_only = 1;
    if (jsondiff(ctx, s, el, a, al, &plain, emit, &n_walk) != rc || n_walk != n)
        abort(); /* the one-pass check for equal documents said otherwise than the walk */
    n = 0;
    if (jsondiff(ctx, s, el, s, el, NULL, emit, &n) >= 0 && n != 0)
        abort(); /* a document differs from itself */
    char *body = NULL;
    size_t blen;
    if (correlate_rewrite_body(c, a, al, &body, &blen) == 1 && !body)
        abort();
    free(body);
    correlate_free(c);

    static const char *const codings[] = {"gzip", "deflate", "br", "gzip, br", "identity"};
    char err[128];
    for (size_t i = 0; i < sizeof codings / sizeof codings[0]; i++) {
        char *out = NULL;
        size_t outlen = 0;
        content_decode(codings[i], s, el, 1 << 20, &out, &outlen, err, sizeof err);
        free(out);
    }
    return 0;
}
