/* tapedeck-replay: replays captures against a candidate deployment. `check` is the integration gate,
 * `load` the performance gate, `shadow` the verdict on recorded shadow traffic, `report` renders and
 * merges JSON reports. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "load.h"
#include "report_cli.h"
#include "shadow_cmd.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: tapedeck-replay COMMAND [options] CAPTURE...\n"
               "\n"
               "commands:\n"
               "  check   replay every recorded request and diff the responses (integration gate)\n"
               "  load    replay at a multiplied or fixed rate and judge latency (performance gate)\n"
               "  shadow  diff production's answers with a shadow's, recorded by tapedeck-proxy\n"
               "          --mirror-record (the verdict on live shadow traffic; sends nothing)\n"
               "  report  render or merge JSON reports (text, JUnit, HTML)\n"
               "\n"
               "Run 'tapedeck-replay COMMAND --help' for a command's options.\n"
               "Exit status: 0 the gate passed, 1 it failed, 2 trouble (bad input, target unreachable).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("tapedeck-replay %s\n", TAPEDECK_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "check"))
        return check_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "load"))
        return load_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "shadow"))
        return shadow_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return report_cli_main(argc - 1, argv + 1);
    fprintf(stderr, "tapedeck-replay: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
