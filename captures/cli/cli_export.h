/* cli_export: tapedeck-capture export (see cli_export.c). */
#ifndef TAPEDECK_CLI_EXPORT_H
#define TAPEDECK_CLI_EXPORT_H

extern const char cli_export_help[];
int cli_export_main(int argc, char **argv);

#endif
