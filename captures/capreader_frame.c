/* capreader_frame: one zstd frame at a time, the dictionary frame, and plain (uncompressed) files. */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "capreader_int.h"
#include "warc.h"

#define CR_ZSTD_MAGIC 0xFD2FB528u
#define CR_ZDICT_MAGIC 0xEC30A437u
#define CR_MAX_DICT ((size_t)16 << 20)

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int is_skippable(uint32_t m)
{
    return (m & 0xFFFFFFF0u) == 0x184D2A50u;
}

/* Does a chain of frames start at q and run to the end of the buffer (the last one may be cut)? */
static int frame_chain_to_end(const unsigned char *q, const unsigned char *end)
{
    while (q < end) {
        if ((size_t)(end - q) < 8)
            return 0;
        uint32_t m = le32(q);
        size_t n;
        if (is_skippable(m)) {
            n = 8 + (size_t)le32(q + 4);
        } else if (m == CR_ZSTD_MAGIC) {
            n = ZSTD_findFrameCompressedSize(q, (size_t)(end - q));
            if (ZSTD_isError(n))
                return ZSTD_getErrorCode(n) == ZSTD_error_srcSize_wrong &&
                       ZSTD_getFrameContentSize(q, (size_t)(end - q)) != ZSTD_CONTENTSIZE_ERROR;
        } else {
            return 0;
        }
        if (n > (size_t)(end - q))
            return 1; /* a cut-off skippable frame */
        q += n;
    }
    return 1;
}

/* After a frame that runs past the end of the file: is that a cut-off last frame, or a damaged frame
 * followed by more frames? Damage when, from some later offset, whole frames run exactly to the end of
 * the file. (A mere zstd magic number inside the cut frame is not enough: a recorded body may well be a
 * .zst file.) */
static int later_frame_exists(const capreader *r)
{
    const unsigned char *p = r->in + r->in_start, *end = r->in + r->in_end;
    for (const unsigned char *q = p + 4; q + 8 <= end; q++) {
        if (le32(q) != CR_ZSTD_MAGIC)
            continue;
        const unsigned char *e = q;
        if (ZSTD_getFrameContentSize(q, (size_t)(end - q)) == ZSTD_CONTENTSIZE_ERROR)
            continue;
        size_t n = ZSTD_findFrameCompressedSize(q, (size_t)(end - q));
        if (ZSTD_isError(n))
            continue; /* the first candidate frame must be whole: a cut one proves nothing */
        e += n;
        if (frame_chain_to_end(e, end))
            return 1;
    }
    return 0;
}

static int cr_load_dict(capreader *r, const unsigned char *data, size_t len)
{
    void *plain = NULL;
    const void *dict = data;
    size_t dlen = len;
    if (len >= 4 && le32(data) == CR_ZSTD_MAGIC) {
        unsigned long long n = ZSTD_getFrameContentSize(data, len);
        if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > CR_MAX_DICT || n == 0)
            return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "dictionary frame: bad compressed dictionary");
        plain = malloc((size_t)n);
        if (!plain)
            return cr_fail(r, CAPREADER_ENOMEM, r->offset, "out of memory");
        size_t got = ZSTD_decompress(plain, (size_t)n, data, len);
        if (ZSTD_isError(got) || got != n) {
            free(plain);
            return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "dictionary frame: %s",
                           ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch");
        }
        dict = plain;
        dlen = (size_t)n;
    }
    if (!plain && (dlen < 8 || dlen > CR_MAX_DICT))
        return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "dictionary frame: %zu bytes is not a plausible dictionary", dlen);
    ZSTD_DDict *dd = ZSTD_createDDict(dict, dlen);
    free(plain);
    if (!dd)
        return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "dictionary frame: not a usable dictionary");
    ZSTD_freeDDict(r->ddict);
    r->ddict = dd;
    r->dict_id = ZSTD_getDictID_fromDDict(dd);
    return 0;
}

/* Decode one zstd frame of csize bytes at the read position into r->rec. */
static int cr_decode(capreader *r, size_t csize)
{
    const unsigned char *src = r->in + r->in_start;
    unsigned long long content = ZSTD_getFrameContentSize(src, csize);
    if (content == ZSTD_CONTENTSIZE_ERROR)
        return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "bad zstd frame header");
    if (content != ZSTD_CONTENTSIZE_UNKNOWN && content > r->max_record)
        return cr_fail(r, CAPREADER_ETOOBIG, r->offset, "frame of %llu bytes is over the %zu-byte record limit",
                       content, r->max_record);
    unsigned id = ZSTD_getDictID_fromFrame(src, csize);
    if (id && (!r->ddict || (r->dict_id && id != r->dict_id)))
        return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "frame needs dictionary %u, which the file does not carry", id);
    if (r->rec.len == r->rec_pos) {
        r->rec.len = r->rec_pos = 0;
        r->rec_frame_off = r->offset;
    }
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    if (ZSTD_isError(ZSTD_DCtx_refDDict(r->dctx, id ? r->ddict : NULL)))
        return cr_fail(r, CAPREADER_ENOMEM, r->offset, "cannot use the dictionary");
    if (content != ZSTD_CONTENTSIZE_UNKNOWN) {
        if (tdbuf_reserve(&r->rec, (size_t)content) != TDBUF_OK)
            return cr_fail(r, CAPREADER_ETOOBIG, r->offset, "record data over the limit");
        size_t n = ZSTD_decompressDCtx(r->dctx, r->rec.data + r->rec.len, (size_t)content, src, csize);
        if ((ZSTD_isError(n) || n != content) && !id && r->ddict) {
            /* A writer may leave the dictionary id out of its frames: try the file's dictionary too. */
            ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
            ZSTD_DCtx_refDDict(r->dctx, r->ddict);
            n = ZSTD_decompressDCtx(r->dctx, r->rec.data + r->rec.len, (size_t)content, src, csize);
        }
        if (ZSTD_isError(n))
            return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "damaged frame: %s", ZSTD_getErrorName(n));
        if (n != content)
            return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "damaged frame: content size mismatch");
        r->rec.len += n;
    } else {
        /* No declared size (other writers): stream, growing the buffer up to its cap. */
        ZSTD_inBuffer in = {src, csize, 0};
        size_t ret = 1;
        while (ret != 0) {
            if (tdbuf_reserve(&r->rec, 64 * 1024) != TDBUF_OK)
                return cr_fail(r, CAPREADER_ETOOBIG, r->offset, "frame over the record limit");
            ZSTD_outBuffer out = {r->rec.data + r->rec.len, r->rec.cap - r->rec.len - 1, 0};
            ret = ZSTD_decompressStream(r->dctx, &out, &in);
            if (ZSTD_isError(ret))
                return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "damaged frame: %s", ZSTD_getErrorName(ret));
            r->rec.len += out.pos;
            if (ret != 0 && in.pos == in.size && out.pos == 0)
                return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "damaged frame: ends early");
        }
    }
    r->rec.data[r->rec.len] = '\0';
    r->in_start += csize;
    r->offset += csize;
    r->nframes++;
    return 1;
}

