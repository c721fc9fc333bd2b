/* cli_stats: the `tapedeck-capture stats` subcommand. */
#ifndef TAPEDECK_CLI_STATS_H
#define TAPEDECK_CLI_STATS_H

extern const char cli_stats_help[];
/* argv[0] is "stats"; returns an exit status (cli_util.h). */
int cli_stats_main(int argc, char **argv);

#endif
