/* One pass over a topic, start offset to the high watermark captured at start; with
 * several workers, each partition's queue is forwarded to one worker's queue. */
#include "topic_reader.h"

#include "error.h"
#include "log.h"
#include "timefmt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
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

/* Prefetch limits: about a second of reading at 1 M records/s in all, and 160 MiB of record
 * bytes. librdkafka checks a partition's limits against the queue it is forwarded to (a
 * worker's queue, shared by the worker's partitions), so each queue gets its share of the
 * budget. librdkafka 2.0 stops fetching a partition whose queue passes a limit and looks
 * again only a second later (its issue #2879): a queue must hold a second's reading, and
 * one fetch response (1 MiB per partition, below) must fit in it, or the reader starves. */
typedef struct queue_limits {
    char min_messages[48], max_kbytes[48];
} queue_limits_t;

static void queue_limits(int queues, queue_limits_t *q) {
    long msgs = 1000000 / (queues > 0 ? queues : 1), kb = 163840 / (queues > 0 ? queues : 1);
    snprintf(q->min_messages, sizeof q->min_messages, "queued.min.messages=%ld",
             msgs < 100000 ? 100000 : msgs);
    snprintf(q->max_kbytes, sizeof q->max_kbytes, "queued.max.messages.kbytes=%ld",
             kb < 16384 ? 16384 : kb);
}

/* Our fetch defaults come first so -X still overrides them. */
static int reader_conf(const sky_kconf_t *user, const queue_limits_t *q, sky_kconf_t *kc,
                       char *errstr, size_t errsz) {
    const char *const tuned[] = {"enable.partition.eof=true",
                                 "fetch.max.bytes=52428800",
                                 "max.partition.fetch.bytes=1048576",
                                 q->max_kbytes,
                                 q->min_messages,
                                 "fetch.wait.max.ms=100",
                                 "check.crcs=false",
                                 NULL};
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

/* A consumer whose partitions will be read through `queues` queues. */
static sky_consumer_t *reader_new(const sky_kconf_t *user, int queues, char *errstr,
                                  size_t errsz) {
    queue_limits_t q;
    sky_kconf_t kc;
    queue_limits(queues, &q);
    sky_consumer_t *c = NULL;
    if (!reader_conf(user, &q, &kc, errstr, errsz))
        c = sky_consumer_new(&kc, NULL, errstr, errsz);
    sky_kconf_free(&kc);
    return c;
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

/* One consuming thread's share: its queue and the partitions forwarded to it (high and
 * done are shared arrays, but each partition is only ever touched by its own worker). */
typedef struct worker {
    rd_kafka_queue_t *q;
    int n, remaining;
    int64_t *high;
    int *done;
    int idle_ms;
    volatile sig_atomic_t *stop;
    sky_topic_records_fn *cb;
    void *opaque;
    uint64_t records;
    pthread_t thread;
    atomic_int *finished; /* parallel mode: incremented when this worker is done */
} worker_t;

static void mark_progress(worker_t *w, int32_t p, int64_t next_offset) {
    if (p >= 0 && p < w->n && !w->done[p] && next_offset >= w->high[p]) {
        w->done[p] = 1;
        w->remaining--;
    }
}

static void consume(worker_t *w) {
    rd_kafka_message_t *msgs[BATCH];
    const rd_kafka_message_t *records[BATCH];
    int64_t last_progress = sky_monotonic_ns();
    while (w->remaining > 0 && !(w->stop && *w->stop)) {
        ssize_t got = rd_kafka_consume_batch_queue(w->q, 200, msgs, BATCH);
        if (got <= 0) {
            if (sky_monotonic_ns() - last_progress > (int64_t)w->idle_ms * 1000000)
                break;
            continue;
        }
        last_progress = sky_monotonic_ns();
        size_t n = 0;
        for (ssize_t i = 0; i < got; i++) {
            const rd_kafka_message_t *msg = msgs[i];
            if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                mark_progress(w, msg->partition, msg->offset);
            } else if (msg->err) {
                sky_log_warn("kafka: %s", rd_kafka_message_errstr(msg));
            } else if (msg->partition >= 0 && msg->partition < w->n &&
                       msg->offset < w->high[msg->partition]) {
                records[n++] = msg;
                mark_progress(w, msg->partition, msg->offset + 1);
            }
        }
        if (n) {
            w->records += n;
            w->cb(w->opaque, records, n);
        }
        for (ssize_t i = 0; i < got; i++)
            rd_kafka_message_destroy(msgs[i]);
    }
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    consume(w);
    atomic_fetch_add(w->finished, 1);
    return NULL;
}

/* Consumer errors still arrive on the consumer's own queue: log them until the workers
 * are done. Records never do: every partition was forwarded before it was assigned. */
static void log_errors_until(rd_kafka_t *rk, atomic_int *finished, int workers) {
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[16];
    while (q && atomic_load(finished) < workers) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 100, msgs, 16);
        for (ssize_t i = 0; i < got; i++) {
            if (msgs[i]->err && msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                sky_log_warn("kafka: %s", rd_kafka_message_errstr(msgs[i]));
            else if (!msgs[i]->err)
                sky_log_warn("kafka: %s [%d] offset %lld came to the consumer queue, not a "
                             "reading thread's; not counted",
                             rd_kafka_topic_name(msgs[i]->rkt), (int)msgs[i]->partition,
                             (long long)msgs[i]->offset);
            rd_kafka_message_destroy(msgs[i]);
        }
    }
    if (q)
        rd_kafka_queue_destroy(q);
}

