/* capreader internals shared by capreader.c (records, exchanges) and capreader_frame.c (frames,
 * dictionary, plain files). Not part of the public interface. */
#ifndef TAPEDECK_CAPREADER_INT_H
#define TAPEDECK_CAPREADER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "capreader.h"
#include "tdbuf.h"
#include "warc.h"

enum { CR_KIND_UNKNOWN = 0, CR_KIND_ZSTD, CR_KIND_PLAIN };

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
    uint64_t rec_frame_off; /* file offset of the frame that began the undecoded rest of rec */

    uint64_t truncated, records;
    int done;
    int status, deferred;
    char err[640];

    warc_record warcinfo;
    warc_record pending; /* a record read ahead while pairing, handed out next */
    int has_pending;
};

int cr_fail(capreader *r, int status, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int cr_fill(capreader *r, size_t need);
void cr_truncated_at(capreader *r, uint64_t from);
/* capreader_frame.c: append the next frame's (or plain chunk's) bytes to r->rec.
 * 1 = got some, 0 = end of input (r->truncated set if a frame was cut off), < 0 = error. */
int cr_more(capreader *r);

#endif
