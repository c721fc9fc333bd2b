/* tdtime: clocks and timestamp formats. */
#include "tdtime.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t tdtime_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t tdtime_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Split us into whole seconds and a non-negative microsecond remainder (floor, also before 1970). */
static void split_us(int64_t us, time_t *sec, long *frac)
{
    int64_t s = us / 1000000, f = us % 1000000;
    if (f < 0) {
        f += 1000000;
        s -= 1;
    }
    *sec = (time_t)s;
    *frac = (long)f;
}

/* The UTC calendar time of us, and its microseconds. -1 when there is nothing to format into, or the
 * time has no calendar date (buf then says "?"). */
static int utc_tm(int64_t us, struct tm *tm, long *frac, char *buf, size_t bufsz)
{
    time_t sec;
    split_us(us, &sec, frac);
    if (bufsz == 0)
        return -1;
    if (!gmtime_r(&sec, tm)) {
        snprintf(buf, bufsz, "?");
        return -1;
    }
    return 0;
}

/* n decimal digits of v at p (zero-padded) */
static char *put_digits(char *p, long v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* The capture writer stamps every record: digits by hand rather than snprintf, and the text of the
 * last second asked for ("YYYY-MM-DDTHH:MM:SS", per thread) is kept, so gmtime and its digits run once
 * a second and a record's stamp is a copy and its six fraction digits (the calendar fields kept
 * instead, and their digits put again for every record, were ~300 instructions a stamp). */
char *tdtime_format_iso(int64_t us, int micro, char *buf, size_t bufsz)
{
    static __thread time_t last_sec = (time_t)-1;
    static __thread char last_text[20]; /* 19 characters of that second, valid when last_sec is */
    long frac;
    time_t sec;
    split_us(us, &sec, &frac);
    if (sec != last_sec || bufsz < 28) {
        struct tm tm;
        if (utc_tm(us, &tm, &frac, buf, bufsz) != 0)
            return buf;
        if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999 || bufsz < 28) {
            if (micro)
                snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
            else
                snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
            return buf;
        }
        char *p = put_digits(last_text, tm.tm_year + 1900, 4);
        *p++ = '-';
        p = put_digits(p, tm.tm_mon + 1, 2);
        *p++ = '-';
        p = put_digits(p, tm.tm_mday, 2);
        *p++ = 'T';
        p = put_digits(p, tm.tm_hour, 2);
        *p++ = ':';
        p = put_digits(p, tm.tm_min, 2);
        *p++ = ':';
        put_digits(p, tm.tm_sec, 2);
        last_sec = sec;
    }
    memcpy(buf, last_text, 19);
    char *p = buf + 19;
    if (micro) {
        *p++ = '.';
        p = put_digits(p, frac, 6);
    }
    *p++ = 'Z';
    *p = '\0';
    return buf;
}

char *tdtime_format_compact(int64_t us, char *buf, size_t bufsz)
{
    long frac;
    struct tm tm;
    if (utc_tm(us, &tm, &frac, buf, bufsz) != 0)
        return buf;
    snprintf(buf, bufsz, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

/* Reads exactly n digits at *p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int tdtime_parse_iso(const char *s, int64_t *us)
{
    int Y, M, D, h, m, sec;
    const char *p = s;
    if (!s || digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' || digits(&p, 2, &D) ||
        (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' || digits(&p, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n >= 9)
                return -1;
            if (n < 6)
                frac = frac * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        for (; n < 6; n++)
            frac *= 10;
    }
    if ((*p != 'Z' && *p != 'z') || p[1] != '\0')
        return -1;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *us = (int64_t)t * 1000000 + frac;
    return 0;
}

int tdtime_parse_duration(const char *s, int64_t unit_us, int64_t *us)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    double mul;
    if (*end == '\0')
        mul = (double)unit_us;
    else if (!strcmp(end, "us"))
        mul = 1;
    else if (!strcmp(end, "ms"))
        mul = 1e3;
    else if (!strcmp(end, "s"))
        mul = 1e6;
    else if (!strcmp(end, "m"))
        mul = 60e6;
    else if (!strcmp(end, "h"))
        mul = 3600e6;
    else if (!strcmp(end, "d"))
        mul = 86400e6;
    else
        return -1;
    double r = v * mul;
    if (r > 9.2e18)
        return -1;
    *us = (int64_t)llround(r);
    return 0;
}

struct timeval tdtime_tv(int64_t us)
{
    struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
    return tv;
}
