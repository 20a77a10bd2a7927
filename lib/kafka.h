/* Kafka clients over librdkafka: configuration with -X passthrough, the
 * skyload producer (idempotent, murmur2_random, run/seq/intended headers,
 * delivery reports with ack latency) and a consumer (group with manual
 * commits and a rebalance hook, or plain assignment of every partition). */
#ifndef SKY_KAFKA_H
#define SKY_KAFKA_H

#include "histogram.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SKY_HDR_RUN "skyload-run"
#define SKY_HDR_SEQ "skyload-seq"
#define SKY_HDR_INTENDED "skyload-intended"
#define SKY_HDR_ERROR "skyload-error"
#define SKY_DEFAULT_BROKERS "127.0.0.1:9092"

typedef struct sky_kconf {
    const char *brokers;        /* NULL: SKY_DEFAULT_BROKERS */
    const char *const *props;   /* "key=value" strings given with -X, applied last */
    size_t nprops;
} sky_kconf_t;

/* Builds a librdkafka configuration: defaults ("key=value", NULL-terminated
 * list, may be NULL), then brokers, then the -X properties. The returned conf
 * is owned by the caller (rd_kafka_conf_destroy, or pass it to rd_kafka_new). */
rd_kafka_conf_t *sky_kconf_build(const sky_kconf_t *kc, const char *const *defaults, char *errstr,
                                 size_t errstr_size);
/* Appends "key=value" to a NULL-free array of props (grows *props; the string
 * itself is not copied and must outlive the array). Returns 0 or SKY_ENOMEM/SKY_EUSAGE. */
int sky_kconf_add(sky_kconf_t *kc, const char *key_eq_value, char *errstr, size_t errstr_size);
void sky_kconf_free(sky_kconf_t *kc); /* frees the props array built by sky_kconf_add */
/* "-X list": every librdkafka property, as kcat prints it. */
void sky_kconf_show_properties(FILE *out);

/* ---- producer ---- */

typedef struct sky_producer sky_producer_t;

typedef struct sky_delivery {
    const void *key;
    size_t key_len;
    int32_t partition;
    int64_t offset;
    int64_t intended_ns; /* 0 when the record had none */
    rd_kafka_resp_err_t err;
} sky_delivery_t;

typedef void(sky_delivery_cb)(void *opaque, const sky_delivery_t *d);

typedef struct sky_producer_stats {
    uint64_t produced;  /* accepted by sky_producer_send* */
    uint64_t delivered; /* acknowledged by the broker */
    uint64_t failed;    /* permanently failed (message timeout, fatal error) */
    int64_t in_flight;  /* produced - delivered - failed */
} sky_producer_stats_t;

/* topic is copied. Defaults: enable.idempotence=true, partitioner=murmur2_random,
 * linger.ms=5, queue.buffering.max.messages=1000000; -X overrides them. */
sky_producer_t *sky_producer_new(const sky_kconf_t *kc, const char *topic, char *errstr,
                                 size_t errstr_size);
void sky_producer_destroy(sky_producer_t *p); /* NULL is fine; does not flush */
/* Called from sky_producer_poll/flush/send for every delivery report. */
void sky_producer_set_delivery_cb(sky_producer_t *p, sky_delivery_cb *cb, void *opaque);
/* When *flag becomes non-zero, a send blocked on a full queue returns SKY_EINTR. */
void sky_producer_set_stop_flag(sky_producer_t *p, volatile sig_atomic_t *flag);

/* Produces one record to the producer's topic. With run_id != NULL the
 * skyload headers are attached (run, seq, intended ns). Blocks (serving
 * delivery reports) while librdkafka's queue is full. key and value are copied.
 * partition: the key's murmur2 partition when the caller knows it (saves hashing
 * every record), else RD_KAFKA_PARTITION_UA; a -X partitioner=... always decides. */
int sky_producer_send(sky_producer_t *p, int32_t partition, const void *key, size_t key_len,
                      const void *value, size_t value_len, const char *run_id, int64_t seq,
                      int64_t intended_ns, char *errstr, size_t errstr_size);
/* General form: topic NULL = the producer's; partition RD_KAFKA_PARTITION_UA =
 * partitioner; headers copied (may be NULL); timestamp_ms 0 = now. */
int sky_producer_send_with(sky_producer_t *p, const char *topic, int32_t partition,
                           const void *key, size_t key_len, const void *value, size_t value_len,
                           const rd_kafka_headers_t *headers, int64_t timestamp_ms,
                           int64_t intended_ns, char *errstr, size_t errstr_size);
void sky_producer_poll(sky_producer_t *p, int timeout_ms);
/* Waits up to timeout_ms for every record to be acknowledged or fail; returns
 * SKY_ETIMEOUT with the number still queued in errstr when some remain. */
int sky_producer_flush(sky_producer_t *p, int timeout_ms, char *errstr, size_t errstr_size);
void sky_producer_get_stats(const sky_producer_t *p, sky_producer_stats_t *st);
/* Ack latency (intended -> broker ack) in microseconds; owned by the producer. */
const sky_hist_t *sky_producer_ack_hist(const sky_producer_t *p);
/* Lowest and highest acknowledged offset of a partition; returns 0 when the
 * partition had acknowledged records, SKY_EINVAL otherwise. */
