/* A topic's records as JSON Lines (docs/formats.md), as `skyload tail` prints them:
 * kcat -C, decoded. Reads every partition directly, or as a member of a group. */
#ifndef SKY_TAIL_H
#define SKY_TAIL_H

#include "kafka.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sky_tail_config {
    sky_kconf_t *kafka; /* borrowed; gets enable.partition.eof when exit_at_end */
    const char *topic;
    const char *group;  /* NULL: assign every partition, read from offset */
    int64_t offset;     /* RD_KAFKA_OFFSET_BEGINNING, _END, _STORED or an offset */
    int64_t count;      /* stop after this many printed records; 0 = no limit */
    bool exit_at_end;   /* stop once every partition has been read to its end */
    bool valid_only;    /* leave out records that do not decode or validate */
} sky_tail_config_t;

/* Writes one JSON object per record to out until count, the end (exit_at_end) or
 * *stop; a group's offsets are committed at the end. 0, or a negative SKY_E* code
 * with errstr filled ("Unknown topic" in it when the topic does not exist). */
int sky_tail_run(const sky_tail_config_t *cfg, FILE *out, volatile sig_atomic_t *stop,
                 char *errstr, size_t errstr_size);

#endif
