/* librdkafka wrappers: configuration, producer with delivery accounting,
 * consumer with manual commits and cooperative rebalancing. */
#include "kafka.h"

#include "dynbuf.h"
#include "error.h"
#include "log.h"
#include "parse.h"
#include "timefmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ---- */

static int conf_set(rd_kafka_conf_t *conf, const char *kv, char *errstr, size_t errstr_size) {
    const char *eq = strchr(kv, '=');
    char key[256], rderr[512];
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "-X \"%s\": expected key=value (see -X list)", kv);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    if (rd_kafka_conf_set(conf, key, eq + 1, rderr, sizeof rderr) != RD_KAFKA_CONF_OK)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "-X %s: %s", key, rderr);
    return 0;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
    int lvl = level <= 3 ? SKY_LOG_ERROR : level == 4 ? SKY_LOG_WARN : level <= 6 ? SKY_LOG_INFO
                                                                              : SKY_LOG_DEBUG;
    sky_log(lvl, "kafka %s: %s", fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    (void)opaque;
    /* Transient errors (broker down, all brokers down) are retried by librdkafka. */
    int fatal = err == RD_KAFKA_RESP_ERR__FATAL;
    sky_log(fatal ? SKY_LOG_ERROR : SKY_LOG_WARN, "kafka: %s%s", fatal ? "fatal: " : "", reason);
}

rd_kafka_conf_t *sky_kconf_build(const sky_kconf_t *kc, const char *const *defaults, char *errstr,
                                 size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char kv[1024];
    if (!conf) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating Kafka configuration");
        return NULL;
    }
    for (const char *const *d = defaults; d && *d; d++)
        if (conf_set(conf, *d, errstr, errstr_size))
            goto fail;
    snprintf(kv, sizeof kv, "bootstrap.servers=%s",
             kc && kc->brokers ? kc->brokers : SKY_DEFAULT_BROKERS);
    if (conf_set(conf, kv, errstr, errstr_size))
        goto fail;
    for (size_t i = 0; kc && i < kc->nprops; i++)
        if (conf_set(conf, kc->props[i], errstr, errstr_size))
            goto fail;
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int sky_kconf_add(sky_kconf_t *kc, const char *kv, char *errstr, size_t errstr_size) {
    if (!strchr(kv, '=') || kv[0] == '=')
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "-X \"%s\": expected key=value (see -X list)", kv);
    const char **props = realloc((void *)kc->props, (kc->nprops + 1) * sizeof *props);
    if (!props)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    props[kc->nprops++] = kv;
    kc->props = props;
    return 0;
}

void sky_kconf_free(sky_kconf_t *kc) {
    free((void *)kc->props);
    kc->props = NULL;
    kc->nprops = 0;
}

void sky_kconf_show_properties(FILE *out) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_properties_show(out);
    rd_kafka_conf_destroy(conf);
}

/* ---- producer ---- */

struct sky_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    char *topic;
    sky_delivery_cb *dr_cb;
    void *dr_opaque;
    volatile sig_atomic_t *stop;
    sky_producer_stats_t st;
    sky_hist_t *ack_us;
    int64_t *first_off, *last_off; /* per partition, -1 = none */
    int32_t nslots;
    int64_t last_poll_ns; /* CLOCK_MONOTONIC of the last rd_kafka_poll from a send */
    uint32_t sends_since_clock;
    bool user_partitioner; /* -X partitioner=...: never pass a partition of our own */
    char last_error[256];
};

