/* libFuzzer target: any byte string as a capture file. The reader must never crash, hang or leak; it
 * returns records, an end, or an error. Also feeds the bytes to the WARC record parser directly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capreader.h"
#include "warc.h"

static void read_all(const char *path, int exchanges)
{
    char err[256];
    capreader_opts o = {.max_record = 1 << 20};
    capreader *r = capreader_open(path, &o, err, sizeof err);
    if (!r)
        return;
    for (int i = 0; i < 100000; i++) {
        int rc;
        if (exchanges) {
            exchange x;
            rc = capreader_next(r, &x);
            if (rc == 1)
                exchange_clear(&x);
        } else {
            warc_record rec;
            rc = capreader_next_record(r, &rec);
            if (rc == 1) {
                (void)warc_record_type(&rec);
                warc_record_clear(&rec);
            }
        }
        if (rc != 1)
            break;
    }
    (void)capreader_error(r);
    (void)capreader_truncated(r);
    capreader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_capreader", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t k = write(fd, data + done, size - done);
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    read_all(path, 0);
    read_all(path, 1);
    close(fd);

    warc_record rec;
    char err[128];
    if (warc_record_parse(&rec, (const char *)data, size, err, sizeof err) == WARC_OK) {
        exchange x;
        if (warc_records_to_exchange(&rec, NULL, &x, err, sizeof err) == WARC_OK)
            exchange_clear(&x);
        warc_record_clear(&rec);
    }
    return 0;
}
