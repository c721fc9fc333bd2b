#include <stdio.h>
#include "check.h"
int check_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "tapedeck-replay %s: not implemented yet\n", argv[0]);
    return 2;
}