static void track_offset(sky_producer_t *p, int32_t part, int64_t off) {
    if (part < 0 || off < 0)
        return;
    if (part >= p->nslots) {
        int32_t n = part + 1;
        int64_t *f = realloc(p->first_off, (size_t)n * sizeof *f);
        if (!f)
            return;
        p->first_off = f;
        int64_t *l = realloc(p->last_off, (size_t)n * sizeof *l);
        if (!l)
            return;
        p->last_off = l;
        for (int32_t i = p->nslots; i < n; i++)
            p->first_off[i] = p->last_off[i] = -1;
        p->nslots = n;
    }
    if (p->first_off[part] < 0 || off < p->first_off[part])
        p->first_off[part] = off;
    if (off > p->last_off[part])
        p->last_off[part] = off;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    sky_producer_t *p = opaque;
    int64_t intended = (int64_t)(intptr_t)m->_private;
    if (m->err) {
        p->st.failed++;
        snprintf(p->last_error, sizeof p->last_error, "%s", rd_kafka_err2str(m->err));
    } else {
        p->st.delivered++;
        track_offset(p, m->partition, m->offset);
        if (intended > 0)
            sky_hist_record(p->ack_us, (sky_now_ns() - intended) / 1000);
    }
    if (p->dr_cb) {
        sky_delivery_t d = {m->key, m->key_len, m->partition, m->offset, intended, m->err};
        p->dr_cb(p->dr_opaque, &d);
    }
}

