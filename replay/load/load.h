/* load: `tapedeck-replay load`, the performance gate. Sends the capture's requests open-loop on their
 * recorded schedule (or a fixed rate), measures latency from the intended send time, and judges the
 * --slo and regression gates (gates.h, latency_cmp.h). Exit 0 every gate passed, 1 a gate failed, 2
 * trouble. */
#ifndef TAPEDECK_LOAD_H
#define TAPEDECK_LOAD_H
/* Entry point of the subcommand; argv[0] is the subcommand name. Returns the exit status. */
int load_main(int argc, char **argv);
#endif
