/* cli_merge: tapedeck-capture merge (see cli_merge.c). */
#ifndef TAPEDECK_CLI_MERGE_H
#define TAPEDECK_CLI_MERGE_H

extern const char cli_merge_help[];
int cli_merge_main(int argc, char **argv);

#endif