/* The reading threads and their queues. With one, the consumer's own queue; with
 * several, partition p's queue is forwarded to thread p % n's -- before the partitions
 * are assigned, or the first fetches would land on the consumer queue instead. */
typedef struct readers {
    worker_t *w;
    int nworkers, nparts;
    rd_kafka_queue_t **pq; /* parallel: the partitions' queues, forwarded */
} readers_t;

static void readers_free(readers_t *r) {
    for (int p = 0; r->pq && p < r->nparts; p++)
        if (r->pq[p]) {
            rd_kafka_queue_forward(r->pq[p], NULL);
            rd_kafka_queue_destroy(r->pq[p]);
        }
    for (int i = 0; r->w && i < r->nworkers; i++)
        if (r->w[i].q)
            rd_kafka_queue_destroy(r->w[i].q);
    free(r->pq);
    free(r->w);
}

static int readers_init(readers_t *r, rd_kafka_t *rk, const char *topic, int nparts,
                        int nworkers) {
    *r = (readers_t){.nworkers = nworkers, .nparts = nparts};
    if (!(r->w = calloc((size_t)nworkers, sizeof *r->w)) ||
        (nworkers > 1 && !(r->pq = calloc((size_t)nparts, sizeof *r->pq))))
        return SKY_ENOMEM;
    for (int i = 0; i < nworkers; i++)
        if (!(r->w[i].q = nworkers == 1 ? rd_kafka_queue_get_consumer(rk) : rd_kafka_queue_new(rk)))
            return SKY_ENOMEM;
    for (int p = 0; nworkers > 1 && p < nparts; p++) {
        if (!(r->pq[p] = rd_kafka_queue_get_partition(rk, topic, p)))
            return SKY_ENOMEM;
        rd_kafka_queue_forward(r->pq[p], r->w[p % nworkers].q);
    }
    return 0;
}

/* Each worker in its own thread while this one logs the consumer's errors. */
static void consume_parallel(rd_kafka_t *rk, readers_t *r) {
    atomic_int finished = 0;
    int started = 0;
    for (; started < r->nworkers; started++) {
        r->w[started].finished = &finished;
        if (pthread_create(&r->w[started].thread, NULL, worker_main, &r->w[started]))
            break;
    }
    log_errors_until(rk, &finished, started);
    for (int i = started; i < r->nworkers; i++) /* could not start them all: here, in turn */
        consume(&r->w[i]);
    for (int i = 0; i < started; i++)
        pthread_join(r->w[i].thread, NULL);
}

