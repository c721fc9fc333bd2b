/* cli_body: see cli_body.h. */
#include "cli_body.h"

#include <brotli/decode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

static int grow(char **buf, size_t *cap, size_t need, size_t max_out)
{
    if (need <= *cap)
        return 0;
    if (need > max_out + 1)
        return -1;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    if (n > max_out + 1)
        n = max_out + 1;
    char *nb = realloc(*buf, n);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = n;
    return 0;
}

/* windowBits: 15 + 32 reads gzip or zlib, -15 raw deflate. */
static int inflate_all(const char *in, size_t n, int window_bits, size_t max_out, char **out, size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, window_bits) != Z_OK)
        return -1;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    int rc = -1, zr = Z_OK;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    while (zr != Z_STREAM_END) {
        if (grow(&buf, &cap, len + 4096, max_out) != 0)
            goto out;
        z.next_out = (Bytef *)buf + len;
        z.avail_out = (uInt)(cap - len - 1);
        zr = inflate(&z, Z_NO_FLUSH);
        len = cap - 1 - z.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END)
            goto out;
        if (zr == Z_OK && z.avail_in == 0 && z.avail_out > 0)
            goto out; /* cut short */
    }
    buf[len] = '\0';
    *out = buf;
    *outn = len;
    buf = NULL;
    rc = 1;
out:
    inflateEnd(&z);
    free(buf);
    return rc;
}

static int unbrotli(const char *in, size_t n, size_t max_out, char **out, size_t *outn)
{
    BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!st)
        return -1;
    char *buf = NULL;
    size_t cap = 0, len = 0, avail_in = n;
    const uint8_t *next_in = (const uint8_t *)in;
    int rc = -1;
    for (;;) {
        if (grow(&buf, &cap, len + 4096, max_out) != 0)
            goto out;
        size_t avail_out = cap - len - 1;
        uint8_t *next_out = (uint8_t *)buf + len;
        BrotliDecoderResult r = BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out, NULL);
        len = cap - 1 - avail_out;
        if (r == BROTLI_DECODER_RESULT_SUCCESS)
            break;
        if (r != BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
            goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *outn = len;
    buf = NULL;
    rc = 1;
out:
    BrotliDecoderDestroyInstance(st);
    free(buf);
    return rc;
}

static int decode_one(const char *name, size_t nlen, const char *in, size_t n, size_t max_out, char **out,
                      size_t *outn)
{
#define IS(s) (nlen == strlen(s) && !strncasecmp(name, s, nlen))
    if (IS("gzip") || IS("x-gzip"))
        return inflate_all(in, n, 15 + 32, max_out, out, outn);
    if (IS("deflate")) {
        int r = inflate_all(in, n, 15, max_out, out, outn);
        return r == 1 ? r : inflate_all(in, n, -15, max_out, out, outn); /* some servers send it raw */
    }
    if (IS("br"))
        return unbrotli(in, n, max_out, out, outn);
    if (IS("identity"))
        return 0;
#undef IS
    return -1;
}

int cli_body_decode(const char *enc, const char *in, size_t n, size_t max_out, char **out, size_t *outn)
{
    if (!enc)
        return 0;
    char *cur = NULL;
    size_t curn = 0;
    const char *end = enc + strlen(enc);
    int any = 0;
    /* codings were applied left to right: undo from the right */
    while (end > enc) {
        const char *s = end;
        while (s > enc && s[-1] != ',')
            s--;
        const char *a = s, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        end = s > enc ? s - 1 : enc;
        if (a == b)
            continue;
        char *next = NULL;
        size_t nextn = 0;
        int r = decode_one(a, (size_t)(b - a), cur ? cur : in, cur ? curn : n, max_out, &next, &nextn);
        if (r < 0) {
            free(cur);
            return -1;
        }
        if (r == 1) {
            free(cur);
            cur = next;
            curn = nextn;
            any = 1;
        }
    }
    if (!any)
        return 0;
    *out = cur;
    *outn = curn;
    return 1;
}

bool cli_body_is_text(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
                return false;
            if (c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (!need || c > 0xf4 || n - i < need)
            return false;
        for (size_t k = 1; k < need; k++)
            if ((u[i + k] & 0xc0) != 0x80)
                return false;
        i += need;
    }
    return true;
}

void cli_body_print(FILE *f, const char *s, size_t n)
{
    if (n == 0) {
        fputs("(empty body)\n", f);
        return;
    }
    if (cli_body_is_text(s, n)) {
        fwrite(s, 1, n, f);
        if (s[n - 1] != '\n')
            fputc('\n', f);
        return;
    }
    fprintf(f, "(binary body, %zu bytes; first bytes:", n);
    for (size_t i = 0; i < n && i < 32; i++)
        fprintf(f, " %02x", (unsigned char)s[i]);
    fputs(n > 32 ? " ...)\n" : ")\n", f);
}