sky_producer_t *sky_producer_new(const sky_kconf_t *kc, const char *topic, char *errstr,
                                 size_t errstr_size) {
    static const char *const defaults[] = {
        "enable.idempotence=true", "partitioner=murmur2_random", "linger.ms=5",
        "queue.buffering.max.messages=1000000", "queue.buffering.max.kbytes=1048576", NULL};
    sky_producer_t *p = calloc(1, sizeof *p);
    if (!p || !(p->ack_us = sky_hist_new()) || !(p->topic = strdup(topic))) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating the producer");
        goto fail;
    }
    rd_kafka_conf_t *conf = sky_kconf_build(kc, defaults, errstr, errstr_size);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, p);
    for (size_t i = 0; kc && i < kc->nprops; i++)
        p->user_partitioner |= strncmp(kc->props[i], "partitioner=", 12) == 0;
    char rderr[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof rderr);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        sky_err(errstr, errstr_size, SKY_EKAFKA, "cannot create Kafka producer: %s", rderr);
        goto fail;
    }
    p->rkt = rd_kafka_topic_new(p->rk, topic, NULL);
    if (!p->rkt) {
        sky_err(errstr, errstr_size, SKY_EKAFKA, "cannot create topic handle \"%s\": %s", topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    return p;
fail:
    sky_producer_destroy(p);
    return NULL;
}

void sky_producer_destroy(sky_producer_t *p) {
    if (!p)
        return;
    if (p->rkt)
        rd_kafka_topic_destroy(p->rkt);
    if (p->rk)
        rd_kafka_destroy(p->rk);
    sky_hist_destroy(p->ack_us);
    free(p->first_off);
    free(p->last_off);
    free(p->topic);
    free(p);
}

void sky_producer_set_delivery_cb(sky_producer_t *p, sky_delivery_cb *cb, void *opaque) {
    p->dr_cb = cb;
    p->dr_opaque = opaque;
}

void sky_producer_set_stop_flag(sky_producer_t *p, volatile sig_atomic_t *flag) {
    p->stop = flag;
}

/* Retries while the local queue is full; everything else is an error. */
static int produce_retrying(sky_producer_t *p, rd_kafka_resp_err_t (*attempt)(sky_producer_t *,
                                                                           void *),
                            void *arg, char *errstr, size_t errstr_size) {
    for (;;) {
        rd_kafka_resp_err_t err = attempt(p, arg);
        if (!err)
            break;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return sky_err(errstr, errstr_size, SKY_EKAFKA, "produce to \"%s\": %s", p->topic,
                           rd_kafka_err2str(err));
        if (p->stop && *p->stop)
            return sky_err(errstr, errstr_size, SKY_EINTR, "stopped while the queue was full");
        rd_kafka_poll(p->rk, 10);
    }
    p->st.produced++;
    /* Delivery reports are timed when they are served: serve them at least
     * every millisecond so the ack latency is not the polling interval. */
    if ((++p->sends_since_clock & 15) == 0) { /* the clock every 16 sends is enough */
        int64_t now = sky_monotonic_ns();
        if (now - p->last_poll_ns >= 1000000) {
            p->last_poll_ns = now;
            rd_kafka_poll(p->rk, 0);
        }
    }
    return 0;
}

struct send_args {
    const char *topic;
    int32_t partition;
    const void *key, *value;
    size_t key_len, value_len;
    const rd_kafka_headers_t *headers;
    const char *run_id;
    int64_t seq, intended_ns, timestamp_ms;
};

/* The value lengths are passed, so librdkafka measures only the header names. */
static rd_kafka_resp_err_t attempt_headers(sky_producer_t *p, void *arg) {
    const struct send_args *a = arg;
    char seq[24], intended[24];
    ssize_t seq_len = (ssize_t)sky_fmt_i64(seq, a->seq);
    ssize_t intended_len = (ssize_t)sky_fmt_i64(intended, a->intended_ns);
    return rd_kafka_producev(
        p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_PARTITION(a->partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(a->key, a->key_len),
        RD_KAFKA_V_VALUE((void *)a->value, a->value_len),
        RD_KAFKA_V_HEADER(SKY_HDR_RUN, a->run_id, (ssize_t)strlen(a->run_id)),
        RD_KAFKA_V_HEADER(SKY_HDR_SEQ, seq, seq_len),
        RD_KAFKA_V_HEADER(SKY_HDR_INTENDED, intended, intended_len),
        RD_KAFKA_V_OPAQUE((void *)(intptr_t)a->intended_ns), RD_KAFKA_V_END);
}

static rd_kafka_resp_err_t attempt_plain(sky_producer_t *p, void *arg) {
    const struct send_args *a = arg;
    if (rd_kafka_produce(p->rkt, a->partition, RD_KAFKA_MSG_F_COPY, (void *)a->value,
                         a->value_len, a->key, a->key_len, (void *)(intptr_t)a->intended_ns) == -1)
        return rd_kafka_last_error();
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

int sky_producer_send(sky_producer_t *p, int32_t partition, const void *key, size_t key_len,
                      const void *value, size_t value_len, const char *run_id, int64_t seq,
                      int64_t intended_ns, char *errstr, size_t errstr_size) {
    struct send_args a = {.partition = p->user_partitioner ? RD_KAFKA_PARTITION_UA : partition,
                          .key = key, .key_len = key_len, .value = value, .value_len = value_len,
                          .run_id = run_id, .seq = seq, .intended_ns = intended_ns};
    return produce_retrying(p, run_id ? attempt_headers : attempt_plain, &a, errstr, errstr_size);
}

static rd_kafka_resp_err_t attempt_with(sky_producer_t *p, void *arg) {
    const struct send_args *a = arg;
    rd_kafka_headers_t *hdrs = a->headers ? rd_kafka_headers_copy(a->headers) : NULL;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_TOPIC(a->topic ? a->topic : p->topic), RD_KAFKA_V_PARTITION(a->partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(a->key, a->key_len),
        RD_KAFKA_V_VALUE((void *)a->value, a->value_len), RD_KAFKA_V_TIMESTAMP(a->timestamp_ms),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(intptr_t)a->intended_ns),
        RD_KAFKA_V_END);
    if (err && hdrs) /* on success librdkafka owns the headers */
        rd_kafka_headers_destroy(hdrs);
    return err;
}

int sky_producer_send_with(sky_producer_t *p, const char *topic, int32_t partition,
                           const void *key, size_t key_len, const void *value, size_t value_len,
                           const rd_kafka_headers_t *headers, int64_t timestamp_ms,
                           int64_t intended_ns, char *errstr, size_t errstr_size) {
    struct send_args a = {.topic = topic, .partition = partition, .key = key, .key_len = key_len,
                          .value = value, .value_len = value_len, .headers = headers,
                          .timestamp_ms = timestamp_ms, .intended_ns = intended_ns};
    return produce_retrying(p, attempt_with, &a, errstr, errstr_size);
}

void sky_producer_poll(sky_producer_t *p, int timeout_ms) {
    rd_kafka_poll(p->rk, timeout_ms);
}

int sky_producer_flush(sky_producer_t *p, int timeout_ms, char *errstr, size_t errstr_size) {
    int64_t deadline = sky_monotonic_ns() + (int64_t)timeout_ms * 1000000;
    while (rd_kafka_outq_len(p->rk) > 0) {
        int64_t left_ms = (deadline - sky_monotonic_ns()) / 1000000;
        if (left_ms <= 0)
            return sky_err(errstr, errstr_size, SKY_ETIMEOUT,
                           "%d records still unacknowledged after %d ms (is the broker up?)",
                           rd_kafka_outq_len(p->rk), timeout_ms);
        rd_kafka_flush(p->rk, left_ms > 100 ? 100 : (int)left_ms);
        if (p->stop && *p->stop > 1) /* a second signal abandons the flush */
            return sky_err(errstr, errstr_size, SKY_EINTR, "%d records abandoned by a second signal",
                           rd_kafka_outq_len(p->rk));
    }
    rd_kafka_poll(p->rk, 0);
    return 0;
}

void sky_producer_get_stats(const sky_producer_t *p, sky_producer_stats_t *st) {
    *st = p->st;
    st->in_flight = (int64_t)(p->st.produced - p->st.delivered - p->st.failed);
}

const sky_hist_t *sky_producer_ack_hist(const sky_producer_t *p) {
    return p->ack_us;
}

int sky_producer_partition_range(const sky_producer_t *p, int32_t part, int64_t *first,
                                 int64_t *last) {
    if (part < 0 || part >= p->nslots || p->first_off[part] < 0)
        return SKY_EINVAL;
    *first = p->first_off[part];
    *last = p->last_off[part];
    return 0;
}

bool sky_producer_has_user_partitioner(const sky_producer_t *p) {
    return p->user_partitioner;
}

int32_t sky_producer_partition_slots(const sky_producer_t *p) {
    return p->nslots;
}

const char *sky_producer_last_error(const sky_producer_t *p) {
    return p->last_error;
}

rd_kafka_t *sky_producer_handle(sky_producer_t *p) {
    return p->rk;
}

/* ---- consumer ---- */

struct sky_consumer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue poll blocks on, for sky_consumer_wake */
    sky_rebalance_cb *cb;
    void *cb_opaque;
    int grouped;
};

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    sky_consumer_t *c = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_error_t *e = NULL;
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e) {
            sky_log_error("kafka: incremental assign failed: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (c->cb)
            c->cb(c->cb_opaque, SKY_REBALANCE_ASSIGN, parts);
        return;
    }
    if (c->cb)
        c->cb(c->cb_opaque, rd_kafka_assignment_lost(rk) ? SKY_REBALANCE_LOST : SKY_REBALANCE_REVOKE,
              parts);
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) {
            sky_log_error("kafka: incremental unassign failed: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

sky_consumer_t *sky_consumer_new(const sky_kconf_t *kc, const char *group, char *errstr,
                                 size_t errstr_size) {
    static const char *const defaults[] = {
        "enable.auto.commit=false", "enable.auto.offset.store=false",
        "auto.offset.reset=earliest", "partition.assignment.strategy=cooperative-sticky",
        "fetch.wait.max.ms=10", "fetch.min.bytes=65536", NULL};
    sky_consumer_t *c = calloc(1, sizeof *c);
    if (!c) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating the consumer");
        return NULL;
    }
    rd_kafka_conf_t *conf = sky_kconf_build(kc, defaults, errstr, errstr_size);
    if (!conf)
        goto fail;
    char rderr[512];
    /* librdkafka requires group.id for a KafkaConsumer even without subscribe(). */
    char gid[160];
    snprintf(gid, sizeof gid, "%s", group ? group : "skyload-nogroup");
    if (rd_kafka_conf_set(conf, "group.id", gid, rderr, sizeof rderr) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        sky_err(errstr, errstr_size, SKY_EUSAGE, "group.id: %s", rderr);
        goto fail;
    }
    c->grouped = group != NULL;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, c);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof rderr);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        sky_err(errstr, errstr_size, SKY_EKAFKA, "cannot create Kafka consumer: %s", rderr);
        goto fail;
    }
    rd_kafka_poll_set_consumer(c->rk);
    c->queue = rd_kafka_queue_get_consumer(c->rk);
    return c;
