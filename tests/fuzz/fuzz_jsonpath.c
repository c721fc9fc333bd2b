/* Fuzz target for jsonpath (captures/json/jsonpath.c): --ignore expressions are compiled from the command
 * line, and the concrete paths they are matched against come from response bodies.
 *
 * Input: "EXPR\0PATH", PATH being steps separated by '/', a step "#N" an array index, any other a key.
 * Checks, beyond no crash, leak or UB (and no runaway backtracking, which libFuzzer reports as a
 * timeout):
 *   - a rejected expression says why, naming itself; an accepted one counts;
 *   - jsonpath_format never writes past its buffer and always terminates it, even when tiny;
 *   - round trip: the formatted form of a concrete path (keys without a quote), compiled as a
 *     pattern, matches that path and nothing one step shorter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"

#define MAX_STEPS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = '\0';
    const char *expr = buf;
    char *pathtext = buf + strlen(buf) + 1;
    if ((size_t)(pathtext - buf) > size)
        pathtext = buf + size + 1;

    jsonpath_step steps[MAX_STEPS];
    size_t depth = 0;
    int quoted = 0;
    for (char *s = pathtext, *next; s && depth < MAX_STEPS; s = next) {
        next = strchr(s, '/');
        if (next)
            *next++ = '\0';
        if (s[0] == '#') {
            steps[depth++] = (jsonpath_step){NULL, strtoull(s + 1, NULL, 10)};
        } else {
            quoted |= strchr(s, '\'') != NULL;
            steps[depth++] = (jsonpath_step){s, 0};
        }
        if (!*pathtext)
            break; /* an empty PATH is depth 1 with an empty key; also try depth 0 below */
    }

    jsonpath_set *set = jsonpath_set_new();
    if (!set)
        abort();
    char err[256] = "";
    int rc = jsonpath_set_add(set, expr, err, sizeof err);
    if (rc == 0 && jsonpath_set_count(set) != 1)
        abort();
    if (rc != 0 && (jsonpath_set_count(set) != 0 || strncmp(err, "bad JSONPath", 12)))
        abort();
    jsonpath_set_match(set, steps, depth);
    jsonpath_set_match(set, steps, 0);
    jsonpath_set_free(set);

    /* format into buffers of every small size: each must be terminated inside */
    for (size_t sz = 1; sz < 24; sz += 5) {
        char *out = malloc(sz);
        if (!out)
            abort();
        jsonpath_format(steps, depth, out, sz);
        if (!memchr(out, '\0', sz))
            abort();
        free(out);
    }

    /* round trip */
    static char formatted[1 << 16];
    jsonpath_format(steps, depth, formatted, sizeof formatted);
    if (!quoted && depth > 0 && strlen(formatted) + 1 < sizeof formatted) {
        set = jsonpath_set_new();
        if (!set)
            abort();
        if (depth <= 32) { /* JSONPATH_MAX_SEGS */
            if (jsonpath_set_add(set, formatted, err, sizeof err) != 0)
                abort(); /* the formatted path of a node does not compile */
            if (!jsonpath_set_match(set, steps, depth) || jsonpath_set_match(set, steps, depth - 1))
                abort();
        }
        jsonpath_set_free(set);
    }
    free(buf);
    return 0;
}
