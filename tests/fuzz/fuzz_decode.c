/* Fuzz target for decode (captures/http/decode.c) and the content codings under it (captures/http/content.c): the
 * responses check compares come from the recording and from the destination, both untrusted.
 *
 * Input: one flags byte, then a raw HTTP response. The response goes through decode_response as an
 * HTTP/1 message (GET or HEAD) and, when it has a blank line, as an HTTP/2-style head plus raw body;
 * a decoded body is parsed as JSON too. Its body (after the first blank line, or all of it) is also
 * decoded directly under a coding list picked by the flags, with a small cap and a larger one.
 * Invariants beyond no crash, leak or UB:
 *   - a decoded body is never over its cap and is NUL-terminated; a failed decode leaves nothing;
 *   - the cap only cuts: what decodes under the small cap decodes the same under the larger one, and
 *     what decodes under the larger one to no more than the small cap decodes under the small one too
 *     (so a decompression bomb fails with CONTENT_ETOOBIG and never grows past the cap). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

#define SMALL_CAP 1024
#define LARGE_CAP (256 * 1024)

static const char *const codings[] = {"gzip",         "deflate",  "br",       "x-gzip", "gzip, br", "br, gzip",
                                      "identity, gzip", "gzip, gzip", "deflate, deflate", "GZIP", " gzip ,", "compress"};

static void check_decoded(const decode_msg *m)
{
    if (m->body_len > DECODE_MAX_BODY || !m->body || m->body[m->body_len] != '\0')
        abort();
    if (strlen(m->media_type) >= sizeof m->media_type)
        abort();
}

static void one_response(const char *raw, size_t len, size_t head_only_len, const char *method)
{
    decode_msg m;
    char err[160];
    int rc = decode_response(&m, raw, len, head_only_len, method, err, sizeof err);
    if (rc == DECODE_OK) {
        check_decoded(&m);
    } else if (m.body || m.owned || !err[0]) {
        abort(); /* a failed decode leaves a zeroed message and says why */
    }
    decode_msg_clear(&m);
    decode_msg_clear(&m); /* safe twice */
}

static void one_coding(const char *coding, const char *in, size_t n)
{
    char *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    char err[160] = "";
    int ra = content_decode(coding, in, n, SMALL_CAP, &a, &al, err, sizeof err);
    int rb = content_decode(coding, in, n, LARGE_CAP, &b, &bl, err, sizeof err);
    if ((ra && a) || (rb && b))
        abort(); /* an error leaves no output */
    if ((a && (al > SMALL_CAP || a[al])) || (b && (bl > LARGE_CAP || b[bl])))
        abort();
    if (ra == CONTENT_OK && (rb != CONTENT_OK || al != bl || (a && memcmp(a, b, al))))
        abort(); /* the larger cap must not change a result the small one allowed */
    /* One coding: a body within the small cap must not fail under it. (Not for lists, where a middle
     * layer may be over the cap, nor deflate, whose raw retry may follow a zlib attempt cut short.) */
    if (rb == CONTENT_OK && bl <= SMALL_CAP && ra != CONTENT_OK && !strchr(coding, ',') && strcmp(coding, "deflate"))
        abort();
    if (rb == CONTENT_ETOOBIG && ra != CONTENT_ETOOBIG)
        abort(); /* over the larger cap is over the small one */
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    const char *raw = (const char *)data + 1;
    size_t len = size - 1;
    const char *method = (flags & 1) ? "HEAD" : (flags & 2) ? NULL : "GET";

    one_response(raw, len, 0, method);
    const char *blank = memmem(raw, len, "\r\n\r\n", 4);
    size_t head_len = blank ? (size_t)(blank - raw) + 4 : 0;
    if (head_len)
        one_response(raw, len, head_len, NULL);

    const char *body = head_len ? raw + head_len : raw;
    size_t body_len = len - head_len;
    one_coding(codings[(flags >> 2) % (sizeof codings / sizeof *codings)], body, body_len);
    return 0;
}
