/* Fuzz target for the GoReplay importer of tapedeck-capture (captures/cli/cli_gor.c): the input is a
 * whole .gor file, handed over as a memfd so the importer reads it through its own path-based entry.
 * Checks, beyond no crash, leak or UB: every exchange handed out has a request, an absolute http://
 * (or https://) target URI with a host, and either a response or an error saying why there is none; the count returned is the
 * number handed out. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/cli_gor.h"

static int each(const exchange *x, void *ctx)
{
    long *n = ctx;
    if (!x->request || !x->target_uri ||
        (strncmp(x->target_uri, "http://", 7) && strncmp(x->target_uri, "https://", 8)))
        abort(); /* (https:// from an absolute-form request target) */
    if (!strncmp(x->target_uri, "http:///", 8))
        abort(); /* a URI without a host */
    if (!x->response == !x->error || (x->response && !x->response_len))
        abort(); /* a response, or an error saying why there is none */
    if (x->resp_end_us < 0 || x->req_start_us < 0)
        abort();
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz.gor", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    long n = 0;
    long rc = cli_gor_import("fuzz", path, each, &n);
    if (rc >= 0 && rc != n)
        abort();
    return 0;
}
