/* One pass over a topic, start offset to the high watermark captured at start. */
#include "topic_reader.h"

#include "error.h"
#include "log.h"
#include "timefmt.h"

#include <stdlib.h>
#include <string.h>

#define BATCH 4096

int sky_header_i64(rd_kafka_headers_t *h, const char *name, int64_t *out) {
    const void *v;
    size_t len;
    if (!h || rd_kafka_header_get_last(h, name, &v, &len) || !v || len == 0 || len > 19)
        return -1;
    const char *p = v;
    int neg = p[0] == '-';
    int64_t x = 0;
    for (size_t i = (size_t)neg; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        x = x * 10 + (p[i] - '0');
    }
    if (len == (size_t)neg)
        return -1;
    *out = neg ? -x : x;
    return 0;
}

/* Our fetch defaults come first so -X still overrides them. */
static int reader_conf(const sky_kconf_t *user, sky_kconf_t *kc, char *errstr, size_t errsz) {
    static const char *const tuned[] = {
        "enable.partition.eof=true",       "fetch.max.bytes=52428800",
        "max.partition.fetch.bytes=4194304", "queued.max.messages.kbytes=16384",
        "queued.min.messages=100000",     "fetch.wait.max.ms=100",
        "check.crcs=false",               NULL};
    memset(kc, 0, sizeof *kc);
    kc->brokers = user ? user->brokers : NULL;
    for (const char *const *t = tuned; *t; t++)
        if (sky_kconf_add(kc, *t, errstr, errsz))
            return SKY_ENOMEM;
    for (size_t i = 0; user && i < user->nprops; i++)
        if (sky_kconf_add(kc, user->props[i], errstr, errsz))
            return SKY_ENOMEM;
    return 0;
}

static int partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, int *n,
                           sky_topic_read_stats_t *st, char *errstr, size_t errsz) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (!rkt)
        return sky_err(errstr, errsz, SKY_EKAFKA, "topic \"%s\": cannot create handle", topic);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err)
        return sky_err(errstr, errsz, SKY_EUNAVAIL,
                       "Kafka metadata for \"%s\": %s (is the broker up?)", topic,
                       rd_kafka_err2str(err));
    int rc = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        st->topic_missing = 1;
    else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0)
        rc = sky_err(errstr, errsz, SKY_EKAFKA, "topic \"%s\": %s", topic,
                     md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "no metadata");
    else
        *n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return rc;
}

static int64_t manifest_first(const sky_verify_manifest_t *m, int32_t p) {
    for (size_t i = 0; m && i < m->npartitions; i++)
        if (m->partitions[i].partition == p)
            return m->partitions[i].first_offset;
    return -1;
}

/* Fills start/high per partition and assigns those that have records to read. */
static int assign_ranges(rd_kafka_t *rk, const char *topic, int n, const sky_verify_manifest_t *m,
                         int64_t *high, int *done, sky_topic_read_stats_t *st, int timeout_ms,
                         char *errstr, size_t errsz) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    if (!l)
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    for (int p = 0; p < n; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, timeout_ms);
        if (err) {
            rd_kafka_topic_partition_list_destroy(l);
            return sky_err(errstr, errsz, SKY_EUNAVAIL, "watermarks of %s [%d]: %s", topic, p,
                           rd_kafka_err2str(err));
        }
        int64_t start = manifest_first(m, p);
        start = start > lo ? start : lo;
        high[p] = hi;
        done[p] = start >= hi;
        if (!done[p]) {
            rd_kafka_topic_partition_list_add(l, topic, p)->offset = start;
            st->expected += hi - start;
        }
    }
    rd_kafka_resp_err_t err = l->cnt ? rd_kafka_assign(rk, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return sky_err(errstr, errsz, SKY_EKAFKA, "assign %s: %s", topic, rd_kafka_err2str(err));
    return 0;
}

typedef struct read_loop {
    int n, remaining;
    int64_t *high;
    int *done;
} read_loop_t;

static void mark_progress(read_loop_t *rl, int32_t p, int64_t next_offset) {
    if (p >= 0 && p < rl->n && !rl->done[p] && next_offset >= rl->high[p]) {
        rl->done[p] = 1;
        rl->remaining--;
    }
}

static void consume(rd_kafka_t *rk, read_loop_t *rl, int idle_ms, volatile sig_atomic_t *stop,
                    sky_topic_record_fn *cb, void *opaque, sky_topic_read_stats_t *st) {
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[BATCH];
    int64_t last_progress = sky_monotonic_ns();
    while (rl->remaining > 0 && !(stop && *stop)) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 200, msgs, BATCH);
        if (got <= 0) {
            if (sky_monotonic_ns() - last_progress > (int64_t)idle_ms * 1000000)
                break;
            continue;
        }
        last_progress = sky_monotonic_ns();
        for (ssize_t i = 0; i < got; i++) {
            rd_kafka_message_t *msg = msgs[i];
            if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                mark_progress(rl, msg->partition, msg->offset);
            } else if (msg->err) {
                sky_log_warn("kafka: %s", rd_kafka_message_errstr(msg));
            } else if (msg->partition >= 0 && msg->partition < rl->n &&
                       msg->offset < rl->high[msg->partition]) {
                st->records++;
                cb(opaque, msg);
                mark_progress(rl, msg->partition, msg->offset + 1);
            }
            rd_kafka_message_destroy(msg);
        }
    }
    rd_kafka_queue_destroy(q);
}

int sky_topic_read(const sky_kconf_t *user, const char *topic, const sky_verify_manifest_t *m,
                   int from_manifest, int idle_ms, volatile sig_atomic_t *stop,
                   sky_topic_record_fn *cb, void *opaque, sky_topic_read_stats_t *st,
                   char *errstr, size_t errstr_size) {
    memset(st, 0, sizeof *st);
    int64_t t0 = sky_monotonic_ns();
    sky_kconf_t kc;
    int rc = reader_conf(user, &kc, errstr, errstr_size);
    sky_consumer_t *c = rc ? NULL : sky_consumer_new(&kc, NULL, errstr, errstr_size);
    if (!rc && !c)
        rc = SKY_EKAFKA;
    int n = 0;
    int64_t *high = NULL;
    int *done = NULL;
    if (!rc)
        rc = partition_count(sky_consumer_handle(c), topic, idle_ms, &n, st, errstr, errstr_size);
    if (!rc && n > 0) {
        high = calloc((size_t)n, sizeof *high);
        done = calloc((size_t)n, sizeof *done);
        if (!high || !done)
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    if (!rc && n > 0)
        rc = assign_ranges(sky_consumer_handle(c), topic, n, from_manifest ? m : NULL, high, done,
                           st, idle_ms, errstr, errstr_size);
    if (!rc && n > 0) {
        read_loop_t rl = {n, 0, high, done};
        for (int p = 0; p < n; p++)
            rl.remaining += !done[p];
        consume(sky_consumer_handle(c), &rl, idle_ms, stop, cb, opaque, st);
        st->complete = rl.remaining == 0;
    }
    st->npartitions = n;
    st->complete |= !rc && st->topic_missing;
    st->elapsed_ns = sky_monotonic_ns() - t0;
    free(high);
    free(done);
    sky_consumer_destroy(c);
    sky_kconf_free(&kc);
    return rc;
}