fail:
    free(c);
    return NULL;
}

void sky_consumer_destroy(sky_consumer_t *c) {
    if (!c)
        return;
    if (c->queue)
        rd_kafka_queue_destroy(c->queue);
    if (c->rk) {
        if (c->grouped)
            rd_kafka_consumer_close(c->rk);
        rd_kafka_destroy(c->rk);
    }
    free(c);
}

void sky_consumer_set_rebalance_cb(sky_consumer_t *c, sky_rebalance_cb *cb, void *opaque) {
    c->cb = cb;
    c->cb_opaque = opaque;
}

int sky_consumer_subscribe(sky_consumer_t *c, const char *topic, char *errstr,
                           size_t errstr_size) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return sky_err(errstr, errstr_size, SKY_EKAFKA, "subscribe to \"%s\": %s", topic,
                       rd_kafka_err2str(err));
    return 0;
}

int sky_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, int *out,
                              char *errstr, size_t errstr_size) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (!rkt)
        return sky_err(errstr, errstr_size, SKY_EKAFKA, "topic \"%s\": %s", topic,
                       rd_kafka_err2str(rd_kafka_last_error()));
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err)
        return sky_err(errstr, errstr_size, err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                                                    err == RD_KAFKA_RESP_ERR__TIMED_OUT
                                                ? SKY_EUNAVAIL
                                                : SKY_EKAFKA,
                       "metadata for topic \"%s\": %s (is the broker up?)", topic,
                       rd_kafka_err2str(err));
    int rc = 0;
    if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0)
        rc = sky_err(errstr, errstr_size, SKY_EKAFKA, "topic \"%s\": %s", topic,
                     md->topic_cnt == 1 && md->topics[0].err
                         ? rd_kafka_err2str(md->topics[0].err)
                         : "no partitions");
    else
        *out = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return rc;
}

