/* A librdkafka mock cluster (one broker, in-process) for the unit tests: starts it with
 * one topic and gives its bootstrap address. Header-only, shared by the tests. */
#ifndef SKY_TEST_MOCK_KAFKA_H
#define SKY_TEST_MOCK_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>

/* The handle owning the cluster (rd_kafka_destroy ends it), or NULL. */
static inline rd_kafka_t *mock_kafka_start(const char *topic, int partitions, char *bootstraps,
                                           size_t size) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        return NULL;
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    snprintf(bootstraps, size, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    if (rd_kafka_mock_topic_create(mc, topic, partitions, 1)) {
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

#endif
