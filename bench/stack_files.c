/* The local stack's files the benchmarks use (stack_files.h). */
#include "stack_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool readable(char *path, size_t size, const char *dir, const char *name) {
    return (size_t)snprintf(path, size, "%s/%s", dir, name) < size && access(path, R_OK) == 0;
}

void sky_stack_files_find(const char *stack_dir, const char *override, sky_stack_files_t *out) {
    memset(out, 0, sizeof *out);
    out->has_kafka_pid = readable(out->kafka_pid, sizeof out->kafka_pid, stack_dir, "kafka/pid");
    out->has_pg_pid =
        readable(out->pg_pid, sizeof out->pg_pid, stack_dir, "pg/data/postmaster.pid");
    out->has_tile38_pid =
        readable(out->tile38_pid, sizeof out->tile38_pid, stack_dir, "tile38/pid");
    const char *bin = getenv("SKY_TILE38_BIN");
    const char *slash = bin ? strrchr(bin, '/') : NULL;
    if (override)
        snprintf(out->tile38_benchmark, sizeof out->tile38_benchmark, "%s", override);
    else if (slash)
        snprintf(out->tile38_benchmark, sizeof out->tile38_benchmark, "%.*s/tile38-benchmark",
                 (int)(slash - bin), bin);
    else
        snprintf(out->tile38_benchmark, sizeof out->tile38_benchmark, "%s/bin/tile38-benchmark",
                 stack_dir);
}
