/* capture_dict: a prototype, not part of tapedeck. Measures how the per-segment dictionary choices of the
 * capture writer change the size of a .warc.zst, on the records of a plain WARC (`tapedeck-capture cat`
 * of the bench's capture), compressing each record into its own frame (content size, checksum,
 * dictionary id) exactly as the warc-zstd convention wants, plus the dictionary frame.
 *
 * Usage: capture_dict FILE.warc GZIP_BYTES
 * GZIP_BYTES is the size of the same traffic as a gzip -6 GoReplay stream: the yardstick (ratio 1.0).
 * Prints one table row per variant: trainer, training records, dictionary size, level, extras, bytes per
 * exchange (dictionary frame included), ratio to gzip, training time. Run by `PROTO=1 scripts/bench/capture`. */
#define ZDICT_STATIC_LINKING_ONLY
#define ZSTD_STATIC_LINKING_ONLY
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zdict.h>
#include <zstd.h>

typedef struct rec {
    const char *p;
    size_t n;
} rec;

static rec *recs;
static size_t nrec;
static double gzip_bytes;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Splits a plain WARC into records (head, block of Content-Length bytes, CRLF CRLF). */
static int split(const char *d, size_t n)
{
    size_t off = 0, cap = 0;
    while (off < n) {
        const char *end = memmem(d + off, n - off, "\r\n\r\n", 4);
        if (!end)
            return -1;
        const char *cl = NULL;
        for (const char *l = d + off; l < end; l = (const char *)memchr(l, '\n', (size_t)(end - l)) + 1) {
            if (!strncasecmp(l, "Content-Length:", 15)) {
                cl = l + 15;
                break;
            }
            if (!memchr(l, '\n', (size_t)(end - l)))
                break;
        }
        if (!cl)
            return -1;
        size_t len = (size_t)(end + 4 - (d + off)) + strtoull(cl, NULL, 10) + 4;
        if (nrec == cap) {
            cap = cap ? cap * 2 : 4096;
            recs = realloc(recs, cap * sizeof *recs);
            if (!recs)
                return -1;
        }
        recs[nrec++] = (rec){d + off, len};
        off += len;
    }
    return 0;
}

/* A record without the WARC header lines whose names start with one of the '|'-separated prefixes in
 * fields, into buf: what those fields cost. */
static const char *strip_fields = "WARC-Payload-Digest:";
static size_t strip_digest(const rec *r, char *buf)
{
    const char *end = memmem(r->p, r->n, "\r\n\r\n", 4) + 2, *l = r->p;
    size_t k = 0;
    while (l < end) {
        const char *nl = memchr(l, '\n', (size_t)(end - l)) + 1;
        int drop = 0;
        for (const char *f = strip_fields; *f;) {
            size_t fl = strcspn(f, "|");
            if ((size_t)(nl - l) > fl && !strncasecmp(l, f, fl))
                drop = 1;
            f += fl + (f[fl] == '|');
        }
        if (!drop) {
            memcpy(buf + k, l, (size_t)(nl - l));
            k += (size_t)(nl - l);
        }
        l = nl;
    }
    memcpy(buf + k, end, r->n - (size_t)(end - r->p));
    return k + r->n - (size_t)(end - r->p);
}

/* Only the HTTP message of a record (the block): the floor that WARC headers sit on top of. */
static size_t block_only(const rec *r, char *buf)
{
    const char *end = memmem(r->p, r->n, "\r\n\r\n", 4) + 4;
    size_t n = r->n - (size_t)(end - r->p) - 4;
    memcpy(buf, end, n);
    return n;
}

/* T_PREFIX is no dictionary at all but the floor of one frame per record: each record compressed with
 * the previous 64 KiB of the stream as its prefix (what a dictionary could at best hold; impossible in a
 * file, whose one dictionary is fixed at its start). */
