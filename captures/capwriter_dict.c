/* capwriter_dict: the per-segment dictionary. A segment's first records are held (at most dict_records or
 * CW_HOLD_BYTES, never more than a second), a dictionary is built from them and from a reservoir of the
 * previous segment's records, and the file then starts with the dictionary in a skippable frame (magic
 * 0x184D2A5D, its content a zstd frame holding the dictionary, as the warc-zstd convention allows), the
 * warcinfo record, and the held records, each in its own frame. When the reservoir alone is enough,
 * nothing is held. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createCDict_advanced2: a CDict by reference, with our parameters */
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#include "capwriter_int.h"
#include "td_assert.h"
#include "tdtime.h"
#include "warc.h"

#define CW_MIN_SAMPLES 8
#define CW_MAX_SAMPLE ((size_t)16 << 10) /* bytes of one record used for training */
#define CW_MAX_TRAIN ((size_t)2 << 20)   /* bytes of samples in all */
#define CW_DICT_FLOOR ((size_t)32 << 10) /* smallest dictionary the eighth-of-a-segment rule gives */
#define CW_DICT_HASHLOG 15 /* hash entries of the dictionary at level 1: see cw_use_dict */
#define CW_HOLD_BYTES ((size_t)2 << 20)  /* held bytes that end the hold (enough to build from) */
#define CW_SAMPLE_REACH 8e6 /* record bytes before a rotation that are sampled: 4 reservoirs */
#define CW_STAT_BYTES ((size_t)256 << 10) /* samples the entropy tables are fitted to */

int cw_hold_add_size(capwriter *w, size_t size)
{
    if (w->n_held == w->cap_held) {
        size_t ncap = w->cap_held ? w->cap_held * 2 : 64;
        size_t *n = realloc(w->held_sizes, ncap * sizeof *n);
        if (!n)
            return 0;
        w->held_sizes = n;
        w->cap_held = ncap;
    }
    w->held_sizes[w->n_held++] = size;
    return 1;
}

#ifdef TD_DEBUG
/* The held records' sizes add up to the held bytes: record i is at the sum of the sizes before it. */
static int hold_consistent(const capwriter *w)
{
    size_t sum = 0;
    for (size_t i = 0; i < w->n_held; i++)
        sum += w->held_sizes[i];
    return sum == w->hold.len && w->held_exchanges <= (w->n_held ? w->n_held - 1 : 0);
}
#endif

int cw_hold_exchange(capwriter *w, char *err, size_t errlen)
{
    TD_ASSERT(w->holding && w->n_held >= 1); /* record 0, the warcinfo, opens every hold */
#ifdef TD_DEBUG
    TD_ASSERT(hold_consistent(w));
#endif
    /* The second a hold may last starts with its first exchange, not when the segment opened: only
     * held exchanges are at risk in a crash, and a hold that ended on an idle first second (a proxy
     * started before its traffic) built no dictionary and left the whole segment plain - on small
     * JSON 3 to 4 times the bytes, and 2.6 times the writer's instructions an exchange (zstd building
     * fresh entropy tables for every frame instead of the dictionary's). */
    if (w->held_exchanges == 0)
        w->hold_start_mono = tdtime_mono_us();
    size_t before = w->hold.len, n_before = w->n_held;
    tdbuf *recs[2 + EXCHANGE_N_SHADOW];
    size_t nrec = cw_records(w, recs);
    int ok = 1;
    for (size_t i = 0; ok && i < nrec; i++)
        ok = tdbuf_append(&w->hold, recs[i]->data, recs[i]->len) == TDBUF_OK && cw_hold_add_size(w, recs[i]->len);
    if (!ok) {
        /* Over the hold cap (or no memory): train on what we have and write this exchange directly. */
        w->hold.len = before;
        w->n_held = n_before;
        int rc = cw_release_hold(w, err, errlen);
        return rc ? rc : cw_write_direct(w, err, errlen);
    }
    w->held_exchanges++;
    if (w->n_held - 1 >= w->dict_records || w->hold.len >= CW_HOLD_BYTES)
        return cw_release_hold(w, err, errlen);
    return CAPWRITER_OK;
}

/* Adds size to the sample list (sizes, n, cap); 1 = ok. */
static int cw_push_size(size_t **sizes, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        size_t *p = realloc(*sizes, ncap * sizeof *p);
        if (!p)
            return 0;
        *sizes = p;
        *cap = ncap;
    }
    (*sizes)[(*n)++] = size;
    return 1;
}

