/* PLACEHOLDER until the replay command lands: replaced by its real implementation. */
#include "commands.h"

#include <stdio.h>

int cmd_replay(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "skyload replay: not built yet\n");
    return 2;
}