int sky_producer_partition_range(const sky_producer_t *p, int32_t partition, int64_t *first,
                                 int64_t *last);
int32_t sky_producer_partition_slots(const sky_producer_t *p); /* partitions seen + 1 */
/* True when -X names a partitioner: callers then pass no partition of their own. */
bool sky_producer_has_user_partitioner(const sky_producer_t *p);
/* The last delivery error's text ("" when none). */
const char *sky_producer_last_error(const sky_producer_t *p);
rd_kafka_t *sky_producer_handle(sky_producer_t *p);

/* ---- consumer ---- */

typedef struct sky_consumer sky_consumer_t;

enum sky_rebalance_kind { SKY_REBALANCE_ASSIGN, SKY_REBALANCE_REVOKE, SKY_REBALANCE_LOST };
/* Called before partitions are revoked (commit what you have) and after they
 * are assigned. parts is owned by librdkafka for the duration of the call. */
typedef void(sky_rebalance_cb)(void *opaque, int kind,
                               const rd_kafka_topic_partition_list_t *parts);

/* group NULL: no consumer group (use sky_consumer_assign_all). Defaults:
 * enable.auto.commit=false, enable.auto.offset.store=false,
 * auto.offset.reset=earliest, partition.assignment.strategy=cooperative-sticky. */
sky_consumer_t *sky_consumer_new(const sky_kconf_t *kc, const char *group, char *errstr,
                                 size_t errstr_size);
void sky_consumer_destroy(sky_consumer_t *c); /* closes first; NULL is fine */
void sky_consumer_set_rebalance_cb(sky_consumer_t *c, sky_rebalance_cb *cb, void *opaque);
int sky_consumer_subscribe(sky_consumer_t *c, const char *topic, char *errstr, size_t errstr_size);
/* Assigns every partition of topic starting at start (an offset, or
 * RD_KAFKA_OFFSET_BEGINNING / _END / _STORED); *npartitions gets the count. */
int sky_consumer_assign_all(sky_consumer_t *c, const char *topic, int64_t start,
                            int *npartitions, char *errstr, size_t errstr_size);
/* Next message or NULL on timeout; the caller destroys it with
 * rd_kafka_message_destroy. Messages with err set are returned too
 * (RD_KAFKA_RESP_ERR__PARTITION_EOF when enable.partition.eof=true). */
rd_kafka_message_t *sky_consumer_poll(sky_consumer_t *c, int timeout_ms);
/* Synchronously commits offsets (NULL: the current positions of the assignment). */
int sky_consumer_commit(sky_consumer_t *c, const rd_kafka_topic_partition_list_t *offsets,
                        char *errstr, size_t errstr_size);
/* Sends a commit and returns at once (the result is not reported: commits are
 * cumulative, the next one carries these offsets again). 0 or SKY_EKAFKA. */
int sky_consumer_commit_async(sky_consumer_t *c, const rd_kafka_topic_partition_list_t *offsets,
                              char *errstr, size_t errstr_size);
/* Makes a sky_consumer_poll blocked in another thread return now (NULL). */
void sky_consumer_wake(sky_consumer_t *c);
/* Sum over the assignment of (high watermark - position), from the watermarks
 * the fetcher already has: no broker round trip (a synchronous query would
 * queue behind the long-polling fetches and stall the caller for seconds).
 * -1 until every assigned partition has been fetched once. */
int64_t sky_consumer_lag(sky_consumer_t *c);
rd_kafka_t *sky_consumer_handle(sky_consumer_t *c);

/* Which assigned partitions a reader has read to their end (the consumer needs
 * enable.partition.eof=true): a record un-marks its partition, an EOF event
 * marks it. For "-e, exit at end" in tail and record. */
typedef struct sky_eof_tracker {
    int nparts, at_end_count;
    unsigned char *at_end; /* owned; one flag per partition */
} sky_eof_tracker_t;

/* 0 or SKY_ENOMEM. */
int sky_eof_tracker_init(sky_eof_tracker_t *t, int nparts);
void sky_eof_tracker_free(sky_eof_tracker_t *t);
/* Notes a consumed message (a record or a PARTITION_EOF event; other errors
 * are ignored); returns true when every partition is at its end. */
bool sky_eof_tracker_note(sky_eof_tracker_t *t, const rd_kafka_message_t *m);

/* "beginning", "end", "stored" or an offset >= 0. */
int sky_parse_offset(const char *s, int64_t *out, char *errstr, size_t errstr_size);
/* Number of partitions of topic from metadata. */
int sky_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, int *out,
                              char *errstr, size_t errstr_size);

/* A consumer group's lag on topic: sum over partitions of (high watermark -
 * committed offset), counting a partition without a commit from its low
 * watermark. Does not join the group. */
int sky_kafka_group_lag(const sky_kconf_t *kc, const char *group, const char *topic,
                        int timeout_ms, int64_t *lag, char *errstr, size_t errstr_size);

/* ---- headers ---- */

/* Reads a decimal header value; 0 on success, SKY_EINVAL when absent or not a number. */
int sky_msg_header_i64(const rd_kafka_message_t *m, const char *name, int64_t *out);
/* Copies a header value as a string into buf; 0 on success, SKY_EINVAL when absent. */
int sky_msg_header_str(const rd_kafka_message_t *m, const char *name, char *buf, size_t bufsz);

#endif
