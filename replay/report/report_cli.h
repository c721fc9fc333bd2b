/* report_cli: `tapedeck-replay report FILE...`: renders JSON reports again (text, JSON, JUnit, HTML),
 * merging several first (the shards of one load run). Exit status: the verdict, 2 for unreadable or
 * unmergeable reports. */
#ifndef TAPEDECK_REPORT_CLI_H
#define TAPEDECK_REPORT_CLI_H
/* Entry point of the subcommand; argv[0] is the subcommand name. Returns the exit status. */
int report_cli_main(int argc, char **argv);
#endif
