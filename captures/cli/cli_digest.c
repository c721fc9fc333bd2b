/* cli_digest: WARC digest fields checked against the bytes they name, for verify. Writers differ in the
 * encoding (base32 is the WARC custom; base16 and base64 are common) and in what they digest (the
 * de-chunked payload, or the body as sent): every form a sound file carries is accepted. */
#include "cli_digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpmsg.h"

static void base32(const unsigned char *md, size_t n, char *out)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | md[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

static void base16(const unsigned char *md, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
    out[2 * n] = '\0';
}

static void base64(const unsigned char *md, size_t n, char *out)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)md[i] << 16 | (i + 1 < n ? (unsigned)md[i + 1] << 8 : 0) | (i + 2 < n ? md[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = b64[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
}

/* A digest value ("sha1:..." or "sha256:...") against bytes: writers use base32 (the WARC custom),
 * base16 or base64, with or without padding. 1 = matches, 0 = does not, -1 = an unknown algorithm. */
int cli_digest_value_matches(const char *want, const void *data, size_t len)
{
    const char *algo = strncasecmp(want, "sha256:", 7) == 0 ? "SHA256" : strncasecmp(want, "sha1:", 5) == 0 ? "SHA1"
                                                                                                          : NULL;
    if (!algo)
        return -1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_get_digestbyname(algo), NULL))
        return -1;
    const char *w = strchr(want, ':') + 1;
    size_t wl = strlen(w);
    while (wl && w[wl - 1] == '=')
        wl--; /* padding is optional */
    char got[160];
    base32(md, mdlen, got);
    if (strlen(got) == wl && !strncasecmp(w, got, wl))
        return 1;
    base16(md, mdlen, got);
    if (strlen(got) == wl && !strncasecmp(w, got, wl))
        return 1;
    base64(md, mdlen, got);
    return strlen(got) == wl && !strncmp(w, got, wl);
}

/* 1 = matches, 0 = does not, -1 = cannot tell (an algorithm we do not know, a message that does not parse
 * or is cut short). */
int cli_digest_matches(const warc_record *rec, bool is_request, const char *req_method)
{
    const char *want = warc_record_get(rec, "WARC-Payload-Digest");
    if (!want)
        return -1;
    httpmsg m;
    char err[128];
    if (httpmsg_parse(&m, is_request ? HTTPMSG_REQUEST : HTTPMSG_RESPONSE, rec->block ? rec->block : "",
                      rec->block_len, req_method, err, sizeof err) != 0)
        return -1;
    int rc = m.complete ? cli_digest_value_matches(want, m.body, m.body_len) : -1;
    /* Many writers (warcio, wpull, wget, Heritrix before 2026) digest the body as sent, chunk framing
     * included, where WARC says the payload is the de-chunked entity body: either is accepted. */
    if (rc == 0 && m.head.chunked && m.head.head_len <= rec->block_len)
        rc = cli_digest_value_matches(want, rec->block + m.head.head_len, rec->block_len - m.head.head_len);
    httpmsg_clear(&m);
    return rc;
}

