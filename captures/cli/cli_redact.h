/* cli_redact: tapedeck-capture redact (see cli_redact.c). */
#ifndef TAPEDECK_CLI_REDACT_H
#define TAPEDECK_CLI_REDACT_H

extern const char cli_redact_help[];
int cli_redact_main(int argc, char **argv);

#endif
