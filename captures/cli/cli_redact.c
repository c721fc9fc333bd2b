/* cli_redact: the proxy's --redact-* rules applied to an existing capture, written into a new one. The
 * exchanges are read, redacted with captures/redact (the code the proxy's writer runs) and written with
 * their timing, connection ids, interim codes, truncation marks and errors; the inputs are never touched. */
#include "cli_redact.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_out.h"
#include "cli_util.h"
#include "redact.h"

const char cli_redact_help[] =
    "Usage: tapedeck-capture redact -o FILE [rules] [options] CAPTURE...\n"
    "\n"
    "Writes the exchanges of the captures into a new capture FILE (.warc.zst, one file) with secret values\n"
    "replaced by a keyed hash (HMAC-SHA256), as tapedeck-proxy does while recording: equal values give\n"
    "equal tokens, so replay's correlation of ids still works. Integer-like values become 15-digit numbers,\n"
    "anything else \"hmac-sha256:\" and 32 hex digits. The inputs are left untouched.\n"
    "\n"
    "Rules (each repeatable; at least one):\n"
    "  --redact-header NAME     a header's value (case-insensitive name)\n"
    "  --redact-json JSONPATH   values of JSON request and response bodies ($.a.b, $.a[*].b, $.a[0],\n"
    "                           $..b): strings stay strings, numbers numbers\n"
    "  --redact-query NAME      a query parameter (request target and WARC-Target-URI)\n"
    "  --redact-cookie NAME     a cookie (Cookie and Set-Cookie)\n"
    "  --redact-form NAME       a field of application/x-www-form-urlencoded bodies\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE        the capture to write (required; never one of the inputs)\n"
    "  --redact-key-file FILE   the hash key (its first 256 bytes); the proxy's key gives the proxy's\n"
    "                           tokens. Without it a random key is made for this run only: tokens are\n"
    "                           consistent within FILE but match no other run\n"
    "  --no-dictionary          write plain zstd frames (zstdcat reads the file without tapedeck)\n"
    "  -q, --quiet              do not print the counts\n"
    "  -h, --help               show this help\n"
    "\n"
    "A JSON or form body a rule applies to is de-chunked and content-decoded (gzip, deflate, br) first; when\n"
    "something in it is replaced it is stored decoded with a Content-Length. A body that cannot be read\n"
    "(malformed JSON, a corrupt coding) is replaced whole and counted. Each record's WARC-Tapedeck-Redacted\n"
    "field lists what was replaced (rule kinds and names, never values).\n"
    "Prints 'N exchanges written to FILE: M redacted, K bodies replaced whole' to stderr.\n"
    "Exit status: 0 done; 2 bad arguments, an unreadable or damaged capture, or a write failure (the\n"
    "output is removed then).\n";

int cli_redact_main(int argc, char **argv)
{
    enum { O_NODICT = 256, O_KEY, O_HEADER, O_JSON, O_QUERY, O_COOKIE, O_FORM };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},         {"redact-header", required_argument, NULL, O_HEADER},
        {"redact-json", required_argument, NULL, O_JSON},  {"redact-query", required_argument, NULL, O_QUERY},
        {"redact-cookie", required_argument, NULL, O_COOKIE}, {"redact-form", required_argument, NULL, O_FORM},
        {"redact-key-file", required_argument, NULL, O_KEY}, {"no-dictionary", no_argument, NULL, O_NODICT},
        {"quiet", no_argument, NULL, 'q'},                {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *out_path = NULL, *key_file = NULL;
    bool no_dict = false, quiet = false;
    int c, idx = 0, rc = CLI_EXIT_TROUBLE;
    capset *s = NULL;
    cli_out *out = NULL;
    const char **inputs = NULL;
    redact *r = redact_new();
    char err[512];
    if (!r) {
        cli_errorf("redact", "out of memory");
        return CLI_EXIT_TROUBLE;
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:q", opts, &idx)) != -1) {
        switch (c) {
        case 'h':
            fputs(cli_redact_help, stdout);
            rc = CLI_EXIT_OK;
            goto done;
        case 'o': out_path = optarg; break;
        case 'q': quiet = true; break;
        case O_NODICT: no_dict = true; break;
        case O_KEY: key_file = optarg; break;
        case O_HEADER:
        case O_JSON:
        case O_QUERY:
        case O_COOKIE:
        case O_FORM:
            if (redact_add(r, (redact_kind)(REDACT_HEADER + (c - O_HEADER)), optarg, err, sizeof err) != REDACT_OK) {
                cli_usage_error("redact", "%s", err);
                goto done;
            }
            break;
        case ':': cli_usage_error("redact", "option '%s' needs a value", argv[optind - 1]); goto done;
        default: cli_usage_error("redact", "unknown option '%s'", argv[optind - 1]); goto done;
        }
    }
    if (!out_path) {
        cli_usage_error("redact", "no output file given (-o FILE)");
        goto done;
    }
    if (redact_rule_count(r) == 0) {
        cli_usage_error("redact", "no rule given (--redact-header, --redact-json, --redact-query, "
                                  "--redact-cookie or --redact-form)");
        goto done;
    }
    if (key_file && redact_key_file(r, key_file, err, sizeof err) != REDACT_OK) {
        cli_errorf("redact", "%s", err);
        goto done;
    }
    if (!(s = cli_open_captures("redact", argv + optind, (size_t)(argc - optind))))
        goto done;
    if (!(inputs = cli_capset_paths("redact", s)))
        goto done;
    if (!(out = cli_out_new("redact", out_path, inputs, capset_nfiles(s), no_dict, NULL)))
        goto done;
    exchange x;
    int n;
    redact_counts counts = {0, 0};
    while ((n = capset_next(s, &x)) == 1) {
        int w = redact_exchange(r, &x, &counts);
        if (w < 0)
            cli_errorf("redact", "out of memory redacting exchange %" PRIu64, x.id);
        else
            w = cli_out_write(out, &x);
        exchange_clear(&x);
        if (w < 0)
            goto done;
    }
    if (cli_capset_end("redact", s, n) != CLI_EXIT_OK)
        goto done;
    unsigned long long written = cli_out_count(out);
    int fr = cli_out_free(out, true);
    out = NULL;
    if (fr < 0)
        goto done;
    if (!quiet) {
        fprintf(stderr, "%llu exchanges written to %s: %" PRIu64 " redacted, %" PRIu64 " bodies replaced whole\n",
                written, out_path, counts.exchanges, counts.bodies_replaced);
        if (!key_file)
            fprintf(stderr, "tapedeck-capture redact: no --redact-key-file: tokens come from a random key made "
                            "for this run\n");
    }
    rc = CLI_EXIT_OK;
done:
    cli_out_free(out, false);
    free(inputs);
    capset_free(s);
    redact_free(r);
    return rc;
}
