/* ingest's sink threads: per lane a PostgreSQL writer (its connection) and a Tile38
 * writer (its own connection too), each taking the lane's batches in the order they
 * were closed, at the same time. Each retries its batch with backoff until the server
 * takes it, marks it done and wakes the consumer thread, which alone commits offsets. */
#include "ingest_int.h"

#include "error.h"
#include "geofence_relay.h"
#include "log.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAINTAIN_EVERY_NS (INT64_C(3600) * 1000 * MS_NS)

void sky_ingest_notify(sky_ingest_t *in) {
    pthread_mutex_lock(&in->done_mu);
    pthread_cond_broadcast(&in->done_cv);
    pthread_mutex_unlock(&in->done_mu);
    sky_consumer_wake(in->consumer);
}

/* Rows of partitions revoked since they were consumed belong to their next owner. */
static bool row_current(sky_ingest_t *in, const sky_batch_t *b, const sky_batch_row_t *r) {
    const sky_batch_range_t *g = sky_batch_range_of(b, r->partition);
    return g && g->epoch == atomic_load(&in->part_epoch[r->partition]);
}

/* Sleeps up to ms, or until a second signal or the end; false when the batch is to
 * be given up. */
static bool backoff_wait(sky_ingest_t *in, pthread_mutex_t *mu, pthread_cond_t *cv, int ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(mu);
    while (!atomic_load(&in->give_up) && atomic_load(&in->quit) < 2 &&
           pthread_cond_timedwait(cv, mu, &until) == 0)
        ;
    pthread_mutex_unlock(mu);
    return !atomic_load(&in->give_up) && atomic_load(&in->quit) < 2;
}

static bool retryable(int rc) {
    return rc != SKY_ENOMEM && rc != SKY_EUSAGE;
}

static void finished(sky_ingest_t *in, sky_batch_t *b, int sink) {
    atomic_fetch_or(&b->done, sink);
    sky_ingest_notify(in);
}

/* ---- dead letters ---- */

/* One lock for the producer: it is created on the first bad record (so a clean topic
 * gets no <topic>.dlq auto-created), several threads send, and its counters (sent,
 * delivered) must agree for sky_ingest_dlq_in_flight. */
bool sky_ingest_dlq_send(sky_ingest_t *in, rd_kafka_headers_t *h, const void *key,
                         size_t key_len, const void *value, size_t value_len, const char *why,
                         int64_t intended) {
    char err[256];
    rd_kafka_header_add(h, SKY_HDR_ERROR, -1, why, -1);
    pthread_mutex_lock(&in->dlq_mu);
    if (!in->dlq && !(in->dlq = sky_producer_new(in->kafka, in->dlq_topic, err, sizeof err)))
        sky_log_error("ingest: dead-letter producer: %s", err);
    int rc = in->dlq ? sky_producer_send_with(in->dlq, in->dlq_topic, RD_KAFKA_PARTITION_UA, key,
                                              key_len, value, value_len, h, 0, intended, err,
                                              sizeof err)
                     : SKY_EKAFKA;
    pthread_mutex_unlock(&in->dlq_mu);
    rd_kafka_headers_destroy(h);
    if (rc) {
        if (in->dlq)
            sky_log_error("ingest: dead-letter %s: %s", in->dlq_topic, err);
        return false;
    }
    in->c.dlq++;
    return true;
}

int64_t sky_ingest_dlq_in_flight(sky_ingest_t *in) {
    sky_producer_stats_t st = {0};
    pthread_mutex_lock(&in->dlq_mu);
    if (in->dlq) {
        sky_producer_poll(in->dlq, 0); /* serves the delivery reports */
        sky_producer_get_stats(in->dlq, &st);
    }
    pthread_mutex_unlock(&in->dlq_mu);
    return st.in_flight;
}

