/* check: `tapedeck-replay check`, the integration gate. Replays a capture against a candidate, one
 * recorded connection per connection of its own, writes in their recorded order, and diffs every answer
 * with the recorded one (check_compare), noise set apart (--baseline, --learn-noise). The report is the
 * report module's (report.h); the module's files share check_int.h. Exit 0 pass, 1 diffs over
 * --max-diff-rate, 2 trouble. */
#ifndef TAPEDECK_CHECK_H
#define TAPEDECK_CHECK_H
/* Entry point of the subcommand; argv[0] is the subcommand name. Returns the exit status. */
int check_main(int argc, char **argv);
#endif
