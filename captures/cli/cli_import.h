/* cli_import: tapedeck-capture import (see cli_import.c). */
#ifndef TAPEDECK_CLI_IMPORT_H
#define TAPEDECK_CLI_IMPORT_H

extern const char cli_import_help[];
int cli_import_main(int argc, char **argv);

#endif
