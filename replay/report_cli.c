#include <stdio.h>
#include "report_cli.h"
int report_cli_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "tapedeck-replay %s: not implemented yet\n", argv[0]);
    return 2;
}
