/* capwriter_seg: a segment's life on disk - its name (PREFIX-TIME-NNNN.warc.zst.part), its warcinfo,
 * fdatasync of the file and fsync of its folder (so a new or renamed name is as durable as its frames),
 * and closing by rename without .part. capwriter.c decides when; this file does it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capwriter.h"
#include "capwriter_int.h"
#include "tdbuf.h"
#include "tdtime.h"
#include "warc.h"

/* fsync the directory holding the capture, so a new or renamed segment's name is as durable as its
 * frames (fdatasync of the file alone does not cover its directory entry). */
int cw_sync_dir(capwriter *w, char *err, size_t errlen)
{
    const char *slash = strrchr(w->part_path, '/');
    char *dir = slash ? strndup(w->part_path, (size_t)(slash - w->part_path)) : strdup(".");
    if (!dir)
        return CAPWRITER_ENOMEM;
    int fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = CAPWRITER_OK;
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
        rc = cw_err_errno(w, err, errlen, "fsync of its directory", errno);
    if (fd >= 0)
        close(fd);
    free(dir);
    if (rc == CAPWRITER_OK)
        w->dir_dirty = 0;
    return rc;
}

/* Drop-behind. A segment is written once and never read back by its writer, yet every page of it would
 * stay in the page cache until memory runs out: the capture evicts the rest of the machine's cache, and
 * each new page is memory the kernel must find (reclaim; on a VM, a page the host has to back): writing
 * 64 KiB cost ~130 us of the writer's CPU on fresh pages against ~25 us on recycled ones. So every
 * CW_WB_STEP bytes the writer starts writeback of what it wrote (sync_file_range, no waiting) and lets
 * go of the pages whose writeback it started one step earlier (POSIX_FADV_DONTNEED drops clean pages
 * and skips any still in flight); the pages come straight back for the next writes. Durability is
 * unchanged: fdatasync still runs at least once a second. */
#define CW_WB_STEP ((uint64_t)8 << 20)

static void cw_drop(capwriter *w, uint64_t upto)
{
    if (upto > w->dropped) {
        posix_fadvise(w->fd, (off_t)w->dropped, (off_t)(upto - w->dropped), POSIX_FADV_DONTNEED);
        w->dropped = upto;
    }
}

void cw_drop_behind(capwriter *w)
{
    if (w->good_size - w->wb_start < CW_WB_STEP)
        return;
#ifdef SYNC_FILE_RANGE_WRITE
    sync_file_range(w->fd, (off_t)w->wb_start, (off_t)(w->good_size - w->wb_start), SYNC_FILE_RANGE_WRITE);
#endif
    cw_drop(w, w->wb_prev);
    w->wb_prev = w->wb_start;
    w->wb_start = w->good_size;
}

int cw_sync(capwriter *w, char *err, size_t errlen)
{
    if (w->fd >= 0 && w->dirty) {
        if (fdatasync(w->fd) != 0)
            return cw_err_errno(w, err, errlen, "fdatasync", errno);
        w->dirty = 0;
        w->last_sync_mono = tdtime_mono_us();
        cw_drop(w, w->good_size); /* all of it is on disk now, so clean */
        w->wb_prev = w->wb_start = w->good_size;
    }
    return w->dir_dirty ? cw_sync_dir(w, err, errlen) : CAPWRITER_OK;
}

/* Builds the warcinfo record text for the current segment into w->hold (as its first record). */
static int cw_warcinfo(capwriter *w, tdbuf *out)
{
    char date[40];
    tdbuf info;
    tdbuf_init(&info, 1 << 20);
    int rc = tdbuf_printf(&info, "software: %s\r\nformat: WARC File Format 1.1\r\n", w->software);
    if (!rc && w->hostname[0])
        rc = tdbuf_printf(&info, "hostname: %s\r\n", w->hostname);
    if (!rc && w->upstream)
        rc = tdbuf_printf(&info, "upstream: %s\r\n", w->upstream);
    if (!rc)
        rc = tdbuf_printf(&info, "start-time: %s\r\n", tdtime_format_iso(w->seg_open_us, 1, date, sizeof date));
    if (!rc && !w->no_dict)
        rc = tdbuf_puts(&info, "compression: zstd, one frame per record, per-segment dictionary\r\n");
    if (!rc && w->info && *w->info) {
        rc = tdbuf_puts(&info, w->info);
        size_t n = strlen(w->info);
        if (!rc && (n < 2 || strcmp(w->info + n - 2, "\r\n") != 0))
            rc = tdbuf_puts(&info, "\r\n");
    }
    if (!rc)
        rc = warc_format_warcinfo(out, w->final_path, info.data);
    tdbuf_free(&info);
    return rc ? CAPWRITER_ENOMEM : CAPWRITER_OK;
}

