/* capset: expands CAPTURE arguments into an ordered list of files and reads exchanges across them. */
#include "capset.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capreader.h"

typedef struct cs_file {
    char *path;
    char ts[17];   /* "YYYYMMDDTHHMMSSZ" from the name, or "" */
    long seq;      /* NNNN from the name, or -1 */
    size_t order;  /* argument order, to keep sorting stable */
    dev_t dev;     /* to read a file named twice (a folder and a file in it) only once */
    ino_t ino;
} cs_file;

struct capset {
    cs_file *files;
    size_t n, cap;
    size_t cur;
    capreader *r;
    uint64_t next_id;
    uint64_t truncated;
    capreader_skips skips; /* of the files already read */
    int status;
    char err[768];
};

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

static int is_capture_name(const char *name)
{
    return has_suffix(name, ".warc.zst") || has_suffix(name, ".warc.zst.part") || has_suffix(name, ".warc") ||
           has_suffix(name, ".warc.gz");
}

/* Parse "...-YYYYMMDDTHHMMSSZ-NNNN.warc.zst[.part]" out of a path's base name. */
static void parse_name(cs_file *f)
{
    const char *base = strrchr(f->path, '/');
    base = base ? base + 1 : f->path;
    f->ts[0] = '\0';
    f->seq = -1;
    const char *ext = strstr(base, ".warc");
    if (!ext || ext - base < 23)
        return;
    const char *seq = ext - 4, *ts = ext - 4 - 1 - 16;
    if (seq[-1] != '-' || ts[-1] != '-' || ts[8] != 'T' || ts[15] != 'Z')
        return;
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)seq[i]))
            return;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)ts[i]))
            return;
    memcpy(f->ts, ts, 16);
    f->ts[16] = '\0';
    f->seq = strtol(seq, NULL, 10);
}

static int cmp_files(const void *a, const void *b)
{
    const cs_file *x = a, *y = b;
    int c = strcmp(x->ts, y->ts);
    if (c)
        return c;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    const char *bx = strrchr(x->path, '/'), *by = strrchr(y->path, '/');
    c = strcmp(bx ? bx + 1 : x->path, by ? by + 1 : y->path);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int add_file(capset *s, const char *dir, const char *name)
{
    char *path = NULL;
    struct stat st;
    if (dir) {
        size_t dl = strlen(dir);
        int slash = dl > 0 && dir[dl - 1] == '/';
        if (asprintf(&path, "%s%s%s", dir, slash ? "" : "/", name) < 0)
            return -1;
    } else if (!(path = strdup(name))) {
        return -1;
    }
    if (stat(path, &st) == 0) {
        for (size_t i = 0; i < s->n; i++) {
            if (s->files[i].dev == st.st_dev && s->files[i].ino == st.st_ino) {
                free(path);
                return 0;
            }
        }
    } else {
        st.st_dev = 0;
        st.st_ino = 0;
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        cs_file *nf = realloc(s->files, ncap * sizeof *nf);
        if (!nf) {
            free(path);
            return -1;
        }
        s->files = nf;
        s->cap = ncap;
    }
    cs_file *f = &s->files[s->n];
    f->path = path;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->order = s->n;
    parse_name(f);
    s->n++;
    return 0;
}

capset *capset_open(char *const *args, size_t nargs, char *err, size_t errlen)
{
    capset *s = calloc(1, sizeof *s);
    if (!s)
        goto nomem;
    s->next_id = 1;
    if (nargs == 0) {
        snprintf(err, errlen, "no capture given");
        goto fail;
    }
    for (size_t i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) != 0) {
            snprintf(err, errlen, "%s: %s", args[i], strerror(errno));
            goto fail;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (add_file(s, NULL, args[i]) != 0)
                goto nomem;
            continue;
        }
        DIR *d = opendir(args[i]);
        if (!d) {
            snprintf(err, errlen, "%s: %s", args[i], strerror(errno));
            goto fail;
        }
        size_t found = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.' || !is_capture_name(de->d_name))
                continue;
            found++;
            if (add_file(s, args[i], de->d_name) != 0) {
                closedir(d);
                goto nomem;
            }
        }
        closedir(d);
        if (found == 0) {
            snprintf(err, errlen, "%s: no capture files (*.warc.zst, *.warc.zst.part, *.warc.gz, *.warc) in this folder", args[i]);
            goto fail;
        }
    }
    qsort(s->files, s->n, sizeof *s->files, cmp_files);
    return s;
nomem:
    if (err && errlen)
        snprintf(err, errlen, "out of memory");
fail:
    capset_free(s);
    return NULL;
}

void capset_free(capset *s)
{
    if (!s)
        return;
    capreader_free(s->r);
    for (size_t i = 0; i < s->n; i++)
        free(s->files[i].path);
    free(s->files);
    free(s);
}

size_t capset_nfiles(const capset *s)
{
    return s->n;
}

const char *capset_file(const capset *s, size_t i)
{
    return i < s->n ? s->files[i].path : NULL;
}

int capset_next(capset *s, exchange *x)
{
    exchange_init(x);
    if (s->status)
        return s->status;
    while (s->cur < s->n) {
        if (!s->r) {
            s->r = capreader_open(s->files[s->cur].path, NULL, s->err, sizeof s->err);
            if (!s->r) {
                s->status = CAPREADER_EIO;
                return s->status;
            }
        }
        int rc = capreader_next(s->r, x);
        if (rc == 1) {
            x->id = s->next_id++;
            return 1;
        }
        if (rc < 0) {
            snprintf(s->err, sizeof s->err, "%s", capreader_error(s->r));
            s->status = rc;
            return rc;
        }
        s->truncated += capreader_truncated(s->r);
        capreader_skipped(s->r, &s->skips);
        capreader_free(s->r);
        s->r = NULL;
        s->cur++;
    }
    return 0;
}

const char *capset_error(const capset *s)
{
    return s->err[0] ? s->err : "no error";
}

uint64_t capset_truncated_bytes(const capset *s)
{
    return s->truncated + (s->r ? capreader_truncated(s->r) : 0);
}

void capset_skipped(const capset *s, capreader_skips *out)
{
    memset(out, 0, sizeof *out);
    capreader_skips_add(out, &s->skips);
    if (s->r)
        capreader_skipped(s->r, out);
}

int capset_load_all(char *const *args, size_t nargs, exchange **out, size_t *n, char *err, size_t errlen)
{
    exchange *xs = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    capset *s = capset_open(args, nargs, err, errlen);
    if (!s)
        return CAPREADER_EIO;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            exchange *nx = realloc(xs, ncap * sizeof *nx);
            if (!nx) {
                snprintf(err, errlen, "out of memory");
                rc = CAPREADER_ENOMEM;
                goto done;
            }
            xs = nx;
            cap = ncap;
        }
        int r = capset_next(s, &xs[len]);
        if (r == 0)
            break;
        if (r < 0) {
            snprintf(err, errlen, "%s", capset_error(s));
            rc = r;
            goto done;
        }
        len++;
    }
    *out = xs;
    *n = len;
    xs = NULL;
    len = 0;
    rc = 0;
done:
    capset_free_all(xs, len);
    capset_free(s);
    return rc;
}

void capset_free_all(exchange *xs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        exchange_clear(&xs[i]);
    free(xs);
}