int sky_ingest_dlq_flush(sky_ingest_t *in, int timeout_ms, char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&in->dlq_mu);
    int rc = in->dlq ? sky_producer_flush(in->dlq, timeout_ms, errstr, errstr_size) : 0;
    pthread_mutex_unlock(&in->dlq_mu);
    return rc;
}

bool sky_ingest_dlq_row(sky_ingest_t *in, const sky_batch_t *b, const sky_batch_row_t *r,
                        const char *why) {
    const char *raw = b->raw.data + r->raw_off;
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    char num[24];
    if (r->run_len)
        rd_kafka_header_add(h, SKY_HDR_RUN, -1, raw + r->key_len + r->value_len, r->run_len);
    if (r->seq >= 0)
        rd_kafka_header_add(h, SKY_HDR_SEQ, -1, num, (ssize_t)sky_fmt_i64(num, r->seq));
    if (r->intended_ns > 0)
        rd_kafka_header_add(h, SKY_HDR_INTENDED, -1, num,
                            (ssize_t)sky_fmt_i64(num, r->intended_ns));
    return sky_ingest_dlq_send(in, h, raw, r->key_len, raw + r->key_len, r->value_len, why,
                               r->intended_ns);
}

/* ---- PostgreSQL lanes ---- */

static void maintain_schema(sky_lane_t *l, int64_t *next) {
    int64_t now = sky_monotonic_ns();
    if (l->index != 0 || !l->in->schema_native || now < *next)
        return;
    *next = now + MAINTAIN_EVERY_NS;
    PGconn *conn = sky_pgsink_conn(l->pg);
    char err[512];
    if (conn &&
        sky_schema_maintain(conn, &l->in->schema_opts, sky_now_ns() / MS_NS, err, sizeof err))
        sky_log_warn("ingest: partition maintenance: %s", err);
}

static size_t pg_rows_of(sky_lane_t *l, const sky_batch_t *b) {
    size_t n = 0;
    for (size_t i = 0; i < b->nrows; i++) {
        const sky_batch_row_t *r = &b->rows[i];
        if (row_current(l->in, b, r))
            l->pg_rows[n++] = (sky_pg_row_t){.flight = &r->f, .ts_ms = r->ts_ms, .seq = r->seq,
                                             .intended_ns = r->intended_ns};
    }
    return n;
}

static void write_pg(sky_lane_t *l, sky_batch_t *b) {
    sky_ingest_t *in = l->in;
    char err[512];
    int backoff = BACKOFF_MIN_MS;
    b->pg_started_ns = sky_monotonic_ns();
    if (sky_grow_array((void **)&l->pg_rows, &l->pg_cap, b->nrows + 1, sizeof *l->pg_rows)) {
        in->fatal = SKY_ENOMEM;
        b->failed = true;
        return;
    }
    for (;;) {
        size_t n = pg_rows_of(l, b);
        uint64_t inserted = 0;
        int64_t t0 = sky_monotonic_ns();
        int rc = n ? sky_pgsink_write(l->pg, l->pg_rows, n, &inserted, err, sizeof err) : 0;
        if (!rc) {
            b->pg_service_ns = sky_monotonic_ns() - t0;
            b->pg_done_wall_ns = sky_now_ns();
            b->pg_inserted = inserted;
            b->pg_rows = n;
            break;
        }
        if (!retryable(rc)) {
            sky_log_error("ingest: PostgreSQL: %s", err);
            in->fatal = rc;
            b->failed = true;
            break;
        }
        l->failing = true;
        in->c.retries++;
        sky_log_warn("ingest: PostgreSQL connection %d: batch of %zu row(s) not stored, retrying "
                     "in %d ms: %s",
                     l->index + 1, n, backoff, err);
        if (!backoff_wait(in, &l->mu, &l->cv, backoff)) {
            b->failed = true;
            break;
        }
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    l->failing = false;
}

static void *lane_main(void *arg) {
    sky_lane_t *l = arg;
    sky_ingest_t *in = l->in;
    char name[16];
    snprintf(name, sizeof name, "sky-pg-%d", (l->index + 1) % 100);
    pthread_setname_np(pthread_self(), name);
    int64_t next_maintain = 0;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while (!l->queue && !atomic_load(&in->quit))
            pthread_cond_wait(&l->cv, &l->mu);
        sky_batch_t *b = l->queue;
        pthread_mutex_unlock(&l->mu);
        if (!b || atomic_load(&in->quit) >= 2)
            break;
        if (!b->failed)
            write_pg(l, b);
        pthread_mutex_lock(&l->mu);
        l->queue = b->next_pg;
        if (!l->queue)
            l->queue_tail = NULL;
        pthread_mutex_unlock(&l->mu);
        finished(in, b, SKY_BATCH_PG);
        maintain_schema(l, &next_maintain);
    }
    return NULL;
}

