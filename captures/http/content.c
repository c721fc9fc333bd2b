/* content: see content.h. zlib and libbrotlidec do the work; this file frames them with a capped buffer.
 * A lone gzip member goes to libdeflate first (whole buffer: less than half of zlib's instructions with
 * its CRC on a check run); anything it does not take goes to zlib. The one known difference: libdeflate
 * lets a code-length repeat run past the end of a block's code lengths, which zlib calls "invalid bit
 * length repeat" - no encoder writes that, and the CRC-32 and size of the trailer still hold, so the body
 * is the one that was compressed (2 of 1.4 million random corruptions of real gzip bodies, tried). */
#include "content.h"

#include <brotli/decode.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* Output grows in steps of STEP, never past max + 1 (room for the NUL). */
#define STEP 16384

typedef struct obuf {
    char *p;
    size_t len, cap, max;
} obuf;

/* Room for at least one more byte (and the NUL), as much as STEP when the cap allows. */
static int obuf_room(obuf *o)
{
    size_t want = o->len + STEP + 1;
    if (want > o->max + 1)
        want = o->max + 1;
    if (want <= o->len + 1)
        return CONTENT_ETOOBIG; /* already max bytes out and the stream goes on */
    if (want <= o->cap)
        return 0;
    size_t ncap = o->cap ? o->cap : 4096;
    while (ncap < want)
        ncap *= 2;
    if (ncap > o->max + 1)
        ncap = o->max + 1;
    char *np = realloc(o->p, ncap);
    if (!np)
        return CONTENT_ENOMEM;
    o->p = np;
    o->cap = ncap;
    return 0;
}

/* windowBits: 15+32 = gzip or zlib header auto-detected; -15 = raw deflate. */
static int inflate_all(const char *in, size_t n, int window_bits, obuf *o)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, window_bits) != Z_OK)
        return CONTENT_ENOMEM;
    int rc = CONTENT_ECODING;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    for (;;) {
        int g = obuf_room(o);
        if (g) {
            rc = g;
            break;
        }
        zs.next_out = (Bytef *)o->p + o->len;
        zs.avail_out = (uInt)(o->cap - o->len - 1);
        int zr = inflate(&zs, Z_NO_FLUSH);
        o->len = o->cap - 1 - zs.avail_out;
        if (zr == Z_STREAM_END) {
            /* gzip allows members back to back; other trailing bytes are ignored, as gzip(1) does */
            if (window_bits > 0 && zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
                if (inflateReset(&zs) != Z_OK)
                    break;
                continue;
            }
            rc = CONTENT_OK;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            break;
        if (zs.avail_in == 0 && zs.avail_out > 0)
            break; /* input ended before the stream did */
    }
    inflateEnd(&zs);
    return rc;
}

/* DEFLATE expands at most ~1032:1; an ISIZE beyond that is a lie and is left to zlib's growing buffer. */
#define DEFLATE_MAX_RATIO 1032u

/* A decompressor per thread, kept: allocating one (it zeroes ~10 KB of tables) cost a quarter of what
 * libdeflate spent per body. Freed when its thread ends. */
static pthread_once_t dd_once = PTHREAD_ONCE_INIT;
static pthread_key_t dd_key;
static int dd_key_ok;

static void dd_free(void *d)
{
    libdeflate_free_decompressor(d);
}

static void dd_init(void)
{
    dd_key_ok = pthread_key_create(&dd_key, dd_free) == 0;
}

static struct libdeflate_decompressor *dd_get(void)
{
    pthread_once(&dd_once, dd_init);
    if (!dd_key_ok)
        return NULL;
    struct libdeflate_decompressor *d = pthread_getspecific(dd_key);
    if (!d && (d = libdeflate_alloc_decompressor()) && pthread_setspecific(dd_key, d) != 0) {
        libdeflate_free_decompressor(d);
        d = NULL;
    }
    return d;
}

/* One gzip member filling all of in, decoded in one call into a buffer of its trailer's ISIZE. 1 when
 * done (o filled), 0 when zlib must do it: not gzip, a header CRC, several members or trailing bytes,
 * ISIZE over max or not believable, corrupt (zlib then says so), out of memory. libdeflate checks the
 * CRC-32 and ISIZE of the trailer as zlib does. */
