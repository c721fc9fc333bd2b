#include <stdio.h>
#include "load.h"
int load_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "tapedeck-replay %s: not implemented yet\n", argv[0]);
    return 2;
}
