/* cli_verify: checks every frame and every record of the captures, independently of the reader the
 * other commands use: the zstd convention (one frame per record, content size, checksum, the dictionary),
 * the WARC records (one per frame, parseable, warcinfo first, request/response pairing, payload
 * digests), and says how much is readable around any damage. */
#include "cli_verify.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capreader.h"
#include "cli_digest.h"
#include "cli_frames.h"
#include "cli_util.h"
#include "httpmsg.h"
#include "tdtime.h"
#include "warc.h"

const char cli_verify_help[] =
    "Usage: tapedeck-capture verify [options] CAPTURE...\n"
    "\n"
    "Checks every frame and every record of the captures: each zstd frame decodes, carries its content\n"
    "size and checksum and holds exactly one WARC record (each gzip member of a .warc.gz decodes with\n"
    "its CRC); the dictionary frame, when there is one, is valid; records parse, a .warc.zst starts\n"
    "with a warcinfo record, requests and responses pair up by WARC-Concurrent-To (either order), a\n"
    "request without a response says why (WARC-Tapedeck-Error), payload and block digests (sha1 or\n"
    "sha256; base32, base16 or base64) match, and no response ends before its first byte. Damage is\n"
    "reported with the file and byte offset, and the walk goes on past a damaged frame to say how\n"
    "much of the file is readable. Records that are not exchanges (metadata, resource, revisit, ...)\n"
    "are counted on stderr.\n"
    "\n"
    "A cut-off last frame in a .part file (a segment still being written, or left by a crash) is\n"
    "reported but is not damage: readers skip it. In a closed file (renamed without .part) it is\n"
    "damage.\n"
    "\n"
    "Options:\n"
    "  -q, --quiet    print only problems and the summary line\n"
    "  -h, --help     show this help\n"
    "\n"
    "Exit status: 0 every file is sound; 1 damage found; 2 bad arguments or a file that cannot be\n"
    "opened.\n";

enum { MAX_PROBLEM_LINES = 20, /* per file; the summary line counts them all */
       VPEND = 64 };          /* records waiting for their partner, as the reader's look-ahead */

/* A request or response waiting for its partner: pairing goes by WARC-Concurrent-To whichever
 * record comes first, as the reader pairs them. */
typedef struct vpend {
    char id[128], to[128], uri[256];
    bool is_req, has_error;
    int64_t start_us; /* request: WARC-Tapedeck-Request-Start */
    uint64_t off;
} vpend;

typedef struct vstate {
    const char *path;
    uint64_t records, exchanges, damaged, damaged_bytes, problems;
    vpend pend[VPEND];
    size_t npend;
    char paired[VPEND][128]; /* the last requests paired: more responses to them are shadows' */
    size_t paired_pos;
    capreader_skips skips;
    bool quiet, tapedeck; /* a .warc.zst: tapedeck's own conventions apply (warcinfo first) */
} vstate;

static void problem(vstate *v, uint64_t off, const char *fmt, const char *a, const char *b)
{
    if (++v->problems > MAX_PROBLEM_LINES) {
        if (v->problems == MAX_PROBLEM_LINES + 1)
            printf("%s: (more problems: only the first %d are listed)\n", v->path, MAX_PROBLEM_LINES);
        return;
    }
    printf("%s: offset %" PRIu64 ": ", v->path, off);
    printf(fmt, a ? a : "", b ? b : "");
    putchar('\n');
}

/* Each WARC-Tapedeck-* field appears once per record (some WARC readers refuse repeated fields). */
static const char *repeated_field(const warc_record *rec)
{
    for (size_t i = 0; i < rec->n_fields; i++) {
        if (strncasecmp(rec->fields[i].name, "WARC-Tapedeck-", 14))
            continue;
        for (size_t k = i + 1; k < rec->n_fields; k++)
            if (!strcasecmp(rec->fields[i].name, rec->fields[k].name))
                return rec->fields[i].name;
    }
    return NULL;
}


