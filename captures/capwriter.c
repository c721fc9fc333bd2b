/* capwriter: exchanges -> .warc.zst segments, one zstd frame per record, optional trained dictionary.
 *
 * Durability model: every exchange is handed to the kernel with one pwrite() at the offset just after the
 * last whole frame (good_size). If that fails (ENOSPC, EFBIG, EIO) the file is cut back to good_size, so
 * the file is always a sequence of whole frames, and the next exchange simply tries again. fdatasync runs
 * at least once a second from capwriter_tick, and at every rotation and close. With deferred writes
 * (the proxy's writer thread) the unit is a batch instead of an exchange: capwriter_commit hands the
 * batch's frames over in one pwrite, with the same cut-back on failure. */
#include "capwriter.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "capwriter_int.h"
#include "tdbuf.h"
#include "tdtime.h"
#include "warc.h"

#ifndef TAPEDECK_VERSION
#define TAPEDECK_VERSION "0"
#endif

#define CW_RECORD_LIMIT ((size_t)1 << 30) /* one uncompressed record */
#define CW_HOLD_LIMIT ((size_t)64 << 20)  /* records held for dictionary training */

/* err may be NULL (the caller does not want the words). */
static void cw_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cw_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int cw_err_errno(capwriter *w, char *err, size_t errlen, const char *what, int e)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s: %s", w->part_path ? w->part_path : "(capture)", what, strerror(e));
    return CAPWRITER_EIO;
}

/* Compress one record into its own frame at the end of out (checksum and content size always set); a
 * record whose body looks incompressible gets raw blocks (capwriter_raw.c). */
int cw_compress_record(capwriter *w, const char *rec, size_t len, tdbuf *out)
{
    if (cw_incompressible(rec, len)) {
        if (cw_raw_frame(rec, len, out) != CAPWRITER_OK)
            return CAPWRITER_ENOMEM;
        w->st.bytes_in += len;
        return CAPWRITER_OK;
    }
    size_t bound = ZSTD_compressBound(len);
    int big = len > CW_BIG_RECORD;
    /* cw_use_dict: the big records' context loads its dictionary at the first one; a load that failed
     * fails the record rather than leaving it to the previous dictionary */
    if (tdbuf_reserve(out, bound) != TDBUF_OK || cw_use_dict(w, big) != CAPWRITER_OK)
        return CAPWRITER_ENOMEM;
    size_t n = ZSTD_compress2(w->cctx[big], out->data + out->len, bound, rec, len);
    if (ZSTD_isError(n))
        return CAPWRITER_ENOMEM;
    out->len += n;
    w->st.bytes_in += len;
    return CAPWRITER_OK;
}

