/* cli_verify: the `tapedeck-capture verify` subcommand. */
#ifndef TAPEDECK_CLI_VERIFY_H
#define TAPEDECK_CLI_VERIFY_H

extern const char cli_verify_help[];
/* argv[0] is "verify"; returns an exit status (cli_util.h). */
int cli_verify_main(int argc, char **argv);

#endif
