/* PLACEHOLDER until the run command lands: replaced by its real implementation. */
#include "commands.h"

#include <stdio.h>

int cmd_run(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "skyload run: not built yet\n");
    return 2;
}
