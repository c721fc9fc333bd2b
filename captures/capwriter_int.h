/* capwriter internals shared by capwriter.c (files, frames, rotation) and capwriter_dict.c (holding
 * records and training the per-segment dictionary). Not part of the public interface. */
#ifndef TAPEDECK_CAPWRITER_INT_H
#define TAPEDECK_CAPWRITER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "capwriter.h"
#include "tdbuf.h"

#define CW_BIG_RECORD ((size_t)8 << 10) /* past this zstd copies the dictionary's tables per frame */
#define CW_RESV_LIMIT ((size_t)2 << 20) /* bytes of samples kept for the next segment's dictionary */

struct capwriter {
    /* options */
    char *dir, *prefix, *path;
    uint64_t rotate_bytes;
    int64_t rotate_age_us;
    int level, no_dict, no_digest;
    size_t dict_records, dict_size;
    char *software, *upstream, *info;
    char hostname[256];

    /* the open file */
    int fd;
    char *part_path, *final_path;
    uint64_t seq; /* NNNN of the next segment */
    int64_t seg_open_us, seg_open_mono;
    uint64_t good_size; /* bytes of whole frames in the file: where the next write goes */
    int need_truncate;  /* a cut-back after a failed write itself failed: retry before writing */
    int dirty;          /* written since the last fdatasync */
    uint64_t wb_start;  /* writeback started (sync_file_range) for the bytes before this offset */
    uint64_t wb_prev;   /* ... and, one step earlier, before this one: the pages to drop next */
    uint64_t dropped;   /* page-cache pages before this offset were let go (POSIX_FADV_DONTNEED) */
    int dir_dirty;      /* the directory entry (new file, rename) not yet fsynced */
    int64_t last_sync_mono;
    uint64_t seg_exchanges;
    uint64_t seg_in_mark; /* st.bytes_in when this segment opened */
    uint64_t prev_seg_in; /* record bytes of the last segment that had exchanges: sizes its successor's
                           * dictionary; 0 = none yet */

    /* compression */
    ZSTD_CCtx *cctx[2]; /* records up to CW_BIG_RECORD, and larger ones (cw_ctx) */
    void *dict; /* the dictionary in use (this segment's, or the previous one reused) */
    size_t dict_len;
    ZSTD_CDict *cdict[2]; /* dict digested for cctx[i] (it refers to dict), NULL = none yet */
    int dict_loaded[2];   /* cctx[i] refers to cdict[i], made from the dictionary now in use */

    /* records held at a segment's start for training: record 0 is the warcinfo */
    int holding;
    int64_t hold_start_mono;
    tdbuf hold;
    size_t *held_sizes;
    size_t n_held, cap_held;
    uint64_t held_exchanges;

    /* samples (record prefixes) of the records written since the dictionary was last built: the next
     * segment's dictionary is built from them (capped, oldest dropped first) */
    tdbuf resv;
    size_t *resv_sizes;
    size_t n_resv, cap_resv;

    tdbuf req, resp; /* formatted records of the exchange being written */
    tdbuf shadow[EXCHANGE_N_SHADOW]; /* and its shadow answers (--mirror-record), empty when none */
    tdbuf frames;    /* compressed frames of one write */
    tdbuf io;        /* header + frames when the header is still pending */
    tdbuf hdr;       /* compressed file header (dictionary frame + warcinfo) not yet on disk */

    /* deferred writes (opts.defer_writes): frames wait here for capwriter_commit's one pwrite */
    int defer;
    tdbuf pend;
    size_t pend_records; /* records in pend, the header not counted */
    int pend_hdr;        /* pend starts with hdr (kept in hdr until the write succeeds) */

    capwriter_stats st;
};

/* capwriter.c */
int cw_err_errno(capwriter *w, char *err, size_t errlen, const char *what, int e); /* CAPWRITER_EIO */
int cw_commit(capwriter *w, char *err, size_t errlen);
/* capwriter_seg.c */
int cw_sync(capwriter *w, char *err, size_t errlen);
void cw_drop_behind(capwriter *w); /* after a write: start writeback, let go of written-back pages */
int cw_sync_dir(capwriter *w, char *err, size_t errlen);
int cw_open_file(capwriter *w, char *err, size_t errlen);
int cw_close_file(capwriter *w, char *err, size_t errlen);
int cw_compress_record(capwriter *w, const char *rec, size_t len, tdbuf *out);
/* capwriter_raw.c */
int cw_incompressible(const char *rec, size_t len); /* 1 = store as raw blocks (a cheap probe of the body) */
int cw_raw_frame(const char *rec, size_t len, tdbuf *out); /* a zstd frame of raw blocks, appended */
uint64_t cw_xxh64(const void *data, size_t len);           /* XXH64, seed 0 */
/* capwriter_dict.c */
int cw_hold_add_size(capwriter *w, size_t size); /* 1 = ok, 0 = out of memory */
int cw_hold_exchange(capwriter *w, char *err, size_t errlen);
int cw_release_hold(capwriter *w, char *err, size_t errlen);
void cw_sample(capwriter *w, const char *rec, size_t len); /* keep a record's prefix for the next dictionary */
int cw_sampling(const capwriter *w); /* 1 = records written now may build the next dictionary */
int cw_resv_ready(const capwriter *w); /* 1 = enough samples to build the next segment's dictionary now */
int cw_use_dict(capwriter *w, int which); /* give cctx[which] w->dict (as a CDict) unless it has it */
void cw_drop_cdicts(capwriter *w);        /* before w->dict changes or is freed */
void cw_resv_free(capwriter *w);
/* capwriter.c: the exchange's formatted records in file order (empty ones left out); returns how many */
size_t cw_records(capwriter *w, tdbuf **out);
/* capwriter.c: compresses and emits the formatted exchange (w->req, w->resp, w->shadow; not held),
 * counts and samples it */
int cw_write_direct(capwriter *w, char *err, size_t errlen);
/* capwriter.c: write frames (after the pending header) at the end of the file */
int cw_emit_frames(capwriter *w, tdbuf *frames, size_t nrecords, char *err, size_t errlen);

#endif
