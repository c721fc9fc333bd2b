/* capreader_gz: .warc.gz files, gzip member after gzip member (RFC 1952). WARC writers (wget, warcio,
 * jwarc, Heritrix) compress each record into its own member so that a record can be read at its offset;
 * a whole file in one member reads too. Decoded bytes are appended to the assembly buffer a slice at a
 * time, so memory stays bounded by the record limit however large a member is. zlib checks each
 * member's CRC-32 and length. */
#include <string.h>
#include <zlib.h>

#include "capreader_int.h"

#define CR_GZ_SLICE ((size_t)256 << 10)

/* At the end of the input inside a member: the member (or the record it began) was cut off. */
static int cut_member(capreader *r)
{
    uint64_t from = r->member_off;
    if (r->rec.len > r->rec_pos && r->rec_frame_off < from)
        from = r->rec_frame_off;
    cr_truncated_at(r, from);
    return 0;
}

int cr_more_gzip(capreader *r)
{
    if (!r->zs_init) {
        memset(&r->zs, 0, sizeof r->zs);
        if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
            return cr_fail(r, CAPREADER_ENOMEM, r->offset, "out of memory");
        r->zs_init = 1;
    }
    for (;;) {
        int rc = cr_fill(r, 2);
        if (rc < 0)
            return rc;
        size_t avail = r->in_end - r->in_start;
        if (!r->z_mid) {
            if (avail == 0)
                return 0;
            const unsigned char *p = r->in + r->in_start;
            if (avail < 2 && r->eof)
                return cut_member(r);
            if (p[0] != 0x1f || p[1] != 0x8b)
                return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "not a gzip member (bad magic number)");
            r->member_off = r->offset;
            r->z_mid = 1;
        }
        if (avail == 0)
            return cut_member(r);
        if (r->rec.len == r->rec_pos) {
            r->rec.len = r->rec_pos = 0;
            r->rec_frame_off = r->member_off;
        }
        if ((rc = cr_rec_room(r, CR_GZ_SLICE)) < 0)
            return rc;
        r->zs.next_in = r->in + r->in_start;
        r->zs.avail_in = (uInt)(avail < (size_t)UINT32_MAX ? avail : UINT32_MAX);
        r->zs.next_out = (Bytef *)r->rec.data + r->rec.len;
        r->zs.avail_out = (uInt)CR_GZ_SLICE;
        uInt in_before = r->zs.avail_in;
        int zr = inflate(&r->zs, Z_NO_FLUSH);
        size_t used = in_before - r->zs.avail_in, made = CR_GZ_SLICE - r->zs.avail_out;
        r->in_start += used;
        r->offset += used;
        r->rec.len += made;
        r->rec.data[r->rec.len] = '\0';
        if (zr == Z_STREAM_END) {
            inflateReset(&r->zs);
            r->z_mid = 0;
            r->nframes++;
            if (made)
                return 1;
            continue;
        }
        if (zr == Z_OK || zr == Z_BUF_ERROR) {
            if (made)
                return 1;
            if (used == 0) {
                if (r->eof)
                    return cut_member(r);
                /* inflate wants more input than is buffered: read on */
                if ((rc = cr_fill(r, avail + 1)) < 0)
                    return rc;
                if (r->in_end - r->in_start <= avail && r->eof)
                    return cut_member(r);
            }
            continue;
        }
        return cr_fail(r, CAPREADER_ECORRUPT, r->member_off, "damaged gzip member: %s",
                       r->zs.msg ? r->zs.msg : zr == Z_MEM_ERROR ? "out of memory" : "bad data");
    }
}
