/* The Tile38 sink's own rate, for `bench peers`: ingest/t38sink.c writing positions of
 * `flights` flights, one batch of every flight at a time, into a scratch collection. */
#ifndef SKY_T38RATE_H
#define SKY_T38RATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sky_t38rate {
    double wall_s; /* the timed batches (the warm-up batch that learns the flights excluded) */
    double cpu_s;  /* this thread's user + system time over them */
    int64_t sets;  /* SETs acknowledged in them */
} sky_t38rate_t;

/* Writes `sets` positions (rounded up to whole batches) of `flights` flights into
 * collection (dropped afterwards). 0 or a negative SKY_E* code. */
int sky_bench_t38sink(const char *host, int port, const char *collection, int64_t sets,
                      int flights, sky_t38rate_t *out, char *errstr, size_t errstr_size);

#endif
