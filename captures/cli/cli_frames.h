/* cli_frames: an independent walk over a capture file's frames, for `cat` (records byte for byte as
 * stored) and `verify` (every frame checked against the convention: content size, checksum, one record
 * per frame, the dictionary honoured). The file is mapped, so a damaged frame can be skipped and the walk
 * can go on to report how much of the rest is readable. Plain (uncompressed) .warc files are walked
 * record by record, .warc.gz files member by member. */
#ifndef TAPEDECK_CLI_FRAMES_H
#define TAPEDECK_CLI_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cliframes cliframes;

enum {
    CLIFRAMES_RECORD = 1,     /* f->data holds one frame's content */
    CLIFRAMES_END = 0,
    CLIFRAMES_CORRUPT = -1,   /* a damaged frame at f->offset, f->msg says how; the walk can go on */
    CLIFRAMES_TRUNCATED = -2, /* the file ends inside a frame that starts at f->offset; the walk is over */
};

typedef struct cliframe {
    uint64_t offset; /* file offset of the frame */
    uint64_t csize;  /* its compressed size (bytes skipped for a damaged frame) */
    const char *data; /* decompressed content, valid until the next call */
    size_t len;
    bool no_size, no_checksum; /* a zstd frame without its content size or checksum (other writers;
                                * against tapedeck's convention): decoded all the same */
    char msg[256];
} cliframe;

/* NULL on failure with the reason (naming the file) in err; *damaged (may be NULL) is set when the file
 * could be read but its start is damaged (a bad dictionary frame) rather than unreadable. max_record
 * 0 = 256 MiB. */
cliframes *cliframes_open(const char *path, size_t max_record, char *err, size_t errlen, bool *damaged);
void cliframes_free(cliframes *w); /* NULL is a no-op */
int cliframes_next(cliframes *w, cliframe *f);
bool cliframes_has_dictionary(const cliframes *w);
bool cliframes_is_plain(const cliframes *w);
/* A .warc.gz: each "frame" is one gzip member, which may hold several records. */
bool cliframes_is_gzip(const cliframes *w);
uint64_t cliframes_file_size(const cliframes *w);
const char *cliframes_path(const cliframes *w);

#endif
