/* proxy_server: the main thread. Sets up the upstream, the recorder, the listeners and the workers,
 * then runs the signal loop (SIGTERM/SIGINT drain, SIGHUP rotate + re-read --upstream-file) and the
 * admin endpoint until the workers are done. */
#ifndef TAPEDECK_PROXY_SERVER_H
#define TAPEDECK_PROXY_SERVER_H

#include "proxy_config.h"

/* Runs the proxy; returns the process exit status (0 clean shutdown, 1 runtime failure, 2 bad setup
 * such as an unusable upstream URL). */
int proxy_server_run(const proxy_config *cfg);

#endif
