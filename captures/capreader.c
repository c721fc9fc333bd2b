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
    warc_record_clear(&r->pending);
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

/* Cut one record out of the assembly buffer. 1 = got one, 0 = need more bytes, < 0 = error. */
static int cr_cut_record(capreader *r, warc_record *rec)
{
    /* Tolerate blank lines between records (some writers add them). */
    while (r->rec_pos < r->rec.len && (r->rec.data[r->rec_pos] == '\r' || r->rec.data[r->rec_pos] == '\n'))
        r->rec_pos++;
    size_t avail = r->rec.len - r->rec_pos;
    if (avail == 0) {
        r->rec.len = r->rec_pos = 0;
        return 0;
    }
    size_t total = 0;
    const char *p = r->rec.data + r->rec_pos;
    int m = warc_record_measure(p, avail, NULL, &total);
    if (m < 0)
        return cr_fail(r, CAPREADER_ECORRUPT, r->rec_frame_off, "not a WARC record (bad record head)");
    if (m == 1 && total > r->max_record)
        return cr_fail(r, CAPREADER_ETOOBIG, r->rec_frame_off, "record of %zu bytes is over the %zu-byte limit",
                       total, r->max_record);
    if (m == 0 || total > avail)
        return 0;
    char perr[128];
    int rc = warc_record_parse(rec, p, total, perr, sizeof perr);
    if (rc == WARC_ENOMEM)
        return cr_fail(r, CAPREADER_ENOMEM, r->rec_frame_off, "out of memory");
    if (rc != WARC_OK)
        return cr_fail(r, CAPREADER_ECORRUPT, r->rec_frame_off, "bad WARC record: %s", perr);
    r->rec_pos += total;
    if (r->rec_pos == r->rec.len)
        r->rec.len = r->rec_pos = 0;
    r->records++;
    return 1;
}

int capreader_next_record(capreader *r, warc_record *rec)
{
    memset(rec, 0, sizeof *rec);
    if (r->status)
        return r->status;
    if (r->has_pending) {
        *rec = r->pending;
        memset(&r->pending, 0, sizeof r->pending);
        r->has_pending = 0;
        return 1;
    }
    for (;;) {
        int rc = cr_cut_record(r, rec);
        if (rc != 0) {
            if (rc == 1 && r->records == 1) {
                const char *t = warc_record_type(rec);
                /* Keep our own copy of the warcinfo (re-parsed: records are not shared). */
                if (t && !strcasecmp(t, "warcinfo")) {
                    tdbuf tmp;
                    tdbuf_init(&tmp, 0);
                    if (warc_record_format(rec, &tmp) == WARC_OK)
                        warc_record_parse(&r->warcinfo, tmp.data, tmp.len, NULL, 0);
                    tdbuf_free(&tmp);
                }
            }
            return rc;
        }
        if (r->done)
            return 0;
        size_t before = r->rec.len;
        rc = cr_more(r);
        if (rc < 0)
            return rc;
        if (rc == 0) {
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
        (void)before;
    }
}

/* Take the record's block instead of copying it a second time. */
static void steal_block(warc_record *rec, char **dst, size_t *len)
{
    if (!rec->block)
        return;
    free(*dst);
    *dst = rec->block;
    *len = rec->block_len;
    rec->block = NULL;
    rec->block_len = 0;
}

static int is_type(const warc_record *rec, const char *type)
{
    const char *t = warc_record_type(rec);
    return t && !strcasecmp(t, type);
}

/* Shadow answers (--mirror-record) follow their exchange's records: take them into x. A record that is
 * not one goes back as the look-ahead. 0, or CAPREADER_ENOMEM. */
static int take_shadows(capreader *r, const char *req_id, exchange *x)
{
    while (req_id && !r->deferred) {
        warc_record rec;
        int status = r->status;
        int rc = capreader_next_record(r, &rec);
        if (rc < 0) {
            r->status = status; /* hand out this exchange first */
            r->deferred = rc;
        }
        if (rc <= 0)
            return 0;
        const char *to = warc_record_get(&rec, "WARC-Concurrent-To");
        int role = is_type(&rec, "response") ? warc_record_role(&rec) : -1;
        if (role == -1 || !to || strcmp(to, req_id)) {
            r->pending = rec;
            r->has_pending = 1;
            return 0;
        }
        int wrc = role >= 0 ? warc_record_to_shadow(&rec, role, x) : WARC_OK; /* unknown roles: skipped */
        warc_record_clear(&rec);
        if (wrc != WARC_OK)
            return CAPREADER_ENOMEM;
    }
    return 0;
}

int capreader_next(capreader *r, exchange *x)
{
    warc_record req, resp;
    char err[160];
    exchange_init(x);
    for (;;) {
        int rc = capreader_next_record(r, &req);
        if (rc <= 0)
            return rc;
        if (!is_type(&req, "request")) {
            warc_record_clear(&req); /* warcinfo, an orphan response, metadata, ... */
            continue;
        }
        const char *req_id = warc_record_get(&req, "WARC-Record-ID");
        int status = r->status; /* an error on the look-ahead surfaces on the next call */
        rc = capreader_next_record(r, &resp);
        const char *to = rc == 1 ? warc_record_get(&resp, "WARC-Concurrent-To") : NULL;
        int paired = rc == 1 && is_type(&resp, "response") && warc_record_role(&resp) == -1 && to && req_id &&
                     !strcmp(to, req_id);
        if (rc == 1 && !paired) {
            r->pending = resp;
            r->has_pending = 1;
        }
        if (rc < 0) {
            r->status = status; /* hand out this exchange first */
            r->deferred = rc;
        }
        int wrc = warc_records_to_exchange(&req, paired ? &resp : NULL, x, err, sizeof err);
        if (wrc == WARC_OK) {
            steal_block(&req, &x->request, &x->request_len);
            if (paired)
                steal_block(&resp, &x->response, &x->response_len);
            if (take_shadows(r, req_id, x) != 0) {
                exchange_clear(x);
                wrc = WARC_ENOMEM;
            }
        }
        warc_record_clear(&req);
        if (paired)
            warc_record_clear(&resp);
        if (wrc == WARC_ENOMEM)
            return cr_fail(r, CAPREADER_ENOMEM, r->offset, "out of memory");
        if (wrc != WARC_OK)
            return cr_fail(r, CAPREADER_ECORRUPT, r->offset, "%s", err);
        if (r->deferred) {
            r->status = r->deferred;
            r->deferred = 0;
        }
        return 1;
    }
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
