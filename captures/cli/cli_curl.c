/* cli_curl: see cli_curl.h. */
#include "cli_curl.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_conv.h"
#include "cli_util.h"
#include "httpmsg.h"

/* Shell word for bash: as is when it is made of safe characters only, '...' when every byte is printable
 * ASCII, else $'...' with escapes. */
static void quote(FILE *f, const char *s, size_t n)
{
    size_t safe = 0;
    while (safe < n && (isalnum((unsigned char)s[safe]) || strchr("_./:,+=%-", s[safe])) && s[safe])
        safe++;
    if (n && safe == n) {
        fwrite(s, 1, n, f);
        return;
    }
    bool plain = true;
    for (size_t i = 0; i < n && plain; i++)
        plain = s[i] >= 0x20 && s[i] < 0x7f;
    if (plain) {
        fputc('\'', f);
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\'')
                fputs("'\\''", f);
            else
                fputc(s[i], f);
        }
        fputc('\'', f);
        return;
    }
    fputs("$'", f);
    for (size_t i = 0; i < n; i++)
        cli_put_escaped(f, (unsigned char)s[i], false);
    fputc('\'', f);
}

static void quote_str(FILE *f, const char *s)
{
    quote(f, s, strlen(s));
}

/* curl sets these itself from the body it sends. */
static bool left_to_curl(const char *name, size_t n)
{
    static const char *const names[] = {"content-length", "transfer-encoding", "expect", NULL};
    for (const char *const *p = names; *p; p++)
        if (strlen(*p) == n && !strncasecmp(name, *p, n))
            return true;
    return false;
}

static int body_file(const cli_curl_opts *o, unsigned long long idx, const char *body, size_t n, char *path,
                     size_t pathsz, char *err, size_t errlen)
{
    snprintf(path, pathsz, "%s/body-%llu.bin", o->body_dir, idx);
    FILE *bf = fopen(path, "wb");
    if (!bf || fwrite(body, 1, n, bf) != n || fclose(bf) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (bf)
            fclose(bf);
        return -1;
    }
    return 0;
}

int cli_curl_write(FILE *f, const exchange *x, unsigned long long idx, const cli_curl_opts *o, char *err,
                   size_t errlen)
{
    httpmsg m;
    char perr[128], path[4096];
    if (httpmsg_parse(&m, HTTPMSG_REQUEST, x->request, x->request_len, NULL, perr, sizeof perr) != 0)
        return 1;
    int rc = -1;
    if (m.body_len && o->body_dir && body_file(o, idx, m.body, m.body_len, path, sizeof path, err, errlen))
        goto done;
    fputs("curl -sS --path-as-is -g", f);
    if (!strcmp(m.head.method, "HEAD")) {
        fputs(" -I", f);
    } else if (strcmp(m.head.method, "GET") || m.body_len) {
        fputs(" -X ", f);
        quote_str(f, m.head.method);
    }
    for (size_t i = 0; i < m.head.n_headers; i++) {
        const httpmsg_header *h = &m.head.headers[i];
        if (left_to_curl(h->name, h->name_len))
            continue;
        /* "Name;" is how curl sends a header with an empty value. */
        size_t n = h->name_len + 2 + h->value_len;
        char *line = malloc(n + 1);
        if (!line) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        if (h->value_len)
            snprintf(line, n + 1, "%.*s: %.*s", (int)h->name_len, h->name, (int)h->value_len, h->value);
        else
            snprintf(line, n + 1, "%.*s;", (int)h->name_len, h->name);
        fputs(" -H ", f);
        quote_str(f, line);
        free(line);
    }
    if (m.body_len) {
        fputs(" --data-binary ", f);
        if (o->body_dir) {
            fputc('@', f); /* @ outside the quotes: part of the same word */
            quote_str(f, path);
        } else if (memchr(m.body, '\0', m.body_len) || m.body[0] == '@') {
            /* bash strings cannot hold NUL, and curl reads "@name" as a file name: printf writes the bytes
             * into a pipe curl reads. */
            fputs("@<(printf '", f);
            for (size_t i = 0; i < m.body_len; i++)
                fprintf(f, "\\%03o", (unsigned char)m.body[i]);
            fputc('\'', f);
            fputc(')', f);
        } else {
            quote(f, m.body, m.body_len);
        }
    }
    fputc(' ', f);
    if (o->target) {
        size_t tn = strlen(o->target);
        while (tn && o->target[tn - 1] == '/')
            tn--;
        const char *t = m.head.url[0] == '/' ? m.head.url : cli_url_target(m.head.url);
        char *u = malloc(tn + strlen(t) + 1);
        if (!u) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        memcpy(u, o->target, tn);
        strcpy(u + tn, t);
        quote_str(f, u);
        free(u);
    } else {
        quote_str(f, x->target_uri ? x->target_uri : m.head.url);
    }
    fputc('\n', f);
    rc = 0;
done:
    httpmsg_clear(&m);
    return rc;
}
