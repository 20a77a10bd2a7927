/* Topic creation and deletion with librdkafka's Admin API (CreateTopics, DeleteTopics). */
#include "kafka_admin.h"

#include "error.h"
#include "log.h"

#include <string.h>

#define ADMIN_DEFAULT_TIMEOUT_MS 15000

static rd_kafka_t *admin_client_new(const sky_kconf_t *kc, char *errstr, size_t errstr_size) {
    char rderr[512];
    rd_kafka_conf_t *conf = sky_kconf_build(kc, NULL, errstr, errstr_size);
    if (!conf)
        return NULL;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof rderr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        sky_err(errstr, errstr_size, SKY_EKAFKA, "creating the Kafka admin client: %s", rderr);
    }
    return rk;
}

static int kafka_code(rd_kafka_resp_err_t err) {
    return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                   err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
               ? SKY_EUNAVAIL
               : SKY_EKAFKA;
}

/* Waits for the admin result event of type `want`; NULL on timeout. */
static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q, rd_kafka_event_type_t want,
                                     int timeout_ms) {
    for (int waited = 0; waited <= timeout_ms + 1000; waited += 200) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 200);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == want)
            return ev;
        rd_kafka_event_destroy(ev);
    }
    return NULL;
}

static int add_topic_configs(rd_kafka_NewTopic_t *nt, const char *const *configs, char *errstr,
                             size_t errstr_size) {
    for (const char *const *c = configs; c && *c; c++) {
        char key[256];
        const char *eq = strchr(*c, '=');
        if (!eq || eq == *c || (size_t)(eq - *c) >= sizeof key)
            return sky_err(errstr, errstr_size, SKY_EUSAGE,
                           "topic config \"%s\": expected key=value", *c);
        memcpy(key, *c, (size_t)(eq - *c));
        key[eq - *c] = '\0';
        rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(nt, key, eq + 1);
        if (err)
            return sky_err(errstr, errstr_size, SKY_EUSAGE, "topic config \"%s\": %s", *c,
                           rd_kafka_err2str(err));
    }
    return 0;
}

static void warn_if_partitions_differ(rd_kafka_t *rk, const char *topic, int partitions,
                                      int timeout_ms) {
    char err[256];
    int have = 0;
    if (sky_kafka_partition_count(rk, topic, timeout_ms, &have, err, sizeof err)) {
        sky_log_warn("topic \"%s\" exists; its partition count is unknown: %s", topic, err);
        return;
    }
    if (have != partitions)
        sky_log_warn("topic \"%s\" exists with %d partitions, not %d; keeping %d", topic, have,
                     partitions, have);
}

static int create_topic(rd_kafka_t *rk, rd_kafka_NewTopic_t *nt, const char *topic,
                        int partitions, int timeout_ms, char *errstr, size_t errstr_size) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    char rderr[256];
    if (!q || !opts) {
        if (q)
            rd_kafka_queue_destroy(q);
        rd_kafka_AdminOptions_destroy(opts);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating topic \"%s\"",
                       topic);
    }
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, rderr, sizeof rderr);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, rderr, sizeof rderr);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, timeout_ms);
    int rc = 0;
    if (!ev) {
        rc = sky_err(errstr, errstr_size, SKY_EUNAVAIL,
                     "creating topic \"%s\": no answer within %d ms (is the broker up?)", topic,
                     timeout_ms);
    } else if (rd_kafka_event_error(ev)) {
        rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
        rc = sky_err(errstr, errstr_size, kafka_code(err), "creating topic \"%s\": %s", topic,
                     rd_kafka_event_error_string(ev));
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t err = n == 1 ? rd_kafka_topic_result_error(res[0])
                                         : RD_KAFKA_RESP_ERR__BAD_MSG;
        if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            warn_if_partitions_differ(rk, topic, partitions, timeout_ms);
        else if (err)
            rc = sky_err(errstr, errstr_size, kafka_code(err), "creating topic \"%s\": %s", topic,
                         n == 1 && rd_kafka_topic_result_error_string(res[0])
                             ? rd_kafka_topic_result_error_string(res[0])
                             : rd_kafka_err2str(err));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* A topic just created has no partition leaders for a moment: records sent
 * then wait for metadata retries and show as hundreds of ms of ack latency
 * that belong to topic creation, not to the load. Waits (bounded) until every
 * partition has a leader, and then until each leader answers an offsets request
 * (a leader in the metadata may not take writes yet: the first produce would be
 * retried after retry.backoff.ms, ~110 ms here); on timeout the producer's own
 * retries take over. */
static void wait_for_leaders(rd_kafka_t *rk, const char *topic, int timeout_ms) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt)
        return;
    int partitions = 0, waited = 0;
    for (; waited < timeout_ms && !partitions; waited += 50) {
        const struct rd_kafka_metadata *md = NULL;
        if (!rd_kafka_metadata(rk, 0, rkt, &md, 2000) && md->topic_cnt == 1 &&
            !md->topics[0].err && md->topics[0].partition_cnt > 0) {
            partitions = md->topics[0].partition_cnt;
            for (int i = 0; i < md->topics[0].partition_cnt; i++)
                if (md->topics[0].partitions[i].leader < 0 || md->topics[0].partitions[i].err)
                    partitions = 0;
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        if (!partitions)
            rd_kafka_poll(rk, 50);
    }
    rd_kafka_topic_destroy(rkt);
    for (int32_t part = 0; part < partitions && waited < timeout_ms; part++) {
        int64_t lo, hi;
        while (rd_kafka_query_watermark_offsets(rk, topic, part, &lo, &hi, 1000) &&
               waited < timeout_ms) {
            rd_kafka_poll(rk, 20);
            waited += 20;
        }
    }
}

