/* cli_cat: plain WARC out of captures, each record exactly as the writer stored it. */
#include "cli_cat.h"

#include <getopt.h>
#include <stdio.h>

#include "capreader.h"
#include "cli_util.h"

const char cli_cat_help[] =
    "Usage: tapedeck-capture cat [options] CAPTURE...\n"
    "\n"
    "Writes every record of the captures to standard output as plain WARC, byte for byte as stored\n"
    "(each zstd frame or gzip member decompressed, a dictionary applied when the file has one; .warc.zst,\n"
    ".warc.gz and .warc files alike). Folders mean every segment in them; files are read in time order.\n"
    "Any WARC tool reads the output.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "\n"
    "A cut-off last frame (a segment still being written, or a crash) is skipped with a warning that\n"
    "says how many bytes were skipped.\n"
    "Exit status: 0 done; 2 bad arguments, an unreadable file, or a damaged frame (the records before\n"
    "it have been written; `tapedeck-capture verify` tells more).\n";

/* Through the reader every other command uses: cat writes what ls lists, and stops at the same damage
 * with the same offset. */
static int cat_file(const char *path)
{
    char err[1024];
    capreader *r = capreader_open(path, NULL, err, sizeof err);
    if (!r) {
        cli_errorf("cat", "%s", err);
        return CLI_EXIT_TROUBLE;
    }
    int rc = CLI_EXIT_OK, got;
    const char *data;
    size_t len;
    uint64_t off;
    while ((got = capreader_next_raw(r, &data, &len, &off)) == 1) {
        if (fwrite(data, 1, len, stdout) != len) {
            cli_errorf("cat", "writing to standard output failed");
            rc = CLI_EXIT_TROUBLE;
            break;
        }
    }
    if (got < 0) {
        fflush(stdout);
        cli_errorf("cat", "%s", capreader_error(r));
        rc = CLI_EXIT_TROUBLE;
    } else if (capreader_truncated(r)) {
        cli_errorf("cat", "%s: offset %llu: the file ends inside a frame; skipped %llu bytes at the end", path,
                   (unsigned long long)(capreader_offset(r) - capreader_truncated(r)),
                   (unsigned long long)capreader_truncated(r));
    }
    capreader_free(r);
    return rc;
}

int cli_cat_main(int argc, char **argv)
{
    bool unused;
    int rc = cli_switch_opts("cat", cli_cat_help, argc, argv, NULL, 0, &unused);
    if (rc >= 0)
        return rc;
    capset *s = cli_open_captures("cat", argv + optind, (size_t)(argc - optind));
    if (!s)
        return CLI_EXIT_TROUBLE;
    rc = CLI_EXIT_OK;
    for (size_t i = 0; i < capset_nfiles(s) && rc == CLI_EXIT_OK; i++)
        rc = cat_file(capset_file(s, i));
    capset_free(s);
    if (fflush(stdout) != 0) {
        cli_errorf("cat", "writing to standard output failed");
        rc = CLI_EXIT_TROUBLE;
    }
    return rc;
}
