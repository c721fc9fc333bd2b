/* redact: rules, the key, tokens, and an exchange's two messages and target URI. The message rewrite is
 * redact_msg.c, JSON bodies redact_json.c, name=value lists redact_pairs.c. */
#include "redact_int.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const redact_kind_names[REDACT__KINDS] = {"header", "json", "query", "cookie", "form"};
static const char *const kind_flags[REDACT__KINDS] = {"redact-header", "redact-json", "redact-query",
                                                      "redact-cookie", "redact-form"};

/* The key's inner and outer pads hashed once (RFC 2104). 0 or -1. */
static int set_key(redact *r, const unsigned char *key, size_t n)
{
    unsigned char k0[64], pad[64];
    memset(k0, 0, sizeof k0);
    if (n > sizeof k0)
        SHA256(key, n, k0);
    else
        memcpy(k0, key, n);
    int ok = 1;
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x36;
    ok = ok && SHA256_Init(&r->pad_in) && SHA256_Update(&r->pad_in, pad, sizeof pad);
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x5c;
    ok = ok && SHA256_Init(&r->pad_out) && SHA256_Update(&r->pad_out, pad, sizeof pad);
    memset(k0, 0, sizeof k0);
    memset(pad, 0, sizeof pad);
    if (n <= sizeof r->key) {
        memcpy(r->key, key, n);
        r->key_len = n;
    }
    return ok ? 0 : -1;
}

redact *redact_new(void)
{
    redact *r = calloc(1, sizeof *r);
    unsigned char key[32];
    if (!r)
        return NULL;
    if (RAND_bytes(key, (int)sizeof key) != 1 || set_key(r, key, sizeof key) != 0 || !(r->json = jsonpath_set_new())) {
        redact_free(r);
        return NULL;
    }
    tdbuf_init(&r->msg, 0);
    tdbuf_init(&r->body, 0);
    tdbuf_init(&r->tmp, 0);
    tdbuf_init(&r->keys, 0);
    return r;
}

void redact_free(redact *r)
{
    if (!r)
        return;
    for (int k = 0; k < REDACT__KINDS; k++)
        for (size_t i = 0; i < r->n[k]; i++)
            free(r->names[k][i]);
    jsonpath_set_free(r->json);
    OPENSSL_cleanse(&r->pad_in, sizeof r->pad_in);
    OPENSSL_cleanse(&r->pad_out, sizeof r->pad_out);
    jsontok_free(&r->tok);
    tdbuf_free(&r->msg);
    tdbuf_free(&r->body);
    tdbuf_free(&r->tmp);
    tdbuf_free(&r->keys);
    free(r->walk);
    memset(r->key, 0, sizeof r->key);
    free(r);
}

int redact_add(redact *r, redact_kind kind, const char *arg, char *err, size_t errlen)
{
    if ((int)kind < 0 || kind >= REDACT__KINDS) {
        snprintf(err, errlen, "unknown redaction kind");
        return REDACT_EBAD;
    }
    const char *flag = kind_flags[kind];
    if (r->n[kind] >= REDACT_MAX_RULES) {
        snprintf(err, errlen, "--%s: at most %d", flag, REDACT_MAX_RULES);
        return REDACT_EBAD;
    }
    if (!*arg) {
        snprintf(err, errlen, "--%s: empty name", flag);
        return REDACT_EBAD;
    }
    if (kind == REDACT_HEADER && strpbrk(arg, ": \t\r\n")) {
        snprintf(err, errlen, "--%s: '%s' is not a header name", flag, arg);
        return REDACT_EBAD;
    }
    if (kind == REDACT_COOKIE && strpbrk(arg, "=; \t\r\n,")) {
        snprintf(err, errlen, "--%s: '%s' is not a cookie name", flag, arg);
        return REDACT_EBAD;
    }
    if ((kind == REDACT_QUERY || kind == REDACT_FORM) && strpbrk(arg, "&=\r\n")) {
        snprintf(err, errlen, "--%s: '%s' is not a parameter name (give it decoded, without '&' or '=')",
                 flag, arg);
        return REDACT_EBAD;
    }
    char *copy = strdup(arg);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return REDACT_ENOMEM;
    }
    if (kind == REDACT_JSON) {
        char perr[300];
        if (jsonpath_set_add(r->json, arg, perr, sizeof perr) != 0) {
            snprintf(err, errlen, "--%s: %s", flag, perr);
            free(copy);
            return REDACT_EBAD;
        }
    }
    r->names[kind][r->n[kind]++] = copy;
    return REDACT_OK;
}

