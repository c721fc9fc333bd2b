/* capwriter_dict: the per-segment dictionary. A segment's first records are held (at most dict_records,
 * never more than a second), a dictionary is trained on them with ZDICT, and the file then starts with the
 * dictionary in a skippable frame (magic 0x184D2A5D, its content a zstd frame holding the dictionary, as
 * the warc-zstd convention allows), the warcinfo record, and the held records, each in its own frame. */
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#include "capwriter_int.h"

#define CW_DICT_MAGIC 0x184D2A5Du
#define CW_MIN_SAMPLES 8
#define CW_MAX_SAMPLE ((size_t)16 << 10) /* bytes of one record used for training */
#define CW_MAX_TRAIN ((size_t)2 << 20)   /* bytes of samples in all */

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

int cw_hold_exchange(capwriter *w, char *err, size_t errlen)
{
    size_t before = w->hold.len, n_before = w->n_held;
    int ok = tdbuf_append(&w->hold, w->req.data, w->req.len) == TDBUF_OK && cw_hold_add_size(w, w->req.len);
    if (ok && w->resp.len)
        ok = tdbuf_append(&w->hold, w->resp.data, w->resp.len) == TDBUF_OK && cw_hold_add_size(w, w->resp.len);
    if (!ok) {
        /* Over the hold cap (or no memory): train on what we have and write this exchange directly. */
        w->hold.len = before;
        w->n_held = n_before;
        int rc = cw_release_hold(w, err, errlen);
        if (rc)
            return rc;
        w->frames.len = 0;
        rc = cw_compress_record(w, w->req.data, w->req.len, &w->frames);
        if (!rc && w->resp.len)
            rc = cw_compress_record(w, w->resp.data, w->resp.len, &w->frames);
        if (!rc)
            rc = cw_emit_frames(w, &w->frames, w->resp.len ? 2 : 1, err, errlen);
        if (!rc) {
            w->st.exchanges++;
            w->seg_exchanges++;
        }
        return rc;
    }
    w->held_exchanges++;
    if (w->n_held - 1 >= w->dict_records)
        return cw_release_hold(w, err, errlen);
    return CAPWRITER_OK;
}

/* Train on the held records (all but the warcinfo). Only a prefix of each record is used, and the total
 * is capped, so training stays in the tens of milliseconds even when the first records carry large
 * bodies: heads and envelopes are what repeat. Keeps the previous dictionary when training is not
 * possible or fails. */
static void cw_train(capwriter *w)
{
    size_t n = w->n_held - 1;
    if (n < CW_MIN_SAMPLES)
        return;
    void *buf = malloc(w->dict_size);
    size_t *sizes = malloc(n * sizeof *sizes);
    tdbuf samples;
    tdbuf_init(&samples, CW_MAX_TRAIN);
    size_t off = w->held_sizes[0], used = 0;
    for (size_t i = 0; buf && sizes && i < n; i++) {
        size_t len = w->held_sizes[i + 1];
        size_t take = len < CW_MAX_SAMPLE ? len : CW_MAX_SAMPLE;
        if (tdbuf_append(&samples, w->hold.data + off, take) != TDBUF_OK)
            break;
        sizes[used++] = take;
        off += len;
    }
    size_t len = 0;
    if (buf && sizes && used >= CW_MIN_SAMPLES)
        len = ZDICT_trainFromBuffer(buf, w->dict_size, samples.data, sizes, (unsigned)used);
    tdbuf_free(&samples);
    free(sizes);
    ZSTD_CDict *cd = NULL;
    if (buf && len > 0 && !ZDICT_isError(len))
        cd = ZSTD_createCDict(buf, len, w->level);
    if (!cd) {
        free(buf);
        return;
    }
    ZSTD_freeCDict(w->cdict);
    free(w->dict);
    w->cdict = cd;
    w->dict = buf;
    w->dict_len = len;
}

/* The skippable frame holding the (zstd-compressed) dictionary, appended to out. */
static int cw_dict_frame(capwriter *w, tdbuf *out)
{
    size_t bound = ZSTD_compressBound(w->dict_len);
    if (tdbuf_reserve(out, 8 + bound) != TDBUF_OK)
        return CAPWRITER_ENOMEM;
    unsigned char *p = (unsigned char *)out->data + out->len;
    size_t n = ZSTD_compress(p + 8, bound, w->dict, w->dict_len, 9);
    if (ZSTD_isError(n))
        return CAPWRITER_ENOMEM;
    uint32_t m = CW_DICT_MAGIC, s = (uint32_t)n;
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(m >> (8 * i));
        p[4 + i] = (unsigned char)(s >> (8 * i));
    }
    out->len += 8 + n;
    return CAPWRITER_OK;
}

int cw_release_hold(capwriter *w, char *err, size_t errlen)
{
    int rc = CAPWRITER_OK;
    w->holding = 0;
    if (w->n_held == 0)
        return rc;
    if (!w->no_dict)
        cw_train(w);
    /* From here on this segment's frames use the dictionary (or none). */
    ZSTD_CCtx_refCDict(w->cctx, w->no_dict ? NULL : w->cdict);
    w->hdr.len = 0;
    if (!w->no_dict && w->cdict)
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
    }
    w->held_exchanges = 0;
    w->hold.len = 0;
    w->n_held = 0;
    return rc;
}