/* The oldest waiting record leaves without a partner (the look-ahead is full, or the file ended). */
static void unpaired(vstate *v, size_t i, uint64_t off)
{
    vpend *p = &v->pend[i];
    /* Other writers may write a request without a response (a failed fetch) or responses only: not
     * damage, and readers list them (a response with a GET request made from its URI). tapedeck
     * always writes both, or says why not. */
    if (p->is_req && !p->has_error && v->tapedeck)
        problem(v, p->off, "request %s has no response and no WARC-Tapedeck-Error%s", p->id, NULL);
    else if (p->is_req && !v->tapedeck)
        v->exchanges++;
    else if (!p->is_req) {
        bool shadow = false;
        for (size_t k = 0; k < VPEND && !shadow; k++)
            shadow = p->to[0] && !strcmp(v->paired[k], p->to);
        if (!shadow && v->tapedeck)
            problem(v, p->off, "response %s: its request (WARC-Concurrent-To '%s') is not in the file", p->id, p->to);
        else if (!shadow)
            v->exchanges++;
    }
    memmove(&v->pend[i], &v->pend[i + 1], (v->npend - i - 1) * sizeof *v->pend);
    v->npend--;
    (void)off;
}

static void close_pending(vstate *v, uint64_t off)
{
    while (v->npend)
        unpaired(v, 0, off);
}

/* A request or response arrives: pair it with a waiting partner, or wait. */
static void pair_record(vstate *v, const warc_record *rec, bool is_req, uint64_t off)
{
    vpend n = {.is_req = is_req, .off = off};
    warc_strip_brackets(warc_record_get(rec, "WARC-Record-ID"), n.id, sizeof n.id);
    warc_strip_brackets(warc_record_get(rec, "WARC-Concurrent-To"), n.to, sizeof n.to);
    const char *uri = warc_record_get(rec, "WARC-Target-URI");
    snprintf(n.uri, sizeof n.uri, "%s", uri ? uri : "");
    n.has_error = is_req && warc_record_get(rec, "WARC-Tapedeck-Error") != NULL;
    const char *st = warc_record_get(rec, is_req ? "WARC-Tapedeck-Request-Start" : "WARC-Tapedeck-Response-First");
    n.start_us = st ? strtoll(st, NULL, 10) : 0;
    for (size_t i = 0; i < v->npend; i++) {
        vpend *p = &v->pend[i];
        if (p->is_req == is_req)
            continue;
        const vpend *q = is_req ? &n : p, *s = is_req ? p : &n;
        bool named = (s->to[0] && !strcmp(s->to, q->id)) || (q->to[0] && !strcmp(q->to, s->id));
        bool adjacent = i + 1 == v->npend && !s->to[0] && !q->to[0] && !strcmp(q->uri, s->uri);
        if (!named && !adjacent)
            continue;
        if (q->start_us && s->start_us && s->start_us < q->start_us)
            problem(v, off, "impossible timing: the response's first byte comes before its request started%s%s",
                    NULL, NULL);
        if (!q->has_error)
            v->exchanges++;
        snprintf(v->paired[v->paired_pos], sizeof v->paired[0], "%s", q->id);
        v->paired_pos = (v->paired_pos + 1) % VPEND;
        memmove(&v->pend[i], &v->pend[i + 1], (v->npend - i - 1) * sizeof *v->pend);
        v->npend--;
        return;
    }
    if (is_req && n.has_error) {
        v->exchanges++; /* an exchange whose upstream failed: complete without a response */
        snprintf(v->paired[v->paired_pos], sizeof v->paired[0], "%s", n.id);
        v->paired_pos = (v->paired_pos + 1) % VPEND;
        return;
    }
    if (v->npend == VPEND)
        unpaired(v, 0, off);
    v->pend[v->npend++] = n;
}