enum trainer { T_NONE, T_LEGACY, T_FASTCOVER_OPT, T_RAW, T_RAW_FINAL, T_PREFIX };
static const char *const TNAME[] = {"none", "ZDICT_trainFromBuffer", "optimize_fastCover", "raw content",
                                    "raw, finalized", "floor: last 64K prefix"};

typedef struct variant {
    enum trainer t;
    size_t train; /* records (after warcinfo) to train on */
    size_t dict_kb;
    int level;
    int strip; /* 1 = without WARC-Payload-Digest, 2 = HTTP blocks only, 3 = dictionary id < 65536 (2 bytes
                * in each frame header instead of 4), 4 = no frame checksum (not allowed: its cost only) */
    int ldm;   /* long-distance matching and windowLog 27 */
    const char *fields; /* strip == 1: the fields left out (default: WARC-Payload-Digest) */
} variant;

static void run(const variant *v)
{
    static char tmp[1 << 24], tmp2[1 << 24];
    size_t dsz = v->dict_kb * 1024, used = 0, total = 0;
    strip_fields = v->fields ? v->fields : "WARC-Payload-Digest:";
    char *dict = malloc(dsz ? dsz : 1), *samples = malloc((size_t)64 << 20);
    size_t *sizes = malloc(nrec * sizeof *sizes);
    /* The samples: the first records after warcinfo, each cut at 16 KiB, as capwriter does. */
    for (size_t i = 1; i <= v->train && i < nrec; i++) {
        size_t n = v->strip == 1 ? strip_digest(&recs[i], tmp) : v->strip == 2 ? block_only(&recs[i], tmp) : recs[i].n;
        const char *p = v->strip == 1 || v->strip == 2 ? tmp : recs[i].p;
        n = n < 16384 ? n : 16384;
        memcpy(samples + total, p, n);
        sizes[used++] = n;
        total += n;
    }
    double t0 = now_s();
    size_t dlen = 0;
    ZDICT_params_t zp = {.compressionLevel = v->level, .notificationLevel = 0, .dictID = v->strip == 3 ? 40503 : 0x7a9e3c11};
    if (v->t == T_LEGACY) {
        dlen = ZDICT_trainFromBuffer(dict, dsz, samples, sizes, (unsigned)used);
    } else if (v->t == T_FASTCOVER_OPT) {
        ZDICT_fastCover_params_t fp;
        memset(&fp, 0, sizeof fp);
        fp.zParams = zp;
        fp.nbThreads = 1;
        fp.splitPoint = 1.0;
        fp.steps = 8;
        dlen = ZDICT_optimizeTrainFromBuffer_fastCover(dict, dsz, samples, sizes, (unsigned)used, &fp);
    } else if (v->t == T_RAW || v->t == T_RAW_FINAL) {
        /* Raw content: the most recent training bytes (zstd matches nearer the end cost less). */
        size_t take = total < dsz ? total : dsz;
        if (v->t == T_RAW) {
            memcpy(dict, samples + total - take, take);
            dlen = take;
        } else {
            dlen = ZDICT_finalizeDictionary(dict, dsz, samples + total - take, take, samples, sizes, (unsigned)used, zp);
        }
    }
    double train_ms = (now_s() - t0) * 1000;
    if (v->t != T_NONE && v->t != T_PREFIX && (ZDICT_isError(dlen) || dlen == 0)) {
        printf("  %-22s %5zu %5zu %3d  train failed: %s\n", TNAME[v->t], v->train, v->dict_kb, v->level,
               ZDICT_isError(dlen) ? ZDICT_getErrorName(dlen) : "empty");
        goto done;
    }
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CDict *cd = NULL;
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, v->level);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, v->strip != 4);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
    if (v->ldm) {
        ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, 1);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 27);
    }
    size_t out = 0, dframe = 0;
    if (v->t != T_NONE && v->t != T_PREFIX) {
        /* The dictionary frame: 8-byte skippable header + the dictionary, zstd -9 compressed. */
        out += dframe = 8 + ZSTD_compress(tmp2, sizeof tmp2, dict, dlen, 9);
        if (v->t == T_RAW) {
            cd = ZSTD_createCDict_advanced(dict, dlen, ZSTD_dlm_byRef, ZSTD_dct_rawContent,
                                           ZSTD_getCParams(v->level, 0, dlen), ZSTD_defaultCMem);
        } else {
            cd = ZSTD_createCDict(dict, dlen, v->level);
        }
        ZSTD_CCtx_refCDict(cc, cd);
    }
    size_t in_bytes = 0;
    double c0 = now_s();
    for (size_t i = 0; i < nrec; i++) {
        size_t n = v->strip == 1 ? strip_digest(&recs[i], tmp) : v->strip == 2 ? block_only(&recs[i], tmp) : recs[i].n;
        const char *p = v->strip == 1 || v->strip == 2 ? tmp : recs[i].p;
        if (v->t == T_PREFIX && v->strip == 0) {
            size_t start = (size_t)(recs[i].p - recs[0].p), k = start < 65536 ? start : 65536;
            ZSTD_CCtx_refPrefix(cc, recs[i].p - k, k);
        }
        size_t r = ZSTD_compress2(cc, tmp2, sizeof tmp2, p, n);
        if (ZSTD_isError(r)) {
            fprintf(stderr, "compress: %s\n", ZSTD_getErrorName(r));
            exit(2);
        }
        out += r;
        in_bytes += n;
    }
    double mbps = (double)in_bytes / (now_s() - c0) / 1e6;
    double ex = (double)(nrec - 1) / 2;
    static const char *const EXTRA[] = {"-", "no payload digest", "HTTP blocks only", "2-byte dict id",
                                        "no checksum"};
    char extra[64];
    snprintf(extra, sizeof extra, "%s", v->ldm ? "LDM, windowLog 27" : v->fields ? v->fields : EXTRA[v->strip]);
    if (v->fields && strlen(v->fields) > 80)
        snprintf(extra, sizeof extra, "no digest/ids/dates/times");
    else if (v->fields)
        snprintf(extra, sizeof extra, "no %.*s", (int)strcspn(v->fields + 5, ":|"), v->fields + 5);
    printf("  %-22s %5zu %5zu %3d  %-17s %8.1f %8.1f %6.3f %8.1f %7.1f\n", TNAME[v->t], v->t ? v->train : 0,
           v->t ? v->dict_kb : 0, v->level, extra, (double)out / ex,
           (double)dframe / ex, (double)out / gzip_bytes, train_ms, mbps);
    ZSTD_freeCDict(cd);
    ZSTD_freeCCtx(cc);
