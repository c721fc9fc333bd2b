/* cli_cat: plain WARC out of captures, each record exactly as the writer stored it. */
#include "cli_cat.h"

#include <getopt.h>
#include <stdio.h>

#include "cli_frames.h"
#include "cli_util.h"

const char cli_cat_help[] =
    "Usage: tapedeck-capture cat [options] CAPTURE...\n"
    "\n"
    "Writes every record of the captures to standard output as plain WARC/1.1, byte for byte as stored\n"
    "(each zstd frame decompressed, a dictionary applied when the file has one). Folders mean every\n"
    "segment in them; files are read in time order. Any WARC tool reads the output.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "\n"
    "A cut-off last frame (a segment still being written, or a crash) is skipped with a warning that\n"
    "says how many bytes were skipped.\n"
    "Exit status: 0 done; 2 bad arguments, an unreadable file, or a damaged frame (the records before\n"
    "it have been written; `tapedeck-capture verify` tells more).\n";

static int cat_file(const char *path)
{
    char err[1024];
    cliframes *w = cliframes_open(path, 0, err, sizeof err, NULL);
    if (!w) {
        cli_errorf("cat", "%s", err);
        return CLI_EXIT_TROUBLE;
    }
    int rc = CLI_EXIT_OK;
    cliframe f;
    for (;;) {
        int r = cliframes_next(w, &f);
        if (r == CLIFRAMES_END)
            break;
        if (r == CLIFRAMES_RECORD) {
            if (fwrite(f.data, 1, f.len, stdout) != f.len) {
                cli_errorf("cat", "writing to standard output failed");
                rc = CLI_EXIT_TROUBLE;
                break;
            }
            continue;
        }
        if (r == CLIFRAMES_TRUNCATED) {
            cli_errorf("cat", "%s: offset %llu: %s; skipped %llu bytes at the end", path,
                       (unsigned long long)f.offset, f.msg, (unsigned long long)f.csize);
            break;
        }
        cli_errorf("cat", "%s: offset %llu: %s", path, (unsigned long long)f.offset, f.msg);
        rc = CLI_EXIT_TROUBLE;
        break;
    }
    cliframes_free(w);
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