static int gzip_whole(const char *in, size_t n, obuf *o)
{
    const unsigned char *u = (const unsigned char *)in;
    /* FHCRC: zlib checks the header's CRC, libdeflate skips it */
    if (n < 18 || u[0] != 0x1f || u[1] != 0x8b || (u[3] & 0x02))
        return 0;
    size_t isize = (size_t)u[n - 4] | (size_t)u[n - 3] << 8 | (size_t)u[n - 2] << 16 | (size_t)u[n - 1] << 24;
    if (isize > o->max || isize / DEFLATE_MAX_RATIO > n)
        return 0;
    struct libdeflate_decompressor *d = dd_get();
    char *p = d ? malloc(isize + 1) : NULL;
    size_t used = 0, got = 0;
    int ok = p && libdeflate_gzip_decompress_ex(d, in, n, p, isize, &used, &got) == LIBDEFLATE_SUCCESS &&
             used == n && got == isize;
    if (!ok) {
        free(p);
        return 0;
    }
    o->p = p;
    o->len = got;
    o->cap = isize + 1;
    return 1;
}

static int brotli_all(const char *in, size_t n, obuf *o)
{
    BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!st)
        return CONTENT_ENOMEM;
    const uint8_t *next_in = (const uint8_t *)in;
    size_t avail_in = n;
    int rc = CONTENT_ECODING;
    for (;;) {
        int g = obuf_room(o);
        if (g) {
            rc = g;
            break;
        }
        size_t avail_out = o->cap - o->len - 1;
        uint8_t *next_out = (uint8_t *)o->p + o->len;
        BrotliDecoderResult br =
            BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out, NULL);
        o->len = (size_t)((char *)next_out - o->p);
        if (br == BROTLI_DECODER_RESULT_SUCCESS) {
            rc = CONTENT_OK;
            break;
        }
        if (br != BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
            break; /* corrupt, or needs input that will never come */
    }
    BrotliDecoderDestroyInstance(st);
    return rc;
}

static int name_is(const char *name, size_t len, const char *s)
{
    return len == strlen(s) && !strncasecmp(name, s, len);
}

static int decode_one(const char *name, size_t len, const char *in, size_t n, obuf *o)
{
    if (name_is(name, len, "gzip") || name_is(name, len, "x-gzip"))
        return gzip_whole(in, n, o) ? CONTENT_OK : inflate_all(in, n, 15 + 32, o);
    if (name_is(name, len, "deflate")) {
        /* "deflate" is zlib-wrapped per the RFC, but servers send raw deflate too: try both. */
        int rc = inflate_all(in, n, 15 + 32, o);
        if (rc == CONTENT_ECODING) {
            o->len = 0;
            rc = inflate_all(in, n, -15, o);
        }
        return rc;
    }
    if (name_is(name, len, "br"))
        return brotli_all(in, n, o);
    return CONTENT_ECODING;
}

/* The list element that ends at *end (exclusive), blanks trimmed; moves *end before its comma.
 * Returns its length (0 for an empty element). */
static size_t prev_coding(const char *list, const char **end, const char **name)
{
    const char *s = *end;
    while (s > list && s[-1] != ',')
        s--;
    const char *a = s, *b = *end;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    *end = s > list ? s - 1 : list;
    *name = a;
    return (size_t)(b - a);
}

int content_decode(const char *codings, const char *in, size_t n, size_t max, char **out, size_t *outlen,
                   char *err, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    if (!codings)
        return CONTENT_OK;
    const char *list_end = codings + strlen(codings), *end = list_end, *name;
    int layers = 0;
    while (end > codings) {
        size_t k = prev_coding(codings, &end, &name);
        if (k && !name_is(name, k, "identity"))
            layers++;
    }
    if (layers > CONTENT_MAX_CODINGS) {
        if (err)
            snprintf(err, errlen, "content coding list '%s' is too long", codings);
        return CONTENT_ECODING;
    }
    /* codings were applied left to right: undo from the right */
    char *cur = NULL;
    size_t cur_len = 0;
    end = list_end;
    while (end > codings) {
        size_t k = prev_coding(codings, &end, &name);
        if (!k || name_is(name, k, "identity"))
            continue;
        obuf o = {.max = max};
        int rc = decode_one(name, k, cur ? cur : in, cur ? cur_len : n, &o);
        free(cur);
        cur = NULL;
        if (rc != CONTENT_OK) {
            free(o.p);
            if (err && rc == CONTENT_ETOOBIG)
                snprintf(err, errlen, "decoded body larger than %zu bytes", max);
            else if (err && rc == CONTENT_ENOMEM)
                snprintf(err, errlen, "out of memory");
            else if (err)
                snprintf(err, errlen, "cannot decode content coding '%.*s'", (int)k, name);
            return rc;
        }
        o.p[o.len] = '\0';
        cur = o.p;
        cur_len = o.len;
    }
    *out = cur;
    *outlen = cur_len;
    return CONTENT_OK;
}