int sky_consumer_assign_all(sky_consumer_t *c, const char *topic, int64_t start,
                            int *npartitions, char *errstr, size_t errstr_size) {
    int n;
    int rc = sky_kafka_partition_count(c->rk, topic, 10000, &n, errstr, errstr_size);
    if (rc)
        return rc;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    if (!l)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, topic, i)->offset = start;
    rd_kafka_resp_err_t err = rd_kafka_assign(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return sky_err(errstr, errstr_size, SKY_EKAFKA, "assign \"%s\": %s", topic,
                       rd_kafka_err2str(err));
    if (npartitions)
        *npartitions = n;
    return 0;
}

rd_kafka_message_t *sky_consumer_poll(sky_consumer_t *c, int timeout_ms) {
    return rd_kafka_consumer_poll(c->rk, timeout_ms);
}

int sky_consumer_commit(sky_consumer_t *c, const rd_kafka_topic_partition_list_t *offsets,
                        char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, offsets, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        return sky_err(errstr, errstr_size, SKY_EKAFKA, "commit offsets: %s",
                       rd_kafka_err2str(err));
    return 0;
}

int sky_consumer_commit_async(sky_consumer_t *c, const rd_kafka_topic_partition_list_t *offsets,
                              char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, offsets, 1);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        return sky_err(errstr, errstr_size, SKY_EKAFKA, "commit offsets: %s",
                       rd_kafka_err2str(err));
    return 0;
}

void sky_consumer_wake(sky_consumer_t *c) {
    if (c && c->queue)
        rd_kafka_queue_yield(c->queue);
}

int64_t sky_consumer_lag(sky_consumer_t *c) {
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(c->rk, &a) || !a)
        return -1;
    rd_kafka_position(c->rk, a);
    int64_t lag = 0;
    for (int i = 0; i < a->cnt && lag >= 0; i++) {
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(c->rk, a->elems[i].topic, a->elems[i].partition, &lo,
                                           &hi) ||
            hi < 0) {
            lag = -1;
            break;
        }
        int64_t pos = a->elems[i].offset >= 0 ? a->elems[i].offset : lo;
        lag += hi > pos ? hi - pos : 0;
    }
    rd_kafka_topic_partition_list_destroy(a);
    return lag;
}

rd_kafka_t *sky_consumer_handle(sky_consumer_t *c) {
    return c->rk;
}

int sky_eof_tracker_init(sky_eof_tracker_t *t, int nparts) {
    t->nparts = nparts > 0 ? nparts : 0;
    t->at_end_count = 0;
    t->at_end = calloc((size_t)(t->nparts ? t->nparts : 1), 1);
    return t->at_end ? 0 : SKY_ENOMEM;
}

