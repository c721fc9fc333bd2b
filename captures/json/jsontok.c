/* jsontok: recursive descent with a depth limit; tokens are referred to by index since the array may
 * move while it grows. */
#include "jsontok.h"

#include <stdlib.h>
#include <string.h>

typedef struct tp {
    jsontok *jt;
    const char *s;
    size_t len, pos;
} tp;

static void ws(tp *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static long new_tok(tp *p, jt_type type)
{
    jsontok *jt = p->jt;
    size_t max = jt->max_tokens ? jt->max_tokens : (4u << 20);
    if (jt->n == jt->cap) {
        if (jt->cap >= max)
            return -1;
        size_t ncap = jt->cap ? jt->cap * 2 : 256;
        if (ncap > max)
            ncap = max;
        jt_token *nt = realloc(jt->t, ncap * sizeof *nt);
        if (!nt)
            return -1;
        jt->t = nt;
        jt->cap = ncap;
    }
    jt_token *t = &jt->t[jt->n];
    memset(t, 0, sizeof *t);
    t->type = (uint8_t)type;
    t->start = (uint32_t)p->pos;
    return (long)jt->n++;
}

static int hexd(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int parse_string(tp *p)
{
    long i = new_tok(p, JT_STRING);
    if (i < 0)
        return -1;
    p->pos++; /* opening quote */
    int esc = 0;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            jt_token *t = &p->jt->t[i];
            t->len = (uint32_t)(p->pos - t->start);
            t->next = (uint32_t)p->jt->n;
            t->escaped = (uint8_t)esc;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            esc = 1;
            if (p->pos + 1 >= p->len)
                return -1;
            char e = p->s[p->pos + 1];
            if (e == 'u') {
                if (p->pos + 5 >= p->len || !hexd(p->s[p->pos + 2]) || !hexd(p->s[p->pos + 3]) ||
                    !hexd(p->s[p->pos + 4]) || !hexd(p->s[p->pos + 5]))
                    return -1;
                p->pos += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || !e)
                return -1;
            p->pos += 2;
            continue;
        }
        p->pos++;
    }
    return -1;
}

static int digits(tp *p)
{
    size_t st = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    return p->pos > st ? 0 : -1;
}

static int parse_number(tp *p)
{
    long i = new_tok(p, JT_NUMBER);
    if (i < 0)
        return -1;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '0')
        p->pos++;
    else if (digits(p) < 0)
        return -1;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (digits(p) < 0)
            return -1;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (digits(p) < 0)
            return -1;
    }
    jt_token *t = &p->jt->t[i];
    t->len = (uint32_t)(p->pos - t->start);
    t->next = (uint32_t)p->jt->n;
    return 0;
}

static int parse_literal(tp *p, const char *word, jt_type type)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
        return -1;
    long i = new_tok(p, type);
    if (i < 0)
        return -1;
    p->pos += n;
    p->jt->t[i].len = (uint32_t)n;
    p->jt->t[i].next = (uint32_t)p->jt->n;
    return 0;
}

static int parse_value(tp *p, int depth);

static int parse_container(tp *p, int depth, int object)
{
    if (depth >= JSONTOK_MAX_DEPTH)
        return -1;
    long i = new_tok(p, object ? JT_OBJECT : JT_ARRAY);
    if (i < 0)
        return -1;
    char close = object ? '}' : ']';
    uint32_t n = 0;
    p->pos++;
    ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            if (object) {
                ws(p);
                if (p->pos >= p->len || p->s[p->pos] != '"' || parse_string(p) < 0)
                    return -1;
                ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':')
                    return -1;
                p->pos++;
            }
            if (parse_value(p, depth + 1) < 0)
                return -1;
            n++;
            ws(p);
            if (p->pos >= p->len)
                return -1;
            if (p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->s[p->pos] != close)
                return -1;
            p->pos++;
            break;
        }
    }
    jt_token *t = &p->jt->t[i];
    t->n = n;
    t->len = (uint32_t)(p->pos - t->start);
    t->next = (uint32_t)p->jt->n;
    return 0;
}

static int parse_value(tp *p, int depth)
{
    ws(p);
    if (p->pos >= p->len)
        return -1;
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, depth, 1);
    case '[': return parse_container(p, depth, 0);
    case '"': return parse_string(p);
    case 't': return parse_literal(p, "true", JT_TRUE);
    case 'f': return parse_literal(p, "false", JT_FALSE);
    case 'n': return parse_literal(p, "null", JT_NULL);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p);
        return -1;
    }
}

int jsontok_parse(jsontok *jt, const char *s, size_t len)
{
    if (len >= UINT32_MAX)
        return -1;
    tp p = {jt, s, len, 0};
    jt->n = 0;
    if (parse_value(&p, 0) < 0)
        return -1;
    ws(&p);
    return p.pos == len ? 0 : -1;
}

void jsontok_free(jsontok *jt)
{
    free(jt->t);
    jt->t = NULL;
    jt->n = jt->cap = 0;
}

static void put_utf8(unsigned cp, char *out, size_t outsz, size_t *n)
{
    char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    for (size_t i = 0; i < k; i++, (*n)++)
        if (outsz && *n < outsz - 1)
            out[*n] = b[i];
}

size_t jsontok_string(const char *s, const jt_token *t, char *out, size_t outsz)
{
    const char *p = s + t->start + 1, *end = s + t->start + t->len - 1;
    size_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            if (outsz && n < outsz - 1)
                out[n] = *p;
            n++;
            p++;
            continue;
        }
        char e = p[1];
        if (e == 'u') {
            unsigned cp = (unsigned)strtoul((char[]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
            p += 6;
            if (cp >= 0xd800 && cp < 0xdc00 && p + 5 < end && p[0] == '\\' && p[1] == 'u') {
                unsigned lo = (unsigned)strtoul((char[]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            put_utf8(cp, out, outsz, &n);
            continue;
        }
        char c = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
        if (outsz && n < outsz - 1)
            out[n] = c;
        n++;
        p += 2;
    }
    if (outsz)
        out[n < outsz ? n : outsz - 1] = '\0';
    return n;
}