/* Writes all of buf at good_size; on failure cuts the file back so it ends on a whole frame. */
static int cw_pwrite(capwriter *w, const char *buf, size_t len, char *err, size_t errlen)
{
    if (w->fd < 0)
        return cw_err_errno(w, err, errlen, "not open", EBADF);
    if (w->need_truncate) {
        if (ftruncate(w->fd, (off_t)w->good_size) != 0)
            return cw_err_errno(w, err, errlen, "truncate after a failed write", errno);
        w->need_truncate = 0;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t k = pwrite(w->fd, buf + done, len - done, (off_t)(w->good_size + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : ENOSPC;
            if (done > 0 && ftruncate(w->fd, (off_t)w->good_size) != 0)
                w->need_truncate = 1;
            w->st.write_errors++;
            return cw_err_errno(w, err, errlen, "write", e);
        }
        done += (size_t)k;
    }
    w->good_size += len;
    w->st.bytes_out += len;
    w->dirty = 1;
    cw_drop_behind(w);
    return CAPWRITER_OK;
}

/* Deferred writes: the batch starts with the file header while it is not on disk yet. */
static int cw_pend_header(capwriter *w)
{
    if (w->hdr.len > 0 && !w->pend_hdr) {
        if (tdbuf_append(&w->pend, w->hdr.data, w->hdr.len) != TDBUF_OK)
            return CAPWRITER_ENOMEM;
        w->pend_hdr = 1;
    }
    return CAPWRITER_OK;
}

/* Prefix out with the pending file header (dictionary frame, warcinfo) and write it all (deferred:
 * queue it for cw_commit). */
int cw_emit_frames(capwriter *w, tdbuf *frames, size_t nrecords, char *err, size_t errlen)
{
    int rc;
    if (w->defer) {
        if (cw_pend_header(w) != CAPWRITER_OK)
            return CAPWRITER_ENOMEM;
        if (tdbuf_append(&w->pend, frames->data, frames->len) != TDBUF_OK)
            return CAPWRITER_ENOMEM;
        w->pend_records += nrecords;
        return CAPWRITER_OK;
    }
    if (w->hdr.len > 0) {
        w->io.len = 0;
        if (tdbuf_append(&w->io, w->hdr.data, w->hdr.len) || tdbuf_append(&w->io, frames->data, frames->len))
            return CAPWRITER_ENOMEM;
        rc = cw_pwrite(w, w->io.data, w->io.len, err, errlen);
        if (rc == CAPWRITER_OK) {
            w->hdr.len = 0;
            w->st.records += 1;
        }
    } else {
        rc = cw_pwrite(w, frames->data, frames->len, err, errlen);
    }
    if (rc == CAPWRITER_OK)
        w->st.records += nrecords;
    return rc;
}

/* Writes what cw_emit_frames queued (deferred writes) in one pwrite. */
int cw_commit(capwriter *w, char *err, size_t errlen)
{
    if (w->pend.len == 0)
        return CAPWRITER_OK;
    int rc = cw_pwrite(w, w->pend.data, w->pend.len, err, errlen);
    if (rc == CAPWRITER_OK) {
        if (w->pend_hdr) {
            w->hdr.len = 0;
            w->st.records += 1;
        }
        w->st.records += w->pend_records;
    }
    w->pend.len = 0;
    w->pend_records = 0;
    w->pend_hdr = 0;
    return rc;
}

static char *dup_or(const char *s, const char *dflt)
{
    return strdup(s ? s : dflt);
}

capwriter *capwriter_open(const capwriter_opts *opts, char *err, size_t errlen)
{
    capwriter *w = NULL;
    if (!opts || (!opts->dir == !opts->path)) {
        cw_err(err, errlen, "capture writer: give exactly one of a directory or a file path");
        return NULL;
    }
    w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->fd = -1;
    tdbuf_init(&w->hold, CW_HOLD_LIMIT);
    tdbuf_init(&w->req, CW_RECORD_LIMIT);
    tdbuf_init(&w->resp, CW_RECORD_LIMIT);
    for (int i = 0; i < EXCHANGE_N_SHADOW; i++)
        tdbuf_init(&w->shadow[i], CW_RECORD_LIMIT);
    tdbuf_init(&w->frames, 0);
    tdbuf_init(&w->io, 0);
    tdbuf_init(&w->hdr, 0);
    tdbuf_init(&w->pend, 0);
    w->defer = opts->defer_writes;
    tdbuf_init(&w->resv, CW_RESV_LIMIT);
    w->rotate_bytes = opts->rotate_bytes;
    w->rotate_age_us = opts->rotate_age_us;
    w->level = opts->level ? opts->level : 3;
    w->no_dict = opts->no_dictionary;
    w->no_digest = opts->no_payload_digest;
    w->dict_records = opts->dict_records ? opts->dict_records : 2000;
    w->dict_size = opts->dict_size ? opts->dict_size : (size_t)1 << 20;
    w->software = dup_or(opts->software, "tapedeck/" TAPEDECK_VERSION);
    if (!w->software)
        goto nomem;
    if (opts->upstream && !(w->upstream = strdup(opts->upstream)))
        goto nomem;
    if (opts->info && !(w->info = strdup(opts->info)))
        goto nomem;
    if (gethostname(w->hostname, sizeof w->hostname - 1) != 0)
        w->hostname[0] = '\0';
    if (opts->dir) {
        struct stat st;
        if (stat(opts->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            cw_err(err, errlen, "%s: not a directory", opts->dir);
            capwriter_close(w, NULL, 0);
            return NULL;
        }
        if (!(w->dir = strdup(opts->dir)) || !(w->prefix = dup_or(opts->prefix, "tapedeck")))
            goto nomem;
    } else {
        if (!(w->path = strdup(opts->path)) || !(w->part_path = strdup(opts->path)) ||
            !(w->final_path = strdup(opts->path)))
            goto nomem;
    }
    for (int i = 0; i < 2; i++) {
        w->cctx[i] = ZSTD_createCCtx();
        if (!w->cctx[i])
            goto nomem;
        if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx[i], ZSTD_c_compressionLevel, w->level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx[i], ZSTD_c_checksumFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx[i], ZSTD_c_contentSizeFlag, 1))) {
            cw_err(err, errlen, "capture writer: bad compression level");
            capwriter_close(w, NULL, 0);
            return NULL;
        }
    }
    w->last_sync_mono = tdtime_mono_us();
    if (cw_open_file(w, err, errlen) != CAPWRITER_OK) {
        if (w->fd >= 0) {
            close(w->fd);
            unlink(w->part_path);
            w->fd = -1;
        }
        capwriter_close(w, NULL, 0);
        return NULL;
    }
    return w;
