/* tapedeck-capture: list, show, count, verify and convert capture files. Each subcommand is one module
 * (cli_<name>.c); this file only dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli_cat.h"
#include "cli_export.h"
#include "cli_filter.h"
#include "cli_import.h"
#include "cli_ls.h"
#include "cli_merge.h"
#include "cli_redact.h"
#include "cli_show.h"
#include "cli_stats.h"
#include "cli_util.h"
#include "cli_verify.h"

typedef struct command {
    const char *name;
    cli_main_fn run;
    const char *summary;
} command;

static const command commands[] = {
    {"cat", cli_cat_main, "plain WARC to standard output, each record byte for byte as stored"},
    {"ls", cli_ls_main, "one line per exchange: id, time, method, target, status, latency"},
    {"show", cli_show_main, "one exchange in full: request and response, heads and bodies"},
    {"stats", cli_stats_main, "per-route counts, status classes and latency percentiles"},
    {"verify", cli_verify_main, "check every frame and record; exit 1 on damage"},
    {"filter", cli_filter_main, "exchanges by method, route, status or time into a new capture"},
    {"merge", cli_merge_main, "several captures (proxies' segments) into one, ordered by time"},
    {"import", cli_import_main, "HAR 1.2 or GoReplay files into a new capture"},
    {"export", cli_export_main, "a capture as HAR 1.2, a GoReplay file, or curl command lines"},
    {"redact", cli_redact_main, "secret values replaced by keyed hashes, into a new capture"},
};

static void usage(FILE *f)
{
    fputs("Usage: tapedeck-capture COMMAND [options] CAPTURE...\n"
          "       tapedeck-capture COMMAND --help\n"
          "\n"
          "Reads and converts capture files: tapedeck's (.warc.zst: WARC/1.1 records, one zstd frame each)\n"
          "and other tools' WARC files (.warc.gz as wget, warcio, jwarc and Heritrix write them, plain\n"
          ".warc; WARC/1.0 and 1.1). A CAPTURE is a capture file (a .part segment still being written too)\n"
          "or a folder, meaning every capture file in it; several are read in time order and their\n"
          "exchanges numbered 1, 2, ...\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Options:\n"
          "  -h, --help     show this help\n"
          "  --version      print the version\n"
          "\n"
          "Exit status: 0 success; 1 damage found (verify); 2 bad arguments, an unreadable capture or input,\n"
          "or a write failure.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_TROUBLE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("tapedeck-capture %s\n", TAPEDECK_VERSION);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(cmd, commands[i].name))
            continue;
        for (int k = 2; k < argc; k++) {
            if (!strcmp(argv[k], "--"))
                break;
            if (!strcmp(argv[k], "--version")) {
                printf("tapedeck-capture %s\n", TAPEDECK_VERSION);
                return CLI_EXIT_OK;
            }
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "tapedeck-capture: unknown command '%s'\n", cmd);
    if (cmd[0] == '-')
        fprintf(stderr, "tapedeck-capture: options come after the command\n");
    fprintf(stderr, "Try 'tapedeck-capture --help'.\n");
    return CLI_EXIT_TROUBLE;
}