/* Keeps the first CW_MAX_SAMPLE bytes of a record in the reservoir. When the reservoir would pass its cap,
 * its older half is dropped: what stays is the most recent traffic, which is what the next segment will
 * look like, and a raw-content dictionary serves best with its most recent bytes at its end. */
void cw_sample(capwriter *w, const char *rec, size_t len)
{
    /* A record stored as raw blocks gains nothing from the dictionary, and random bytes in it would only
     * crowd out the records that do (and travel, incompressible, in every segment's dictionary frame). */
    if (w->no_dict || cw_incompressible(rec, len))
        return;
    size_t take = len < CW_MAX_SAMPLE ? len : CW_MAX_SAMPLE;
    if (w->resv.len + take > CW_RESV_LIMIT) {
        size_t drop = 0, k = 0;
        while (k < w->n_resv && (drop < w->resv.len / 2 || w->resv.len - drop + take > CW_RESV_LIMIT))
            drop += w->resv_sizes[k++];
        memmove(w->resv.data, w->resv.data + drop, w->resv.len - drop);
        w->resv.len -= drop;
        memmove(w->resv_sizes, w->resv_sizes + k, (w->n_resv - k) * sizeof *w->resv_sizes);
        w->n_resv -= k;
    }
    if (tdbuf_append(&w->resv, rec, take) != TDBUF_OK)
        return;
    if (!cw_push_size(&w->resv_sizes, &w->n_resv, &w->cap_resv, take))
        w->resv.len -= take; /* out of memory: the sample is simply not kept */
}

/* Records are sampled only where a next segment may be built from them: never in a single file (it does
 * not rotate); with a size or age limit, once the segment is within CW_SAMPLE_REACH of record bytes of
 * it (judged from the segment's ratio and rate so far); without limits always, since only an
 * unannounced rotation (SIGHUP) can come. One that comes outside the reach finds the reservoir short,
 * and the next segment holds its first second of records, as at startup. Copying every record's prefix
 * (and shifting the reservoir when full) was 3 % of the writer for records that were never used. */
int cw_sampling(const capwriter *w)
{
    if (w->no_dict || w->path)
        return 0;
    if (!w->rotate_bytes && !w->rotate_age_us)
        return 1;
    double in = (double)(w->st.bytes_in - w->seg_in_mark), out = (double)(w->good_size + w->pend.len);
    if (w->rotate_bytes &&
        (out <= 0 || in <= 0 || ((double)w->rotate_bytes - out) * in / out <= CW_SAMPLE_REACH))
        return 1;
    if (w->rotate_age_us) {
        double age = (double)(tdtime_mono_us() - w->seg_open_mono);
        if (age <= 0 || in <= 0 || ((double)w->rotate_age_us - age) * in / age <= CW_SAMPLE_REACH)
            return 1;
    }
    return 0;
}

int cw_resv_ready(const capwriter *w)
{
    return !w->no_dict && (w->n_resv >= w->dict_records || w->resv.len >= CW_HOLD_BYTES);
}

void cw_resv_free(capwriter *w)
{
    tdbuf_free(&w->resv);
    free(w->resv_sizes);
    w->resv_sizes = NULL;
    w->n_resv = w->cap_resv = 0;
}

/* The samples ZDICT_finalizeDictionary fits the entropy tables to: it compresses every one with the
 * dictionary, which took it 7 ms a segment on 2 MiB of samples (a sixth of the writer's time on the
 * capture bench). The tables should fit the records still to come, which find their templates in the
 * content but are not in it: samples inside the content match themselves whole and only skew the
 * tables towards long matches and few literals. So the newest samples that precede the content, up to
 * CW_STAT_BYTES (same bytes per exchange as all 2 MiB, a third of the time); when fewer than
 * CW_MIN_SAMPLES precede it, the first samples up to CW_STAT_BYTES. sizes/n describe data; pre is the
 * byte offset where the content starts. */