nomem:
    cw_err(err, errlen, "capture writer: out of memory");
    capwriter_close(w, NULL, 0);
    return NULL;
}

static int cw_maybe_rotate(capwriter *w, char *err, size_t errlen)
{
    if (w->path || w->fd < 0)
        return CAPWRITER_OK;
    int by_size = w->rotate_bytes && w->good_size >= w->rotate_bytes;
    int by_age = w->rotate_age_us && tdtime_mono_us() - w->seg_open_mono >= w->rotate_age_us;
    if (by_age && !by_size && w->seg_exchanges == 0 && w->held_exchanges == 0) {
        /* An idle segment is not closed (that would litter the folder with empty files): it is replaced
         * by a fresh one, so the next exchange lands in a segment whose name tells when it began. */
        close(w->fd);
        w->fd = -1;
        unlink(w->part_path);
        w->holding = 0;
        return cw_open_file(w, err, errlen);
    }
    if (!by_size && !by_age)
        return CAPWRITER_OK;
    return capwriter_rotate(w, err, errlen);
}

size_t cw_records(capwriter *w, tdbuf **out)
{
    size_t n = 0;
    out[n++] = &w->req;
    if (w->resp.len)
        out[n++] = &w->resp;
    for (int i = 0; i < EXCHANGE_N_SHADOW; i++)
        if (w->shadow[i].len)
            out[n++] = &w->shadow[i];
    return n;
}

int cw_write_direct(capwriter *w, char *err, size_t errlen)
{
    tdbuf *recs[2 + EXCHANGE_N_SHADOW];
    size_t nrec = cw_records(w, recs);
    int rc = 0;
    if (w->defer) {
        /* Deferred: compress straight into the batch (a frames buffer then a copy into the batch cost
         * one more pass over every byte written). */
        if (cw_pend_header(w) != CAPWRITER_OK)
            return CAPWRITER_ENOMEM;
        size_t mark = w->pend.len;
        for (size_t i = 0; !rc && i < nrec; i++)
            rc = cw_compress_record(w, recs[i]->data, recs[i]->len, &w->pend);
        if (rc) {
            w->pend.len = mark;
            cw_err(err, errlen, "capture writer: compression failed (out of memory)");
            return rc;
        }
        w->pend_records += nrec;
    } else {
        w->frames.len = 0;
        for (size_t i = 0; !rc && i < nrec; i++)
            rc = cw_compress_record(w, recs[i]->data, recs[i]->len, &w->frames);
        if (rc) {
            cw_err(err, errlen, "capture writer: compression failed (out of memory)");
            return rc;
        }
        rc = cw_emit_frames(w, &w->frames, nrec, err, errlen);
        if (rc)
            return rc;
    }
    w->st.exchanges++;
    w->seg_exchanges++;
    int sampling = cw_sampling(w);
    for (size_t i = 0; sampling && i < nrec; i++)
        cw_sample(w, recs[i]->data, recs[i]->len);
    return 0;
}