/* ---- Tile38 ---- */

static size_t t38_rows_of(sky_t38stage_t *t, sky_ingest_t *in, const sky_batch_t *b,
                          size_t *index) {
    size_t n = 0;
    for (size_t i = 0; i < b->nrows; i++) {
        const sky_batch_row_t *r = &b->rows[i];
        if (!row_current(in, b, r))
            continue;
        index[n] = i;
        t->rows[n++] = (sky_t38_row_t){.f = &r->f, .ts_ms = r->ts_ms, .seq = r->seq};
    }
    return n;
}

static void write_t38(sky_lane_t *l, sky_batch_t *b, size_t **index, size_t *index_cap) {
    sky_ingest_t *in = l->in;
    sky_t38stage_t *t = &l->t38;
    char err[512];
    int backoff = BACKOFF_MIN_MS;
    b->t38_started_ns = sky_monotonic_ns();
    if (sky_grow_array((void **)&t->rows, &t->cap, b->nrows + 1, sizeof *t->rows) ||
        sky_grow_array((void **)index, index_cap, b->nrows + 1, sizeof **index)) {
        in->fatal = SKY_ENOMEM;
        b->failed = true;
        return;
    }
    for (;;) {
        uint32_t forget = atomic_load(&in->t38_forget);
        if (forget != t->forgot) { /* partitions were assigned: learn their flights again */
            sky_t38sink_forget(t->sink);
            t->forgot = forget;
        }
        size_t n = t38_rows_of(t, in, b, *index);
        sky_t38_outcome_t o;
        int64_t t0 = sky_monotonic_ns();
        int rc = sky_geofence_relay_ready(in->relay) /* else its geofence events are lost */
                     ? sky_t38sink_write(t->sink, t->rows, n, &o, err, sizeof err)
                     : sky_err(err, sizeof err, SKY_EUNAVAIL,
                               "the geofence relay is not subscribed to Tile38: holding the batch");
        /* a command Tile38 refuses for itself is not retried: the row goes to the DLQ */
        for (size_t k = 0; !rc && k < o.nrejected; k++) {
            const sky_batch_row_t *r = &b->rows[(*index)[o.rejected[k]]];
            sky_log_warn("ingest: %s: %s (sent to %s)", r->f.flight_id, o.reasons[k],
                         in->dlq_topic);
            if (!sky_ingest_dlq_row(in, b, r, o.reasons[k]))
                rc = sky_err(err, sizeof err, SKY_EKAFKA,
                             "cannot queue a row Tile38 refused for the dead-letter topic %s",
                             in->dlq_topic);
        }
        if (!rc) {
            b->t38_service_ns = sky_monotonic_ns() - t0;
            b->t38_done_wall_ns = sky_now_ns();
            b->t38_applied = o.applied;
            b->t38_stale = o.stale;
            b->t38_refused = o.nrejected;
            b->t38_sets = o.sets;
            break;
        }
        if (!retryable(rc)) {
            sky_log_error("ingest: Tile38: %s", err);
            in->fatal = rc;
            b->failed = true;
            break;
        }
        t->failing = true;
        in->c.retries++;
        sky_log_warn("ingest: Tile38 (lane %d): batch of %zu row(s) not stored, retrying in %d "
                     "ms: %s",
                     l->index + 1, n, backoff, err);
        if (!backoff_wait(in, &t->mu, &t->cv, backoff)) {
            b->failed = true;
            break;
        }
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    t->failing = false;
}

static void *t38_main(void *arg) {
    sky_lane_t *l = arg;
    sky_ingest_t *in = l->in;
    sky_t38stage_t *t = &l->t38;
    size_t *index = NULL, index_cap = 0;
    char name[16];
    snprintf(name, sizeof name, "sky-tile38-%d", (l->index + 1) % 100);
    pthread_setname_np(pthread_self(), name);
    for (;;) {
        pthread_mutex_lock(&t->mu);
        while (!t->queue && !atomic_load(&in->quit))
            pthread_cond_wait(&t->cv, &t->mu);
        sky_batch_t *b = t->queue;
        pthread_mutex_unlock(&t->mu);
        if (!b || atomic_load(&in->quit) >= 2)
            break;
        if (!b->failed)
            write_t38(l, b, &index, &index_cap);
        pthread_mutex_lock(&t->mu);
        t->queue = b->next_t38;
        if (!t->queue)
            t->queue_tail = NULL;
        pthread_mutex_unlock(&t->mu);
        finished(in, b, SKY_BATCH_TILE38);
    }
    free(index);
    return NULL;
}

/* ---- start, post, stop ---- */

void sky_ingest_stages_post(sky_ingest_t *in, sky_batch_t *b) {
    sky_lane_t *l = &in->lanes[b->lane];
    b->next_pg = b->next_t38 = NULL;
    if (!in->with_tile38)
        atomic_fetch_or(&b->done, SKY_BATCH_TILE38);
    pthread_mutex_lock(&l->mu);
    if (l->queue_tail)
        l->queue_tail->next_pg = b;
    else
        l->queue = b;
    l->queue_tail = b;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (!in->with_tile38)
        return;
    sky_t38stage_t *t = &l->t38;
    pthread_mutex_lock(&t->mu);
    if (t->queue_tail)
        t->queue_tail->next_t38 = b;
    else
        t->queue = b;
    t->queue_tail = b;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

int sky_ingest_stages_start(sky_ingest_t *in, char *errstr, size_t errstr_size) {
    for (int i = 0; i < in->nlanes; i++) {
        sky_lane_t *l = &in->lanes[i];
        if (pthread_create(&l->tid, NULL, lane_main, l))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "cannot start a PostgreSQL thread");
        l->started = true;
        if (!in->with_tile38)
            continue;
        if (pthread_create(&l->t38.tid, NULL, t38_main, l))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "cannot start a Tile38 thread");
        l->t38.started = true;
    }
    return 0;
}

/* Wakes every sink thread (to quit, or to stop waiting out a backoff). */
static void wake_all(sky_ingest_t *in) {
    for (int i = 0; in->lanes && i < in->nlanes; i++) {
        sky_lane_t *l = &in->lanes[i];
        pthread_mutex_lock(&l->mu);
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_mutex_lock(&l->t38.mu);
        pthread_cond_broadcast(&l->t38.cv);
        pthread_mutex_unlock(&l->t38.mu);
    }
}

void sky_ingest_stages_stop(sky_ingest_t *in) {
    in->give_up = true;
    in->quit = 2;
    wake_all(in);
    for (int i = 0; in->lanes && i < in->nlanes; i++) {
        sky_lane_t *l = &in->lanes[i];
        if (l->started) {
            pthread_join(l->tid, NULL);
            l->started = false;
        }
        if (l->t38.started) {
            pthread_join(l->t38.tid, NULL);
            l->t38.started = false;
        }
    }
}

void sky_ingest_stages_give_up(sky_ingest_t *in) {
    in->give_up = true;
    wake_all(in);
}
