/* Reads a whole topic once, fast: one consumer assigned every partition from a
 * start offset to the high watermark captured at start, batched consumption,
 * fetch settings tuned for throughput. The callback sees the records in batches. */
#ifndef SKY_TOPIC_READER_H
#define SKY_TOPIC_READER_H

#include "kafka.h"
#include "verify_manifest.h"

#include <signal.h>
#include <stdint.h>

/* Records in offset order per partition, a batch at a time (n >= 1), so that a check
 * can overlap the cache misses of its per-record lookups. */
typedef void(sky_topic_records_fn)(void *opaque, const rd_kafka_message_t *const *msgs,
                                   size_t n);

typedef struct sky_topic_read_stats {
    int npartitions;
    uint64_t records;  /* delivered to the callback */
    int64_t expected;  /* sum over partitions of (high watermark - start) */
    int64_t elapsed_ns;
    int complete;      /* every partition reached its high watermark */
    int topic_missing; /* the topic does not exist (then returns 0 and reads nothing) */
} sky_topic_read_stats_t;

/* Reads topic from each partition's start (the manifest's first_offset when it
 * has one and `from_manifest`, else the log start) to the high watermark seen at
 * start. Stops early when *stop becomes non-zero or nothing arrives for
 * idle_ms. Returns 0 (check st->complete), or SKY_EUNAVAIL/SKY_EKAFKA. */
int sky_topic_read(const sky_kconf_t *kc, const char *topic, const sky_verify_manifest_t *m,
                   int from_manifest, int idle_ms, volatile sig_atomic_t *stop,
                   sky_topic_records_fn *cb, void *opaque, sky_topic_read_stats_t *st,
                   char *errstr, size_t errstr_size);

/* The same with nworkers consuming threads (at most one per partition): partition p is
 * read by worker p % nworkers, which calls cb(opaques[worker], records, n) -- so cb runs
 * in up to nworkers threads at once, each partition's records in one thread, in order.
 * nworkers 1 reads in the calling thread. */
int sky_topic_read_parallel(const sky_kconf_t *kc, const char *topic,
                            const sky_verify_manifest_t *m, int from_manifest, int idle_ms,
                            volatile sig_atomic_t *stop, int nworkers, sky_topic_records_fn *cb,
                            void *const *opaques, sky_topic_read_stats_t *st, char *errstr,
                            size_t errstr_size);

/* Parses a header's decimal value without allocating; 0 or -1. */
int sky_header_i64(rd_kafka_headers_t *h, const char *name, int64_t *out);

#endif