int redact_add_flag(redact *r, const char *flag, const char *arg, char *err, size_t errlen)
{
    while (*flag == '-')
        flag++;
    for (int k = 0; k < REDACT__KINDS; k++)
        if (!strcmp(flag, kind_flags[k]))
            return redact_add(r, (redact_kind)k, arg, err, errlen);
    return 1;
}

int redact_key_file(redact *r, const char *path, char *err, size_t errlen)
{
    unsigned char key[REDACT_MAX_KEY];
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "--redact-key-file %s: %s", path, strerror(errno));
        return REDACT_EBAD;
    }
    size_t n = fread(key, 1, sizeof key, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n == 0) {
        snprintf(err, errlen, "--redact-key-file %s: %s", path, bad ? "unreadable" : "empty");
        memset(key, 0, sizeof key);
        return REDACT_EBAD;
    }
    int rc = set_key(r, key, n);
    memset(key, 0, sizeof key);
    if (rc != 0) {
        snprintf(err, errlen, "--redact-key-file %s: cannot set up the hash", path);
        return REDACT_EBAD;
    }
    return REDACT_OK;
}

size_t redact_rule_count(const redact *r)
{
    size_t n = 0;
    for (int k = 0; r && k < REDACT__KINDS; k++)
        n += r->n[k];
    return n;
}

long redact_rule_find(const redact *r, redact_kind kind, const char *name, size_t n)
{
    for (size_t i = 0; i < r->n[kind]; i++) {
        const char *s = r->names[kind][i];
        if (strlen(s) != n)
            continue;
        if (kind == REDACT_HEADER ? !strncasecmp(s, name, n) : !memcmp(s, name, n))
            return (long)i;
    }
    return -1;
}

static void mac(const redact *r, const char *value, size_t n, unsigned char md[32])
{
    unsigned char inner[32];
    SHA256_CTX c = r->pad_in;
    SHA256_Update(&c, value, n);
    SHA256_Final(inner, &c);
    c = r->pad_out;
    SHA256_Update(&c, inner, sizeof inner);
    SHA256_Final(md, &c);
}

