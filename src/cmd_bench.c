/* PLACEHOLDER until the bench command lands: replaced by its real implementation. */
#include "commands.h"

#include <stdio.h>

int cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "skyload bench: not built yet\n");
    return 2;
}
