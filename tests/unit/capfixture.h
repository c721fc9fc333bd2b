/* Shared by the capture unit tests: a varied set of exchanges (binary bodies, raw chunked responses,
 * truncated and empty bodies, a 32 KiB header, upstream failures, interim responses) and helpers. */
#ifndef TAPEDECK_TEST_CAPFIXTURE_H
#define TAPEDECK_TEST_CAPFIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capwriter.h"
#include "exchange.h"
#include "tdbuf.h"

/* Builds exchange i of a deterministic set; the kinds cycle so any count covers all of them. */
static __attribute__((unused)) void fx_make(exchange *x, unsigned i)
{
    tdbuf req, resp;
    char uri[128], addr[64];
    exchange_init(x);
    tdbuf_init(&req, 0);
    tdbuf_init(&resp, 0);
    x->conn_id = 1 + i / 5;
    x->conn_seq = i % 5;
    x->req_start_us = 1795996590123456LL + (long long)i * 1000;
    x->resp_first_us = x->req_start_us + 250 + i;
    x->resp_end_us = x->resp_first_us + 77;
    snprintf(uri, sizeof uri, "http://127.0.0.1:9000/api/trips/%u?page=%u", i, i % 3);
    snprintf(addr, sizeof addr, "127.0.0.1:%u", 40000 + i % 1000);
    exchange_set_str(&x->target_uri, uri);
    exchange_set_str(&x->client_addr, addr);
    switch (i % 8) {
    case 0: /* JSON API call */
        tdbuf_printf(&req, "GET /api/trips/%u?page=%u HTTP/1.1\r\nHost: api\r\nAccept: application/json\r\n\r\n", i, i % 3);
        tdbuf_printf(&resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                     snprintf(NULL, 0, "{\"id\":%u,\"driver\":\"d%u\",\"fare\":%u.5}", i, i * 7, i % 90));
        tdbuf_printf(&resp, "{\"id\":%u,\"driver\":\"d%u\",\"fare\":%u.5}", i, i * 7, i % 90);
        break;
    case 1: { /* binary bodies with NULs both ways */
        unsigned char bin[300];
        for (unsigned k = 0; k < sizeof bin; k++)
            bin[k] = (unsigned char)((k * 31 + i) & (k % 5 ? 0xff : 0x00));
        tdbuf_printf(&req, "POST /upload HTTP/1.1\r\nHost: api\r\nContent-Length: %zu\r\n\r\n", sizeof bin);
        tdbuf_append(&req, bin, sizeof bin);
        tdbuf_printf(&resp, "HTTP/1.1 201 Created\r\nContent-Type: application/octet-stream\r\nContent-Length: 64\r\n\r\n");
        tdbuf_append(&resp, bin + 10, 64);
        break;
    }
    case 2: /* raw chunked response, kept chunked */
        tdbuf_printf(&req, "GET /stream HTTP/1.1\r\nHost: api\r\n\r\n");
        tdbuf_printf(&resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n");
        break;
    case 3: /* body cut at --max-body */
        tdbuf_printf(&req, "GET /big HTTP/1.1\r\nHost: api\r\n\r\n");
        tdbuf_printf(&resp, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789abcdef");
        x->truncated = EXCHANGE_TRUNC_RESPONSE;
        break;
    case 4: /* empty body */
        tdbuf_printf(&req, "DELETE /api/trips/%u HTTP/1.1\r\nHost: api\r\nContent-Length: 0\r\n\r\n", i);
        tdbuf_printf(&resp, "HTTP/1.1 204 No Content\r\n\r\n");
        break;
    case 5: { /* a 32 KiB header */
        tdbuf_printf(&req, "GET /cookies HTTP/1.1\r\nHost: api\r\nCookie: ");
        for (unsigned k = 0; k < 32 * 1024 / 16; k++)
            tdbuf_printf(&req, "c%04u=abcdefghi;", k % 10000);
        tdbuf_printf(&req, "\r\n\r\n");
        tdbuf_printf(&resp, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        break;
    }
    case 6: /* upstream failed: no response */
        tdbuf_printf(&req, "GET /down HTTP/1.1\r\nHost: api\r\n\r\n");
        exchange_set_str(&x->error, "connect: Connection refused");
        x->resp_first_us = x->resp_end_us = 0;
        break;
    case 7: /* 100-continue and 103 before the final response */
        tdbuf_printf(&req, "PUT /api/trips/%u HTTP/1.1\r\nHost: api\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}", i);
        tdbuf_printf(&resp, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        x->interim[0] = 100;
        x->interim[1] = 103;
        x->n_interim = 2;
        break;
    }
    x->request = tdbuf_steal(&req, &x->request_len);
    if (resp.len)
        x->response = tdbuf_steal(&resp, &x->response_len);
    tdbuf_free(&resp);
}

/* 0 when a and b carry the same recorded content (ids aside); else the name of the first difference. */
static __attribute__((unused)) const char *fx_diff(const exchange *a, const exchange *b)
{
#define FX_STR(f) if ((a->f == NULL) != (b->f == NULL) || (a->f && strcmp(a->f, b->f))) return #f
#define FX_BUF(f) if ((a->f == NULL) != (b->f == NULL) || a->f##_len != b->f##_len || \
                      (a->f && memcmp(a->f, b->f, a->f##_len))) return #f
    if (a->conn_id != b->conn_id) return "conn_id";
    if (a->conn_seq != b->conn_seq) return "conn_seq";
    if (a->req_start_us != b->req_start_us) return "req_start_us";
    if (a->resp_first_us != b->resp_first_us) return "resp_first_us";
    if (a->resp_end_us != b->resp_end_us) return "resp_end_us";
    if (a->truncated != b->truncated) return "truncated";
    if (a->n_interim != b->n_interim) return "n_interim";
    for (int k = 0; k < a->n_interim; k++)
        if (a->interim[k] != b->interim[k]) return "interim";
    FX_STR(target_uri);
    FX_STR(client_addr);
    FX_STR(error);
    FX_BUF(request);
    FX_BUF(response);
    return NULL;
#undef FX_STR
#undef FX_BUF
}

/* A fresh temporary directory (removed by fx_rmdir). */
static __attribute__((unused)) char *fx_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = NULL;
    if (asprintf(&p, "%s/tdcap-XXXXXX", base && *base ? base : "/tmp") < 0)
        return NULL;
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

static __attribute__((unused)) void fx_rmdir(char *dir)
{
    char cmd[4200];
    if (!dir)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(dir);
}

static __attribute__((unused)) char *fx_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    tdbuf b;
    char chunk[65536];
    size_t n;
    if (!f)
        return NULL;
    tdbuf_init(&b, 0);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        tdbuf_append(&b, chunk, n);
    fclose(f);
    return tdbuf_steal(&b, len);
}

static __attribute__((unused)) int fx_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Writes exchanges from .. from+n-1 of the set; 0, or the status of the first failed write (err says
 * why). */
static __attribute__((unused)) int fx_write_n(capwriter *w, unsigned from, unsigned n, char *err, size_t errlen)
{
    for (unsigned i = from; i < from + n; i++) {
        exchange x;
        fx_make(&x, i);
        int rc = capwriter_write(w, &x, err, errlen);
        exchange_clear(&x);
        if (rc)
            return rc;
    }
    return 0;
}

#endif
