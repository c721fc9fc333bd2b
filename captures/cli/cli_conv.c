/* cli_conv: see cli_conv.h. */
#include "cli_conv.h"

#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *cli_b64_encode(const void *in, size_t n)
{
    if (n > (size_t)1 << 30)
        return NULL;
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    out[EVP_EncodeBlock((unsigned char *)out, in, (int)n)] = '\0';
    return out;
}

int cli_b64_decode(const char *in, size_t n, char **out, size_t *outn)
{
    if (n % 4 || n > (size_t)1 << 30)
        return -1;
    char *buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        return -1;
    int r = EVP_DecodeBlock((unsigned char *)buf, (const unsigned char *)in, (int)n);
    if (r < 0) {
        free(buf);
        return -1;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    size_t len = (size_t)r;
    if (n && in[n - 1] == '=')
        len--;
    if (n > 1 && in[n - 2] == '=')
        len--;
    buf[len] = '\0';
    *out = buf;
    *outn = len;
    return 0;
}

const char *cli_url_target(const char *url)
{
    const char *s = strstr(url, "://");
    if (!s || strchr(url, '/') < s)
        return *url ? url : "/";
    s = s + 3 + strcspn(s + 3, "/?#");
    return *s == '/' ? s : "/";
}

int cli_url_authority(const char *url, char *buf, size_t bufsz)
{
    const char *s = strstr(url, "://");
    if (!s || strchr(url, '/') < s)
        return -1;
    s += 3;
    size_t n = strcspn(s, "/?#");
    if (!n || n >= bufsz)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

static bool dropped(const char *name, const char *const *drop)
{
    if (name[0] == ':')
        return true;
    for (; drop && *drop; drop++)
        if (!strcasecmp(name, *drop))
            return true;
    return false;
}

int cli_http_build(tdbuf *out, const char *start, const cli_hdr *h, size_t nh, const char *const *drop,
                   const char *body, size_t body_len, bool want_length, bool keep_length)
{
    bool have_length = false;
    if (tdbuf_printf(out, "%s\r\n", start))
        return -1;
    for (size_t i = 0; i < nh; i++) {
        if (dropped(h[i].name, drop))
            continue;
        bool framing = !strcasecmp(h[i].name, "content-length") || !strcasecmp(h[i].name, "transfer-encoding");
        if (framing && !keep_length) {
            if (!have_length && tdbuf_printf(out, "Content-Length: %zu\r\n", body_len))
                return -1;
            have_length = true;
            continue;
        }
        if (tdbuf_printf(out, "%s: %s\r\n", h[i].name, h[i].value))
            return -1;
    }
    if (!have_length && !keep_length && (want_length || body_len) &&
        tdbuf_printf(out, "Content-Length: %zu\r\n", body_len))
        return -1;
    if (tdbuf_puts(out, "\r\n") || (body_len && tdbuf_append(out, body, body_len)))
        return -1;
    return 0;
}

bool cli_http_bodyless(const char *method, int status)
{
    return (method && !strcasecmp(method, "HEAD")) || status / 100 == 1 || status == 204 || status == 304;
}

const char *cli_http_reason(int status)
{
    static const struct {
        int code;
        const char *text;
    } t[] = {{100, "Continue"}, {101, "Switching Protocols"}, {200, "OK"}, {201, "Created"}, {202, "Accepted"},
             {204, "No Content"}, {206, "Partial Content"}, {301, "Moved Permanently"}, {302, "Found"},
             {303, "See Other"}, {304, "Not Modified"}, {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
             {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
             {405, "Method Not Allowed"}, {409, "Conflict"}, {410, "Gone"}, {413, "Content Too Large"},
             {415, "Unsupported Media Type"}, {422, "Unprocessable Content"}, {429, "Too Many Requests"},
             {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
             {503, "Service Unavailable"}, {504, "Gateway Timeout"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].code == status)
            return t[i].text;
    return "";
}

int cli_gunzip(char **data, size_t *n, size_t max, char *err, size_t errlen)
{
    const unsigned char *in = (const unsigned char *)*data;
    if (*n < 2 || in[0] != 0x1f || in[1] != 0x8b)
        return 0;
    z_stream zs = {0};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t cap = *n * 4 + 65536, len = 0, pos = 0;
    char *out = NULL;
    int rc = -1;
    while (pos < *n) {
        if (cap - len < 65536 + 1 || !out) {
            size_t ncap = out ? cap * 2 : cap;
            char *nb = ncap <= max + 65536 + 1 ? realloc(out, ncap) : NULL;
            if (!nb) {
                snprintf(err, errlen, ncap > max + 65536 + 1 ? "larger than %zu MiB once decompressed" : "out of memory",
                         max >> 20);
                goto done;
            }
            out = nb;
            cap = ncap;
        }
        zs.next_in = (Bytef *)in + pos;
        zs.avail_in = (uInt)(*n - pos < UINT32_MAX ? *n - pos : UINT32_MAX);
        zs.next_out = (Bytef *)out + len;
        zs.avail_out = (uInt)(cap - len - 1);
        uInt ai = zs.avail_in, ao = zs.avail_out;
        int zr = inflate(&zs, Z_NO_FLUSH);
        pos += ai - zs.avail_in;
        len += ao - zs.avail_out;
        if (len > max) {
            snprintf(err, errlen, "larger than %zu MiB once decompressed", max >> 20);
            goto done;
        }
        if (zr == Z_STREAM_END) { /* one member after another (gzip files may be concatenated) */
            inflateReset(&zs);
            if (pos < *n && (*n - pos < 2 || in[pos] != 0x1f || in[pos + 1] != 0x8b)) {
                snprintf(err, errlen, "offset %zu: data after the gzip stream that is not gzip", pos);
                goto done;
            }
            continue;
        }
        if (zr == Z_BUF_ERROR && zs.avail_in == 0) {
            snprintf(err, errlen, "the gzip stream is cut off");
            goto done;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            snprintf(err, errlen, "offset %zu: not valid gzip: %s", pos, zs.msg ? zs.msg : "bad data");
            goto done;
        }
    }
    out[len] = '\0';
    free(*data);
    *data = out;
    *n = len;
    out = NULL;
    rc = 1;
done:
    inflateEnd(&zs);
    free(out);
    return rc;
}
