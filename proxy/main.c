/* tapedeck-proxy: the recording reverse proxy. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--version")) {
        printf("tapedeck-proxy %s\n", TAPEDECK_VERSION);
        return 0;
    }
    fprintf(stderr, "tapedeck-proxy: not implemented yet\n");
    return 2;
}
