/* capwriter_raw: records that will not compress (a body already compressed, an image, random bytes) go
 * into their frame as raw blocks. zstd at level 1 spent ~28 us on a 64 KiB random body to emit raw
 * blocks in the end anyway (match search, a Huffman attempt, the checksum); writing the frame directly
 * is a copy and the checksum. The frame is a standard zstd frame (RFC 8878): magic, a header with
 * Frame_Content_Size and the content checksum flag, raw blocks of at most 128 KiB, the low 32 bits of
 * the XXH64 of the content. It carries no dictionary id (raw blocks use no dictionary), so plain
 * `zstd -d` decodes it, and so does capreader in a segment that has a dictionary. */
#include <stdint.h>
#include <string.h>

#include "capwriter_int.h"

#define CW_RAW_MIN ((size_t)16 << 10)    /* smaller records: the header's compression matters more */
#define CW_RAW_BLOCK ((size_t)128 << 10) /* Block_Maximum_Size with the 128 KiB window below */
#define CW_PROBE_SLICES 4
#define CW_PROBE_SLICE 1024

/* A record is taken as incompressible when bytes sampled from its body are spread as evenly as random
 * bytes: sum of squared byte counts (collision probability) below 1/200 of n^2, an order-2 entropy above
 * ~7.6 bits a byte. Text, JSON, HTML and base64 are far below (base64: 1/64). What the probe cannot see is
 * high-entropy bytes that repeat at a long distance; such a record is stored raw, whole and correct, at
 * its own size. The slices skip the first fifth, where the WARC and HTTP heads are. */
int cw_incompressible(const char *rec, size_t len)
{
    if (len < CW_RAW_MIN)
        return 0;
    unsigned cnt[256] = {0};
    for (size_t k = 1; k <= CW_PROBE_SLICES; k++) {
        const unsigned char *p = (const unsigned char *)rec + len * k / (CW_PROBE_SLICES + 1) - CW_PROBE_SLICE / 2;
        for (size_t i = 0; i < CW_PROBE_SLICE; i++)
            cnt[p[i]]++;
    }
    uint64_t sq = 0, n = CW_PROBE_SLICES * CW_PROBE_SLICE;
    for (int i = 0; i < 256; i++)
        sq += (uint64_t)cnt[i] * cnt[i];
    return sq * 200 < n * n;
}

/* XXH64 (seed 0), as the zstd frame checksum uses it, written from the xxHash specification. */
#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t le64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8); /* one load: the byte-by-byte form was not merged and made XXH64 cost as much as sha256 */
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
#endif
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t xround(uint64_t acc, uint64_t in)
{
    return rotl(acc + in * P2, 31) * P1;
}

static uint64_t xmerge(uint64_t h, uint64_t v)
{
    return (h ^ xround(0, v)) * P1 + P4;
}

uint64_t cw_xxh64(const void *data, size_t len)
{
    const unsigned char *p = data, *end = p + len;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1;
        for (; end - p >= 32; p += 32) {
            v1 = xround(v1, le64(p));
            v2 = xround(v2, le64(p + 8));
            v3 = xround(v3, le64(p + 16));
            v4 = xround(v4, le64(p + 24));
        }
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = xmerge(xmerge(xmerge(xmerge(h, v1), v2), v3), v4);
    } else {
        h = P5;
    }
    h += len;
    for (; end - p >= 8; p += 8)
        h = rotl(h ^ xround(0, le64(p)), 27) * P1 + P4;
    if (end - p >= 4) {
        h = rotl(h ^ (uint64_t)le32(p) * P1, 23) * P2 + P3;
        p += 4;
    }
    for (; p < end; p++)
        h = rotl(h ^ *p * P5, 11) * P1;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    return h ^ (h >> 32);
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

int cw_raw_frame(const char *rec, size_t len, tdbuf *out)
{
    size_t nblocks = len / CW_RAW_BLOCK + (len % CW_RAW_BLOCK != 0);
    int fcs = (uint64_t)len >> 32 ? 8 : 4;
    if (len == 0 || tdbuf_reserve(out, 6 + (size_t)fcs + 3 * nblocks + len + 4) != TDBUF_OK)
        return CAPWRITER_ENOMEM;
    unsigned char *p = (unsigned char *)out->data + out->len, *start = p;
    put_le(p, 0xFD2FB528u, 4);
    /* Frame_Header_Descriptor: content size in 4 (or 8) bytes, not single-segment, checksum, no dict id */
    p[4] = (unsigned char)((fcs == 8 ? 3u : 2u) << 6 | 1u << 2);
    p[5] = 7 << 3; /* Window_Descriptor: 2^(10 + 7) = 128 KiB, room for a full raw block */
    put_le(p + 6, len, fcs);
    p += 6 + fcs;
    for (size_t off = 0; off < len; off += CW_RAW_BLOCK) {
        size_t b = len - off < CW_RAW_BLOCK ? len - off : CW_RAW_BLOCK;
        put_le(p, (uint64_t)(b << 3) | (off + b == len), 3); /* Block_Type 0: raw */
        memcpy(p + 3, rec + off, b);
        p += 3 + b;
    }
    put_le(p, cw_xxh64(rec, len) & 0xffffffffu, 4);
    p += 4;
    out->len += (size_t)(p - start);
    return CAPWRITER_OK;
}
