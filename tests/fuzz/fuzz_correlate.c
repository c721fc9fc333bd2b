/* Fuzz target for correlate (replay/check/correlate.c): recorded request targets, header lines and bodies
 * come from a capture, Location values from the destination - all untrusted.
 *
 * Input: "TARGET\0HEADER-LINE\0BODY" (missing pieces are empty). Checks, beyond no crash, leak or UB:
 *   - scanning the pieces as a recorded request works, and with nothing learned every rewrite is
 *     "unchanged" (NULL / 0);
 *   - with a fixed small mapping (learned through correlate_learn_value), a rewritten target keeps
 *     every separator ('/', '?', '&', '=', '#') in place and a second rewrite changes nothing (no
 *     mapped value is itself a recorded one); a rewritten header keeps its name; a rewritten body is
 *     JSON and carries a mapped value as it is (7 maps to an integer past long long);
 *   - the pieces used as a pair of Location values learn without trouble (strtok on copies). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"

/* recorded -> actual, all handed out by response 0 and sent first by request 1 */
static const char *const mapping[][2] = {
    {"42", "9042"},
    {"u-1001", "u-2002"},
    {"tok1234567890abcdef", "new0987654321fedcba"},
    {"abc123", "zz"},
    {"7", "70000000000000000000"},
};

static correlate *mapped(void)
{
    correlate *c = correlate_new();
    if (!c)
        abort();
    const char *hdrs[] = {"Authorization: Bearer tok1234567890abcdef", "X-User: u-1001"};
    const char body[] = "{\"trip\":42,\"ref\":\"abc123\",\"n\":[7]}";
    correlate_scan_request(c, 1, "/trips/42?user=u-1001", hdrs, 2, body, sizeof body - 1);
    correlate_scan_done(c);
    for (size_t i = 0; i < sizeof mapping / sizeof *mapping; i++)
        if (correlate_learn_value(c, 0, mapping[i][0], mapping[i][1]) != 1)
            abort();
    return c;
}

static size_t seps(const char *s, char *out, size_t outsz)
{
    size_t n = 0;
    for (; *s; s++)
        if (strchr("/?&=#", *s) && n + 1 < outsz)
            out[n++] = *s;
    out[n] = '\0';
    return n;
}

static void check_target(const correlate *c, const char *target)
{
    char *t = correlate_rewrite_target(c, target);
    if (!t)
        return;
    if (!strcmp(t, target))
        abort(); /* "changed" but the same */
    static char a[8192], b[8192];
    seps(target, a, sizeof a);
    seps(t, b, sizeof b);
    if (strcmp(a, b))
        abort(); /* a separator appeared, moved or vanished */
    char *again = correlate_rewrite_target(c, t);
    if (again)
        abort(); /* rewriting is not idempotent with a mapping that has no chains */
    free(t);
}

static void check_header(const correlate *c, const char *line)
{
    char *h = correlate_rewrite_header(c, line);
    if (!h)
        return;
    const char *colon = strchr(line, ':');
    if (!colon || strncmp(h, line, (size_t)(colon - line + 1)))
        abort(); /* the name must stay */
    free(h);
}

static void check_body(const correlate *c, const char *body, size_t len)
{
    char *out = (char *)1;
    size_t outlen = 1;
    int rc = correlate_rewrite_body(c, body, len, &out, &outlen);
    if (rc == 0 && (out || outlen))
        abort();
    if (rc == 1) {
        if (!out || strlen(out) != outlen)
            abort();
        json_t *j = json_loadb(out, outlen, 0, NULL);
        if (!j)
            abort(); /* a rewritten body must still be JSON */
        static const char clamped[] = "9223372036854775807";
        if (strstr(out, clamped) && !memmem(body, len, clamped, sizeof clamped - 1))
            abort(); /* a mapped integer too big for long long was clamped instead of sent as it is */
        json_decref(j);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* NUL-terminated copies of the three pieces */
    char *buf = malloc(size + 3);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = buf[size + 2] = '\0';
    const char *target = buf;
    const char *header = target + strlen(target) + 1;
    const char *body = (size_t)(header - buf) <= size ? header + strlen(header) + 1 : buf + size + 2;
    size_t body_len = (size_t)(body - buf) <= size ? size - (size_t)(body - buf) : 0;

    /* 1: the pieces as recorded requests; nothing learned, so nothing may change */
    correlate *c = correlate_new();
    if (!c)
        abort();
    correlate_scan_request(c, 0, target, &header, 1, body, body_len);
    correlate_scan_request(c, 2, body_len ? NULL : target, NULL, 0, target, strlen(target));
    correlate_scan_done(c);
    char *o = correlate_rewrite_target(c, target);
    char *h = correlate_rewrite_header(c, header);
    char *bo = NULL;
    size_t bl = 0;
    if (o || h || correlate_rewrite_body(c, body, body_len, &bo, &bl) || bo)
        abort();
    /* ...and as Location values (response 0 handed out what request 2 sent) */
    correlate_learn_location(c, 0, target, header);
    correlate_learn_location(c, 1, header, target);
    if (correlate_mappings(c) > correlate_request_values(c))
        abort(); /* only values some request sent can be learned */
    correlate_lookup(c, target);
    correlate_free(c);

    /* 2: a fixed mapping */
    c = mapped();
    check_target(c, target);
    check_header(c, header);
    check_body(c, body, body_len);
    correlate_free(c);
    free(buf);
    return 0;
}
