#ifndef TAPEDECK_LOAD_H
#define TAPEDECK_LOAD_H
/* Entry point of the subcommand; argv[0] is the subcommand name. Returns the exit status. */
int load_main(int argc, char **argv);
#endif
