/* td_status: one status vocabulary. Every module's out-of-memory, corrupt-input, over-the-cap, I/O and
 * bad-argument code is the shared number, and a module's own codes stay clear of the shared range. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "capreader.h"
#include "capwriter.h"
#include "content.h"
#include "decode.h"
#include "httpmsg.h"
#include "httpmsg_chunk.h"
#include "httpmsg_headscan.h"
#include "jsondiff.h"
#include "tdbuf.h"
#include "warc.h"

static void one_number_per_condition(void **state)
{
    (void)state;
    static const int enomem[] = {TDBUF_ENOMEM,   WARC_ENOMEM,   CAPREADER_ENOMEM, CAPWRITER_ENOMEM,
                                 CONTENT_ENOMEM, DECODE_ENOMEM, JSONDIFF_ENOMEM};
    for (size_t i = 0; i < sizeof enomem / sizeof enomem[0]; i++)
        assert_int_equal(enomem[i], TD_ENOMEM);
    static const int etoobig[] = {TDBUF_ETOOBIG, CAPREADER_ETOOBIG, CONTENT_ETOOBIG, DECODE_ETOOBIG,
                                  HTTPMSG_HEAD_ETOOLARGE, HTTPMSG_CHUNK_ETOOLARGE};
    for (size_t i = 0; i < sizeof etoobig / sizeof etoobig[0]; i++)
        assert_int_equal(etoobig[i], TD_ETOOBIG);
    static const int ecorrupt[] = {WARC_EPARSE, CAPREADER_ECORRUPT, CONTENT_ECODING, HTTPMSG_HEAD_EBAD,
                                   HTTPMSG_CHUNK_EBAD};
    for (size_t i = 0; i < sizeof ecorrupt / sizeof ecorrupt[0]; i++)
        assert_int_equal(ecorrupt[i], TD_ECORRUPT);
    assert_int_equal(CAPREADER_EIO, TD_EIO);
    assert_int_equal(CAPWRITER_EIO, TD_EIO);
    assert_int_equal(CAPWRITER_EINVAL, TD_EINVAL);
    static const int own[] = {DECODE_EPARSE, JSONDIFF_EEXPECTED, JSONDIFF_EACTUAL, HTTPMSG_EBAD,
                              HTTPMSG_ETOOLARGE, HTTPMSG_EUNSUPPORTED};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        assert_true(own[i] <= TD_EOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(one_number_per_condition)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
