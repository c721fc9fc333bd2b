/* redact_pairs: name=value lists - query strings and urlencoded forms ('&', percent-encoding, '+' is a
 * space) and cookie headers ("a=1; b=2", values optionally quoted). Names are compared decoded; a value is
 * hashed decoded, so the same id in a query, a form and a JSON body gives the same token. Tokens are
 * digits or "hmac-sha256:" and hex: nothing in them needs encoding. */
#include "redact_int.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) ('+' too when plus) into t (reset first). 0 or -1. */
static int pct_decode(tdbuf *t, const char *s, size_t n, int plus)
{
    tdbuf_reset(t);
    if (tdbuf_reserve(t, n + 1) != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 && (l = hexval(s[i + 2])) >= 0) {
            t->data[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            t->data[o++] = (plus && s[i] == '+') ? ' ' : s[i];
        }
    }
    t->data[o] = '\0';
    t->len = o;
    return 0;
}

/* One "name=value" item s[0..n): appended as is, or with its value replaced. */
static int one_pair(redact *r, redact_kind kind, const char *s, size_t n, tdbuf *out, redact_acc *a)
{
    const char *eq = memchr(s, '=', n);
    const char *name = s, *ne = eq ? eq : s + n;
    if (kind == REDACT_COOKIE) {
        while (name < ne && (*name == ' ' || *name == '\t'))
            name++;
        while (ne > name && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
    }
    long rule = -1;
    if (eq) {
        if (kind == REDACT_COOKIE) {
            rule = redact_rule_find(r, kind, name, (size_t)(ne - name));
        } else {
            if (pct_decode(&r->tmp, name, (size_t)(ne - name), 1) != 0)
                return -1;
            rule = redact_rule_find(r, kind, r->tmp.data, r->tmp.len);
        }
    }
    const char *v = eq ? eq + 1 : s + n, *ve = s + n;
    if (kind == REDACT_COOKIE)
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
    if (rule < 0 || ve == v)
        return tdbuf_append(out, s, n) ? -1 : 0;
    int quoted = kind == REDACT_COOKIE && ve - v >= 2 && v[0] == '"' && ve[-1] == '"';
    const char *hv = v + quoted, *hve = ve - quoted;
    char tok[REDACT_TOKEN_MAX];
    if (kind == REDACT_COOKIE) {
        redact_token(r, hv, (size_t)(hve - hv), tok, sizeof tok);
    } else {
        if (pct_decode(&r->tmp, hv, (size_t)(hve - hv), 1) != 0)
            return -1;
        redact_token(r, r->tmp.data, r->tmp.len, tok, sizeof tok);
    }
    if (tdbuf_append(out, s, (size_t)(hv - s)) || tdbuf_puts(out, tok) || tdbuf_append(out, hve, (size_t)(s + n - hve)))
        return -1;
    return redact_acc_note(a, kind, r->names[kind][rule]) ? -1 : 1;
}

int redact_pairs(redact *r, redact_kind kind, const char *s, size_t n, tdbuf *out, redact_acc *a)
{
    char sep = kind == REDACT_COOKIE ? ';' : '&';
    int changed = 0;
    size_t i = 0;
    while (i <= n) {
        const char *e = memchr(s + i, sep, n - i);
        size_t end = e ? (size_t)(e - s) : n;
        int rc = one_pair(r, kind, s + i, end - i, out, a);
        if (rc < 0)
            return REDACT_ENOMEM;
        changed |= rc;
        if (!e)
            break;
        if (tdbuf_append(out, &sep, 1))
            return REDACT_ENOMEM;
        i = end + 1;
    }
    return changed;
}
