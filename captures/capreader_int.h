/* capreader internals shared by capreader.c (records, exchanges) and capreader_frame.c (frames,
 * dictionary, plain files). Not part of the public interface. */
#ifndef TAPEDECK_CAPREADER_INT_H
#define TAPEDECK_CAPREADER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>

#include "capreader.h"
#include "tdbuf.h"
#include "warc.h"

enum { CR_KIND_UNKNOWN = 0, CR_KIND_ZSTD, CR_KIND_PLAIN, CR_KIND_GZIP };

enum { CR_LOOKAHEAD = 64, CR_RECENT = 64 };
#define CR_LOOKAHEAD_BYTES ((size_t)64 << 20)

/* A request or response record waiting for its partner (capreader_pair.c). */
typedef struct cr_pend {
    warc_record rec;
    int is_req, has_error;
    int shadow; /* a response with WARC-Tapedeck-Role (a mirrored copy's answer): never the exchange's */
    char id[128], to[128]; /* WARC-Record-ID and WARC-Concurrent-To without <> ("" when absent) */
    const char *uri;       /* WARC-Target-URI as stored (points into rec) */
    uint64_t off;
    size_t bytes; /* counted in q_bytes while queued (the block may be handed out before the drop) */
} cr_pend;

struct capreader {
    char *path;
    int fd;
    size_t max_record;

    /* read buffer: unread bytes are in[in_start, in_end); in[in_start] is at file offset `offset` */
    unsigned char *in;
    size_t in_cap, in_start, in_end, in_limit;
    int eof;
    uint64_t offset; /* compressed bytes consumed */

    int kind;
    uint64_t nframes;
    ZSTD_DCtx *dctx;
    ZSTD_DDict *ddict;
    unsigned dict_id;

    tdbuf rec;              /* decoded bytes; records are cut from rec[rec_pos..] */
    size_t rec_pos;
    uint64_t rec_frame_off; /* file offset of the frame that began the undecoded rest of rec (plain
                             * files: of rec[0]) */
    uint64_t last_off;      /* offset of the last record cut (its frame's; plain: its own) */

    z_stream zs; /* gzip: one member after another */
    int zs_init, z_mid;
    uint64_t member_off;

    uint64_t truncated, records;
    int done;
    int status, deferred;
    char err[640];

    warc_record warcinfo;

    /* pairing (capreader_pair.c) */
    cr_pend *q;
    size_t q_len;
    size_t q_bytes, q_bytes_max;
    int q_eof, q_err;
    char recent[CR_RECENT][128]; /* ids of the last requests handed out, to tell extra responses */
    size_t recent_pos;
    capreader_skips skips;
};

int cr_fail(capreader *r, int status, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int cr_fill(capreader *r, size_t need);
void cr_truncated_at(capreader *r, uint64_t from);
/* capreader_frame.c: append the next frame's (or plain chunk's) bytes to r->rec.
 * 1 = got some, 0 = end of input (r->truncated set if a frame was cut off), < 0 = error. */
int cr_more(capreader *r);
/* capreader_gz.c: the same for a gzip file. */
int cr_more_gzip(capreader *r);
/* Make room in r->rec for `need` more bytes, moving the unread rest to the front. 0 or < 0. */
int cr_rec_room(capreader *r, size_t need);
void cr_pair_free(capreader *r);

#endif