int sky_kafka_ensure_topic_timeout(const sky_kconf_t *kc, const char *topic, int partitions,
                                   const char *const *configs, int timeout_ms, char *errstr,
                                   size_t errstr_size) {
    char rderr[256];
    if (!topic || !*topic || partitions < 1)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "ensure topic: need a topic name and at least 1 partition");
    rd_kafka_t *rk = admin_client_new(kc, errstr, errstr_size);
    if (!rk)
        return SKY_EKAFKA;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, -1, rderr, sizeof rderr);
    int rc;
    if (!nt)
        rc = sky_err(errstr, errstr_size, SKY_EUSAGE, "topic \"%s\": %s", topic, rderr);
    else {
        rc = add_topic_configs(nt, configs, errstr, errstr_size);
        if (!rc)
            rc = create_topic(rk, nt, topic, partitions, timeout_ms, errstr, errstr_size);
        if (!rc)
            wait_for_leaders(rk, topic, timeout_ms);
        rd_kafka_NewTopic_destroy(nt);
    }
    rd_kafka_destroy(rk);
    return rc;
}

int sky_kafka_ensure_topic(const sky_kconf_t *kc, const char *topic, int partitions,
                           const char *const *configs, char *errstr, size_t errstr_size) {
    return sky_kafka_ensure_topic_timeout(kc, topic, partitions, configs,
                                          ADMIN_DEFAULT_TIMEOUT_MS, errstr, errstr_size);
}

int sky_kafka_delete_topic(const sky_kconf_t *kc, const char *topic, int timeout_ms, char *errstr,
                           size_t errstr_size) {
    char rderr[256];
    rd_kafka_t *rk = admin_client_new(kc, errstr, errstr_size);
    if (!rk)
        return SKY_EKAFKA;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    int rc = 0;
    if (!q || !opts || !dt) {
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory deleting topic \"%s\"",
                     topic);
        goto out;
    }
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, rderr, sizeof rderr);
    rd_kafka_DeleteTopics(rk, &dt, 1, opts, q);
    rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT, timeout_ms);
    if (!ev) {
        rc = sky_err(errstr, errstr_size, SKY_EUNAVAIL,
                     "deleting topic \"%s\": no answer within %d ms", topic, timeout_ms);
        goto out;
    }
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    if (!err && n == 1)
        err = rd_kafka_topic_result_error(res[0]);
    if (err && err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        rc = sky_err(errstr, errstr_size, kafka_code(err), "deleting topic \"%s\": %s", topic,
                     rd_kafka_err2str(err));
    rd_kafka_event_destroy(ev);
out:
    if (dt)
        rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_AdminOptions_destroy(opts);
    if (q)
        rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

uint32_t sky_murmur2(const void *key, size_t len) {
    const uint32_t m = 0x5bd1e995;
    const unsigned char *d = key;
    uint32_t h = 0x9747b28cU ^ (uint32_t)len;
    size_t n4 = len / 4;
    for (size_t i = 0; i < n4; i++, d += 4) {
        uint32_t k = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                     (uint32_t)d[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len & 3) {
    case 3: h ^= (uint32_t)d[2] << 16; /* fall through */
    case 2: h ^= (uint32_t)d[1] << 8;  /* fall through */
    case 1:
        h ^= d[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

int32_t sky_kafka_murmur2_partition(const void *key, size_t len, int32_t partitions) {
    return partitions > 0 ? (int32_t)((sky_murmur2(key, len) & 0x7fffffff) % (uint32_t)partitions)
                          : 0;
}