static void cw_stat_samples(const size_t *sizes, size_t n, size_t pre, size_t *first, size_t *count,
                            const char **start, const char *data)
{
    size_t k = 0, off = 0;
    while (k < n && off + sizes[k] <= pre)
        off += sizes[k++]; /* k: the first sample that reaches into the content */
    size_t i = k, bytes = 0;
    while (i > 0 && bytes + sizes[i - 1] <= CW_STAT_BYTES)
        bytes += sizes[--i];
    if (k - i >= CW_MIN_SAMPLES) {
        *first = i;
        *count = k - i;
        *start = data + off - bytes;
        return;
    }
    for (i = 0, bytes = 0; i < n && (i < CW_MIN_SAMPLES || bytes + sizes[i] <= CW_STAT_BYTES); i++)
        bytes += sizes[i];
    *first = 0;
    *count = i;
    *start = data;
}

/* Builds the dictionary from the reservoir (the previous segment's most recent records) followed by the
 * held records (this segment's first), at most CW_MAX_TRAIN bytes, the oldest left out first. The
 * dictionary is raw content (the last dict_size bytes of the samples: whole recent records, so a record
 * is mostly matched against one just like it) made a formatted zstd dictionary (magic, id, entropy
 * tables fitted to the samples) by ZDICT_finalizeDictionary, as the warc-zstd convention requires. This
 * takes milliseconds, where ZDICT_trainFromBuffer took a tenth of a second, and compresses better on
 * API traffic. Keeps the previous dictionary when there is too little to build from or building fails. */
static void cw_train(capwriter *w)
{
    size_t nh = w->n_held - 1, held_bytes = 0;
    size_t off = w->held_sizes[0];
    for (size_t i = 0; i < nh; i++) {
        size_t len = w->held_sizes[i + 1];
        held_bytes += len < CW_MAX_SAMPLE ? len : CW_MAX_SAMPLE;
    }
    /* The reservoir's newest samples that fit next to the held ones. */
    size_t room = held_bytes < CW_MAX_TRAIN ? CW_MAX_TRAIN - held_bytes : 0, first = w->n_resv, rbytes = 0;
    while (first > 0 && rbytes + w->resv_sizes[first - 1] <= room)
        rbytes += w->resv_sizes[--first];
    size_t n = (w->n_resv - first) + nh;
    if (n < CW_MIN_SAMPLES)
        return;
    void *buf = malloc(w->dict_size);
    /* The samples are read where they are when they already lie in one buffer as ZDICT wants them: only
     * the reservoir's, or only held records, none cut or left out (the first segment). Otherwise they
     * are gathered into one (2 MiB of copying and fresh pages a segment saved where they need not be). */
    int in_place = rbytes == 0;
    for (size_t i = 0; in_place && i < nh; i++) {
        size_t len = w->held_sizes[i + 1];
        in_place = len <= CW_MAX_SAMPLE && !cw_incompressible(w->hold.data + off, len);
        off += len;
    }
    off = w->held_sizes[0];
    size_t *sizes = NULL, used = 0, slen = 0;
    const size_t *ssizes = NULL;
    const char *sdata = NULL;
    tdbuf gathered;
    tdbuf_init(&gathered, rbytes + held_bytes);
    int ok = buf != NULL;
    if (ok && nh == 0) {
        sdata = w->resv.data + (w->resv.len - rbytes);
        slen = rbytes;
        ssizes = w->resv_sizes + first;
        used = w->n_resv - first;
    } else if (ok && in_place) {
        sdata = w->hold.data + off;
        slen = held_bytes;
        ssizes = w->held_sizes + 1;
        used = nh;
    } else if (ok) {
        ok = (sizes = malloc(n * sizeof *sizes)) && tdbuf_reserve(&gathered, rbytes + held_bytes) == TDBUF_OK;
        if (ok && rbytes) {
            tdbuf_append(&gathered, w->resv.data + (w->resv.len - rbytes), rbytes);
            for (size_t i = first; i < w->n_resv; i++)
                sizes[used++] = w->resv_sizes[i];
        }
        for (size_t i = 0; ok && i < nh; i++) {
            size_t len = w->held_sizes[i + 1];
            size_t take = len < CW_MAX_SAMPLE ? len : CW_MAX_SAMPLE;
            const char *rec = w->hold.data + off;
            off += len;
            if (cw_incompressible(rec, len))
                continue; /* as cw_sample: raw-block records take nothing from the dictionary */
            if (tdbuf_append(&gathered, rec, take) != TDBUF_OK)
                break;
            sizes[used++] = take;
        }
        sdata = gathered.data;
        slen = gathered.len;
        ssizes = sizes;
    }
    size_t len = 0;
    /* The dictionary travels in every segment: keep it to an eighth of what the last segment took in, so
     * small segments (slow traffic, frequent rotation) are not dominated by it. */
    size_t limit = w->dict_size;
    if (w->prev_seg_in && w->prev_seg_in / 8 < limit)
        limit = w->prev_seg_in / 8 > CW_DICT_FLOOR ? (size_t)(w->prev_seg_in / 8) : CW_DICT_FLOOR;
    if (limit > w->dict_size)
        limit = w->dict_size;
    if (ok && used >= CW_MIN_SAMPLES) {
        size_t content = slen < limit ? slen : limit;
        size_t sfirst = 0, nstat = used;
        const char *stat = sdata;
        cw_stat_samples(ssizes, used, slen - content, &sfirst, &nstat, &stat, sdata);
        ZDICT_params_t zp;
        memset(&zp, 0, sizeof zp);
        zp.compressionLevel = w->level;
        /* An id below 65536 takes 2 bytes in every frame header instead of 4 (4 bytes an exchange, ~1 %
         * of a small one); ids below 32768 are reserved, and any id works as long as the frames carry
         * the one in the segment's dictionary. Varied per dictionary so that frames from different
         * segments are not mistaken for each other. */
        zp.dictID = 32768 + (unsigned)((w->seq * 2654435761u + (uint64_t)w->seg_open_us) % 32768);
        len = ZDICT_finalizeDictionary(buf, limit, sdata + slen - content, content, stat, ssizes + sfirst,
                                       (unsigned)nstat, zp);
    }
    tdbuf_free(&gathered);
    free(sizes);
    if (!buf || len == 0 || ZDICT_isError(len)) {
        free(buf);
        return;
    }
    cw_drop_cdicts(w);
    free(w->dict);
    w->dict = buf;
    w->dict_len = len;
}

