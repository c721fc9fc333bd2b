/* warc: WARC/1.1 record parsing and formatting, record ids, the warcinfo record.
 * The exchange <-> record mapping lives in warc_exchange.c. */
#include "warc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "tdtime.h"

#ifndef TAPEDECK_VERSION
#define TAPEDECK_VERSION "0"
#endif

/* Head of a record: "WARC/x.y\r\n" ... "\r\n\r\n". Fields and the head are capped so a hostile file cannot
 * make the parser allocate without bound before Content-Length is even known. */
#define WARC_MAX_HEAD (64 * 1024)
#define WARC_MAX_FIELDS 256

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* Where the head ends: the blank line after the fields, "\r\n\r\n" as WARC has it, or "\n\n" from
 * writers that end lines with LF alone. NULL when not within the head cap yet. *blank gets the length
 * of the line end + blank line (4 or 2; 3 for "\n\r\n"). */
static const char *find_head_end(const char *buf, size_t len, size_t *blank)
{
    size_t lim = len < WARC_MAX_HEAD ? len : WARC_MAX_HEAD;
    const char *p = buf;
    while ((p = memchr(p, '\n', lim - (size_t)(p - buf))) != NULL) {
        size_t off = (size_t)(p - buf);
        if (off + 1 < lim && p[1] == '\n') {
            int cr = off > 0 && p[-1] == '\r';
            *blank = cr ? 3 : 2;
            return cr ? p - 1 : p;
        }
        if (off + 2 < lim && p[1] == '\r' && p[2] == '\n') {
            int cr = off > 0 && p[-1] == '\r';
            *blank = cr ? 4 : 3;
            return cr ? p - 1 : p;
        }
        p++;
    }
    return NULL;
}

/* Case-insensitive compare of a header line's name against name, at the line start. */
static int line_is_field(const char *line, size_t n, const char *name, const char **value)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return 0;
    const char *v = line + k + 1;
    while (v < line + n && (*v == ' ' || *v == '\t'))
        v++;
    *value = v;
    return 1;
}

static int measure(const char *buf, size_t len, size_t *head_len, size_t *total, size_t *trailer_len)
{
    if (len >= 5 && memcmp(buf, "WARC/", 5) != 0)
        return -1;
    if (len < 5 && memcmp(buf, "WARC/", len) != 0)
        return -1;
    size_t blank = 4;
    const char *end = find_head_end(buf, len, &blank);
    if (!end)
        return len >= WARC_MAX_HEAD ? -1 : 0;
    size_t hl = (size_t)(end - buf) + blank;
    /* the block is followed by two line ends, CRLF CRLF (or LF LF in a file whose lines end in LF) */
    size_t trailer = blank == 2 ? 2 : 4;
    /* Find Content-Length among the lines. */
    const char *p = memchr(buf, '\n', hl);
    long long cl = -1;
    while (p && p < buf + hl) {
        const char *line = p + 1;
        const char *nl = memchr(line, '\n', (size_t)(buf + hl - line));
        if (!nl)
            break;
        size_t n = (size_t)(nl - line);
        const char *v;
        if (line_is_field(line, n, "Content-Length", &v)) {
            char *e;
            if (!isdigit((unsigned char)*v))
                return -1;
            cl = strtoll(v, &e, 10);
            if (cl < 0 || (e < nl && *e != '\r' && *e != ' ' && *e != '\t'))
                return -1;
        }
        p = nl;
    }
    if (cl < 0 || (unsigned long long)cl > ((size_t)-1) / 4)
        return -1;
    if (head_len)
        *head_len = hl;
    if (total)
        *total = hl + (size_t)cl + trailer;
    if (trailer_len)
        *trailer_len = trailer;
    return 1;
}

int warc_record_measure(const char *buf, size_t len, size_t *head_len, size_t *total)
{
    return measure(buf, len, head_len, total, NULL);
}

