/* cli_filter: tapedeck-capture filter (see cli_filter.c). */
#ifndef TAPEDECK_CLI_FILTER_H
#define TAPEDECK_CLI_FILTER_H

extern const char cli_filter_help[];
int cli_filter_main(int argc, char **argv);

#endif
