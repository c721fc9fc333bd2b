/* tapedeck-capture: list, show, verify and convert capture files. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--version")) {
        printf("tapedeck-capture %s\n", TAPEDECK_VERSION);
        return 0;
    }
    fprintf(stderr, "tapedeck-capture: not implemented yet\n");
    return 2;
}
