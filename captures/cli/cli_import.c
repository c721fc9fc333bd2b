/* cli_import: HAR 1.2 or GoReplay files -> a new capture. */
#include "cli_import.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_gor.h"
#include "cli_har.h"
#include "cli_out.h"
#include "cli_util.h"

const char cli_import_help[] =
    "Usage: tapedeck-capture import [--format har|goreplay] -o FILE INPUT...\n"
    "\n"
    "Turns HAR 1.2 files or GoReplay files into a capture FILE (.warc.zst), exchanges in the order of\n"
    "the inputs. Messages are rebuilt as raw HTTP/1.1, framed by Content-Length (a Transfer-Encoding\n"
    "header is replaced by it; HEAD, 204 and 304 responses keep theirs). INPUT '-' is standard input.\n"
    "  har        any HAR 1.2 (browsers, proxies, `export --format har`): entries become exchanges;\n"
    "             HTTP/2 pseudo headers are dropped, Host is added from the URL when missing,\n"
    "             Content-Encoding is dropped (HAR bodies are decoded) unless the body is marked\n"
    "             \"_tapedeckEncoded\"; status 0 means the upstream failed; times from\n"
    "             startedDateTime, time and timings (or the exact ones in \"_tapedeck\").\n"
    "  goreplay   GoReplay's file format: type 1 payloads are requests, paired with the type 2 of the\n"
    "             same id (type 3 skipped); a request without one is an upstream failure; .gor.gz\n"
    "             (gzip) too. Payloads that are not whole HTTP messages (cut off, or not HTTP) are\n"
    "             skipped, counted and warned about.\n"
    "Connection ids are kept apart across INPUTs (each input's connections are new ones).\n"
    "\n"
    "Options:\n"
    "  --format FORMAT      har or goreplay; default from the name (.har, .gor) or the first byte\n"
    "  -o, --output FILE    the capture to write (required)\n"
    "  --no-dictionary      write plain zstd frames (zstdcat reads the file without tapedeck)\n"
    "  -q, --quiet          do not print the count\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 done; 2 bad arguments, a missing or malformed input (the error says where), or a\n"
    "write failure (the output is removed then).\n";

/* Connection ids start where the previous input's ended: two inputs' connection 1 are two
 * connections, and check replays each on its own. */
typedef struct import_ctx {
    cli_out *out;
    uint64_t base, top;
} import_ctx;

static int put(const exchange *x, void *ctx)
{
    import_ctx *c = ctx;
    exchange y = *x; /* a shallow copy: only the id changes, x keeps ownership */
    y.conn_id = x->conn_id + c->base;
    if (y.conn_id > c->top)
        c->top = y.conn_id;
    return cli_out_write(c->out, &y);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

/* har or goreplay, from the name or else the first non-blank byte ('{' is JSON). NULL: cannot tell. */
static const char *guess_format(const char *path)
{
    if (ends_with(path, ".har") || ends_with(path, ".har.json"))
        return "har";
    if (ends_with(path, ".gor") || ends_with(path, ".gor.gz"))
        return "goreplay";
    if (!strcmp(path, "-"))
        return NULL;
    FILE *f = fopen(path, "rb");
    int c = EOF;
    while (f && (c = fgetc(f)) != EOF && (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0xef ||
                                           c == 0xbb || c == 0xbf))
        ;
    if (f)
        fclose(f);
    return c == '{' ? "har" : (c >= '1' && c <= '3') || c == 0x1f ? "goreplay" : NULL;
}

int cli_import_main(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_NODICT };
    static const struct option opts[] = {{"format", required_argument, NULL, O_FORMAT},
                                         {"output", required_argument, NULL, 'o'},
                                         {"no-dictionary", no_argument, NULL, O_NODICT},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *format = NULL, *out_path = NULL;
    bool no_dict = false, quiet = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:q", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(cli_import_help, stdout); return CLI_EXIT_OK;
        case 'o': out_path = optarg; break;
        case 'q': quiet = true; break;
        case O_FORMAT: format = optarg; break;
        case O_NODICT: no_dict = true; break;
        case ':': return cli_usage_error("import", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("import", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (format && strcmp(format, "har") && strcmp(format, "goreplay"))
        return cli_usage_error("import", "--format '%s': want har or goreplay", format);
    if (!out_path)
        return cli_usage_error("import", "no output file given (-o FILE)");
    if (optind == argc)
        return cli_usage_error("import", "no INPUT given (a .har or GoReplay file, or - for standard input)");
    const char *fmts[argc];
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") && access(argv[i], R_OK) != 0) {
            cli_errorf("import", "%s: %m", argv[i]);
            return CLI_EXIT_TROUBLE;
        }
        fmts[i] = format ? format : guess_format(argv[i]);
        if (!fmts[i])
            return cli_usage_error("import", "%s: cannot tell the format; say --format har or goreplay", argv[i]);
    }
    cli_out *out = cli_out_new("import", out_path, (const char *const *)argv + optind, (size_t)(argc - optind),
                               no_dict, NULL);
    if (!out)
        return CLI_EXIT_TROUBLE;
    import_ctx ic = {out, 0, 0};
    for (int i = optind; i < argc; i++) {
        long n = !strcmp(fmts[i], "har") ? cli_har_import("import", argv[i], put, &ic)
                                         : cli_gor_import("import", argv[i], put, &ic);
        ic.base = ic.top;
        if (n < 0) {
            cli_out_free(out, false);
            return CLI_EXIT_TROUBLE;
        }
    }
    unsigned long long total = cli_out_count(out);
    if (cli_out_free(out, true) < 0)
        return CLI_EXIT_TROUBLE;
    if (!quiet)
        fprintf(stderr, "%llu exchanges written to %s\n", total, out_path);
    return CLI_EXIT_OK;
}
