/* Fuzz target for the HAR importer of tapedeck-capture (captures/cli/cli_har_in.c): the input is a
 * whole HAR document, handed over as a memfd so the importer reads it through its own path-based
 * entry. Checks, beyond no crash, leak or UB: every exchange handed out has a request that starts with
 * its method and ends its head with a blank line, a target URI, and either a response or an error
 * saying why there is none; the count returned is the number handed out. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/cli_har.h"

static int each(const exchange *x, void *ctx)
{
    long *n = ctx;
    if (!x->request || !x->request_len || !x->target_uri)
        abort();
    if (!memmem(x->request, x->request_len, "\r\n\r\n", 4) || x->request[0] == ' ')
        abort(); /* not an HTTP/1.1 head */
    if (!x->response == !x->error)
        abort(); /* a response, or an error saying why there is none */
    if (x->response && (x->response_len < 12 || (memcmp(x->response, "HTTP/1.1 ", 9) &&
                                                  memcmp(x->response, "HTTP/1.0 ", 9))))
        abort(); /* rebuilt as HTTP/1.1, or HTTP/1.0 when the HAR says so */
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz.har", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    long n = 0;
    long rc = cli_har_import("fuzz", path, each, &n);
    if (rc >= 0 && rc != n)
        abort();
    return 0;
}