static const char *trailer_of(size_t n)
{
    return n == 2 ? "\n\n" : WARC_TRAILER;
}

size_t warc_record_missing_trailer(const char *buf, size_t len, const char **bytes)
{
    size_t hl, total, tl;
    if (measure(buf, len, &hl, &total, &tl) != 1 || total <= len || total - len > tl)
        return 0;
    size_t have = len - (total - tl); /* trailer bytes present */
    if (memcmp(buf + total - tl, trailer_of(tl), have) != 0)
        return 0;
    *bytes = trailer_of(tl) + have;
    return total - len;
}

void warc_record_clear(warc_record *r)
{
    if (!r)
        return;
    if (r->strings) {
        free(r->strings);
    } else {
        free(r->version);
        for (size_t i = 0; i < r->n_fields; i++) {
            free(r->fields[i].name);
            free(r->fields[i].value);
        }
    }
    free(r->fields);
    free(r->block);
    memset(r, 0, sizeof *r);
}

static char *dupn(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

int warc_record_parse(warc_record *r, const char *buf, size_t len, char *err, size_t errlen)
{
    size_t hl, total, tl = 4;
    warc_record t = {0};
    int rc = measure(buf, len, &hl, &total, &tl);
    if (rc <= 0) {
        seterr(err, errlen, rc == 0 ? "record head incomplete" : "not a WARC record head (no WARC/ line, no Content-Length, or head too large)");
        memset(r, 0, sizeof *r);
        return WARC_EPARSE;
    }
    if (total > len) {
        seterr(err, errlen, "record shorter than its Content-Length");
        memset(r, 0, sizeof *r);
        return WARC_EPARSE;
    }
    if (memcmp(buf + total - tl, trailer_of(tl), tl) != 0) {
        seterr(err, errlen, "record block not followed by CRLF CRLF");
        memset(r, 0, sizeof *r);
        return WARC_EPARSE;
    }
    int status = WARC_ENOMEM;
    const char *nl = memchr(buf, '\n', hl);
    size_t vlen = (size_t)(nl - buf);
    if (vlen && buf[vlen - 1] == '\r')
        vlen--;
    /* The version, names and values go one after another into one buffer of the head's size: each line
     * gives up at least its line end, which holds the terminating NULs, and a continuation line gives up
     * its leading blank for the joining space (three allocations a record rather than two a field). */
    char *sp = t.strings = malloc(hl + 1);
    if (!sp)
        goto fail;
    t.version = sp;
    memcpy(sp, buf, vlen);
    sp += vlen;
    *sp++ = '\0';
    size_t cap = 16;
    t.fields = malloc(cap * sizeof *t.fields);
    if (!t.fields)
        goto fail;
    const char *line = nl + 1;
    while (line < buf + hl - 2) {
        const char *e = memchr(line, '\n', (size_t)(buf + hl - line));
        size_t n = (size_t)(e - line);
        if (n && line[n - 1] == '\r')
            n--;
        if (n == 0)
            break;
        if ((line[0] == ' ' || line[0] == '\t') && t.n_fields > 0) {
            /* Continuation line: folded into the previous value with one space. */
            /* the last value written: it grows in place */
            size_t s = 0;
            while (s < n && (line[s] == ' ' || line[s] == '\t'))
                s++;
            sp[-1] = ' ';
            memcpy(sp, line + s, n - s);
            sp += n - s;
            *sp++ = '\0';
        } else {
            const char *colon = memchr(line, ':', n);
            if (!colon || colon == line) {
                seterr(err, errlen, "malformed WARC header line");
                status = WARC_EPARSE;
                goto fail;
            }
            if (t.n_fields == WARC_MAX_FIELDS) {
                seterr(err, errlen, "too many WARC header fields");
                status = WARC_EPARSE;
                goto fail;
            }
            if (t.n_fields == cap) {
                warc_field *nf = realloc(t.fields, cap * 2 * sizeof *nf);
                if (!nf)
                    goto fail;
                t.fields = nf;
                cap *= 2;
            }
            const char *v = colon + 1, *ve = line + n;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            warc_field *f = &t.fields[t.n_fields++];
            f->name = sp;
            f->name_len = (size_t)(colon - line);
            memcpy(sp, line, (size_t)(colon - line));
            sp += colon - line;
            *sp++ = '\0';
            f->value = sp;
            memcpy(sp, v, (size_t)(ve - v));
            sp += ve - v;
            *sp++ = '\0';
        }
        line = e + 1;
    }
    t.block_len = total - hl - tl;
    t.block = dupn(buf + hl, t.block_len);
    if (!t.block)
        goto fail;
    *r = t;
    return WARC_OK;
fail:
    if (status == WARC_ENOMEM)
        seterr(err, errlen, "out of memory");
    warc_record_clear(&t);
    memset(r, 0, sizeof *r);
    return status;
}

/* A reader asks for a dozen names per record, most of them absent, and most names share a prefix
 * ("WARC-Tapedeck-"): the lengths turn nearly all of them down before a byte is compared. */
const char *warc_record_get(const warc_record *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->n_fields; i++) {
        const warc_field *f = &r->fields[i];
        if ((f->name_len ? f->name_len : strlen(f->name)) == n && !strcasecmp(f->name, name))
            return f->value;
    }
    return NULL;
}