int sky_topic_read(const sky_kconf_t *user, const char *topic, const sky_verify_manifest_t *m,
                   int from_manifest, int idle_ms, volatile sig_atomic_t *stop,
                   sky_topic_records_fn *cb, void *opaque, sky_topic_read_stats_t *st,
                   char *errstr, size_t errstr_size) {
    return sky_topic_read_parallel(user, topic, m, from_manifest, idle_ms, stop, 1, cb, &opaque,
                                   st, errstr, errstr_size);
}

/* Reads the assigned ranges (high, done: from assign_ranges) with the readers. */
static void read_assigned(rd_kafka_t *rk, readers_t *r, int64_t *high, int *done,
                          sky_topic_records_fn *cb, void *const *opaques, int idle_ms,
                          volatile sig_atomic_t *stop, sky_topic_read_stats_t *st) {
    int remaining = 0;
    for (int i = 0; i < r->nworkers; i++) {
        worker_t *w = &r->w[i];
        w->n = r->nparts;
        w->high = high;
        w->done = done;
        w->idle_ms = idle_ms;
        w->stop = stop;
        w->cb = cb;
        w->opaque = opaques[i];
        for (int p = i; p < r->nparts; p += r->nworkers)
            w->remaining += !done[p];
    }
    if (r->nworkers == 1)
        consume(&r->w[0]);
    else
        consume_parallel(rk, r);
    for (int i = 0; i < r->nworkers; i++) {
        st->records += r->w[i].records;
        remaining += r->w[i].remaining;
    }
    st->complete = remaining == 0;
}

int sky_topic_read_parallel(const sky_kconf_t *user, const char *topic,
                            const sky_verify_manifest_t *m, int from_manifest, int idle_ms,
                            volatile sig_atomic_t *stop, int nworkers, sky_topic_records_fn *cb,
                            void *const *opaques, sky_topic_read_stats_t *st, char *errstr,
                            size_t errstr_size) {
    memset(st, 0, sizeof *st);
    int64_t t0 = sky_monotonic_ns();
    int n = 0, rc = 0;
    int64_t *high = NULL;
    int *done = NULL;
    readers_t readers = {0};
    /* the queue limits depend on the number of workers, so on the partition count: ask
     * for it first, then read with a consumer configured for it */
    sky_consumer_t *c = reader_new(user, 1, errstr, errstr_size);
    if (!c)
        rc = SKY_EKAFKA;
    if (!rc)
        rc = partition_count(sky_consumer_handle(c), topic, idle_ms, &n, st, errstr, errstr_size);
    nworkers = nworkers < 1 ? 1 : nworkers > n ? n : nworkers;
    if (!rc && n > 0 && nworkers > 1) {
        sky_consumer_destroy(c);
        if (!(c = reader_new(user, nworkers, errstr, errstr_size)))
            rc = SKY_EKAFKA;
    }
    if (!rc && n > 0) {
        high = calloc((size_t)n, sizeof *high);
        done = calloc((size_t)n, sizeof *done);
        if (!high || !done || readers_init(&readers, sky_consumer_handle(c), topic, n, nworkers))
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    if (!rc && n > 0)
        rc = assign_ranges(sky_consumer_handle(c), topic, n, from_manifest ? m : NULL, high, done,
                           st, idle_ms, errstr, errstr_size);
    if (!rc && n > 0)
        read_assigned(sky_consumer_handle(c), &readers, high, done, cb, opaques, idle_ms, stop,
                      st);
    st->npartitions = n;
    st->complete |= !rc && st->topic_missing;
    st->elapsed_ns = sky_monotonic_ns() - t0;
    readers_free(&readers);
    free(high);
    free(done);
    sky_consumer_destroy(c);
    return rc;
}