/* Drops the contexts' references to the dictionary and its digested forms (before w->dict changes). */
void cw_drop_cdicts(capwriter *w)
{
    for (int i = 0; i < 2; i++) {
        if (w->cctx[i])
            ZSTD_CCtx_refCDict(w->cctx[i], NULL);
        ZSTD_freeCDict(w->cdict[i]);
        w->cdict[i] = NULL;
        w->dict_loaded[i] = 0;
    }
}

/* Gives compression context `which` w->dict, digested once into a ZSTD_CDict (its hash table filled
 * over the whole content, the entropy tables read) that every frame after refers to. The CDict refers
 * to w->dict rather than copying it: a 1 MiB copy and its fresh pages a segment (and a context) saved;
 * cw_drop_cdicts lets go of it before w->dict is freed.
 * At level 1 zstd gives a 1 MiB dictionary 2^14 hash entries, one for every 64 bytes (later positions
 * overwrite earlier ones). On the capture bench's records 2^15 took the records from 305 to 302 bytes
 * per exchange, with 5 % less match-finding time (longer matches); 2^16 and 2^17 gave less. Without
 * payload digests the same corpus went the other way (2^14: 253.5, 2^15: 257.2): the best size depends
 * on the traffic, and the larger one is kept for records with digests, the default. Levels 2 and up
 * have 2^16 or more already. Records past CW_BIG_RECORD go to the second context, with zstd's own
 * tables: zstd copies the dictionary's tables into the context for every such frame, and on 64 KiB JSON
 * bodies 2^15 cost 4 % more bytes and more time. That context gets its CDict at its first such record. */
int cw_use_dict(capwriter *w, int which)
{
    if (w->no_dict || w->dict_loaded[which])
        return CAPWRITER_OK;
    int larger = !which && w->dict && w->level == 1 && !w->no_digest;
    ZSTD_CDict *cd = NULL;
    if (w->dict) {
        ZSTD_CCtx_params *p = ZSTD_createCCtxParams();
        if (p && !ZSTD_isError(ZSTD_CCtxParams_init(p, w->level)) &&
            !ZSTD_isError(ZSTD_CCtxParams_setParameter(p, ZSTD_c_checksumFlag, 1)) &&
            !ZSTD_isError(ZSTD_CCtxParams_setParameter(p, ZSTD_c_hashLog, larger ? CW_DICT_HASHLOG : 0)))
            cd = ZSTD_createCDict_advanced2(w->dict, w->dict_len, ZSTD_dlm_byRef, ZSTD_dct_auto, p,
                                            ZSTD_defaultCMem);
        ZSTD_freeCCtxParams(p);
        if (!cd)
            return CAPWRITER_ENOMEM;
    }
    if (ZSTD_isError(ZSTD_CCtx_refCDict(w->cctx[which], cd))) {
        ZSTD_freeCDict(cd);
        return CAPWRITER_ENOMEM;
    }
    ZSTD_freeCDict(w->cdict[which]);
    w->cdict[which] = cd;
    w->dict_loaded[which] = 1;
    return CAPWRITER_OK;
}

