/* Fuzz target for the redactor (captures/redact): recorded messages are whatever crossed the wire, and
 * the proxy's writer redacts every one of them.
 *
 * Input: one byte (bit 0: a request, else a response), then a raw HTTP message. Fixed rules cover every
 * kind: JSON paths (plain, wildcard, index, descendant), a query parameter, a cookie, a form field and a
 * header. Checks, beyond no crash, leak or UB:
 *   - a changed message that was a complete, valid HTTP message before is one after (check and load
 *     must still replay it), and its body is no longer than the cap lets it grow;
 *   - the list of what was replaced is never empty when something changed, and names rules only;
 *   - the secret marker "S3CR3T" never survives as a JSON value under $.password: a valid JSON body
 *     that had it there loses it;
 *   - redacting the output again does not fail. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg.h"
#include "redact.h"

static redact *rules(void)
{
    static const char *const r[] = {"redact-json",   "$.password", "redact-json",   "$..id",
                                    "redact-json",   "$.a[*].b",   "redact-json",   "$.list[0]",
                                    "redact-query",  "token",      "redact-cookie", "sid",
                                    "redact-form",   "pw",         "redact-header", "Authorization",
                                    NULL};
    redact *x = redact_new();
    char err[256];
    for (size_t i = 0; x && r[i]; i += 2)
        if (redact_add_flag(x, r[i], r[i + 1], err, sizeof err) != REDACT_OK) {
            fprintf(stderr, "fuzz_redact: %s\n", err);
            abort();
        }
    return x;
}

static int valid(int is_req, const char *m, size_t n)
{
    httpmsg hm;
    if (httpmsg_parse(&hm, is_req ? HTTPMSG_REQUEST : HTTPMSG_RESPONSE, m, n, NULL, NULL, 0) != HTTPMSG_OK)
        return 0;
    int ok = hm.complete && hm.consumed == n;
    httpmsg_clear(&hm);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static redact *r;
    if (!r && !(r = rules()))
        return 0;
    if (size < 1)
        return 0;
    int is_req = data[0] & 1;
    const char *m = (const char *)data + 1;
    size_t n = size - 1;
    char *out = NULL, *list = NULL;
    size_t outlen = 0;
    int whole = 0;
    int rc = redact_message(r, is_req, m, n, &out, &outlen, &list, &whole);
    if (rc < 0)
        return 0; /* out of memory */
    if (rc == 0) {
        if (out || list)
            abort();
        return 0;
    }
    if (!out || !list || !*list)
        abort();
    if (valid(is_req, m, n) && !valid(is_req, out, outlen)) {
        fprintf(stderr, "fuzz_redact: a valid message became invalid:\n%.*s\n", (int)outlen, out);
        abort();
    }
    for (char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (strncmp(p, "json:", 5) && strncmp(p, "query:", 6) && strncmp(p, "cookie:", 7) &&
            strncmp(p, "form:", 5) && strncmp(p, "header:", 7) && strncmp(p, "body", 4))
            abort();
        p += k;
        while (*p == ',' || *p == ' ')
            p++;
    }
    const char *pw = memmem(out, outlen, "\"password\":\"S3CR3T\"", 19);
    if (pw && !whole && strstr(list, "json:$.password")) {
        /* the marker survived only where it was not the top-level password (a nested one, say) */
        const char *body = memmem(out, outlen, "\r\n\r\n", 4);
        if (body && body + 4 < out + outlen && body[4] == '{' && pw == body + 5)
            abort();
    }
    char *out2 = NULL, *list2 = NULL;
    size_t outlen2 = 0;
    if (redact_message(r, is_req, out, outlen, &out2, &outlen2, &list2, NULL) == 1 && (!out2 || !list2))
        abort();
    free(out2);
    free(list2);
    free(out);
    free(list);
    return 0;
}
