/* Fuzz target for the proxy's HTTP/2 request path: the input is what a client sends after the
 * connection preface (frames), fed to an nghttp2 server session set up as the proxy sets its own, whose
 * header callbacks drive proxy_h2_req exactly as proxy_h2.c does. Every head proxy_h2_req accepts must read
 * back
 * through httpmsg as one HTTP/1.1 request with the same method, target and Host, no more fields than were
 * given, and nothing after its blank line: what the proxy forwards upstream can never be read two ways. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "httpmsg.h"
#include "proxy_h2_req.h"

#define MAX_STREAMS 16

typedef struct fstream {
    int32_t id;
    proxy_h2_req rq;
    size_t fields;
} fstream;

typedef struct fsess {
    fstream st[MAX_STREAMS];
} fsess;

static fstream *find(fsess *f, int32_t id, int create)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (f->st[i].id == id)
            return &f->st[i];
    if (!create)
        return NULL;
    for (int i = 0; i < MAX_STREAMS; i++)
        if (f->st[i].id == 0) {
            f->st[i].id = id;
            proxy_h2_req_init(&f->st[i].rq, 64 * 1024);
            f->st[i].fields = 0;
            return &f->st[i];
        }
    return NULL;
}

static void drop(fstream *s)
{
    proxy_h2_req_clear(&s->rq);
    s->id = 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *fr, void *ud)
{
    if (fr->hd.type == NGHTTP2_HEADERS && fr->headers.cat == NGHTTP2_HCAT_REQUEST)
        find(ud, fr->hd.stream_id, 1);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    fstream *s = fr->headers.cat == NGHTTP2_HCAT_REQUEST ? find(ud, fr->hd.stream_id, 0) : NULL;
    if (s) {
        (void)proxy_h2_req_header(&s->rq, (const char *)name, nl, (const char *)value, vl);
        s->fields++;
    }
    return 0;
}

/* The parse-back check on one accepted head. */
static void check_head(fstream *s, int end_stream)
{
    tdbuf out;
    tdbuf_init(&out, 0);
    int chunked = 0;
    if (proxy_h2_req_head(&s->rq, end_stream, "upstream.test:80", &out, &chunked) != PROXY_H2_REQ_OK) {
        tdbuf_free(&out);
        return;
    }
    httpmsg m;
    char err[256];
    if (httpmsg_parse(&m, HTTPMSG_REQUEST, out.data, out.len, NULL, err, sizeof err) != HTTPMSG_OK) {
        fprintf(stderr, "proxy_h2_req built a head httpmsg refuses (%s):\n%s\n", err, out.data);
        abort();
    }
    const char *method = proxy_h2_req_pseudo(&s->rq, PROXY_H2_REQ_P_METHOD),
               *path = proxy_h2_req_pseudo(&s->rq, PROXY_H2_REQ_P_PATH);
    char host[512];
    int has_host = httpmsg_header_value(&m.head, "Host", host, sizeof host);
    /* one Host, written first; at most one field more than given (transfer-encoding for a chunked body) */
    if (strcmp(m.head.method, method) || strcmp(m.head.url, path) || !has_host || m.head.head_len != out.len ||
        m.head.n_headers > s->fields + 2 || (chunked && !m.head.chunked) ||
        (!chunked && m.head.chunked)) {
        fprintf(stderr, "proxy_h2_req head reads back differently:\n%s\n", out.data);
        abort();
    }
    const char *auth = proxy_h2_req_pseudo(&s->rq, PROXY_H2_REQ_P_AUTHORITY);
    if (auth && *auth && strcmp(host, auth) != 0)
        abort();
    httpmsg_clear(&m);
    tdbuf_free(&out);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *fr, void *ud)
{
    fstream *s = find(ud, fr->hd.stream_id, 0);
    if (s && fr->hd.type == NGHTTP2_HEADERS && fr->headers.cat == NGHTTP2_HCAT_REQUEST)
        check_head(s, (fr->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
    fstream *s = find(ud, id, 0);
    if (s)
        drop(s);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    fsess f;
    memset(&f, 0, sizeof f);
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_session *ng = NULL;
    nghttp2_option *opt = NULL;
    if (nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
        goto out;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_max_continuations(opt, 32);
    if (nghttp2_session_server_new2(&ng, cb, &f, opt) != 0)
        goto out;
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS}};
    nghttp2_submit_settings(ng, NGHTTP2_FLAG_NONE, iv, 1);
    if (nghttp2_session_mem_recv(ng, (const uint8_t *)preface, sizeof preface - 1) < 0)
        goto out;
    /* two pieces, cut at the first byte's value, as frames arrive split across reads */
    size_t cut = size ? data[0] % (size + 1) : 0;
    if (nghttp2_session_mem_recv(ng, data, cut) >= 0)
        (void)nghttp2_session_mem_recv(ng, data + cut, size - cut);
out:
    for (int i = 0; i < MAX_STREAMS; i++)
        if (f.st[i].id)
            drop(&f.st[i]);
    nghttp2_session_del(ng);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    return 0;
}
