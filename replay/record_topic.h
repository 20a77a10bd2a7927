/* `skyload record`: a topic's records (every partition) into a capture file
 * (docs/formats.md) that replay reproduces byte for byte. */
#ifndef SKY_RECORD_TOPIC_H
#define SKY_RECORD_TOPIC_H

#include "kafka.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef void(sky_record_progress_fn)(void *opaque, int64_t written);

typedef struct sky_record_config {
    sky_kconf_t *kafka;  /* borrowed; gets enable.partition.eof when exit_at_end */
    const char *topic;
    const char *output;  /* capture file ("-" stdout, ".gz" compressed) */
    int64_t offset;      /* RD_KAFKA_OFFSET_BEGINNING, _END, _STORED or an offset */
    int64_t count;       /* stop after this many records; 0 = no limit */
    int64_t duration_ms; /* stop after this long; 0 = no limit */
    bool exit_at_end;    /* stop once every partition has been read to its end */
    sky_record_progress_fn *progress; /* called after each record (may be NULL) */
    void *progress_opaque;
} sky_record_config_t;

typedef struct sky_record_result {
    int64_t written;         /* records in the file */
    int64_t dropped_headers; /* headers beyond SKY_CAPTURE_HEADERS_MAX per record, not kept */
} sky_record_result_t;

/* Records until count, duration, the end or *stop; whole records reach the file at
 * least every second. res is filled even on failure. 0 or a negative SKY_E* code. */
int sky_record_run(const sky_record_config_t *cfg, volatile sig_atomic_t *stop,
                   sky_record_result_t *res, char *errstr, size_t errstr_size);

#endif
