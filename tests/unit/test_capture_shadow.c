/* Shadow answers in a capture (tapedeck-proxy --mirror-record): an exchange's shadow and shadow-baseline
 * answers and a copy that got none survive capwriter -> capreader, with their timings and flags, as
 * more response records right after the exchange's own; check's view (request, response) is unchanged;
 * an exchange whose upstream failed keeps its shadow answer; the next exchange gets none; a copy of the
 * exchange carries them too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capfixture.h"
#include "capreader.h"
#include "capwriter.h"

static void set_shadow(exchange *x, int which, const char *resp, const char *error, int64_t base)
{
    exchange_shadow *s = exchange_shadow_slot(x, which);
    assert_non_null(s);
    s->present = 1;
    if (resp)
        assert_int_equal(exchange_set_buf(&s->response, &s->response_len, resp, strlen(resp)), 0);
    if (error)
        assert_int_equal(exchange_set_str(&s->error, error), 0);
    s->sent_us = base;
    s->resp_first_us = resp ? base + 1500 : 0;
    s->resp_end_us = resp ? base + 2500 : 0;
    s->truncated = which == EXCHANGE_SHADOW_BASELINE;
}

static const char SHADOW_RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"plan\": 3 }";
static const char BASE_RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"pl\":";

static void round_trip(void **state)
{
    (void)state;
    char path[] = "/tmp/tapedeck-shadow-XXXXXX.warc.zst", err[512];
    int fd = mkstemps(path, 9);
    assert_true(fd >= 0);
    close(fd);
    capwriter_opts o = {.path = path, .no_dictionary = 1};
    capwriter *w = capwriter_open(&o, err, sizeof err);
    assert_non_null(w);
    exchange x[3];
    for (int i = 0; i < 3; i++)
        fx_make(&x[i], (unsigned)i);
    set_shadow(&x[0], EXCHANGE_SHADOW, SHADOW_RESP, NULL, 1700000000000000ll);
    set_shadow(&x[0], EXCHANGE_SHADOW_BASELINE, BASE_RESP, NULL, 1700000000000100ll);
    /* the upstream failed; the shadow answered; the baseline did not */
    free(x[1].response);
    x[1].response = NULL;
    x[1].response_len = 0;
    assert_int_equal(exchange_set_str(&x[1].error, "connect: Connection refused"), 0);
    set_shadow(&x[1], EXCHANGE_SHADOW, SHADOW_RESP, NULL, 1700000001000000ll);
    set_shadow(&x[1], EXCHANGE_SHADOW_BASELINE, NULL, "closed the connection before the response ended", 1700000001000000ll);
    for (int i = 0; i < 3; i++)
        assert_int_equal(capwriter_write(w, &x[i], err, sizeof err), CAPWRITER_OK);
    assert_int_equal(capwriter_close(w, err, sizeof err), CAPWRITER_OK);

    capreader *r = capreader_open(path, NULL, err, sizeof err);
    assert_non_null(r);
    exchange got;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(capreader_next(r, &got), 1);
        assert_memory_equal(got.request, x[i].request, x[i].request_len);
        if (x[i].response)
            assert_memory_equal(got.response, x[i].response, x[i].response_len);
        else
            assert_null(got.response);
        const exchange_shadow *s = exchange_shadow_get(&got, EXCHANGE_SHADOW);
        const exchange_shadow *b = exchange_shadow_get(&got, EXCHANGE_SHADOW_BASELINE);
        if (i == 2) {
            assert_null(s);
            assert_null(b);
        } else {
            assert_non_null(s);
            assert_non_null(b);
            assert_int_equal(s->response_len, strlen(SHADOW_RESP));
            assert_memory_equal(s->response, SHADOW_RESP, s->response_len);
            assert_int_equal(s->resp_end_us - s->sent_us, 2500);
            assert_int_equal(s->resp_first_us - s->sent_us, 1500);
            assert_false(s->truncated);
            if (i == 0) {
                assert_int_equal(b->response_len, strlen(BASE_RESP));
                assert_true(b->truncated);
            } else {
                assert_null(b->response);
                assert_string_equal(b->error, "closed the connection before the response ended");
            }
            exchange c;
            assert_int_equal(exchange_copy(&c, &got), 0);
            assert_memory_equal(exchange_shadow_get(&c, EXCHANGE_SHADOW)->response, SHADOW_RESP, strlen(SHADOW_RESP));
            exchange_clear(&c);
        }
        exchange_clear(&got);
    }
    assert_int_equal(capreader_next(r, &got), 0);
    /* request, response, shadow, baseline | request (failed), shadow | request, response */
    assert_int_equal(capreader_records(r), 1 + 4 + 2 + 2);
    capreader_free(r);
    for (int i = 0; i < 3; i++)
        exchange_clear(&x[i]);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(round_trip)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
