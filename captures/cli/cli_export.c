/* cli_export: captures -> HAR 1.2, a GoReplay file, or curl command lines. */
#include "cli_export.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_curl.h"
#include "cli_gor.h"
#include "cli_har.h"
#include "cli_util.h"

const char cli_export_help[] =
    "Usage: tapedeck-capture export --format har|goreplay [-o FILE] CAPTURE...\n"
    "       tapedeck-capture export --curl [--target URL] [--body-dir DIR] [-o FILE] CAPTURE...\n"
    "\n"
    "Writes the exchanges of the captures in another format, to standard output or FILE.\n"
    "  har        HAR 1.2: one entry per exchange; timings from the recorded times (wait: request\n"
    "             start to the response's first byte, receive: to its last byte); bodies as recorded\n"
    "             with chunked framing undone, as text when they are UTF-8 text, else base64\n"
    "             (\"encoding\": \"base64\"); a body still gzip/br-coded is marked\n"
    "             \"_tapedeckEncoded\": true; \"_tapedeck\" holds microsecond times, connection and\n"
    "             sequence, client, interim codes, truncation and upstream errors. An upstream failure\n"
    "             is a response with status 0.\n"
    "  goreplay   GoReplay's file format (gor --input-file): a type 1 payload per request (timestamp:\n"
    "             request start) and a type 2 per response (timestamp: its first byte; latency: first\n"
    "             to last byte of the response, in ns, as GoReplay's input_raw writes it), raw messages\n"
    "             as recorded.\n"
    "  --curl     one curl command line per request (for bash): method, headers and body as\n"
    "             recorded, against the recorded URL or --target; run them with `bash FILE`.\n"
    "\n"
    "Options:\n"
    "  --format FORMAT      har or goreplay\n"
    "  --curl               curl command lines instead\n"
    "  --target URL         (--curl) send to URL (scheme://host:port[/prefix]) instead of the recorded\n"
    "                       target; the request target as recorded is appended\n"
    "  --body-dir DIR       (--curl) write request bodies to DIR/body-N.bin (N: the exchange id) and\n"
    "                       send them with --data-binary @FILE; default: inline, $'...' quoted (a body\n"
    "                       with NUL bytes, or starting with @, is fed through printf)\n"
    "  -o, --output FILE    write to FILE instead of standard output\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exchanges whose request is not HTTP/1.x are skipped with a warning.\n"
    "Exit status: 0 done; 2 bad arguments, an unreadable or damaged capture, or a write failure.\n";

int cli_export_main(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_CURL, O_TARGET, O_BODYDIR };
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT}, {"curl", no_argument, NULL, O_CURL},
        {"target", required_argument, NULL, O_TARGET}, {"body-dir", required_argument, NULL, O_BODYDIR},
        {"output", required_argument, NULL, 'o'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *format = NULL, *out_path = NULL;
    cli_curl_opts co = {NULL, NULL};
    bool curl = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(cli_export_help, stdout); return CLI_EXIT_OK;
        case 'o': out_path = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_CURL: curl = true; break;
        case O_TARGET: co.target = optarg; break;
        case O_BODYDIR: co.body_dir = optarg; break;
        case ':': return cli_usage_error("export", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (curl && format)
        return cli_usage_error("export", "--curl and --format exclude each other");
    if (!curl && !format)
        return cli_usage_error("export", "say --format har, --format goreplay or --curl");
    if (format && strcmp(format, "har") && strcmp(format, "goreplay"))
        return cli_usage_error("export", "--format '%s': want har or goreplay", format);
    if (!curl && (co.target || co.body_dir))
        return cli_usage_error("export", "--target and --body-dir go with --curl");
    if (co.target && !strstr(co.target, "://"))
        return cli_usage_error("export", "--target '%s': want a URL like http://127.0.0.1:8080", co.target);
    if (co.body_dir && access(co.body_dir, W_OK) != 0)
        return cli_usage_error("export", "--body-dir '%s': not a writable folder", co.body_dir);
    capset *s = cli_open_captures("export", argv + optind, (size_t)(argc - optind));
    if (!s)
        return CLI_EXIT_TROUBLE;
    int rc = CLI_EXIT_TROUBLE, r;
    FILE *f = stdout;
    cli_har_writer *har = NULL;
    uint64_t skipped = 0;
    char err[1024];
    if (out_path) {
        const char **inputs = cli_capset_paths("export", s);
        bool clash = !inputs || cli_output_is_input("export", out_path, inputs, capset_nfiles(s));
        free(inputs);
        if (clash) {
            out_path = NULL; /* not ours to remove */
            f = NULL;
            goto done;
        }
    }
    if (out_path && !(f = fopen(out_path, "wb"))) {
        cli_errorf("export", "%s: %m", out_path);
        f = NULL;
        goto done;
    }
    if (format && !strcmp(format, "har") && !(har = cli_har_writer_new(f))) {
        cli_errorf("export", "out of memory");
        goto done;
    }
    exchange x;
    while ((r = capset_next(s, &x)) == 1) {
        int w;
        if (har)
            w = cli_har_writer_add(har, &x);
        else if (curl)
            w = cli_curl_write(f, &x, (unsigned long long)x.id, &co, err, sizeof err);
        else
            w = cli_gor_write(f, &x, (unsigned long long)x.id);
        if (w > 0 && skipped++ < 10)
            cli_errorf("export", "warning: exchange %" PRIu64 ": the request is not HTTP/1.x, skipped", x.id);
        exchange_clear(&x);
        if (w < 0) {
            cli_errorf("export", "%s", curl ? err : har ? "out of memory" : "write failed");
            goto done;
        }
    }
    if (cli_capset_end("export", s, r) != CLI_EXIT_OK)
        goto done;
    rc = CLI_EXIT_OK;
done:
    cli_har_writer_free(har);
    if (f && (f != stdout ? fclose(f) : fflush(f)) != 0) {
        cli_errorf("export", "%s: write failed", out_path ? out_path : "standard output");
        rc = CLI_EXIT_TROUBLE;
    }
    if (rc != CLI_EXIT_OK && out_path && f)
        unlink(out_path);
    capset_free(s);
    return rc;
}