/* Opens the next file (segment mode: a fresh name; single-file mode: the path). */
int cw_open_file(capwriter *w, char *err, size_t errlen)
{
    w->seg_open_us = tdtime_now_us();
    w->seg_open_mono = tdtime_mono_us();
    if (w->path) {
        w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (w->fd < 0)
            return cw_err_errno(w, err, errlen, "open", errno);
    } else {
        char ts[32];
        tdtime_format_compact(w->seg_open_us, ts, sizeof ts);
        for (int tries = 0; tries < 10000; tries++, w->seq++) {
            free(w->part_path);
            free(w->final_path);
            w->part_path = w->final_path = NULL;
            if (asprintf(&w->final_path, "%s/%s-%s-%04llu.warc.zst", w->dir, w->prefix, ts,
                         (unsigned long long)(w->seq % 10000)) < 0) {
                w->final_path = NULL;
                return CAPWRITER_ENOMEM;
            }
            if (asprintf(&w->part_path, "%s.part", w->final_path) < 0) {
                w->part_path = NULL;
                return CAPWRITER_ENOMEM;
            }
            if (access(w->final_path, F_OK) == 0)
                continue; /* never overwrite a closed segment on rename */
            w->fd = open(w->part_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (w->fd >= 0)
                break;
            if (errno != EEXIST)
                return cw_err_errno(w, err, errlen, "open", errno);
        }
        if (w->fd < 0)
            return cw_err_errno(w, err, errlen, "open", EEXIST);
        w->seq++;
    }
    w->dir_dirty = 1;
    w->good_size = 0;
    w->wb_start = w->wb_prev = w->dropped = 0;
    w->need_truncate = 0;
    w->dirty = 0;
    if (w->seg_exchanges > 0)
        w->prev_seg_in = w->st.bytes_in - w->seg_in_mark;
    w->seg_in_mark = w->st.bytes_in;
    w->seg_exchanges = 0;
    w->hold.len = 0;
    w->n_held = 0;
    w->hdr.len = 0;
    int rc = cw_warcinfo(w, &w->hold);
    if (rc)
        return rc;
    if (!cw_hold_add_size(w, w->hold.len))
        return CAPWRITER_ENOMEM;
    if (w->no_dict || cw_resv_ready(w))
        return cw_release_hold(w, err, errlen); /* plain, or the dictionary comes from the last segment */
    w->holding = 1;
    w->hold_start_mono = tdtime_mono_us();
    return CAPWRITER_OK;
}

/* Closes the current file: write what is held, sync, rename .part away. */
int cw_close_file(capwriter *w, char *err, size_t errlen)
{
    int rc = CAPWRITER_OK;
    if (w->fd < 0)
        return rc;
    if (w->holding)
        rc = cw_release_hold(w, err, errlen);
    if (w->hdr.len > 0) {
        /* The header never made it to disk (write errors): one last try, so the file is not empty. */
        w->frames.len = 0;
        int r2 = cw_emit_frames(w, &w->frames, 0, err, errlen);
        rc = rc ? rc : r2;
    }
    int r5 = cw_commit(w, err, errlen);
    rc = rc ? rc : r5;
    int r3 = cw_sync(w, err, errlen);
    rc = rc ? rc : r3;
    if (close(w->fd) != 0 && !rc)
        rc = cw_err_errno(w, err, errlen, "close", errno);
    w->fd = -1;
    if (!w->path) {
        if (rename(w->part_path, w->final_path) != 0) {
            if (!rc)
                rc = cw_err_errno(w, err, errlen, "rename", errno);
        } else {
            w->dir_dirty = 1;
            int r4 = cw_sync_dir(w, err, errlen);
            rc = rc ? rc : r4;
        }
        w->st.segments++;
    }
    return rc;
}
