/* A batch of ingest: the rows one lane consumed from its partitions (decoded, with
 * their record bytes for the dead-letter topic), the offset range it covers per
 * partition, and what each sink did with it. The consumer thread fills it; once
 * closed, the PostgreSQL lane and the Tile38 stage read it at the same time and
 * each sets its own done bit; the consumer thread then commits its ranges. */
#ifndef SKY_INGEST_BATCH_H
#define SKY_INGEST_BATCH_H

#include "codec.h"
#include "dynbuf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sky_batch_row {
    sky_flight_t f;
    int64_t ts_ms;       /* the FlightData timestamp, parsed */
    int64_t seq;         /* skyload-seq, -1 when absent */
    int64_t intended_ns; /* skyload-intended, 0 when absent */
    int64_t consumed_ns; /* wall clock when poll returned the record */
    int64_t append_ms;   /* the broker's log append time, -1 unless the topic stamps it */
    int32_t partition;
    uint32_t decode_ns;  /* decoding and validating it */
    /* the record's bytes in raw (key, value, skyload-run), for the DLQ */
    uint32_t raw_off, key_len, value_len, run_len;
} sky_batch_row_t;

/* The offsets of one partition a batch covers: [first, end). epoch: the partition's
 * ownership when they were consumed; a revocation bumps it and the range is dropped. */
typedef struct sky_batch_range {
    int32_t partition;
    uint32_t epoch;
    int64_t first, end;
} sky_batch_range_t;

enum { SKY_BATCH_PG = 1, SKY_BATCH_TILE38 = 2 };

typedef struct sky_batch {
    struct sky_batch *next;     /* the lane's in-flight list or the free list (consumer thread) */
    struct sky_batch *next_pg;  /* the lane's PostgreSQL queue */
    struct sky_batch *next_t38; /* the Tile38 stage's queue */
    int lane;
    sky_batch_row_t *rows;
    size_t nrows, cap;
    sky_buf_t raw;
    sky_batch_range_t *ranges;
    size_t nranges, cap_ranges;
    uint64_t dlq_records;           /* records of the batch sent to the DLQ when consumed */
    int64_t dlq_wait_ns;            /* monotonic: done, waiting for its dead letters' acks */
    int64_t opened_ns, closed_ns;   /* monotonic */
    int64_t closed_wall_ns;
    _Atomic int done;               /* SKY_BATCH_PG | SKY_BATCH_TILE38 as each finishes */
    _Atomic bool failed;            /* a sink gave up on it (second signal): never committed */
    /* PostgreSQL lane */
    uint64_t pg_inserted, pg_rows;
    int64_t pg_done_wall_ns, pg_service_ns, pg_started_ns;
    /* Tile38 stage */
    uint64_t t38_applied, t38_stale, t38_refused, t38_sets;
    int64_t t38_done_wall_ns, t38_service_ns, t38_started_ns;
} sky_batch_t;

sky_batch_t *sky_batch_new(void);             /* NULL when out of memory */
void sky_batch_destroy(sky_batch_t *b);       /* NULL is fine */
void sky_batch_reset(sky_batch_t *b, int lane); /* empty again, memory kept */
/* The next row to fill (not counted until sky_batch_commit_row); NULL when out of memory. */
sky_batch_row_t *sky_batch_next_row(sky_batch_t *b);
void sky_batch_commit_row(sky_batch_t *b);
/* Extends the batch's range of partition to cover offset; 0 or SKY_ENOMEM. */
int sky_batch_cover(sky_batch_t *b, int32_t partition, uint32_t epoch, int64_t offset);
/* The batch's range of partition, or NULL. */
const sky_batch_range_t *sky_batch_range_of(const sky_batch_t *b, int32_t partition);

#endif
