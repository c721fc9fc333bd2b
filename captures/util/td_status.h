/* td_status: the one status vocabulary of the libraries (captures/ and what builds on it). A module's
 * status enum aliases these (CAPREADER_ENOMEM = TD_ENOMEM), so out-of-memory, a corrupt input or a
 * failed write has the same number whichever module reports it; a caller that only needs "what kind
 * of failure" can test against TD_* without knowing the module.
 *
 * Shape (redis/nginx style): 0 is success, negative is failure, and the words go into the caller's
 * err/errlen buffer. Iterators add positive values of their own (1 = an item, 0 = the end). A module
 * that needs a condition the shared set does not name gives it a value at or below TD_EOWN, so it can
 * never be mistaken for a shared one (jsondiff's "the expected side is not JSON"; httpmsg's statuses
 * carry the HTTP status a proxy answers with, -400 and below). */
#ifndef TAPEDECK_TD_STATUS_H
#define TAPEDECK_TD_STATUS_H

typedef enum {
    TD_OK = 0,
    TD_EIO = -1,      /* open/read/write/fsync/rename failed (errno goes into the message) */
    TD_ECORRUPT = -2, /* the input is malformed: a bad frame, a record or message that does not parse */
    TD_ETOOBIG = -3,  /* over a cap the caller set (a record, a decoded body, a buffer's limit) */
    TD_ENOMEM = -4,
    TD_EINVAL = -5,   /* bad options or arguments from the caller */
    TD_EOWN = -16,    /* first value a module may define for itself (downwards) */
} td_status;

#endif
