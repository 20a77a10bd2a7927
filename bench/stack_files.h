/* What the benchmarks look at on the local stack (deploy/local/stack): its servers'
 * pid files, for CPU per process, and tile38-benchmark. */
#ifndef SKY_STACK_FILES_H
#define SKY_STACK_FILES_H

#include <stdbool.h>

typedef struct sky_stack_files {
    char kafka_pid[1024], pg_pid[1024], tile38_pid[1024];
    bool has_kafka_pid, has_pg_pid, has_tile38_pid; /* readable now */
    char tile38_benchmark[1100];
} sky_stack_files_t;

/* Fills out from stack_dir. tile38-benchmark: `override` when given, else beside
 * SKY_TILE38_BIN (a stack running an existing binary), else <stack_dir>/bin. */
void sky_stack_files_find(const char *stack_dir, const char *override, sky_stack_files_t *out);

#endif