done:
    free(dict);
    free(samples);
    free(sizes);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: capture_dict FILE.warc GZIP_BYTES\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    static char buf[(size_t)256 << 20];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (!f || split(buf, n) < 0 || nrec < 3) {
        fprintf(stderr, "capture_dict: %s: not a plain WARC\n", argv[1]);
        return 2;
    }
    fclose(f);
    gzip_bytes = atof(argv[2]);
    /* ONLY_VARIANTS=",0,5," runs those rows (0-based) only. */
    const char *only = getenv("ONLY_VARIANTS");
    printf("%zu exchanges; gzip -6 GoReplay = %.1f B/exch\n", (nrec - 1) / 2, gzip_bytes / ((double)(nrec - 1) / 2));
    printf("  %-22s %5s %5s %3s  %-17s %8s %8s %6s %8s %7s\n", "trainer", "recs", "KiB", "lvl", "extra", "B/exch",
           "dict B/x", "vs gz", "train ms", "MB/s in");
    const variant vs[] = {
        {T_NONE, 0, 0, 3, 0, 0, NULL},
        {T_LEGACY, 200, 32, 3, 0, 0, NULL}, /* capwriter today */
        {T_LEGACY, 200, 32, 1, 0, 0, NULL},
        {T_LEGACY, 200, 32, 9, 0, 0, NULL},
        {T_LEGACY, 200, 32, 19, 0, 0, NULL},
        {T_LEGACY, 200, 32, 3, 0, 1, NULL},
        {T_LEGACY, 200, 16, 3, 0, 0, NULL},
        {T_LEGACY, 200, 64, 3, 0, 0, NULL},
        {T_LEGACY, 200, 112, 3, 0, 0, NULL},
        {T_LEGACY, 1000, 32, 3, 0, 0, NULL},
        {T_LEGACY, 1000, 112, 3, 0, 0, NULL},
        {T_LEGACY, 2000, 112, 3, 0, 0, NULL},
        {T_LEGACY, 2000, 256, 3, 0, 0, NULL},
        {T_FASTCOVER_OPT, 200, 32, 3, 0, 0, NULL},
        {T_FASTCOVER_OPT, 1000, 112, 3, 0, 0, NULL},
        {T_FASTCOVER_OPT, 2000, 256, 3, 0, 0, NULL},
        {T_RAW, 200, 32, 3, 0, 0, NULL},
        {T_RAW, 200, 112, 3, 0, 0, NULL},
        {T_RAW, 1000, 256, 3, 0, 0, NULL},
        {T_RAW_FINAL, 200, 32, 3, 0, 0, NULL},
        {T_RAW_FINAL, 200, 112, 3, 0, 0, NULL},
        {T_RAW_FINAL, 1000, 256, 3, 0, 0, NULL},
        {T_RAW_FINAL, 1000, 256, 9, 0, 0, NULL},
        {T_RAW_FINAL, 2000, 1024, 9, 0, 0, NULL},
        {T_LEGACY, 200, 32, 3, 1, 0, NULL},
        {T_RAW_FINAL, 1000, 256, 3, 1, 0, NULL},
        {T_LEGACY, 200, 32, 3, 2, 0, NULL},
        {T_RAW_FINAL, 1000, 256, 3, 2, 0, NULL},
        {T_RAW_FINAL, 1000, 256, 3, 3, 0, NULL},
        {T_RAW_FINAL, 1000, 256, 3, 4, 0, NULL},
        {T_NONE, 0, 0, 3, 2, 0, NULL},
        {T_NONE, 0, 0, 19, 2, 0, NULL},
        {T_PREFIX, 0, 0, 3, 0, 0, NULL},
        /* What each group of WARC fields costs, with the writer's dictionary as it is today. */
        {T_LEGACY, 200, 32, 3, 1, 0, "WARC-Record-ID:|WARC-Concurrent-To:"},
        {T_LEGACY, 200, 32, 3, 1, 0, "WARC-Date:"},
        {T_LEGACY, 200, 32, 3, 1, 0, "WARC-Tapedeck-Request-Start:|WARC-Tapedeck-Response-"},
        {T_LEGACY, 200, 32, 3, 1, 0, "WARC-Target-URI:"},
        {T_LEGACY, 200, 32, 3, 1, 0, "WARC-Tapedeck-Conn:|WARC-Tapedeck-Seq:|WARC-Tapedeck-Client:"},
        {T_LEGACY, 200, 32, 3, 1, 0, "WARC-Payload-Digest:|WARC-Record-ID:|WARC-Concurrent-To:|WARC-Date:|WARC-Tapedeck-Request-Start:|WARC-Tapedeck-Response-"},
        /* The best that keeps today's records, and with the digest left out too. */
        {T_RAW_FINAL, 1000, 256, 6, 0, 0, NULL},
        {T_RAW_FINAL, 2000, 1024, 6, 0, 0, NULL},
        {T_RAW_FINAL, 2000, 1024, 9, 1, 0, NULL},
    };
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        char key[16];
        snprintf(key, sizeof key, ",%zu,", i);
        if (only && !strstr(only, key))
            continue;
        run(&vs[i]);
        fflush(stdout);
    }
    return 0;
}
