/* cli_show: the `tapedeck-capture show` subcommand. */
#ifndef TAPEDECK_CLI_SHOW_H
#define TAPEDECK_CLI_SHOW_H

extern const char cli_show_help[];
/* argv[0] is "show"; returns an exit status (cli_util.h). */
int cli_show_main(int argc, char **argv);

#endif
