/* capreader: frame-by-frame reading of .warc.zst files (and plain .warc) with bounded memory.
 *
 * The file is streamed through a read buffer that holds at most one compressed frame (capped by the
 * largest legal frame for max_record); each frame is decoded on its own and its checksum verified by
 * zstd. Decoded bytes go to an assembly buffer from which whole WARC records are cut, so a record split
 * over frames (other writers) or several records in one frame also read. */
#include "capreader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "capreader_int.h"
#include "tdbuf.h"

#define CR_DEFAULT_MAX_RECORD ((size_t)256 << 20)
#define CR_READ_CHUNK ((size_t)256 << 10)

int cr_fail(capreader *r, int status, uint64_t off, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r->err, sizeof r->err, "%s: offset %llu: %s", r->path, (unsigned long long)off, what);
    r->status = status;
    return status;
}

capreader *capreader_open(const char *path, const capreader_opts *opts, char *err, size_t errlen)
{
    capreader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        free(r);
        return NULL;
    }
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        capreader_free(r);
        return NULL;
    }
    r->max_record = opts && opts->max_record ? opts->max_record : CR_DEFAULT_MAX_RECORD;
    r->q_bytes_max = opts && opts->lookahead_bytes ? opts->lookahead_bytes : CR_LOOKAHEAD_BYTES;
    /* A frame of max_record bytes compresses to at most compressBound(max_record); a little more for
     * the frame header, checksum and skippable frames. */
    r->in_limit = ZSTD_compressBound(r->max_record) + (1 << 20);
    r->in_cap = CR_READ_CHUNK;
    r->in = malloc(r->in_cap);
    r->dctx = ZSTD_createDCtx();
    tdbuf_init(&r->rec, r->max_record + CR_READ_CHUNK + 1);
    if (!r->in || !r->dctx) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        capreader_free(r);
        return NULL;
    }
    return r;
}

void capreader_free(capreader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->in);
    ZSTD_freeDCtx(r->dctx);
    ZSTD_freeDDict(r->ddict);
    tdbuf_free(&r->rec);
    warc_record_clear(&r->warcinfo);
    cr_pair_free(r);
    if (r->zs_init)
        inflateEnd(&r->zs);
    free(r->path);
    free(r);
}

/* Make at least `need` unread bytes available (fewer only at end of file). 0, or < 0 on error. */
int cr_fill(capreader *r, size_t need)
{
    while (r->in_end - r->in_start < need && !r->eof) {
        if (r->in_start > 0 && r->in_end + CR_READ_CHUNK / 4 > r->in_cap) {
            memmove(r->in, r->in + r->in_start, r->in_end - r->in_start);
            r->in_end -= r->in_start;
            r->in_start = 0;
        }
        if (r->in_end == r->in_cap || (need > r->in_cap && r->in_cap < r->in_limit)) {
            size_t ncap = r->in_cap * 2;
            if (ncap < need)
                ncap = need;
            if (ncap > r->in_limit)
                ncap = r->in_limit;
            if (ncap <= r->in_cap)
                return 0; /* at the cap: the caller sees too few bytes and decides */
            unsigned char *n = realloc(r->in, ncap);
            if (!n)
                return cr_fail(r, CAPREADER_ENOMEM, r->offset, "out of memory");
            r->in = n;
            r->in_cap = ncap;
        }
        ssize_t k = read(r->fd, r->in + r->in_end, r->in_cap - r->in_end);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return cr_fail(r, CAPREADER_EIO, r->offset, "read: %s", strerror(errno));
        if (k == 0)
            r->eof = 1;
        r->in_end += (size_t)k;
    }
    return 0;
}

/* Called at a cut-off end: everything from `from` (a file offset) to the end of the file is skipped. */
void cr_truncated_at(capreader *r, uint64_t from)
{
    uint64_t end = r->offset + (r->in_end - r->in_start);
    r->truncated = end > from ? end - from : 0;
    r->offset = end;
    r->in_start = r->in_end;
    r->done = 1;
}

/* Make room for `need` more bytes in the assembly buffer: the bytes already cut are dropped first. */
int cr_rec_room(capreader *r, size_t need)
{
    if (r->rec_pos > 0 && r->rec.len + need + 1 > r->rec.cap) {
        memmove(r->rec.data, r->rec.data + r->rec_pos, r->rec.len - r->rec_pos);
        r->rec.len -= r->rec_pos;
        if (r->kind == CR_KIND_PLAIN)
            r->rec_frame_off += r->rec_pos; /* rec[0] is a file byte: keep its offset */
        r->rec_pos = 0;
    }
    int rc = tdbuf_reserve(&r->rec, need);
    if (rc == TDBUF_ENOMEM)
        return cr_fail(r, CAPREADER_ENOMEM, r->rec_frame_off, "out of memory");
    if (rc != TDBUF_OK)
        return cr_fail(r, CAPREADER_ETOOBIG, r->kind == CR_KIND_PLAIN ? r->rec_frame_off + r->rec_pos : r->rec_frame_off,
                       "record over the %zu-byte limit", r->max_record);
    return 0;
}

/* Cut one record out of the assembly buffer. 1 = got one (*raw, *rawlen: its bytes), 0 = need more
 * bytes, < 0 = error. */