void sky_eof_tracker_free(sky_eof_tracker_t *t) {
    free(t->at_end);
    t->at_end = NULL;
}

bool sky_eof_tracker_note(sky_eof_tracker_t *t, const rd_kafka_message_t *m) {
    bool eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
    if ((m->err && !eof) || m->partition < 0 || m->partition >= t->nparts)
        return t->nparts > 0 && t->at_end_count >= t->nparts;
    if (eof != (t->at_end[m->partition] != 0)) {
        t->at_end[m->partition] = eof;
        t->at_end_count += eof ? 1 : -1;
    }
    return t->at_end_count >= t->nparts;
}

int sky_parse_offset(const char *s, int64_t *out, char *errstr, size_t errstr_size) {
    if (strcmp(s, "beginning") == 0)
        *out = RD_KAFKA_OFFSET_BEGINNING;
    else if (strcmp(s, "end") == 0)
        *out = RD_KAFKA_OFFSET_END;
    else if (strcmp(s, "stored") == 0)
        *out = RD_KAFKA_OFFSET_STORED;
    else if (sky_parse_i64(s, 0, INT64_MAX, out, "-o", errstr, errstr_size))
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "-o: \"%s\" is not beginning, end, stored or an offset >= 0", s);
    return 0;
}

int sky_kafka_group_lag(const sky_kconf_t *kc, const char *group, const char *topic,
                        int timeout_ms, int64_t *lag, char *errstr, size_t errstr_size) {
    sky_consumer_t *c = sky_consumer_new(kc, group, errstr, errstr_size);
    if (!c)
        return SKY_EKAFKA;
    c->grouped = 0; /* never joined: no close handshake */
    int n, rc = sky_kafka_partition_count(c->rk, topic, timeout_ms, &n, errstr, errstr_size);
    rd_kafka_topic_partition_list_t *l = rc ? NULL : rd_kafka_topic_partition_list_new(n);
    for (int i = 0; l && i < n; i++)
        rd_kafka_topic_partition_list_add(l, topic, i);
    rd_kafka_resp_err_t err = l ? rd_kafka_committed(c->rk, l, timeout_ms) : 0;
    if (!rc && err)
        rc = sky_err(errstr, errstr_size, SKY_EKAFKA, "committed offsets of group \"%s\": %s",
                     group, rd_kafka_err2str(err));
    int64_t total = 0;
    for (int i = 0; !rc && i < n; i++) {
        int64_t lo, hi, committed = l->elems[i].offset;
        err = rd_kafka_query_watermark_offsets(c->rk, topic, i, &lo, &hi, timeout_ms);
        if (err)
            rc = sky_err(errstr, errstr_size, SKY_EKAFKA, "watermarks of %s [%d]: %s", topic, i,
                         rd_kafka_err2str(err));
        else
            total += hi - (committed >= 0 ? committed : lo);
    }
    if (!rc)
        *lag = total;
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    sky_consumer_destroy(c);
    return rc;
}

/* ---- headers ---- */

static int header_get(const rd_kafka_message_t *m, const char *name, const void **val,
                      size_t *len) {
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) || !h)
        return SKY_EINVAL;
    /* The last value wins, as in Kafka's own header lookup. */
    return rd_kafka_header_get_last(h, name, val, len) ? SKY_EINVAL : 0;
}

int sky_msg_header_i64(const rd_kafka_message_t *m, const char *name, int64_t *out) {
    const void *v;
    size_t len;
    char buf[32];
    if (header_get(m, name, &v, &len) || !v || len == 0 || len >= sizeof buf)
        return SKY_EINVAL;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return sky_parse_i64(buf, INT64_MIN, INT64_MAX, out, name, NULL, 0) ? SKY_EINVAL : 0;
}

int sky_msg_header_str(const rd_kafka_message_t *m, const char *name, char *buf, size_t bufsz) {
    const void *v;
    size_t len;
    if (header_get(m, name, &v, &len) || bufsz == 0)
        return SKY_EINVAL;
    if (!v)
        len = 0;
    if (len >= bufsz)
        len = bufsz - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return 0;
}
