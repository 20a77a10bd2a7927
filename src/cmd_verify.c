/* PLACEHOLDER until the verify command lands: replaced by its real implementation. */
#include "commands.h"

#include <stdio.h>

int cmd_verify(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "skyload verify: not built yet\n");
    return 2;
}
