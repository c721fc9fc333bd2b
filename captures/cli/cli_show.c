/* cli_show: one exchange in full, for a person: where and when, then the request and the response as
 * they crossed the wire, bodies de-chunked and decoded. */
#include "cli_show.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_body.h"
#include "cli_util.h"
#include "content.h"
#include "httpmsg.h"

enum { MAX_DECODED = 64 * 1024 * 1024 };

const char cli_show_help[] =
    "Usage: tapedeck-capture show [options] ID CAPTURE...\n"
    "\n"
    "Shows one exchange: its record id, target URI, times, connection, and then the request and the\n"
    "response with their heads as sent and their bodies de-chunked; gzip, deflate and br content\n"
    "codings are undone for display; binary bodies are summarised (size and first bytes).\n"
    "ID is the number `ls` prints, or the request record's WARC-Record-ID (urn:uuid:...).\n"
    "\n"
    "Options:\n"
    "  --raw          write the request and then the response exactly as recorded, nothing else\n"
    "  -h, --help     show this help\n"
    "\n"
    "Exit status: 0 shown; 2 bad arguments, no such exchange, or an unreadable capture.\n";

static int matches(const exchange *x, const char *id, uint64_t num)
{
    if (num)
        return x->id == num;
    const char *want = id;
    size_t n = strlen(want);
    if (n >= 2 && want[0] == '<' && want[n - 1] == '>') {
        want++;
        n -= 2;
    }
    if (!strncmp(want, "urn:uuid:", 9) || strncmp(x->record_id, "urn:uuid:", 9))
        return strlen(x->record_id) == n && !strncmp(x->record_id, want, n);
    return strlen(x->record_id + 9) == n && !strncmp(x->record_id + 9, want, n);
}

/* The head as recorded, CRLF shown as line ends, other control bytes escaped. */
static void print_head(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
            continue;
        if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f))
            putchar(c);
        else
            printf("\\x%02x", c);
    }
}

static int note_status(void *ctx, const httpmsg_head *h)
{
    *(int *)ctx = h->status;
    return 0;
}

static int pause_each(void *ctx)
{
    (void)ctx;
    return 1;
}

/* Where the final response's head starts: interim 1xx responses come first in the recorded bytes. */
static size_t final_head_offset(const char *raw, size_t len)
{
    httpmsg_callbacks cb = {.on_head = note_status, .on_complete = pause_each};
    int status = 0;
    size_t off = 0;
    httpmsg_parser *p = httpmsg_parser_new(HTTPMSG_RESPONSE, &cb, &status, NULL);
    while (p && off < len) {
        status = 0;
        ssize_t n = httpmsg_parser_execute(p, raw + off, len - off);
        if (n <= 0 || status >= 200 || status == 101 || status == 0)
            break;
        off += (size_t)n;
        httpmsg_parser_resume(p);
    }
    httpmsg_parser_free(p);
    return off;
}

static void print_message(const char *what, const char *raw, size_t len, httpmsg_type type, const char *method)
{
    printf("--- %s (%zu bytes)\n", what, len);
    httpmsg m;
    char err[256];
    if (httpmsg_parse(&m, type, raw, len, method, err, sizeof err) != 0) {
        printf("(does not parse as HTTP: %s; the bytes as recorded:)\n", err);
        if (cli_body_is_text(raw, len))
            print_head(raw, len);
        else
            cli_body_print(stdout, raw, len);
        putchar('\n');
        return;
    }
    size_t off = type == HTTPMSG_RESPONSE ? final_head_offset(raw, len) : 0;
    print_head(raw + off, m.head.head_len);
    char enc[128] = "";
    httpmsg_header_value(&m.head, "Content-Encoding", enc, sizeof enc);
    char *dec = NULL;
    size_t decn = 0;
    char why[160] = "";
    int d = content_decode(enc, m.body, m.body_len, MAX_DECODED, &dec, &decn, why, sizeof why);
    if (d == CONTENT_OK && dec) {
        printf("(%s-decoded from %zu bytes)\n", enc, m.body_len);
        cli_body_print(stdout, dec, decn);
    } else {
        if (d < 0)
            printf("(Content-Encoding '%s' not decoded: %s)\n", enc, why);
        cli_body_print(stdout, m.body, m.body_len);
    }
    if (!m.complete)
        printf("(body cut short: %zu bytes recorded)\n", m.body_len);
    free(dec);
    httpmsg_clear(&m);
}