int capwriter_write(capwriter *w, const exchange *x, char *err, size_t errlen)
{
    if (w->fd < 0 && !w->path) {
        /* A rotation failed to open the next segment: try again now. */
        int rc = cw_open_file(w, err, errlen);
        if (rc)
            return rc;
    } else if (w->fd < 0) {
        return cw_err_errno(w, err, errlen, "not open", EBADF);
    }
    w->req.len = 0;
    w->resp.len = 0;
    for (int i = 0; i < EXCHANGE_N_SHADOW; i++)
        w->shadow[i].len = 0;
    if (warc_format_exchange_shadow(x, &w->req, &w->resp, w->shadow, w->no_digest ? WARC_FMT_NO_DIGEST : 0) !=
        WARC_OK) {
        cw_err(err, errlen, "capture writer: record too large or out of memory");
        return CAPWRITER_EINVAL;
    }
    int rc = w->holding ? cw_hold_exchange(w, err, errlen) : cw_write_direct(w, err, errlen);
    if (rc || w->defer)
        return rc; /* deferred: capwriter_commit rotates, once the frames are in the file */
    return cw_maybe_rotate(w, err, errlen);
}

int capwriter_commit(capwriter *w, char *err, size_t errlen)
{
    int rc = cw_commit(w, err, errlen);
    return rc ? rc : cw_maybe_rotate(w, err, errlen);
}

int capwriter_tick(capwriter *w, char *err, size_t errlen)
{
    int rc = CAPWRITER_OK;
    int64_t now = tdtime_mono_us();
    /* a hold with no exchange has nothing at risk: it waits for traffic (cw_hold_exchange) */
    if (w->holding && w->held_exchanges > 0 && now - w->hold_start_mono >= 1000000)
        rc = cw_release_hold(w, err, errlen);
    if (!rc)
        rc = cw_commit(w, err, errlen);
    if (!rc && w->dirty && now - w->last_sync_mono >= 1000000)
        rc = cw_sync(w, err, errlen);
    if (!rc)
        rc = cw_maybe_rotate(w, err, errlen);
    return rc;
}

int capwriter_flush(capwriter *w, char *err, size_t errlen)
{
    int rc = CAPWRITER_OK;
    if (w->holding)
        rc = cw_release_hold(w, err, errlen);
    int r3 = cw_commit(w, err, errlen);
    rc = rc ? rc : r3;
    int r2 = cw_sync(w, err, errlen);
    return rc ? rc : r2;
}

int capwriter_rotate(capwriter *w, char *err, size_t errlen)
{
    if (w->path) {
        cw_err(err, errlen, "%s: cannot rotate a single-file capture", w->path);
        return CAPWRITER_EINVAL;
    }
    int rc = cw_close_file(w, err, errlen);
    char err2[512];
    int r2 = cw_open_file(w, err2, sizeof err2);
    if (r2 && !rc) {
        cw_err(err, errlen, "%s", err2);
        rc = r2;
    }
    return rc;
}

int capwriter_close(capwriter *w, char *err, size_t errlen)
{
    if (!w)
        return CAPWRITER_OK;
    int rc = cw_close_file(w, err, errlen);
    cw_drop_cdicts(w);
    ZSTD_freeCCtx(w->cctx[0]);
    ZSTD_freeCCtx(w->cctx[1]);
    free(w->dict);
    tdbuf_free(&w->hold);
    tdbuf_free(&w->req);
    tdbuf_free(&w->resp);
    for (int i = 0; i < EXCHANGE_N_SHADOW; i++)
        tdbuf_free(&w->shadow[i]);
    tdbuf_free(&w->frames);
    tdbuf_free(&w->io);
    tdbuf_free(&w->hdr);
    tdbuf_free(&w->pend);
    free(w->held_sizes);
    cw_resv_free(w);
    free(w->software);
    free(w->upstream);
    free(w->info);
    free(w->dir);
    free(w->prefix);
    free(w->path);
    free(w->part_path);
    free(w->final_path);
    free(w);
    return rc;
}

const char *capwriter_path(const capwriter *w)
{
    return w->part_path;
}

void capwriter_get_stats(const capwriter *w, capwriter_stats *out)
{
    *out = w->st;
}
