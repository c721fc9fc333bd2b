#ifndef TAPEDECK_CHECK_H
#define TAPEDECK_CHECK_H
/* Entry point of the subcommand; argv[0] is the subcommand name. Returns the exit status. */
int check_main(int argc, char **argv);
#endif
