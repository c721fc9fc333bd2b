/* route: path normalisation for per-route reporting. */
#include "route.h"

#include <ctype.h>
#include <string.h>

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return n > 0;
}

/* 8-4-4-4-12 hex digits. */
static int is_uuid(const char *s, size_t n)
{
    if (n != 36)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* At least 8 hex digits with a digit among them, so words like "deadbeef"-free names ("facade") stay. */
static int is_hex_id(const char *s, size_t n)
{
    int digit = 0;
    if (n < 8)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return 0;
        if (isdigit((unsigned char)s[i]))
            digit = 1;
    }
    return digit;
}

int route_normalise(const char *target, char *out, size_t outsz)
{
    const char *p = target ? target : "";
    /* Absolute URI: skip scheme and authority. */
    const char *colon = strstr(p, "://");
    if (colon && colon != p && !memchr(p, '/', (size_t)(colon - p)) && !memchr(p, '?', (size_t)(colon - p))) {
        p = colon + 3;
        p += strcspn(p, "/?#");
    }
    size_t end = strcspn(p, "?#");
    size_t o = 0;
    if (outsz == 0)
        return -1;
    if (end == 0 || p[0] != '/') {
        /* "*" (OPTIONS) and empty paths: keep "*", else "/". */
        const char *r = (end == 1 && p[0] == '*') ? "*" : "/";
        if (end > 0 && p[0] != '/' && !(end == 1 && p[0] == '*')) {
            r = NULL;
        }
        if (r) {
            size_t n = strlen(r);
            if (n + 1 > outsz)
                return -1;
            memcpy(out, r, n + 1);
            return (int)n;
        }
    }
    size_t i = 0;
    while (i < end) {
        if (p[i] == '/') {
            if (o + 1 >= outsz)
                return -1;
            out[o++] = '/';
            i++;
            continue;
        }
        size_t n = strcspn(p + i, "/?#");
        if (i + n > end)
            n = end - i;
        const char *seg = p + i;
        const char *rep = NULL;
        if (all_digits(seg, n) || is_uuid(seg, n) || is_hex_id(seg, n))
            rep = "{id}";
        size_t rn = rep ? strlen(rep) : n;
        if (o + rn >= outsz)
            return -1;
        memcpy(out + o, rep ? rep : seg, rn);
        o += rn;
        i += n;
    }
    out[o] = '\0';
    return (int)o;
}