void redact_token_number(const redact *r, const char *value, size_t n, char *out, size_t outsz)
{
    unsigned char md[32];
    mac(r, value, n, md);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | md[i];
    /* 15 digits, never a leading zero: below 2^53, so JavaScript clients keep it exact */
    v = 100000000000000ull + v % 900000000000000ull;
    if (outsz < 16) {
        if (outsz)
            out[0] = '\0';
        return;
    }
    for (int i = 14; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
    out[15] = '\0';
}

static int integer_like(const char *v, size_t n)
{
    size_t i = (n > 0 && v[0] == '-') ? 1 : 0;
    if (n == i || n - i > 19)
        return 0;
    for (; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return 1;
}

void redact_token(const redact *r, const char *value, size_t n, char *out, size_t outsz)
{
    if (integer_like(value, n)) {
        redact_token_number(r, value, n, out, outsz);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    mac(r, value, n, md);
    char tok[REDACT_TOKEN_MAX] = "hmac-sha256:";
    size_t p = 12;
    for (int i = 0; i < 16; i++) {
        tok[p++] = hex[md[i] >> 4];
        tok[p++] = hex[md[i] & 15];
    }
    tok[p] = '\0';
    snprintf(out, outsz, "%s", tok);
}

int redact_acc_note(redact_acc *a, redact_kind kind, const char *name)
{
    char entry[600];
    size_t el;
    if (kind == REDACT__KINDS) {
        memcpy(entry, "body", 5);
        el = 4;
    } else {
        size_t kl = strlen(redact_kind_names[kind]), nl = strlen(name);
        if (nl > sizeof entry - kl - 2)
            nl = sizeof entry - kl - 2;
        memcpy(entry, redact_kind_names[kind], kl);
        entry[kl] = ':';
        memcpy(entry + kl + 1, name, nl);
        el = kl + 1 + nl;
        entry[el] = '\0';
    }
    a->values++;
    /* entries are few (one per rule at most): a linear search keeps the list free of repeats */
    for (const char *p = a->list.data; p && (p = strstr(p, entry)) != NULL; p += el)
        if ((p == a->list.data || p[-1] == ' ') && (p[el] == ',' || p[el] == '\0'))
            return 0;
    if (a->list.len && tdbuf_append(&a->list, ", ", 2) != 0)
        return -1;
    return tdbuf_append(&a->list, entry, el) ? -1 : 0;
}

/* field gets the union of its entries and list's (a capture redacted twice keeps both). */
static int merge_list(char **field, const char *list)
{
    if (!list || !*list)
        return 0;
    if (!*field) {
        *field = strdup(list);
        return *field ? 0 : -1;
    }
    redact_acc a = {.values = 0};
    tdbuf_init(&a.list, 0);
    int rc = tdbuf_puts(&a.list, *field) ? -1 : 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        rc = -1;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !rc; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (!strcmp(t, "body"))
            rc = redact_acc_note(&a, REDACT__KINDS, NULL);
        else if (*t) {
            /* re-add as is: split "kind:name" only to reuse the repeat check */
            char *colon = strchr(t, ':');
            int k;
            for (k = 0; colon && k < REDACT__KINDS; k++)
                if (strlen(redact_kind_names[k]) == (size_t)(colon - t) &&
                    !strncmp(t, redact_kind_names[k], (size_t)(colon - t)))
                    break;
            rc = (colon && k < REDACT__KINDS) ? redact_acc_note(&a, (redact_kind)k, colon + 1) : 0;
        }
    }
    free(copy);
    if (!rc) {
        size_t n;
        free(*field);
        *field = tdbuf_steal(&a.list, &n);
        rc = *field ? 0 : -1;
    }
    tdbuf_free(&a.list);
    return rc;
}

/* The query of an absolute URI (WARC-Target-URI): same rules as the request target's. */
static int redact_uri(redact *r, char **uri, redact_acc *a)
{
    if (!*uri || !r->n[REDACT_QUERY])
        return 0;
    char *q = strchr(*uri, '?');
    if (!q)
        return 0;
    size_t qn = strcspn(q + 1, "#");
    tdbuf out;
    tdbuf_init(&out, 0);
    int rc = tdbuf_append(&out, *uri, (size_t)(q + 1 - *uri)) ? -1 : 0;
    int ch = rc ? -1 : redact_pairs(r, REDACT_QUERY, q + 1, qn, &out, a);
    if (ch == 1 && tdbuf_puts(&out, q + 1 + qn) == 0) {
        size_t n;
        free(*uri);
        *uri = tdbuf_steal(&out, &n);
        rc = *uri ? 1 : -1;
    } else {
        rc = ch < 0 ? -1 : 0;
    }
    tdbuf_free(&out);
    return rc;
}

static int redact_side(redact *r, int is_request, char **msg, size_t *len, char **field, redact_counts *c)
{
    if (!*msg || !*len)
        return 0;
    char *out = NULL, *list = NULL;
    size_t outlen = 0;
    int whole = 0;
    int rc = redact_message(r, is_request, *msg, *len, &out, &outlen, &list, &whole);
    if (rc != 1)
        return rc;
    free(*msg);
    *msg = out;
    *len = outlen;
    if (whole && c)
        c->bodies_replaced++;
    rc = merge_list(field, list) ? REDACT_ENOMEM : 1;
    free(list);
    return rc;
}

int redact_exchange(redact *r, exchange *x, redact_counts *c)
{
    if (!r || redact_rule_count(r) == 0)
        return 0;
    int changed = 0, rc;
    redact_acc a = {.values = 0};
    tdbuf_init(&a.list, 0);
    if ((rc = redact_side(r, 1, &x->request, &x->request_len, &x->redacted_request, c)) < 0)
        goto out;
    changed |= rc;
    if ((rc = redact_side(r, 0, &x->response, &x->response_len, &x->redacted_response, c)) < 0)
        goto out;
    changed |= rc;
    if ((rc = redact_uri(r, &x->target_uri, &a)) < 0 || merge_list(&x->redacted_request, a.list.data) < 0) {
        rc = REDACT_ENOMEM;
        goto out;
    }
    changed |= rc;
    rc = changed;
    if (changed && c)
        c->exchanges++;
out:
    tdbuf_free(&a.list);
    return rc < 0 ? REDACT_ENOMEM : rc;
}
