/* PLACEHOLDER until the simulate command lands: replaced by its real implementation. */
#include "commands.h"

#include <stdio.h>

int cmd_simulate(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "skyload simulate: not built yet\n");
    return 2;
}