void warc_strip_brackets(const char *v, char *buf, size_t bufsz)
{
    if (!v) {
        buf[0] = '\0';
        return;
    }
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
        v++;
        n -= 2;
    }
    if (n >= bufsz)
        n = bufsz - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
}

const char *warc_record_type(const warc_record *r)
{
    return warc_record_get(r, "WARC-Type");
}

int warc_record_format(const warc_record *r, tdbuf *out)
{
    int rc = tdbuf_puts(out, r->version ? r->version : "WARC/1.1");
    rc = rc ? rc : tdbuf_append(out, "\r\n", 2);
    int have_cl = 0;
    for (size_t i = 0; !rc && i < r->n_fields; i++) {
        if (!strcasecmp(r->fields[i].name, "Content-Length")) {
            /* Always the real block length, whatever the field said. */
            rc = tdbuf_printf(out, "Content-Length: %zu\r\n", r->block_len);
            have_cl = 1;
            continue;
        }
        rc = tdbuf_printf(out, "%s: %s\r\n", r->fields[i].name, r->fields[i].value);
    }
    if (!rc && !have_cl)
        rc = tdbuf_printf(out, "Content-Length: %zu\r\n", r->block_len);
    rc = rc ? rc : tdbuf_append(out, "\r\n", 2);
    rc = rc ? rc : tdbuf_append(out, r->block, r->block_len);
    rc = rc ? rc : tdbuf_append(out, "\r\n\r\n", 4);
    return rc ? WARC_ENOMEM : WARC_OK;
}

/* Per-thread random and id state must never be shared by two processes: after fork() the child would
 * hand out the parent's next ids. A fork handler bumps a generation that makes every thread start over. */
static volatile unsigned fork_generation;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    fork_generation++;
}

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

/* Random bytes from a per-thread pool so a busy writer does not make one getrandom() call per record. */
static void random_bytes(unsigned char *out, size_t n)
{
    static __thread unsigned char pool[512];
    static __thread size_t avail;
    static __thread unsigned generation;
    if (generation != fork_generation) {
        avail = 0;
        generation = fork_generation;
    }
    while (n > 0) {
        if (avail == 0) {
            size_t got = 0;
            while (got < sizeof pool) {
                ssize_t k = getrandom(pool + got, sizeof pool - got, 0);
                if (k <= 0)
                    break;
                got += (size_t)k;
            }
            if (got < sizeof pool) {
                /* No kernel randomness: ids only need to be unique, so mix time and pid. */
                unsigned long long s = (unsigned long long)tdtime_now_us() ^ ((unsigned long long)getpid() << 32);
                for (size_t i = got; i < sizeof pool; i++) {
                    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                    pool[i] = (unsigned char)(s >> 56);
                }
            }
            avail = sizeof pool;
        }
        size_t k = n < avail ? n : avail;
        memcpy(out, pool + sizeof pool - avail, k);
        avail -= k;
        out += k;
        n -= k;
    }
}

