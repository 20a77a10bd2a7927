/* PLACEHOLDER until the ingest command lands: replaced by its real implementation. */
#include "commands.h"

#include <stdio.h>

int cmd_ingest(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "skyload ingest: not built yet\n");
    return 2;
}
