/* shadow_opts: the command line of `tapedeck-replay shadow`: check's comparison and report flags (the
 * same names and meanings, parsed into a check_opts), without the ones about sending requests. */
#ifndef TAPEDECK_SHADOW_OPTS_H
#define TAPEDECK_SHADOW_OPTS_H

#include <stdio.h>

#include "check_opts.h"

/* 0: parsed; 1: --help or --version was handled (exit 0); -1: bad usage (message printed, exit 2).
 * o is initialised by the call and must go through check_opts_free. */
int shadow_opts_parse(check_opts *o, int argc, char **argv);
void shadow_usage(FILE *f);

#endif