/* The skippable frame holding the (zstd-compressed) dictionary, appended to out. */
static int cw_dict_frame(capwriter *w, tdbuf *out)
{
    size_t bound = ZSTD_compressBound(w->dict_len);
    if (tdbuf_reserve(out, 8 + bound) != TDBUF_OK)
        return CAPWRITER_ENOMEM;
    unsigned char *p = (unsigned char *)out->data + out->len;
    /* The dictionary is a segment's first records, so it compresses well over a window that spans it
     * (level 9 took it to 96 KiB where level 1's smaller window left 108). Lazy matching (lazy2, one
     * probe per position) got 97.6 KiB in 5 ms a segment, a ninth of a 5000-exchange segment's writing;
     * the fast strategy over the same 1 MiB window, 2^16 hash entries and 7-byte matches gets 107 KiB
     * in 1.4 ms. Spent where it pays more: the segment's records (cw_use_dict) took back three times
     * the 9 KiB. */
    ZSTD_CCtx *c = ZSTD_createCCtx();
    if (!c)
        return CAPWRITER_ENOMEM;
    ZSTD_CCtx_setParameter(c, ZSTD_c_strategy, ZSTD_fast);
    ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 20);
    ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, 16);
    ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, 7);
    size_t n = ZSTD_compress2(c, p + 8, bound, w->dict, w->dict_len);
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(n))
        return CAPWRITER_ENOMEM;
    uint32_t m = WARC_ZSTD_DICT_MAGIC, s = (uint32_t)n;
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(m >> (8 * i));
        p[4 + i] = (unsigned char)(s >> (8 * i));
    }
    out->len += 8 + n;
    return CAPWRITER_OK;
}

int cw_release_hold(capwriter *w, char *err, size_t errlen)
{
#ifdef TD_DEBUG
    TD_ASSERT(hold_consistent(w));
#endif
    int rc = CAPWRITER_OK;
    w->holding = 0;
    if (w->n_held == 0)
        return rc;
    if (!w->no_dict) {
        cw_train(w);
        /* The reservoir now collects this segment's records, held ones first (below, once they are
         * written and the segment's ratio is known), for the next dictionary. */
        w->resv.len = 0;
        w->n_resv = 0;
    }
    /* From here on this segment's frames use the dictionary (or none). */
    rc = cw_use_dict(w, 0);
    w->hdr.len = 0;
    if (!rc && !w->no_dict && w->dict)
        rc = cw_dict_frame(w, &w->hdr);
    if (!rc)
        rc = cw_compress_record(w, w->hold.data, w->held_sizes[0], &w->hdr);
    w->frames.len = 0;
    size_t off = w->held_sizes[0];
    for (size_t i = 1; !rc && i < w->n_held; i++) {
        rc = cw_compress_record(w, w->hold.data + off, w->held_sizes[i], &w->frames);
        off += w->held_sizes[i];
    }
    if (!rc && (w->frames.len > 0 || w->hdr.len > 0))
        rc = cw_emit_frames(w, &w->frames, w->n_held - 1, err, errlen);
    else if (rc && err && errlen)
        strncpy(err, "capture writer: compression failed (out of memory)", errlen - 1), err[errlen - 1] = '\0';
    if (!rc) {
        w->st.exchanges += w->held_exchanges;
        w->seg_exchanges += w->held_exchanges;
        int sampling = cw_sampling(w);
        off = w->held_sizes[0];
        for (size_t i = 1; sampling && i < w->n_held; i++) {
            cw_sample(w, w->hold.data + off, w->held_sizes[i]);
            off += w->held_sizes[i];
        }
    }
    w->held_exchanges = 0;
    w->hold.len = 0;
    w->n_held = 0;
    return rc;
}
