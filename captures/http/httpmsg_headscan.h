/* httpmsg_headscan: our own pass over a message head's raw bytes before http-parser reads it. It finds
 * the blank line that ends the head and refuses what peers could read two ways: NUL, bare CR, obsolete
 * line folding, white space before a field's colon, and heads over the size or field-count limits.
 * Incremental: the head may arrive in pieces. Internal to httpmsg. */
#ifndef TAPEDECK_HTTPMSG_HEADSCAN_H
#define TAPEDECK_HTTPMSG_HEADSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "td_status.h"

typedef struct httpmsg_headscan {
    size_t scan;       /* bytes of the head already scanned */
    size_t line_start; /* offset of the current line */
    size_t nlines;     /* lines ended so far (the start line is line 0) */
    bool cr_pending;
    bool colon_seen; /* on the current header line */
} httpmsg_headscan;

enum { HTTPMSG_HEAD_MORE = 0, HTTPMSG_HEAD_DONE = 1, HTTPMSG_HEAD_EBAD = TD_ECORRUPT, HTTPMSG_HEAD_ETOOLARGE = TD_ETOOBIG };

void httpmsg_headscan_init(httpmsg_headscan *s);
/* Scans raw[s->scan .. *raw_len). HTTPMSG_HEAD_DONE: the head ends inside, and *raw_len is cut just
 * after its blank line. HTTPMSG_HEAD_MORE: feed more bytes. On an error, err says what is wrong. */
int httpmsg_headscan_feed(httpmsg_headscan *s, const char *raw, size_t *raw_len, size_t max_head,
                          size_t max_headers, char *err, size_t errlen);

#endif
