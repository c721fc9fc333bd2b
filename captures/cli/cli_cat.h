/* cli_cat: the `tapedeck-capture cat` subcommand. */
#ifndef TAPEDECK_CLI_CAT_H
#define TAPEDECK_CLI_CAT_H

extern const char cli_cat_help[];
/* argv[0] is "cat"; returns an exit status (cli_util.h). */
int cli_cat_main(int argc, char **argv);

#endif
