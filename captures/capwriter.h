/* capwriter: writes exchanges into .warc.zst capture files, one zstd frame per WARC record.
 *
 * Two modes. Segments (opts.dir set): files PREFIX-YYYYMMDDTHHMMSSZ-NNNN.warc.zst.part in dir, renamed
 * without .part when closed, rotated by size, by age or on request. Single file (opts.path set): exactly
 * that file, no rotation, no rename (used by tools such as filter and merge).
 *
 * Each file begins (after the optional dictionary frame) with a warcinfo record. With a dictionary, the
 * writer holds the first records of a segment (at most dict_records or 2 MiB, and never longer than one
 * second from the first held exchange), builds a dictionary from them, writes it in a leading skippable frame, then the records. After
 * a rotation the dictionary is built at once from a bounded reservoir of the previous segment's records
 * (nothing held when it has enough); see docs/capture-format.md.
 *
 * Not thread-safe: one writer belongs to one thread at a time (it may be opened on one thread and then
 * handed to the writer thread). An idle segment that passes rotate_age is replaced by a fresh one rather
 * than closed, so idle proxies do not litter the folder with empty segments. */
#ifndef TAPEDECK_CAPWRITER_H
#define TAPEDECK_CAPWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "td_status.h"
#include "exchange.h"

typedef struct capwriter capwriter;

typedef struct capwriter_opts {
    const char *dir;    /* segment mode: the directory (must exist) */
    const char *prefix; /* segment name prefix; NULL = "tapedeck" */
    const char *path;   /* single-file mode: this path (dir must be NULL) */
    uint64_t rotate_bytes; /* rotate when a segment's compressed size passes this; 0 = never */
    int64_t rotate_age_us; /* rotate when a segment is this old; 0 = never */
    int level;             /* zstd level; 0 = 3 */
    int no_dictionary;     /* 1 = write plain frames that zstdcat reads without help */
    int no_payload_digest; /* 1 = records without WARC-Payload-Digest (optional in WARC 1.1) */
    size_t dict_records;   /* records to hold and build from; 0 = 2000 */
    size_t dict_size;      /* dictionary bytes at most; 0 = 1 MiB */
    /* warcinfo content: NULL fields are left out. */
    const char *software;  /* NULL = "tapedeck/VERSION" */
    const char *upstream;
    const char *info;      /* extra "key: value\r\n" lines, e.g. sampling */
    int defer_writes;      /* 1 = capwriter_write only queues frames in memory; capwriter_commit writes
                            * them with one pwrite (a busy writer: one syscall per batch, not per
                            * exchange). tick, flush, rotate and close commit too. */
} capwriter_opts;

typedef enum {
    CAPWRITER_OK = TD_OK,
    CAPWRITER_EIO = TD_EIO,       /* a write, fsync, open or rename failed (errno kept in the message) */
    CAPWRITER_ENOMEM = TD_ENOMEM,
    CAPWRITER_EINVAL = TD_EINVAL, /* bad options, or a record too large */
} capwriter_status;

/* Counters only cover what reached the file: exchanges held for dictionary training are counted when
 * they are written. write_errors counts failed writes (one failed write may lose several held
 * exchanges). */
typedef struct capwriter_stats {
    uint64_t records;      /* records durably handed to the kernel */
    uint64_t exchanges;
    uint64_t bytes_in;     /* uncompressed WARC bytes */
    uint64_t bytes_out;    /* compressed bytes written, all segments */
    uint64_t segments;     /* segments closed */
    uint64_t write_errors;
} capwriter_stats;

/* Opens the first file. NULL on failure with the reason in err. */
capwriter *capwriter_open(const capwriter_opts *opts, char *err, size_t errlen);
/* Append one exchange (request record, then response record). On CAPWRITER_EIO the exchange is lost,
 * the file is cut back to its last whole frame, and the next call tries again (a full disk that
 * frees up recovers by itself). */
int capwriter_write(capwriter *w, const exchange *x, char *err, size_t errlen);
/* defer_writes: writes every frame queued since the last commit in one pwrite, then rotates by size.
 * On CAPWRITER_EIO all of them are lost (the file is cut back to its last whole frame), as one
 * capwriter_write's exchange is without deferral. A no-op with nothing queued. */
int capwriter_commit(capwriter *w, char *err, size_t errlen);
/* Call often (the proxy: every 100 ms). Writes held records when their second is up, flushes to the
 * kernel and fdatasyncs at least once a second, rotates by age. */
int capwriter_tick(capwriter *w, char *err, size_t errlen);
/* Push everything held to the file and fdatasync. */
int capwriter_flush(capwriter *w, char *err, size_t errlen);
/* Close the current segment (rename it) and start the next. Segment mode only. */
int capwriter_rotate(capwriter *w, char *err, size_t errlen);
/* Flush, close, rename, free. Returns the status of the final flush; w is freed either way.
 * NULL is a no-op. */
int capwriter_close(capwriter *w, char *err, size_t errlen);
/* The file being written (with .part in segment mode). */
const char *capwriter_path(const capwriter *w);
void capwriter_get_stats(const capwriter *w, capwriter_stats *out);

#endif