static int cr_cut_record(capreader *r, warc_record *rec, const char **raw, size_t *rawlen)
{
    /* Tolerate blank lines between records (some writers add them). */
    while (r->rec_pos < r->rec.len && (r->rec.data[r->rec_pos] == '\r' || r->rec.data[r->rec_pos] == '\n'))
        r->rec_pos++;
    size_t avail = r->rec.len - r->rec_pos;
    if (avail == 0) {
        if (r->kind == CR_KIND_PLAIN)
            r->rec_frame_off += r->rec_pos;
        r->rec.len = r->rec_pos = 0;
        return 0;
    }
    /* Where this record is: its frame's (member's) offset, or its own in a plain file. */
    uint64_t at = r->kind == CR_KIND_PLAIN ? r->rec_frame_off + r->rec_pos : r->rec_frame_off;
    size_t total = 0;
    const char *p = r->rec.data + r->rec_pos;
    int m = warc_record_measure(p, avail, NULL, &total);
    if (m < 0 && r->records == 0 && avail >= 11 && !memcmp(p, "filedesc://", 11))
        return cr_fail(r, CAPREADER_ECORRUPT, at, "an ARC file, not WARC (ARC is not read; convert it to WARC first)");
    if (m < 0 && r->records == 0)
        return cr_fail(r, CAPREADER_ECORRUPT, at, "not a WARC file (it does not start with a WARC/ record head)");
    if (m < 0)
        return cr_fail(r, CAPREADER_ECORRUPT, at, "not a WARC record (bad record head)");
    if (m == 1 && total > r->max_record)
        return cr_fail(r, CAPREADER_ETOOBIG, at, "record of %zu bytes is over the %zu-byte limit", total,
                       r->max_record);
    if (m == 0 || total > avail)
        return 0;
    char perr[128];
    int rc = warc_record_parse(rec, p, total, perr, sizeof perr);
    if (rc == WARC_ENOMEM)
        return cr_fail(r, CAPREADER_ENOMEM, at, "out of memory");
    if (rc != WARC_OK)
        return cr_fail(r, CAPREADER_ECORRUPT, at, "bad WARC record: %s", perr);
    *raw = p;
    *rawlen = total;
    r->last_off = at;
    r->rec_pos += total;
    if (r->rec_pos == r->rec.len) {
        if (r->kind == CR_KIND_PLAIN)
            r->rec_frame_off += r->rec_pos;
        r->rec.len = r->rec_pos = 0;
    }
    r->records++;
    return 1;
}

static int cr_next(capreader *r, warc_record *rec, const char **raw, size_t *rawlen)
{
    memset(rec, 0, sizeof *rec);
    if (r->status)
        return r->status;
    for (;;) {
        int rc = cr_cut_record(r, rec, raw, rawlen);
        if (rc != 0) {
            if (rc == 1 && r->records == 1) {
                const char *t = warc_record_type(rec);
                /* Keep our own copy of the warcinfo (re-parsed: records are not shared). */
                if (t && !strcasecmp(t, "warcinfo"))
                    warc_record_parse(&r->warcinfo, *raw, *rawlen, NULL, 0);
            }
            return rc;
        }
        if (r->done)
            return 0;
        rc = cr_more(r);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            /* The last record's trailing CRLF CRLF left out (some writers): complete it and cut it. */
            const char *tail = NULL;
            size_t pad = r->rec.len > r->rec_pos && !r->truncated
                             ? warc_record_missing_trailer(r->rec.data + r->rec_pos, r->rec.len - r->rec_pos, &tail)
                             : 0;
            if (pad && cr_rec_room(r, pad) == 0) {
                memcpy(r->rec.data + r->rec.len, tail, pad);
                r->rec.len += pad;
                r->rec.data[r->rec.len] = '\0';
                continue;
            }
            /* End of input. Bytes of a record begun but never finished are a cut-off tail. */
            if (r->rec.len > r->rec_pos && !r->truncated) {
                /* Plain files: the leftover bytes are file bytes. Frames: the frames that began it. */
                uint64_t end = r->offset;
                if (r->kind == CR_KIND_PLAIN || end <= r->rec_frame_off)
                    r->truncated = r->rec.len - r->rec_pos;
                else
                    r->truncated = end - r->rec_frame_off;
            }
            r->rec.len = r->rec_pos = 0;
            r->done = 1;
            return 0;
        }
    }
}

int capreader_next_record(capreader *r, warc_record *rec)
{
    const char *raw;
    size_t n;
    return cr_next(r, rec, &raw, &n);
}

int capreader_next_raw(capreader *r, const char **data, size_t *len, uint64_t *off)
{
    warc_record rec;
    int rc = cr_next(r, &rec, data, len);
    warc_record_clear(&rec);
    if (rc == 1)
        *off = r->last_off;
    return rc;
}

const char *capreader_error(const capreader *r)
{
    return r->err[0] ? r->err : "no error";
}

const char *capreader_path(const capreader *r)
{
    return r->path;
}

uint64_t capreader_offset(const capreader *r)
{
    return r->offset;
}

uint64_t capreader_truncated(const capreader *r)
{
    return r->truncated;
}

uint64_t capreader_records(const capreader *r)
{
    return r->records;
}

int capreader_has_dictionary(const capreader *r)
{
    return r->ddict != NULL;
}

const warc_record *capreader_warcinfo(const capreader *r)
{
    return r->warcinfo.version ? &r->warcinfo : NULL;
}

const char *capreader_kind(const capreader *r)
{
    return r->kind == CR_KIND_ZSTD ? "zstd" : r->kind == CR_KIND_GZIP ? "gzip" : r->kind == CR_KIND_PLAIN ? "plain" : "";
}