/* Ids keep the version-4 layout (version and variant bits set) with 74 random bits drawn once per thread
 * and a 48-bit counter that starts at a random value. They are as unique as WARC asks, and, unlike fully
 * random ones, they compress: consecutive records share all but the last digits, and the per-segment
 * dictionary learns the prefix. Fully random ids cost ~50 incompressible bytes per exchange. */
void warc_new_record_id(char *buf, size_t bufsz)
{
    static __thread char prefix[34]; /* "urn:uuid:" and the hex of the thread's 10 random bytes */
    static __thread uint64_t counter;
    static __thread int ready;
    static __thread unsigned generation;
    static const char hex[] = "0123456789abcdef";
    pthread_once(&fork_once, register_fork_handler);
    if (!ready || generation != fork_generation) {
        generation = fork_generation;
        unsigned char u[10], c[8];
        random_bytes(u, sizeof u);
        random_bytes(c, sizeof c);
        for (int i = 0; i < 8; i++)
            counter = counter << 8 | c[i];
        counter &= 0x7fffffffffffULL; /* room to count before the 48 bits wrap */
        u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
        u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        char *p = prefix + 9;
        memcpy(prefix, "urn:uuid:", 9);
        for (int i = 0; i < 10; i++) {
            if (i == 4 || i == 6 || i == 8)
                *p++ = '-';
            *p++ = hex[u[i] >> 4];
            *p++ = hex[u[i] & 15];
        }
        *p++ = '-';
        *p = '\0';
        ready = 1;
    }
    /* Only the counter's 12 hex digits change: the writer makes two ids per exchange. */
    char id[46];
    memcpy(id, prefix, 33);
    uint64_t c = counter++ & 0xffffffffffffULL;
    for (int i = 0; i < 12; i++)
        id[33 + i] = hex[(c >> (44 - 4 * i)) & 15];
    id[45] = '\0';
    size_t n = 45;
    if (bufsz == 0)
        return;
    if (n >= bufsz)
        n = bufsz - 1;
    memcpy(buf, id, n);
    buf[n] = '\0';
}

int warc_format_warcinfo(tdbuf *out, const char *filename, const char *info)
{
    char id[64], date[40];
    tdbuf block;
    tdbuf_init(&block, 1 << 20);
    int rc = 0;
    /* The caller's lines come first when they carry the software name themselves. */
    if (!info || strncasecmp(info, "software:", 9) != 0)
        rc = tdbuf_printf(&block, "software: tapedeck/%s\r\nformat: WARC File Format 1.1\r\n", TAPEDECK_VERSION);
    if (!rc && info)
        rc = tdbuf_puts(&block, info);
    warc_new_record_id(id, sizeof id);
    tdtime_format_iso(tdtime_now_us(), 1, date, sizeof date);
    if (!rc)
        rc = tdbuf_printf(out, "WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <%s>\r\nWARC-Date: %s\r\n", id, date);
    if (!rc && filename) {
        const char *base = strrchr(filename, '/');
        rc = tdbuf_printf(out, "WARC-Filename: %s\r\n", base ? base + 1 : filename);
    }
    if (!rc)
        rc = tdbuf_printf(out, "Content-Type: application/warc-fields\r\nContent-Length: %zu\r\n\r\n", block.len);
    if (!rc)
        rc = tdbuf_append(out, block.data, block.len);
    if (!rc)
        rc = tdbuf_append(out, "\r\n\r\n", 4);
    tdbuf_free(&block);
    return rc ? WARC_ENOMEM : WARC_OK;
}
