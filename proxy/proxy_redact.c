/* proxy_redact: a line scan over an already-validated head (httpmsg accepted it before it was recorded),
 * so only "Name: value" lines up to the blank line need handling here. */
#include "proxy_redact.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy_config.h"
#include "tdbuf.h"

struct proxy_redact {
    unsigned char key[256];
    size_t key_len;
    char *names[PROXY_MAX_REDACT];
    size_t n;
};

proxy_redact *proxy_redact_new(const char *const *names, size_t n, const char *key_file, char *err,
                               size_t errlen)
{
    proxy_redact *r = NULL, *result = NULL;
    FILE *f = NULL;
    if (n > PROXY_MAX_REDACT) {
        snprintf(err, errlen, "too many headers to redact");
        goto out;
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        r->names[i] = strdup(names[i]);
        if (!r->names[i]) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        r->n++;
    }
    if (key_file) {
        f = fopen(key_file, "rb");
        if (!f) {
            snprintf(err, errlen, "--redact-key-file %s: %s", key_file, strerror(errno));
            goto out;
        }
        r->key_len = fread(r->key, 1, sizeof r->key, f);
        if (r->key_len == 0) {
            snprintf(err, errlen, "--redact-key-file %s: empty or unreadable", key_file);
            goto out;
        }
    } else {
        r->key_len = 32;
        if (RAND_bytes(r->key, (int)r->key_len) != 1) {
            snprintf(err, errlen, "no random bytes for the redaction key");
            goto out;
        }
    }
    result = r;
    r = NULL;
out:
    if (f)
        fclose(f);
    proxy_redact_free(r);
    return result;
}

void proxy_redact_free(proxy_redact *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->names[i]);
    memset(r->key, 0, sizeof r->key);
    free(r);
}

void proxy_redact_token(const proxy_redact *r, const char *value, size_t n, char *out, size_t outsz)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    if (!HMAC(EVP_sha256(), r->key, (int)r->key_len, (const unsigned char *)value, n, md, &mdlen))
        mdlen = 0;
    char tok[64] = "hmac-sha256:";
    size_t p = strlen(tok);
    for (unsigned int i = 0; i < mdlen && i < 16; i++) {
        tok[p++] = hex[md[i] >> 4];
        tok[p++] = hex[md[i] & 15];
    }
    tok[p] = '\0';
    snprintf(out, outsz, "%s", tok);
}

static int redact_match(const proxy_redact *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->n; i++)
        if (strlen(r->names[i]) == len && !strncasecmp(r->names[i], name, len))
            return 1;
    return 0;
}

int proxy_redact_apply(const proxy_redact *r, char **buf, size_t *len)
{
    if (!r || r->n == 0 || !*buf || *len == 0)
        return 0;
    const char *s = *buf, *end = *buf + *len;
    const char *line = memchr(s, '\n', *len); /* skip the start line */
    if (!line)
        return 0;
    line++;
    tdbuf out;
    tdbuf_init(&out, 0);
    const char *copied = s; /* bytes before this are already in out */
    int changed = 0, rc = 0;
    while (line < end && *line != '\r' && *line != '\n') {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break; /* cut head (max-body never cuts a head, but stay safe) */
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon && redact_match(r, line, (size_t)(colon - line))) {
            const char *v = colon + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            if (ve > v && ve[-1] == '\r')
                ve--;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            char tok[64];
            proxy_redact_token(r, v, (size_t)(ve - v), tok, sizeof tok);
            if (tdbuf_append(&out, copied, (size_t)(v - copied)) != 0 || tdbuf_puts(&out, tok) != 0) {
                rc = -1;
                goto done;
            }
            copied = ve;
            changed = 1;
        }
        line = eol + 1;
    }
    if (!changed)
        goto done;
    if (tdbuf_append(&out, copied, (size_t)(end - copied)) != 0) {
        rc = -1;
        goto done;
    }
    free(*buf);
    *buf = tdbuf_steal(&out, len);
    rc = 1;
done:
    tdbuf_free(&out);
    return rc;
}
