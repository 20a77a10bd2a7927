/* Where replayed records go: Kafka (the skyload producer), a JSON Lines file,
 * stdout, or nowhere (null, for measuring the readers). The file and stdout
 * sinks write docs/formats.md's objects without topic/partition/offset/timestamp. */
#ifndef SKY_SINK_H
#define SKY_SINK_H

#include "capture.h"
#include "codec.h"
#include "kafka.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_sink sky_sink_t;

/* One record to send. Pointers are borrowed for the duration of the call. */
typedef struct sky_sink_msg {
    const void *key;
    size_t key_len;
    const void *value; /* NULL = null value */
    size_t value_len;
    const sky_flight_t *flight; /* value decoded, for the JSON sinks; NULL = does not decode */
    const sky_cap_header_t *headers; /* carried headers (capture records); may be NULL */
    size_t nheaders;
    int32_t partition;  /* from sky_sink_partition, or RD_KAFKA_PARTITION_UA */
    const char *run_id; /* NULL: no skyload headers are added */
    int64_t seq;
    int64_t intended_ns;
} sky_sink_msg_t;

/* The partition the producer's murmur2_random partitioner would give key, worked out
 * once per flight by the caller; RD_KAFKA_PARTITION_UA when it is not known (no Kafka
 * sink, the topic's partition count unknown, or -X partitioner=...: then librdkafka's
 * partitioner decides per record). */
int32_t sky_sink_partition(const sky_sink_t *s, const void *key, size_t len);

/* spec: "kafka", "null", "stdout", "file:PATH". kc and topic are used by kafka only
 * (copied). Returns 0 and *out, or SKY_EUSAGE / SKY_EKAFKA / SKY_EIO. */
int sky_sink_open(const char *spec, const sky_kconf_t *kc, const char *topic, sky_sink_t **out,
                  char *errstr, size_t errstr_size);
/* Kafka: waits up to timeout_ms for every ack; files: fflush. Returns
 * SKY_ETIMEOUT / SKY_EIO when something was not written. */
int sky_sink_flush(sky_sink_t *s, int timeout_ms, char *errstr, size_t errstr_size);
/* Frees s (without waiting for Kafka: flush first); NULL is fine. */
int sky_sink_close(sky_sink_t *s, char *errstr, size_t errstr_size);
int sky_sink_send(sky_sink_t *s, const sky_sink_msg_t *m, char *errstr, size_t errstr_size);
/* Kafka: stop retrying a full local queue when *flag becomes non-zero. */
void sky_sink_set_stop_flag(sky_sink_t *s, volatile sig_atomic_t *flag);
/* Serves Kafka delivery reports (no-op for the others). */
void sky_sink_poll(sky_sink_t *s, int timeout_ms);
/* The producer, or NULL for the other sinks. Records are produced on its handle by the
 * sink itself, so its "produced" count stays 0: count sky_sink_send's successes instead. */
sky_producer_t *sky_sink_producer(sky_sink_t *s);
bool sky_sink_is_kafka(const sky_sink_t *s);
bool sky_sink_is_null(const sky_sink_t *s);

#endif
