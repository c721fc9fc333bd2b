/* cli_merge: several proxies' captures into one, exchanges ordered by request start. Each source file
 * keeps its own connections: its connection ids are shifted past those of the files before it, so two
 * proxies' connection 1 stay two connections (per-connection ordering in replay stays right). */
#include "cli_merge.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_out.h"
#include "cli_util.h"

const char cli_merge_help[] =
    "Usage: tapedeck-capture merge -o FILE [options] CAPTURE...\n"
    "\n"
    "Merges captures (several proxies' segments, or folders of them) into one capture FILE, the\n"
    "exchanges ordered by request start (ties keep the order of the arguments). Messages and timing\n"
    "are copied as recorded. Connection ids stay distinct per source file: each file's ids are\n"
    "shifted past the largest id of the files before it (the first file keeps its ids).\n"
    "Every exchange is held in memory while sorting.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE    the capture to write (required; never one of the inputs)\n"
    "  --no-dictionary      write plain zstd frames (zstdcat reads the file without tapedeck)\n"
    "  -q, --quiet          do not print the count\n"
    "  -h, --help           show this help\n"
    "\n"
    "Prints 'N exchanges from K files written to FILE' to stderr.\n"
    "Exit status: 0 done; 2 bad arguments, an unreadable or damaged capture, or a write failure (the\n"
    "output is removed then).\n";

typedef struct merge_item {
    exchange x;
    size_t file, pos;
} merge_item;

static int by_start(const void *a, const void *b)
{
    const merge_item *p = a, *q = b;
    if (p->x.req_start_us != q->x.req_start_us)
        return p->x.req_start_us < q->x.req_start_us ? -1 : 1;
    if (p->file != q->file)
        return p->file < q->file ? -1 : 1;
    return p->pos < q->pos ? -1 : p->pos > q->pos;
}

int cli_merge_main(int argc, char **argv)
{
    enum { O_NODICT = 256 };
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"no-dictionary", no_argument, NULL, O_NODICT},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out_path = NULL;
    bool no_dict = false, quiet = false;
    int c, rc = CLI_EXIT_TROUBLE;
    capset *s = NULL;
    cli_out *out = NULL;
    const char **inputs = NULL;
    merge_item *items = NULL;
    size_t n = 0, cap = 0, nin = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:q", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(cli_merge_help, stdout); return CLI_EXIT_OK;
        case 'o': out_path = optarg; break;
        case 'q': quiet = true; break;
        case O_NODICT: no_dict = true; break;
        case ':': return cli_usage_error("merge", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("merge", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!out_path)
        return cli_usage_error("merge", "no output file given (-o FILE)");
    /* capset expands folders; each file is then read on its own so its connections can be told apart. */
    if (!(s = cli_open_captures("merge", argv + optind, (size_t)(argc - optind))))
        goto done;
    nin = capset_nfiles(s);
    if (!(inputs = cli_capset_paths("merge", s)))
        goto done;
    uint64_t base = 0;
    for (size_t i = 0; i < nin; i++) {
        char *one = (char *)inputs[i];
        capset *fs = cli_open_captures("merge", &one, 1);
        if (!fs)
            goto done;
        uint64_t top = 0;
        size_t pos = 0;
        int r;
        for (;;) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 1024;
                merge_item *ni = realloc(items, ncap * sizeof *ni);
                if (!ni) {
                    cli_errorf("merge", "out of memory after %zu exchanges", n);
                    capset_free(fs);
                    goto done;
                }
                items = ni;
                cap = ncap;
            }
            if ((r = capset_next(fs, &items[n].x)) != 1)
                break;
            if (items[n].x.conn_id > top)
                top = items[n].x.conn_id;
            items[n].x.conn_id += base;
            items[n].file = i;
            items[n].pos = pos++;
            n++;
        }
        if (r < 0)
            cli_errorf("merge", "%s", capset_error(fs));
        else if (capset_truncated_bytes(fs))
            cli_errorf("merge", "warning: %s: skipped %" PRIu64 " bytes of a cut-off last frame", inputs[i],
                       capset_truncated_bytes(fs));
        capset_free(fs);
        if (r < 0)
            goto done;
        base += top;
    }
    if (n > 1)
        qsort(items, n, sizeof *items, by_start);
    if (!(out = cli_out_new("merge", out_path, inputs, nin, no_dict, NULL)))
        goto done;
    for (size_t i = 0; i < n; i++)
        if (cli_out_write(out, &items[i].x) < 0)
            goto done;
    int fr = cli_out_free(out, true);
    out = NULL;
    if (fr < 0)
        goto done;
    if (!quiet)
        fprintf(stderr, "%zu exchanges from %zu files written to %s\n", n, nin, out_path);
    rc = CLI_EXIT_OK;
done:
    cli_out_free(out, false);
    for (size_t i = 0; i < n; i++)
        exchange_clear(&items[i].x);
    free(items);
    free(inputs);
    capset_free(s);
    return rc;
}
