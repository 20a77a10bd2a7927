/* PLACEHOLDER until the record command lands: replaced by its real implementation. */
#include "commands.h"

#include <stdio.h>

int cmd_record(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "skyload record: not built yet\n");
    return 2;
}
