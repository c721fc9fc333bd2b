/* shadow_cmd: `tapedeck-replay shadow CAPTURE...`, the verdict on a shadowed capture (tapedeck-proxy
 * --mirror --mirror-record). Nothing is sent anywhere: each recorded exchange's primary response is
 * diffed with the shadow's answer recorded beside it, through check's engine (check_compare) and flags;
 * where a --mirror-baseline answer was recorded too, what differs between primary and baseline is noise.
 * The report (mode "shadow") has check's keys, plus the primary's recorded latency beside the
 * shadow's, in total and per route. Exit 0 pass, 1 diffs over --max-diff-rate, 2 trouble. */
#ifndef TAPEDECK_SHADOW_CMD_H
#define TAPEDECK_SHADOW_CMD_H

int shadow_main(int argc, char **argv);

#endif
