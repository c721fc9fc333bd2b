/* cli_ls: the `tapedeck-capture ls` subcommand. */
#ifndef TAPEDECK_CLI_LS_H
#define TAPEDECK_CLI_LS_H

extern const char cli_ls_help[];
/* argv[0] is "ls"; returns an exit status (cli_util.h). */
int cli_ls_main(int argc, char **argv);

#endif