static void show(const exchange *x)
{
    char t[48];
    cli_view v;
    cli_view_of(x, &v);
    printf("exchange    %" PRIu64 "\n", x->id);
    printf("record      %s\n", x->record_id[0] ? x->record_id : "-");
    printf("target      %s\n", x->target_uri ? x->target_uri : "-");
    printf("request     %s %s\n", v.method, v.target);
    printf("started     %s\n", cli_iso_time(x->req_start_us, t, sizeof t));
    if (x->resp_first_us && x->req_start_us)
        printf("first byte  %.3f ms\n", (double)(x->resp_first_us - x->req_start_us) / 1000.0);
    if (v.latency_ms >= 0)
        printf("latency     %.3f ms\n", v.latency_ms);
    printf("connection  %" PRIu64 " (exchange %" PRIu64 " on it)\n", x->conn_id, x->conn_seq);
    if (x->client_addr)
        printf("client      %s\n", x->client_addr);
    if (v.status)
        printf("status      %d\n", v.status);
    for (int i = 0; i < x->n_interim; i++)
        printf("interim     %d\n", x->interim[i]);
    if (x->truncated & EXCHANGE_TRUNC_REQUEST)
        printf("truncated   request body (cut at --max-body)\n");
    if (x->truncated & EXCHANGE_TRUNC_RESPONSE)
        printf("truncated   response body (cut at --max-body)\n");
    if (x->error)
        printf("error       %s\n", x->error);
    print_message("request", x->request ? x->request : "", x->request_len, HTTPMSG_REQUEST, NULL);
    if (x->response)
        print_message("response", x->response, x->response_len, HTTPMSG_RESPONSE, cli_view_method_or_null(&v));
    else
        printf("--- no response: %s\n", x->error ? x->error : "the upstream failed");
    /* --mirror-record: the shadows' answers, recorded beside production's */
    static const char *const role[EXCHANGE_N_SHADOW] = {"shadow", "shadow-baseline"};
    for (int i = 0; i < EXCHANGE_N_SHADOW; i++) {
        const exchange_shadow *sh = exchange_shadow_get(x, i);
        char what[96];
        if (!sh)
            continue;
        if (!sh->response) {
            printf("--- %s: no answer: %s\n", role[i], sh->error ? sh->error : "-");
            continue;
        }
        snprintf(what, sizeof what, "%s response, %.3f ms%s", role[i],
                 sh->resp_end_us > sh->sent_us && sh->sent_us ? (double)(sh->resp_end_us - sh->sent_us) / 1000.0 : 0.0,
                 sh->truncated ? ", body cut at --max-body" : "");
        print_message(what, sh->response, sh->response_len, HTTPMSG_RESPONSE, cli_view_method_or_null(&v));
    }
}

int cli_show_main(int argc, char **argv)
{
    bool raw;
    int rc = cli_switch_opts("show", cli_show_help, argc, argv, "raw", 0, &raw);
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return cli_usage_error("show", "no exchange ID given");
    const char *id = argv[optind++];
    char *end;
    unsigned long long num = strtoull(id, &end, 10);
    if (*end || end == id)
        num = 0;
    if (num == 0 && strncmp(id, "urn:", 4) && strncmp(id, "<urn:", 5) && strlen(id) != 36)
        return cli_usage_error("show", "'%s' is not an exchange number (1, 2, ...) or a record id", id);
    capset *s = cli_open_captures("show", argv + optind, (size_t)(argc - optind));
    if (!s)
        return CLI_EXIT_TROUBLE;
    int r;
    rc = CLI_EXIT_TROUBLE;
    exchange x;
    while ((r = capset_next(s, &x)) == 1) {
        if (matches(&x, id, num)) {
            if (raw) {
                fwrite(x.request, 1, x.request_len, stdout);
                if (x.response)
                    fwrite(x.response, 1, x.response_len, stdout);
            } else {
                show(&x);
            }
            rc = CLI_EXIT_OK;
            exchange_clear(&x);
            break;
        }
        exchange_clear(&x);
    }
    if (r < 0)
        cli_errorf("show", "%s", capset_error(s));
    else if (rc != CLI_EXIT_OK)
        cli_errorf("show", "no exchange %s in the capture", id);
    capset_free(s);
    if (fflush(stdout) != 0) {
        cli_errorf("show", "writing to standard output failed");
        rc = CLI_EXIT_TROUBLE;
    }
    return rc;
}
