/* tapedeck-proxy: the recording reverse proxy. Everything lives in proxy_*.c; this only maps the
 * command line to an exit status. */
#include <malloc.h>
#include <stdio.h>

#include "proxy_config.h"
#include "proxy_server.h"

int main(int argc, char **argv)
{
    proxy_config cfg;
    char err[512] = "";
    int rc = proxy_config_parse(&cfg, argc, argv, err, sizeof err);
    if (rc == PROXY_CONFIG_HELP)
        proxy_config_usage(stdout);
    else if (rc == PROXY_CONFIG_VERSION)
        printf("tapedeck-proxy %s\n", TAPEDECK_VERSION);
    if (rc == PROXY_CONFIG_HELP || rc == PROXY_CONFIG_VERSION) {
        proxy_config_clear(&cfg);
        return 0;
    }
    if (rc != PROXY_CONFIG_OK) {
        fprintf(stderr, "tapedeck-proxy: %s\n", err);
        proxy_config_clear(&cfg);
        return 2;
    }
    /* Bodies flow through short-lived evbuffer chains in worker threads: without this, glibc trims the
     * worker arenas after almost every response (madvise + TLB shootdowns, a large share of the CPU).
     * Memory stays capped by the per-connection and queue limits either way. */
    mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    rc = proxy_server_run(&cfg);
    proxy_config_clear(&cfg);
    return rc;
}