static void check_record(vstate *v, const cliframe *f, char *req_method, size_t req_method_sz)
{
    size_t total = 0;
    int m = warc_record_measure(f->data, f->len, NULL, &total);
    if (m != 1 || total > f->len) {
        problem(v, f->offset, "frame does not hold a whole WARC record%s%s", NULL, NULL);
        return;
    }
    if (total < f->len) {
        problem(v, f->offset, "frame holds more than one record (the convention is one per frame)%s%s", NULL, NULL);
        return;
    }
    warc_record rec;
    char err[256];
    if (warc_record_parse(&rec, f->data, f->len, err, sizeof err) != 0) {
        problem(v, f->offset, "record does not parse: %s%s", err, NULL);
        return;
    }
    v->records++;
    const char *type = warc_record_type(&rec), *id = warc_record_get(&rec, "WARC-Record-ID");
    const char *date = warc_record_get(&rec, "WARC-Date"), *rep = repeated_field(&rec);
    int64_t us;
    if (v->tapedeck && v->records == 1 && (!type || strcasecmp(type, "warcinfo")))
        problem(v, f->offset, "the first record is %s, not warcinfo%s", type ? type : "untyped", NULL);
    if (!id)
        problem(v, f->offset, "record without WARC-Record-ID%s%s", NULL, NULL);
    if (!date || tdtime_parse_iso(date, &us) != 0)
        problem(v, f->offset, "missing or bad WARC-Date '%s'%s", date ? date : "", NULL);
    if (rep)
        problem(v, f->offset, "field %s appears more than once%s", rep, NULL);
    bool is_req = type && !strcasecmp(type, "request"), is_resp = type && !strcasecmp(type, "response");
    const char *bd = warc_record_get(&rec, "WARC-Block-Digest");
    if (bd && cli_digest_value_matches(bd, rec.block ? rec.block : "", rec.block_len) == 0)
        problem(v, f->offset, "WARC-Block-Digest does not match the %s record's block%s", type ? type : "untyped", NULL);
    const char *tu = warc_record_get(&rec, "WARC-Target-URI");
    const char *ct = warc_record_get(&rec, "Content-Type");
    if ((is_req || is_resp) && ((tu && strncasecmp(tu + (*tu == '<'), "http", 4)) ||
                                (ct && strncasecmp(ct, "application/http", 16) && !v->tapedeck))) {
        v->skips.not_http++; /* dns: and whois: records (Heritrix): not an HTTP exchange */
        is_req = is_resp = false;
    } else if (!is_req && !is_resp) {
        capreader_skips *k = &v->skips;
        uint64_t *c = !type ? &k->other : !strcasecmp(type, "warcinfo") ? &k->warcinfo
                                      : !strcasecmp(type, "metadata")   ? &k->metadata
                                      : !strcasecmp(type, "resource")   ? &k->resource
                                      : !strcasecmp(type, "revisit")    ? &k->revisit
                                      : !strcasecmp(type, "conversion") ? &k->conversion
                                                                        : &k->other;
        (*c)++;
    }
    if (is_req || is_resp) {
        const char *want = is_req ? "msgtype=request" : "msgtype=response";
        if (!ct || strncasecmp(ct, "application/http", 16) || !strcasestr(ct, want))
            problem(v, f->offset, "Content-Type is '%s', expected application/http;%s", ct ? ct : "", want);
        if (!warc_record_get(&rec, "WARC-Target-URI"))
            problem(v, f->offset, "%s record without WARC-Target-URI%s", type, NULL);
    }
    if (is_req) {
        req_method[0] = '\0';
        httpmsg hm;
        if (httpmsg_parse(&hm, HTTPMSG_REQUEST, rec.block ? rec.block : "", rec.block_len, NULL, err,
                          sizeof err) == 0) {
            snprintf(req_method, req_method_sz, "%s", hm.head.method);
            httpmsg_clear(&hm);
        }
    }
    if (is_resp) {
        const char *a = warc_record_get(&rec, "WARC-Tapedeck-Response-First");
        const char *b = warc_record_get(&rec, "WARC-Tapedeck-Response-End");
        if (a && b && strtoll(b, NULL, 10) < strtoll(a, NULL, 10))
            problem(v, f->offset, "impossible timing: WARC-Tapedeck-Response-End %s is before Response-First %s", b, a);
    }
    if (is_req || is_resp)
        pair_record(v, &rec, is_req, f->offset);
    if ((is_req || is_resp) && cli_digest_matches(&rec, is_req, req_method[0] ? req_method : NULL) == 0)
        problem(v, f->offset, "WARC-Payload-Digest does not match the %s body%s", type, NULL);
    warc_record_clear(&rec);
}

/* Does the first record (a warcinfo) say tapedeck wrote the file? Its conventions (one record per frame, content
 * size and checksum, warcinfo first, every request answered or explained) are held only to its own
 * files; a .warc.zst of another writer is held to WARC and zstd. */
