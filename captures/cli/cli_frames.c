/* cli_frames: see cli_frames.h. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader and ZSTD_frameHeader */
#include "cli_frames.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "warc.h"

enum { DEFAULT_MAX_RECORD = 256 * 1024 * 1024, MAX_DICT = 16 * 1024 * 1024 };
#define ZSTD_MAGIC 0xFD2FB528u

struct cliframes {
    char *path;
    const unsigned char *map;
    size_t size;
    size_t off;
    size_t max_record;
    bool plain, dict, gz;
    z_stream zs;
    bool zs_init;
    ZSTD_DCtx *dctx;
    ZSTD_DDict *ddict;
    char *buf;
    size_t cap;
};

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool is_skippable(uint32_t m)
{
    return (m & 0xFFFFFFF0u) == 0x184D2A50u;
}

/* The skippable frame's content is the dictionary, itself zstd-compressed or not (the warc-zstd spec
 * allows both). */
static int load_dict(cliframes *w, const unsigned char *data, size_t n, char *err, size_t errlen)
{
    void *plain = NULL;
    if (n >= 4 && le32(data) == ZSTD_MAGIC) {
        unsigned long long dn = ZSTD_getFrameContentSize(data, n);
        if (dn == ZSTD_CONTENTSIZE_ERROR || dn == ZSTD_CONTENTSIZE_UNKNOWN || dn == 0 || dn > MAX_DICT) {
            snprintf(err, errlen, "%s: offset 8: the compressed dictionary has no valid content size", w->path);
            return -1;
        }
        plain = malloc((size_t)dn);
        if (!plain) {
            snprintf(err, errlen, "%s: out of memory", w->path);
            return -1;
        }
        size_t got = ZSTD_decompress(plain, (size_t)dn, data, n);
        if (ZSTD_isError(got) || got != dn) {
            snprintf(err, errlen, "%s: offset 8: the compressed dictionary does not decompress: %s", w->path,
                     ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch");
            free(plain);
            return -1;
        }
        data = plain;
        n = (size_t)dn;
    }
    w->ddict = ZSTD_createDDict(data, n);
    free(plain);
    if (!w->ddict) {
        snprintf(err, errlen, "%s: offset 0: the dictionary frame does not hold a valid dictionary", w->path);
        return -1;
    }
    return 0;
}

cliframes *cliframes_open(const char *path, size_t max_record, char *err, size_t errlen, bool *damaged)
{
    if (damaged)
        *damaged = false;
    cliframes *w = calloc(1, sizeof *w);
    int fd = -1;
    struct stat st;
    if (!w || !(w->path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    w->max_record = max_record ? max_record : DEFAULT_MAX_RECORD;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        goto fail;
    }
    w->size = (size_t)st.st_size;
    if (w->size) {
        void *m = mmap(NULL, w->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
            goto fail;
        }
        w->map = m;
    }
    close(fd);
    fd = -1;
    size_t lead = 0; /* blank lines before the first record, as the reader allows */
    while (lead < w->size && (w->map[lead] == '\r' || w->map[lead] == '\n'))
        lead++;
    if (w->size - lead >= 5 && !memcmp(w->map + lead, "WARC/", 5)) {
        w->plain = true;
        return w;
    }
    if (w->size >= 2 && w->map[0] == 0x1f && w->map[1] == 0x8b) {
        if (inflateInit2(&w->zs, 16 + MAX_WBITS) != Z_OK) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        w->zs_init = w->gz = true;
        return w;
    }
    bool zstd_name = strstr(path, ".zst") != NULL;
    if (w->size >= 4 && !zstd_name && le32(w->map) != ZSTD_MAGIC && !is_skippable(le32(w->map))) {
        /* neither WARC, gzip nor zstd, and not named as a zstd capture: not damage, another kind of file */
        snprintf(err, errlen, "%s: not a capture file (neither WARC, gzip nor zstd)", path);
        goto fail;
    }
    w->dctx = ZSTD_createDCtx();
    if (!w->dctx) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    if (w->size >= 8 && le32(w->map) == WARC_ZSTD_DICT_MAGIC) {
        size_t n = le32(w->map + 4);
        if (n > w->size - 8) {
            snprintf(err, errlen, "%s: offset 0: dictionary frame runs past the end of the file", path);
            if (damaged)
                *damaged = true;
            goto fail;
        }
        if (load_dict(w, w->map + 8, n, err, errlen) != 0) {
            if (damaged)
                *damaged = true;
            goto fail;
        }
        w->dict = true;
        w->off = 8 + n;
    }
    return w;
fail:
    if (fd >= 0)
        close(fd);
    cliframes_free(w);
    return NULL;
}

void cliframes_free(cliframes *w)
{
    if (!w)
        return;
    if (w->map)
        munmap((void *)w->map, w->size);
    ZSTD_freeDDict(w->ddict);
    ZSTD_freeDCtx(w->dctx);
    if (w->zs_init)
        inflateEnd(&w->zs);
    free(w->buf);
    free(w->path);
    free(w);
}

bool cliframes_has_dictionary(const cliframes *w)
{
    return w->dict;
}

bool cliframes_is_plain(const cliframes *w)
{
    return w->plain;
}

bool cliframes_is_gzip(const cliframes *w)
{
    return w->gz;
}

uint64_t cliframes_file_size(const cliframes *w)
{
    return w->size;
}

const char *cliframes_path(const cliframes *w)
{
    return w->path;
}

/* After a damaged frame whose size cannot be known: the next zstd frame magic after `from`, or the end. */
static size_t resync(const cliframes *w, size_t from)
{
    static const unsigned char magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    const void *p = from < w->size ? memmem(w->map + from, w->size - from, magic, 4) : NULL;
    return p ? (size_t)((const unsigned char *)p - w->map) : w->size;
}

static int corrupt(cliframes *w, cliframe *f, size_t next, const char *what, const char *detail)
{
    snprintf(f->msg, sizeof f->msg, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    f->csize = next - f->offset;
    w->off = next;
    return CLIFRAMES_CORRUPT;
}

/* After a damaged gzip member: the next member header (magic and deflate method) after `from`. */
static size_t resync_gz(const cliframes *w, size_t from)
{
    static const unsigned char magic[3] = {0x1f, 0x8b, 0x08};
    const void *p = from < w->size ? memmem(w->map + from, w->size - from, magic, 3) : NULL;
    return p ? (size_t)((const unsigned char *)p - w->map) : w->size;
}

static int truncated(cliframes *w, cliframe *f, const char *what)
{
    snprintf(f->msg, sizeof f->msg, "%s", what);
    f->csize = w->size - w->off;
    w->off = w->size;
    return CLIFRAMES_TRUNCATED;
}

/* Room in the buffer for at least 64 KiB more after len bytes, up to the record limit: 0, or the
 * reason there is none. */
static const char *room(cliframes *w, size_t len)
{
    if (len + 65536 + 1 <= w->cap)
        return NULL;
    size_t ncap = w->cap ? w->cap * 2 : 1 << 20;
    if (ncap > w->max_record + 1)
        ncap = w->max_record + 1;
    if (ncap <= len + 1)
        return "record larger than the limit";
    char *nb = realloc(w->buf, ncap);
    if (!nb)
        return "out of memory for the record";
    w->buf = nb;
    w->cap = ncap;
    return NULL;
}

/* The frame of csize bytes decoded into len bytes of the buffer: handed out. */
static int frame_out(cliframes *w, cliframe *f, size_t len, size_t csize)
{
    w->buf[len] = '\0';
    f->data = w->buf;
    f->len = len;
    f->csize = csize;
    w->off += csize;
    return CLIFRAMES_RECORD;
}

/* One gzip member: its whole content (one record by the convention; a whole file in one member is
 * allowed too, up to the record limit). */
static int next_gzip(cliframes *w, cliframe *f)
{
    const unsigned char *p = w->map + w->off;
    size_t rest = w->size - w->off;
    if (rest < 2 || p[0] != 0x1f || p[1] != 0x8b) {
        if (rest < 10 && p[0] == 0x1f && (rest < 2 || p[1] == 0x8b))
            return truncated(w, f, "the file ends inside a gzip member header");
        return corrupt(w, f, resync_gz(w, w->off + 1), "not a gzip member (bad magic number)", NULL);
    }
    inflateReset(&w->zs);
    w->zs.next_in = (Bytef *)p;
    w->zs.avail_in = (uInt)(rest < UINT32_MAX ? rest : UINT32_MAX);
    size_t len = 0;
    for (;;) {
        const char *why = room(w, len);
        if (why)
            return corrupt(w, f, resync_gz(w, w->off + 1), "gzip member", why);
        w->zs.next_out = (Bytef *)w->buf + len;
        w->zs.avail_out = (uInt)(w->cap - len - 1);
        uInt before = w->zs.avail_out;
        int zr = inflate(&w->zs, Z_NO_FLUSH);
        len += before - w->zs.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && w->zs.avail_in == 0)
            return truncated(w, f, "the file ends inside a gzip member");
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return corrupt(w, f, resync_gz(w, w->off + 1), "damaged gzip member", w->zs.msg ? w->zs.msg : "bad data");
        if (zr == Z_OK && w->zs.avail_in == 0 && w->zs.avail_out != 0)
            return truncated(w, f, "the file ends inside a gzip member");
    }
    return frame_out(w, f, len, rest - w->zs.avail_in);
}

static int next_plain(cliframes *w, cliframe *f)
{
    while (w->off < w->size && (w->map[w->off] == '\r' || w->map[w->off] == '\n'))
        w->off++; /* blank lines between records (some writers add them) */
    f->offset = w->off;
    if (w->off >= w->size)
        return CLIFRAMES_END;
    size_t total = 0, rest = w->size - w->off;
    int m = warc_record_measure((const char *)w->map + w->off, rest, NULL, &total);
    const char *tail = NULL;
    size_t pad = m == 1 && total > rest ? warc_record_missing_trailer((const char *)w->map + w->off, rest, &tail) : 0;
    if (pad) { /* the last record without its trailing CRLF CRLF: readers complete it */
        if (rest + pad + 1 > w->cap) {
            char *nb = realloc(w->buf, rest + pad + 1);
            if (!nb)
                return corrupt(w, f, w->size, "out of memory for the record", NULL);
            w->buf = nb;
            w->cap = rest + pad + 1;
        }
        memcpy(w->buf, w->map + w->off, rest);
        memcpy(w->buf + rest, tail, pad);
        w->buf[rest + pad] = '\0';
        f->data = w->buf;
        f->len = rest + pad;
        f->csize = rest;
        w->off = w->size;
        return CLIFRAMES_RECORD;
    }
    if (m == 0 || (m == 1 && total > rest)) {
        snprintf(f->msg, sizeof f->msg, "the file ends inside a record (%zu bytes)", rest);
        f->csize = rest;
        w->off = w->size;
        return CLIFRAMES_TRUNCATED;
    }
    if (m < 0) {
        /* no way to find the next record reliably: the rest is unreadable */
        return corrupt(w, f, w->size, "not a WARC record head", NULL);
    }
    f->data = (const char *)w->map + w->off;
    f->len = total;
    f->csize = total;
    w->off += total;
    return CLIFRAMES_RECORD;
}

/* A zstd frame that does not say its content size: streamed into the buffer, up to the record limit. */
static int next_unsized(cliframes *w, cliframe *f, const unsigned char *p, size_t csize)
{
    size_t next = w->off + csize, len = 0;
    ZSTD_DCtx_reset(w->dctx, ZSTD_reset_session_only);
    if (ZSTD_isError(ZSTD_DCtx_refDDict(w->dctx, w->ddict)))
        return corrupt(w, f, next, "cannot use the dictionary", NULL);
    ZSTD_inBuffer in = {p, csize, 0};
    size_t ret = 1;
    while (ret != 0) {
        const char *why = room(w, len);
        if (why)
            return corrupt(w, f, next, why, NULL);
        ZSTD_outBuffer out = {w->buf + len, w->cap - len - 1, 0};
        ret = ZSTD_decompressStream(w->dctx, &out, &in);
        if (ZSTD_isError(ret))
            return corrupt(w, f, next, "frame does not decompress", ZSTD_getErrorName(ret));
        len += out.pos;
        if (ret != 0 && in.pos == in.size && out.pos == 0)
            return corrupt(w, f, next, "frame does not decompress", "it ends early");
    }
    return frame_out(w, f, len, csize);
}

int cliframes_next(cliframes *w, cliframe *f)
{
    memset(f, 0, sizeof *f);
    f->offset = w->off;
    if (w->off >= w->size)
        return CLIFRAMES_END;
    if (w->plain)
        return next_plain(w, f);
    if (w->gz)
        return next_gzip(w, f);
    const unsigned char *p = w->map + w->off;
    size_t rest = w->size - w->off;
    if (rest < 4) {
        snprintf(f->msg, sizeof f->msg, "the file ends inside a frame (%zu bytes)", rest);
        f->csize = rest;
        w->off = w->size;
        return CLIFRAMES_TRUNCATED;
    }
    uint32_t magic = le32(p);
    if (is_skippable(magic)) {
        if (rest < 8 || le32(p + 4) > rest - 8) {
            snprintf(f->msg, sizeof f->msg, "the file ends inside a skippable frame");
            f->csize = rest;
            w->off = w->size;
            return CLIFRAMES_TRUNCATED;
        }
        if (magic == WARC_ZSTD_DICT_MAGIC)
            return corrupt(w, f, w->off + 8 + le32(p + 4), "a dictionary frame after the start of the file",
                           NULL);
        w->off += 8 + le32(p + 4);
        return cliframes_next(w, f);
    }
    if (magic != ZSTD_MAGIC)
        return corrupt(w, f, resync(w, w->off + 1), "not a zstd frame (bad magic number)", NULL);
    ZSTD_frameHeader zfh;
    size_t hr = ZSTD_getFrameHeader(&zfh, p, rest);
    if (ZSTD_isError(hr))
        return corrupt(w, f, resync(w, w->off + 1), "bad frame header", ZSTD_getErrorName(hr));
    if (hr > 0) {
        snprintf(f->msg, sizeof f->msg, "the file ends inside a frame header");
        f->csize = rest;
        w->off = w->size;
        return CLIFRAMES_TRUNCATED;
    }
    size_t csize = ZSTD_findFrameCompressedSize(p, rest);
    if (ZSTD_isError(csize)) {
        if (ZSTD_getErrorCode(csize) == ZSTD_error_srcSize_wrong) {
            snprintf(f->msg, sizeof f->msg, "the file ends inside a frame (%zu of its bytes present)", rest);
            f->csize = rest;
            w->off = w->size;
            return CLIFRAMES_TRUNCATED;
        }
        return corrupt(w, f, resync(w, w->off + 1), "bad frame", ZSTD_getErrorName(csize));
    }
    size_t next = w->off + csize;
    f->no_checksum = !zfh.checksumFlag;
    if (zfh.dictID && !w->dict)
        return corrupt(w, f, next, "frame needs a dictionary the file does not carry", NULL);
    if (zfh.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN) {
        f->no_size = true;
        return next_unsized(w, f, p, csize);
    }
    if (zfh.frameContentSize > w->max_record)
        return corrupt(w, f, next, "record larger than the limit", NULL);
    size_t want = (size_t)zfh.frameContentSize;
    if (want + 1 > w->cap) {
        char *nb = realloc(w->buf, want + 1);
        if (!nb)
            return corrupt(w, f, next, "out of memory for the record", NULL);
        w->buf = nb;
        w->cap = want + 1;
    }
    size_t got = w->ddict ? ZSTD_decompress_usingDDict(w->dctx, w->buf, want, p, csize, w->ddict)
                          : ZSTD_decompressDCtx(w->dctx, w->buf, want, p, csize);
    if (ZSTD_isError(got))
        return corrupt(w, f, next, "frame does not decompress", ZSTD_getErrorName(got));
    if (got != want)
        return corrupt(w, f, next, "frame content shorter than its declared size", NULL);
    return frame_out(w, f, got, csize);
}