static int cr_more_zstd(capreader *r)
{
    for (;;) {
        int rc = cr_fill(r, 8);
        if (rc < 0)
            return rc;
        size_t avail = r->in_end - r->in_start;
        if (avail == 0)
            return 0;
        if (avail < 8 && r->eof) {
            /* Too short for a frame: the start of one that was cut. */
            cr_truncated_at(r, r->rec.len > r->rec_pos ? r->rec_frame_off : r->offset);
            return 0;
        }
        uint32_t magic = le32(r->in + r->in_start);
        if (is_skippable(magic)) {
            uint32_t size = le32(r->in + r->in_start + 4);
            if ((size_t)size + 8 > r->in_limit)
                return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "skippable frame of %u bytes is too large", size);
            if ((rc = cr_fill(r, (size_t)size + 8)) < 0)
                return rc;
            if (r->in_end - r->in_start < (size_t)size + 8) {
                cr_truncated_at(r, r->rec.len > r->rec_pos ? r->rec_frame_off : r->offset);
                return 0;
            }
            /* The dictionary frame counts only at the start of the file (warc-zstd). */
            if (magic == WARC_ZSTD_DICT_MAGIC && r->offset == 0 && (rc = cr_load_dict(r, r->in + r->in_start + 8, size)) < 0)
                return rc;
            r->in_start += (size_t)size + 8;
            r->offset += (size_t)size + 8;
            continue;
        }
        if (magic != CR_ZSTD_MAGIC)
            return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "not a zstd frame (bad magic number)");
        for (;;) {
            size_t cs = ZSTD_findFrameCompressedSize(r->in + r->in_start, r->in_end - r->in_start);
            if (!ZSTD_isError(cs))
                return cr_decode(r, cs);
            if (ZSTD_getErrorCode(cs) != ZSTD_error_srcSize_wrong)
                return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "damaged frame: %s", ZSTD_getErrorName(cs));
            size_t have = r->in_end - r->in_start;
            if (r->eof || have >= r->in_limit) {
                if (!r->eof)
                    return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "frame larger than the record limit allows");
                if (later_frame_exists(r))
                    return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "damaged frame: runs into the next frame");
                cr_truncated_at(r, r->rec.len > r->rec_pos ? r->rec_frame_off : r->offset);
                return 0;
            }
            size_t want = have + have / 2 + 64 * 1024;
            if ((rc = cr_fill(r, want < r->in_limit ? want : r->in_limit)) < 0)
                return rc;
        }
    }
}

static int cr_more_plain(capreader *r)
{
    int rc = cr_fill(r, 1);
    if (rc < 0)
        return rc;
    size_t avail = r->in_end - r->in_start;
    if (avail == 0)
        return 0;
    if (r->rec.len == r->rec_pos) {
        r->rec.len = r->rec_pos = 0;
        r->rec_frame_off = r->offset;
    }
    if ((rc = cr_rec_room(r, avail)) < 0)
        return rc;
    memcpy(r->rec.data + r->rec.len, r->in + r->in_start, avail);
    r->rec.len += avail;
    r->rec.data[r->rec.len] = '\0';
    r->in_start += avail;
    r->offset += avail;
    return 1;
}

int cr_more(capreader *r)
{
    if (r->kind == CR_KIND_UNKNOWN) {
        int rc = cr_fill(r, 5);
        if (rc < 0)
            return rc;
        size_t avail = r->in_end - r->in_start;
        if (avail == 0)
            return 0; /* an empty file (a segment just opened) has no records */
        const unsigned char *p = r->in + r->in_start;
        if (avail >= 5 && !memcmp(p, "WARC/", 5))
            r->kind = CR_KIND_PLAIN;
        else if (avail >= 2 && p[0] == 0x1f && p[1] == 0x8b)
            r->kind = CR_KIND_GZIP;
        else if (avail >= 4 && (le32(p) == CR_ZSTD_MAGIC || is_skippable(le32(p))))
            r->kind = CR_KIND_ZSTD;
        else if (avail < 4 && r->eof)
            r->kind = CR_KIND_ZSTD; /* a few bytes of a cut first frame */
        else
            return cr_fail(r, CAPREADER_ECORRUPT, 0, "not a capture file (neither WARC, gzip nor zstd)");
    }
    if (r->kind == CR_KIND_GZIP)
        return cr_more_gzip(r);
    return r->kind == CR_KIND_PLAIN ? cr_more_plain(r) : cr_more_zstd(r);
}