static bool tapedeck_warcinfo(const char *d, size_t n)
{
    warc_record rec;
    size_t total = 0;
    if (warc_record_measure(d, n, NULL, &total) != 1 || total > n || warc_record_parse(&rec, d, total, NULL, 0) != 0)
        return true;
    const char *t = warc_record_type(&rec);
    bool ours = t && !strcasecmp(t, "warcinfo") && rec.block &&
                memmem(rec.block, rec.block_len, "software: tapedeck", 18) != NULL;
    warc_record_clear(&rec);
    return ours;
}

static bool looks_like_warc(const char *d, size_t n)
{
    while (n && (*d == '\r' || *d == '\n')) {
        d++;
        n--;
    }
    return n >= 5 && !memcmp(d, "WARC/", 5);
}

/* A gzip member may hold several records (a whole file in one member is allowed). */
static void check_member(vstate *v, const cliframe *f, char *req_method, size_t req_method_sz)
{
    cliframe one = *f;
    size_t pos = 0;
    while (pos < f->len) {
        size_t total = 0;
        int m = warc_record_measure(f->data + pos, f->len - pos, NULL, &total);
        one.data = f->data + pos;
        one.len = m == 1 && total <= f->len - pos ? total : f->len - pos;
        const char *tail = NULL;
        size_t pad = m == 1 && total > f->len - pos ? warc_record_missing_trailer(one.data, one.len, &tail) : 0;
        if (pad) { /* the member's last record without its trailing CRLF CRLF: readers complete it */
            char *c = malloc(one.len + pad + 1);
            if (c) {
                memcpy(c, one.data, one.len);
                memcpy(c + one.len, tail, pad);
                c[one.len + pad] = '\0';
                cliframe padded = one;
                padded.data = c;
                padded.len = one.len + pad;
                check_record(v, &padded, req_method, req_method_sz);
                free(c);
                pos += one.len;
                continue;
            }
        }
        check_record(v, &one, req_method, req_method_sz);
        pos += one.len;
        while (pos < f->len && (f->data[pos] == '\r' || f->data[pos] == '\n'))
            pos++;
    }
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

/* Returns CLI_EXIT_OK, CLI_EXIT_FAIL (damage) or CLI_EXIT_TROUBLE (cannot open). */
static int verify_file(const char *path, bool quiet, uint64_t totals[3])
{
    char err[1024];
    bool damaged = false;
    cliframes *w = cliframes_open(path, 0, err, sizeof err, &damaged);
    if (!w && damaged) {
        printf("%s\n%s: DAMAGED: nothing is readable without the dictionary\n", err, path);
        totals[2]++;
        return CLI_EXIT_FAIL;
    }
    if (!w) {
        printf("%s: cannot be read: %s\n", path, err);
        return CLI_EXIT_TROUBLE;
    }
    vstate v = {.path = path, .quiet = quiet, .tapedeck = !cliframes_is_plain(w) && !cliframes_is_gzip(w)};
    char req_method[24] = "";
    uint64_t cut = 0, cut_off = 0;
    cliframe f;
    int r;
    while ((r = cliframes_next(w, &f)) != CLIFRAMES_END) {
        if (r == CLIFRAMES_RECORD && v.records == 0 && !v.damaged && !looks_like_warc(f.data, f.len)) {
            /* not damage: another kind of file that happens to be gzip or zstd (an ARC file, ...) */
            printf("%s: cannot be read: offset %" PRIu64 ": %s\n", path, f.offset,
                   f.len >= 11 && !memcmp(f.data, "filedesc://", 11) ? "an ARC file, not WARC (ARC is not read)"
                                                                    : "not a WARC file (no WARC/ record head)");
            cliframes_free(w);
            return CLI_EXIT_TROUBLE;
        }
        if (r == CLIFRAMES_RECORD && v.records == 0 && v.tapedeck && !v.damaged) /* (a lost warcinfo: ours) */
            v.tapedeck = tapedeck_warcinfo(f.data, f.len);
        if (r == CLIFRAMES_RECORD && v.tapedeck && (f.no_size || f.no_checksum)) {
            problem(&v, f.offset, "%s (the convention: every frame with its content size and checksum)%s",
                    f.no_size ? "frame without its content size" : "frame without a checksum", NULL);
            v.damaged++;
            v.damaged_bytes += f.csize;
            continue;
        }
        if (r == CLIFRAMES_RECORD) {
            if (cliframes_is_gzip(w) || !v.tapedeck)
                check_member(&v, &f, req_method, sizeof req_method);
            else
                check_record(&v, &f, req_method, sizeof req_method);
        } else if (r == CLIFRAMES_CORRUPT) {
            char n[32];
            snprintf(n, sizeof n, "%" PRIu64, f.csize);
            problem(&v, f.offset, "damaged frame: %s (%s bytes skipped)", f.msg, n);
            v.damaged++;
            v.damaged_bytes += f.csize;
        } else { /* truncated: the walk is over */
            cut = f.csize;
            cut_off = f.offset;
            break;
        }
    }
    if (!cut)
        close_pending(&v, cliframes_file_size(w)); /* with a cut-off tail, the response is what was cut */
    bool part = has_suffix(path, ".part");
    if (cut && !part) {
        printf("%s: offset %" PRIu64 ": DAMAGE: the file ends inside a frame (%" PRIu64
               " bytes cut off) although it is a closed file, not a .part segment being written\n",
               path, cut_off, cut);
        v.problems++;
    } else if (cut) {
        printf("%s: offset %" PRIu64 ": cut-off last frame (%" PRIu64
               " bytes), normal for a .part segment still being written or left by a crash; readers skip it\n",
               path, cut_off, cut);
    }
    if (v.records == 0 && !v.damaged && !cut) {
        printf("%s: offset 0: empty file, no warcinfo record\n", path);
        v.problems++;
    }
    const char *dict = cliframes_is_plain(w)           ? "plain WARC"
                       : cliframes_is_gzip(w)          ? "gzip"
                       : cliframes_has_dictionary(w)   ? "zstd with dictionary"
                                                       : "zstd";
    char what[512];
    if (*capreader_skips_describe(&v.skips, what, sizeof what))
        cli_errorf("verify", "%s: skipped records that are not exchanges: %s", path, what);
    if (v.problems)
        printf("%s: DAMAGED: %" PRIu64 " problem%s; %" PRIu64 " records (%" PRIu64
               " exchanges) readable, %" PRIu64 " damaged frame%s (%" PRIu64 " bytes); %s, %" PRIu64 " bytes\n",
               path, v.problems, v.problems == 1 ? "" : "s", v.records, v.exchanges, v.damaged,
               v.damaged == 1 ? "" : "s", v.damaged_bytes, dict, cliframes_file_size(w));
    else if (!quiet)
        printf("%s: ok: %" PRIu64 " records (%" PRIu64 " exchanges); %s, %" PRIu64 " bytes\n", path, v.records,
               v.exchanges, dict, cliframes_file_size(w));
    totals[0] += v.records;
    totals[1] += v.exchanges;
    totals[2] += v.problems ? 1 : 0;
    cliframes_free(w);
    return v.problems ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_verify_main(int argc, char **argv)
{
    bool quiet;
    int orc = cli_switch_opts("verify", cli_verify_help, argc, argv, "quiet", 'q', &quiet);
    if (orc >= 0)
        return orc;
    capset *s = cli_open_captures("verify", argv + optind, (size_t)(argc - optind));
    if (!s)
        return CLI_EXIT_TROUBLE;
    int rc = CLI_EXIT_OK;
    uint64_t totals[3] = {0, 0, 0};
    for (size_t i = 0; i < capset_nfiles(s); i++) {
        int r = verify_file(capset_file(s, i), quiet, totals);
        if (r > rc)
            rc = r;
    }
    printf("verify: %zu file%s, %" PRIu64 " records, %" PRIu64 " exchanges readable; %s\n", capset_nfiles(s),
           capset_nfiles(s) == 1 ? "" : "s", totals[0], totals[1],
           rc == CLI_EXIT_OK ? "no damage" : totals[2] ? "DAMAGE FOUND" : "a file could not be read");
    capset_free(s);
    fflush(stdout);
    return rc;
}
