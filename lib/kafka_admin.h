/* Kafka topic administration over librdkafka's Admin API: create a topic with a
 * partition count and configs, treating "already exists" as success. */
#ifndef SKY_KAFKA_ADMIN_H
#define SKY_KAFKA_ADMIN_H

#include "kafka.h"

/* Creates topic with `partitions` partitions (replication factor 1 unless the
 * broker default applies: -1 asks for it) and the "key=value" configs (NULL-terminated
 * list, may be NULL). An existing topic is success; when its partition count
 * differs a warning is logged and the existing count is kept. Waits up to
 * timeout_ms. Returns 0, SKY_EUSAGE (bad arguments), SKY_EUNAVAIL (broker unreachable)
 * or SKY_EKAFKA. */
int sky_kafka_ensure_topic(const sky_kconf_t *kc, const char *topic, int partitions,
                           const char *const *configs, char *errstr, size_t errstr_size);

/* Same with an explicit timeout (sky_kafka_ensure_topic uses 15000 ms). */
int sky_kafka_ensure_topic_timeout(const sky_kconf_t *kc, const char *topic, int partitions,
                                   const char *const *configs, int timeout_ms, char *errstr,
                                   size_t errstr_size);

/* Deletes topic; a missing topic is success. Returns 0, SKY_EUNAVAIL or SKY_EKAFKA. */
int sky_kafka_delete_topic(const sky_kconf_t *kc, const char *topic, int timeout_ms, char *errstr,
                           size_t errstr_size);

/* The partition Java's default partitioner and librdkafka's murmur2 / murmur2_random
 * choose for a non-empty key: (murmur2(key) & 0x7fffffff) % partitions. */
int32_t sky_kafka_murmur2_partition(const void *key, size_t len, int32_t partitions);
uint32_t sky_murmur2(const void *key, size_t len);

#endif
