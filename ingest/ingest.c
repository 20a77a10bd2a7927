/* skyload ingest: consume -> batch -> Tile38 (latest per flight) + PostgreSQL
 * (every row once) -> commit offsets. At-least-once delivery, exactly-once rows. */
#include "ingest.h"

#include "codec.h"
#include "dynbuf.h"
#include "error.h"
#include "histogram.h"
#include "log.h"
#include "metrics_http.h"
#include "parse.h"
#include "pgsink.h"
#include "schema.h"
#include "t38sink.h"
#include "timefmt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MS_NS INT64_C(1000000)
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define REVOKE_GIVE_UP_MS 10000
#define STOP_GIVE_UP_MS 30000
#define MAINTAIN_EVERY_NS (INT64_C(3600) * 1000 * MS_NS)

typedef struct batch_row {
    sky_flight_t f;
    int64_t ts_ms;
    int64_t seq; /* -1: no skyload-seq header */
    int64_t intended_ns;
    int64_t consumed_ns;
    int32_t partition;
    /* the record's own bytes in the batch's arena (key, value, skyload-run), for the
     * dead-letter topic when a sink refuses the row itself */
    uint32_t raw_off, key_len, value_len, run_len;
} batch_row_t;

typedef struct counters {
    _Atomic uint64_t consumed, stored_pg, duplicates, stored_tile38, stale, dlq, batches, retries;
    _Atomic uint64_t tile38_refused, pauses;
    _Atomic int64_t paused_ns;       /* total time paused, the current pause included once over */
    _Atomic int64_t pause_started_ns; /* monotonic; 0 when not paused */
    _Atomic int64_t lag, pending;
    _Atomic int assigned;
    _Atomic bool paused;
} counters_t;

struct sky_ingest {
    /* configuration (owned copies) */
    const sky_kconf_t *kafka;
    char *topic, *group, *collection, *dlq_topic, *schema, *pg_conninfo, *stats_path;
    int batch_rows, batch_ms, ttl_s;
    sky_schema_opts_t schema_opts;
    volatile sig_atomic_t *stats_request;
    sky_ingest_progress_fn *progress;
    void *progress_opaque;

    /* clients */
    sky_consumer_t *consumer;
    sky_producer_t *dlq;
    sky_t38sink_t *tile38;
    sky_pgsink_t *pg;
    sky_metrics_http_t *metrics;

    /* the current batch */
    batch_row_t *rows;
    sky_pg_row_t *pg_rows;
    sky_t38_row_t *t38_rows;
    sky_buf_t raw; /* the rows' key, value and run id bytes */
    size_t nrows;
    bool tile38_done, pg_done;
    int64_t batch_started_ns; /* monotonic; 0 = nothing pending */
    size_t dlq_unflushed;

    /* offsets: next to commit and last committed, per partition (-1: none) */
    int64_t *next_offset, *committed;
    int noffsets;

    bool in_flush;
    bool schema_native;
    int64_t next_maintain_ns, next_lag_ns, next_progress_ns, next_warn_ns;

    counters_t c;
    pthread_mutex_t lock; /* guards the histograms */

    /* PostgreSQL worker thread (pg_mu guards pg_state; the rest belongs to whoever
     * holds the job: the worker between POSTED and DONE, the loop otherwise) */
    pthread_t pg_thread;
    bool pg_thread_started;
    pthread_mutex_t pg_mu;
    pthread_cond_t pg_cv;
    int pg_state, pg_rc;
    uint64_t pg_inserted;
    char pg_err[512];
    sky_hist_t *h_consumed, *h_tile38, *h_pg, *h_batch_rows, *h_batch_us;
};

void sky_ingest_config_init(sky_ingest_config_t *c) {
    memset(c, 0, sizeof *c);
    c->topic = "flights";
    c->group = SKY_INGEST_DEFAULT_GROUP;
    c->tile38_host = "127.0.0.1";
    c->tile38_port = 9851;
    c->collection = SKY_INGEST_DEFAULT_COLLECTION;
    c->pg_conninfo = "";
    c->retention_days = 30;
    c->batch_rows = SKY_INGEST_DEFAULT_BATCH_ROWS;
    c->batch_ms = 200;
    c->ttl_s = 120;
}

/* ---- offsets ---- */

static int ensure_partition(sky_ingest_t *in, int32_t p) {
    if (p < in->noffsets)
        return 0;
    int n = p + 16;
    int64_t *next = realloc(in->next_offset, (size_t)n * sizeof *next);
    if (next)
        in->next_offset = next;
    int64_t *done = next ? realloc(in->committed, (size_t)n * sizeof *done) : NULL;
    if (!done)
        return SKY_ENOMEM;
    in->committed = done;
    for (int i = in->noffsets; i < n; i++)
        in->next_offset[i] = in->committed[i] = -1;
    in->noffsets = n;
    return 0;
}

static void forget_partition(sky_ingest_t *in, int32_t p) {
    if (p >= 0 && p < in->noffsets)
        in->next_offset[p] = in->committed[p] = -1;
}

static bool offsets_pending(const sky_ingest_t *in) {
    for (int i = 0; i < in->noffsets; i++)
        if (in->next_offset[i] > in->committed[i])
            return true;
    return false;
}

/* Commit failures are not fatal: the rows are stored, the commit is retried with
 * the next batch, and a crash in between only re-delivers (PostgreSQL dedupes). */
static void commit_offsets(sky_ingest_t *in) {
    rd_kafka_topic_partition_list_t *l = NULL;
    for (int i = 0; i < in->noffsets; i++) {
        if (in->next_offset[i] <= in->committed[i])
            continue;
        if (!l && !(l = rd_kafka_topic_partition_list_new(8)))
            return;
        rd_kafka_topic_partition_list_add(l, in->topic, i)->offset = in->next_offset[i];
    }
    if (!l)
        return;
    char err[256];
    if (sky_consumer_commit(in->consumer, l, err, sizeof err) == 0) {
        for (int i = 0; i < l->cnt; i++)
            in->committed[l->elems[i].partition] = l->elems[i].offset;
    } else {
        sky_log_warn("ingest: %s (retried with the next batch)", err);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- dead letters ---- */

static rd_kafka_headers_t *dlq_headers(const rd_kafka_message_t *m) {
    rd_kafka_headers_t *orig = NULL;
    return m && rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR
               ? rd_kafka_headers_copy(orig)
               : rd_kafka_headers_new(4);
}

/* Queues one record for the dead-letter topic with skyload-error: why; false when it
 * could not be queued. headers are taken over. */
static bool dlq_send(sky_ingest_t *in, rd_kafka_headers_t *h, const void *key, size_t key_len,
                     const void *value, size_t value_len, const char *why, int64_t intended) {
    char err[256];
    /* created on the first bad record, so a clean topic gets no <topic>.dlq auto-created */
    if (!in->dlq && !(in->dlq = sky_producer_new(in->kafka, in->dlq_topic, err, sizeof err))) {
        sky_log_error("ingest: dead-letter producer: %s", err);
        rd_kafka_headers_destroy(h);
        return false;
    }
    rd_kafka_header_add(h, SKY_HDR_ERROR, -1, why, -1);
    int rc = sky_producer_send_with(in->dlq, in->dlq_topic, RD_KAFKA_PARTITION_UA, key, key_len,
                                    value, value_len, h, 0, intended, err, sizeof err);
    rd_kafka_headers_destroy(h);
    if (rc) {
        sky_log_error("ingest: dead-letter %s: %s", in->dlq_topic, err);
        return false;
    }
    in->dlq_unflushed++;
    in->c.dlq++;
    return true;
}

/* A row a sink refused for itself: its original bytes, headers rebuilt. */
static bool dlq_send_row(sky_ingest_t *in, const batch_row_t *r, const char *why) {
    const char *raw = in->raw.data + r->raw_off;
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    char num[24];
    if (r->run_len)
        rd_kafka_header_add(h, SKY_HDR_RUN, -1, raw + r->key_len + r->value_len, r->run_len);
    if (r->seq >= 0)
        rd_kafka_header_add(h, SKY_HDR_SEQ, -1, num, (ssize_t)sky_fmt_i64(num, r->seq));
    if (r->intended_ns > 0)
        rd_kafka_header_add(h, SKY_HDR_INTENDED, -1, num,
                            (ssize_t)sky_fmt_i64(num, r->intended_ns));
    return dlq_send(in, h, raw, r->key_len, raw + r->key_len, r->value_len, why, r->intended_ns);
}

/* ---- Tile38 ---- */

static int flush_tile38(sky_ingest_t *in, char *errstr, size_t errstr_size) {
    if (in->tile38_done || in->nrows == 0 || !in->tile38)
        return 0;
    for (size_t i = 0; i < in->nrows; i++)
        in->t38_rows[i] = (sky_t38_row_t){.f = &in->rows[i].f, .ts_ms = in->rows[i].ts_ms,
                                          .seq = in->rows[i].seq};
    sky_t38_outcome_t o;
    int rc = sky_t38sink_write(in->tile38, in->t38_rows, in->nrows, &o, errstr, errstr_size);
    if (rc)
        return rc;
    /* a command Tile38 refuses for itself is not retried: the row goes to the DLQ */
    for (size_t k = 0; k < o.nrejected; k++) {
        sky_log_warn("ingest: %s: %s (sent to %s)", in->rows[o.rejected[k]].f.flight_id,
                     o.reasons[k], in->dlq_topic);
        if (!dlq_send_row(in, &in->rows[o.rejected[k]], o.reasons[k]))
            return sky_err(errstr, errstr_size, SKY_EKAFKA,
                           "cannot queue a row Tile38 refused for the dead-letter topic %s",
                           in->dlq_topic);
    }
    int64_t now = sky_now_ns();
    pthread_mutex_lock(&in->lock);
    for (size_t i = 0; i < in->nrows; i++)
        if (in->rows[i].intended_ns > 0)
            sky_hist_record(in->h_tile38, (now - in->rows[i].intended_ns) / 1000);
    pthread_mutex_unlock(&in->lock);
    in->c.stale += o.stale;
    in->c.stored_tile38 += o.applied;
    in->c.tile38_refused += o.nrejected;
    in->tile38_done = true;
    return 0;
}

/* ---- PostgreSQL ---- */

static void prepare_pg(sky_ingest_t *in) {
    for (size_t i = 0; i < in->nrows; i++) {
        const batch_row_t *r = &in->rows[i];
        in->pg_rows[i] = (sky_pg_row_t){.flight = &r->f, .ts_ms = r->ts_ms, .seq = r->seq,
                                        .intended_ns = r->intended_ns};
    }
}

static void finish_pg(sky_ingest_t *in, uint64_t inserted) {
    int64_t now = sky_now_ns();
    pthread_mutex_lock(&in->lock);
    for (size_t i = 0; i < in->nrows; i++)
        if (in->rows[i].intended_ns > 0)
            sky_hist_record(in->h_pg, (now - in->rows[i].intended_ns) / 1000);
    pthread_mutex_unlock(&in->lock);
    in->c.stored_pg += inserted;
    in->c.duplicates += in->nrows - inserted;
    in->pg_done = true;
}

/* ---- the PostgreSQL worker: the batch goes to both sinks at the same time ---- */

enum { PG_IDLE, PG_POSTED, PG_DONE, PG_QUIT };

static void *pg_worker_main(void *arg) {
    sky_ingest_t *in = arg;
    pthread_mutex_lock(&in->pg_mu);
    for (;;) {
        while (in->pg_state != PG_POSTED && in->pg_state != PG_QUIT)
            pthread_cond_wait(&in->pg_cv, &in->pg_mu);
        if (in->pg_state == PG_QUIT)
            break;
        pthread_mutex_unlock(&in->pg_mu);
        int rc = sky_pgsink_write(in->pg, in->pg_rows, in->nrows, &in->pg_inserted, in->pg_err,
                                  sizeof in->pg_err);
        pthread_mutex_lock(&in->pg_mu);
        in->pg_rc = rc;
        in->pg_state = PG_DONE;
        pthread_cond_broadcast(&in->pg_cv);
    }
    pthread_mutex_unlock(&in->pg_mu);
    return NULL;
}

static void pg_post(sky_ingest_t *in) {
    pthread_mutex_lock(&in->pg_mu);
    in->pg_state = PG_POSTED;
    pthread_cond_broadcast(&in->pg_cv);
    pthread_mutex_unlock(&in->pg_mu);
}

static int pg_wait(sky_ingest_t *in, char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&in->pg_mu);
    while (in->pg_state != PG_DONE)
        pthread_cond_wait(&in->pg_cv, &in->pg_mu);
    in->pg_state = PG_IDLE;
    int rc = in->pg_rc;
    pthread_mutex_unlock(&in->pg_mu);
    if (rc)
        sky_err(errstr, errstr_size, rc, "%s", in->pg_err);
    else
        finish_pg(in, in->pg_inserted);
    return rc;
}

/* ---- the batch ---- */

static int flush_once(sky_ingest_t *in, char *errstr, size_t errstr_size) {
    int64_t t0 = sky_monotonic_ns();
    bool pg = !in->pg_done && in->nrows;
    int rc = 0;
    if (pg) {
        prepare_pg(in);
        pg_post(in);
    }
    char pg_err[512];
    int rc_tile38 = flush_tile38(in, errstr, errstr_size);
    int64_t t1 = sky_monotonic_ns();
    int rc_pg = pg ? pg_wait(in, pg_err, sizeof pg_err) : 0;
    sky_log_debug("ingest: batch of %zu rows: tile38 %.1f ms, both sinks %.1f ms", in->nrows,
                  (double)(t1 - t0) / 1e6, (double)(sky_monotonic_ns() - t0) / 1e6);
    if (!rc_tile38 && rc_pg)
        sky_strlcpy(errstr, pg_err, errstr_size);
    rc = rc_tile38 ? rc_tile38 : rc_pg;
    if (!rc && in->dlq_unflushed) {
        rc = sky_producer_flush(in->dlq, 5000, errstr, errstr_size);
        if (!rc)
            in->dlq_unflushed = 0;
    }
    if (rc)
        return rc;
    commit_offsets(in);
    if (in->nrows) {
        pthread_mutex_lock(&in->lock);
        for (size_t i = 0; i < in->nrows; i++)
            if (in->rows[i].intended_ns > 0)
                sky_hist_record(in->h_consumed,
                                (in->rows[i].consumed_ns - in->rows[i].intended_ns) / 1000);
        sky_hist_record(in->h_batch_rows, (int64_t)in->nrows);
        sky_hist_record(in->h_batch_us, (sky_monotonic_ns() - t0) / 1000);
        pthread_mutex_unlock(&in->lock);
        in->c.batches++;
    }
    in->nrows = 0;
    sky_buf_reset(&in->raw);
    in->tile38_done = in->pg_done = false;
    in->batch_started_ns = offsets_pending(in) ? sky_monotonic_ns() : 0;
    in->c.pending = 0;
    return 0;
}

static void pause_all(sky_ingest_t *in, bool pause) {
    rd_kafka_t *rk = sky_consumer_handle(in->consumer);
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(rk, &a) || !a)
        return;
    if (a->cnt) {
        if (pause)
            rd_kafka_pause_partitions(rk, a);
        else
            rd_kafka_resume_partitions(rk, a);
    }
    int n = a->cnt;
    rd_kafka_topic_partition_list_destroy(a);
    int64_t now = sky_monotonic_ns();
    if (pause) {
        in->c.pauses++;
        in->c.pause_started_ns = now;
        sky_log_info("ingest: paused %d partition(s): a sink is down", n);
    } else if (in->c.pause_started_ns) {
        int64_t took = now - in->c.pause_started_ns;
        in->c.paused_ns += took;
        in->c.pause_started_ns = 0;
        sky_log_info("ingest: resumed %d partition(s) after %.1f s", n, (double)took / 1e9);
    }
    in->c.paused = pause;
}

static void drop_rows_of(sky_ingest_t *in, const rd_kafka_topic_partition_list_t *parts) {
    size_t kept = 0;
    for (size_t i = 0; i < in->nrows; i++) {
        bool gone = false;
        for (int k = 0; k < parts->cnt && !gone; k++)
            gone = parts->elems[k].partition == in->rows[i].partition;
        if (!gone)
            in->rows[kept++] = in->rows[i];
    }
    if (kept != in->nrows)
        sky_log_warn("ingest: %zu uncommitted row(s) of revoked partitions left to their next "
                     "owner (re-delivered, not lost)",
                     in->nrows - kept);
    in->nrows = kept;
    in->c.pending = (int64_t)kept;
}

static void handle_message(sky_ingest_t *in, rd_kafka_message_t *m);

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits ms while serving the consumer (heartbeats, rebalances); records that
 * arrive meanwhile are handed back to the partition with a seek. */
static void wait_serving(sky_ingest_t *in, int ms, bool can_poll) {
    if (!can_poll) {
        sleep_ms(ms);
        return;
    }
    int64_t until = sky_monotonic_ns() + ms * MS_NS;
    for (int64_t now = sky_monotonic_ns(); now < until; now = sky_monotonic_ns()) {
        rd_kafka_message_t *m = sky_consumer_poll(in->consumer, (int)((until - now) / MS_NS) + 1);
        if (m)
            handle_message(in, m);
    }
}

static bool retryable(int rc) {
    return rc != SKY_ENOMEM && rc != SKY_EUSAGE;
}

/* give_up_ms 0: retry until it works or *stop >= 2. */
static int flush_with_retry(sky_ingest_t *in, volatile sig_atomic_t *stop, int give_up_ms,
                            bool can_poll, char *errstr, size_t errstr_size) {
    if (!in->nrows && !offsets_pending(in) && !in->dlq_unflushed)
        return 0;
    int backoff = BACKOFF_MIN_MS;
    int64_t deadline = give_up_ms ? sky_monotonic_ns() + give_up_ms * MS_NS : 0;
    in->in_flush = true;
    int rc;
    while ((rc = flush_once(in, errstr, errstr_size)) != 0 && retryable(rc)) {
        in->c.retries++;
        if (!in->c.paused && can_poll)
            pause_all(in, true);
        sky_log_warn("ingest: batch of %zu row(s) not stored, retrying in %d ms: %s", in->nrows,
                     backoff, errstr);
        if (stop && *stop >= 2) {
            rc = sky_err(errstr, errstr_size, SKY_EINTR,
                         "stopped with %zu row(s) not stored (not committed: re-delivered later)",
                         in->nrows);
            break;
        }
        if (stop && *stop && !deadline) /* stopping: bounded, not forever */
            deadline = sky_monotonic_ns() + STOP_GIVE_UP_MS * MS_NS;
        if (deadline && sky_monotonic_ns() > deadline)
            break;
        wait_serving(in, backoff, can_poll);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    in->in_flush = false;
    if (!rc && in->c.paused && can_poll)
        pause_all(in, false);
    return rc;
}

/* ---- consuming ---- */

/* Returns false when the record could not be queued for the dead-letter topic:
 * the caller then leaves it unconsumed (rewinds) so it is tried again later. */
static bool send_to_dlq(sky_ingest_t *in, const rd_kafka_message_t *m, const char *why,
                        int64_t intended) {
    return dlq_send(in, dlq_headers(m), m->key, m->key_len, m->payload, m->len, why, intended);
}

/* Keeps the record's bytes with its row (see batch_row_t). */
static int keep_raw(sky_ingest_t *in, batch_row_t *r, const rd_kafka_message_t *m) {
    const void *run = NULL;
    size_t run_len = 0;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, SKY_HDR_RUN, &run, &run_len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        run_len = 0;
    r->raw_off = (uint32_t)in->raw.len;
    r->key_len = (uint32_t)m->key_len;
    r->value_len = (uint32_t)m->len;
    r->run_len = (uint32_t)run_len;
    int rc = sky_buf_add(&in->raw, m->key ? m->key : "", m->key_len);
    rc |= sky_buf_add(&in->raw, m->payload ? m->payload : "", m->len);
    rc |= sky_buf_add(&in->raw, run ? run : "", run_len);
    return rc ? SKY_ENOMEM : 0;
}

static void rewind_to(sky_ingest_t *in, const rd_kafka_message_t *m) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return;
    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(sky_consumer_handle(in->consumer), l, 1000);
    if (e) {
        sky_log_warn("ingest: seek back failed: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void consumer_error(sky_ingest_t *in, const rd_kafka_message_t *m) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    int64_t now = sky_monotonic_ns();
    if (now < in->next_warn_ns)
        return;
    in->next_warn_ns = now + 5000 * MS_NS;
    sky_log_warn("ingest: consumer: %s", rd_kafka_message_errstr(m));
}

/* PostgreSQL's timestamptz text (and ours) covers years 1..9999: a record outside
 * would fail its batch forever, so it is a bad record. */
static bool timestamp_out_of_range(int64_t ts_ms, char *why, size_t whysz) {
    static const int64_t day_ms = INT64_C(86400000);
    if (ts_ms >= sky_days_from_civil(1, 1, 1) * day_ms &&
        ts_ms < sky_days_from_civil(10000, 1, 1) * day_ms)
        return false;
    snprintf(why, whysz, "timestamp %lld ms is outside years 1..9999", (long long)ts_ms);
    return true;
}

static void handle_message(sky_ingest_t *in, rd_kafka_message_t *m) {
    if (m->err) {
        consumer_error(in, m);
        rd_kafka_message_destroy(m);
        return;
    }
    if (in->in_flush || in->nrows >= (size_t)in->batch_rows || ensure_partition(in, m->partition)) {
        rewind_to(in, m);
        rd_kafka_message_destroy(m);
        return;
    }
    batch_row_t *r = &in->rows[in->nrows];
    char why[256];
    int64_t seq, intended;
    r->seq = sky_msg_header_i64(m, SKY_HDR_SEQ, &seq) == 0 && seq >= 0 ? seq : -1;
    r->intended_ns = sky_msg_header_i64(m, SKY_HDR_INTENDED, &intended) == 0 ? intended : 0;
    r->consumed_ns = sky_now_ns();
    r->partition = m->partition;
    if (sky_flight_parse(m->payload, m->len, &r->f, &r->ts_ms, why, sizeof why) == 0 &&
        !timestamp_out_of_range(r->ts_ms, why, sizeof why)) {
        if (keep_raw(in, r, m)) {
            rewind_to(in, m);
            rd_kafka_message_destroy(m);
            return;
        }
        in->nrows++;
    } else if (!send_to_dlq(in, m, why, r->intended_ns)) {
        rewind_to(in, m);
        rd_kafka_message_destroy(m);
        return;
    }
    in->c.consumed++;
    in->next_offset[m->partition] = m->offset + 1;
    if (!in->batch_started_ns)
        in->batch_started_ns = sky_monotonic_ns();
    in->c.pending = (int64_t)in->nrows;
    rd_kafka_message_destroy(m);
}

/* ---- rebalance ---- */

static void on_rebalance(void *opaque, int kind, const rd_kafka_topic_partition_list_t *parts) {
    sky_ingest_t *in = opaque;
    char err[512];
    if (kind == SKY_REBALANCE_ASSIGN) {
        /* another member may have moved these flights meanwhile: ask Tile38 again */
        if (in->tile38)
            sky_t38sink_forget(in->tile38);
        in->c.assigned += parts->cnt;
        if (in->c.paused)
            rd_kafka_pause_partitions(sky_consumer_handle(in->consumer),
                                      (rd_kafka_topic_partition_list_t *)parts);
        sky_log_info("ingest: assigned %d partition(s)", parts->cnt);
        return;
    }
    if (kind == SKY_REBALANCE_REVOKE && !in->in_flush &&
        flush_with_retry(in, NULL, REVOKE_GIVE_UP_MS, false, err, sizeof err))
        sky_log_warn("ingest: could not store the batch before giving partitions up: %s", err);
    /* whatever is still uncommitted for these partitions belongs to the next owner */
    drop_rows_of(in, parts);
    for (int i = 0; i < parts->cnt; i++)
        forget_partition(in, parts->elems[i].partition);
    in->c.assigned -= parts->cnt;
    sky_log_info("ingest: %s %d partition(s)", kind == SKY_REBALANCE_LOST ? "lost" : "revoked",
                 parts->cnt);
}

/* ---- periodic work ---- */

static void maintain_schema(sky_ingest_t *in, int64_t now) {
    if (!in->schema_native || now < in->next_maintain_ns)
        return;
    in->next_maintain_ns = now + MAINTAIN_EVERY_NS;
    PGconn *conn = sky_pgsink_conn(in->pg);
    char err[512];
    if (conn && sky_schema_maintain(conn, &in->schema_opts, sky_now_ns() / MS_NS, err, sizeof err))
        sky_log_warn("ingest: partition maintenance: %s", err);
}


static void periodic(sky_ingest_t *in) {
    int64_t now = sky_monotonic_ns();
    if (now >= in->next_lag_ns) {
        in->next_lag_ns = now + 250 * MS_NS;
        in->c.lag = sky_consumer_lag(in->consumer);
    }
    if (in->stats_request && *in->stats_request && in->stats_path) {
        char err[512];
        *in->stats_request = 0;
        if (sky_ingest_write_stats(in, in->stats_path, err, sizeof err))
            sky_log_error("ingest: %s", err);
    }
    if (in->progress && now >= in->next_progress_ns) {
        in->next_progress_ns = now + 250 * MS_NS;
        sky_ingest_snapshot_t s;
        sky_ingest_snapshot(in, &s);
        in->progress(in->progress_opaque, &s);
    }
    maintain_schema(in, now);
}

int sky_ingest_run(sky_ingest_t *in, volatile sig_atomic_t *stop, char *errstr,
                   size_t errstr_size) {
    int rc = 0;
    while (!*stop && !rc) {
        int64_t now = sky_monotonic_ns();
        int wait_ms = 100;
        if (in->batch_started_ns) {
            int64_t left = (in->batch_started_ns + in->batch_ms * MS_NS - now) / MS_NS;
            wait_ms = left < 0 ? 0 : left < wait_ms ? (int)left : wait_ms;
        }
        rd_kafka_message_t *m = sky_consumer_poll(in->consumer, wait_ms);
        /* drain what is already fetched without waiting, up to a full batch */
        while (m) {
            handle_message(in, m);
            m = in->nrows < (size_t)in->batch_rows ? sky_consumer_poll(in->consumer, 0) : NULL;
        }
        now = sky_monotonic_ns();
        if (in->nrows >= (size_t)in->batch_rows ||
            (in->batch_started_ns && now - in->batch_started_ns >= in->batch_ms * MS_NS))
            rc = flush_with_retry(in, stop, 0, true, errstr, errstr_size);
        periodic(in);
    }
    if (!rc)
        rc = flush_with_retry(in, stop, STOP_GIVE_UP_MS, true, errstr, errstr_size);
    if (!rc)
        commit_offsets(in);
    return rc;
}

/* ---- setup ---- */

static int copy_str(char **dst, const char *src) {
    *dst = strdup(src ? src : "");
    return *dst ? 0 : SKY_ENOMEM;
}

static int copy_config(sky_ingest_t *in, const sky_ingest_config_t *cfg) {
    char dlq[512];
    snprintf(dlq, sizeof dlq, "%s.dlq", cfg->topic);
    in->kafka = cfg->kafka;
    in->batch_rows = cfg->batch_rows > 0 ? cfg->batch_rows : SKY_INGEST_DEFAULT_BATCH_ROWS;
    in->batch_ms = cfg->batch_ms > 0 ? cfg->batch_ms : 200;
    in->ttl_s = cfg->ttl_s >= 0 ? cfg->ttl_s : 120;
    in->stats_request = cfg->stats_request;
    in->progress = cfg->progress;
    in->progress_opaque = cfg->progress_opaque;
    int rc = copy_str(&in->topic, cfg->topic);
    rc |= copy_str(&in->group, cfg->group ? cfg->group : SKY_INGEST_DEFAULT_GROUP);
    rc |= copy_str(&in->collection, cfg->collection ? cfg->collection
                                                    : SKY_INGEST_DEFAULT_COLLECTION);
    rc |= copy_str(&in->dlq_topic, cfg->dlq_topic ? cfg->dlq_topic : dlq);
    rc |= copy_str(&in->schema, cfg->schema && *cfg->schema ? cfg->schema : "public");
    rc |= copy_str(&in->pg_conninfo, cfg->pg_conninfo);
    if (cfg->stats_path)
        rc |= copy_str(&in->stats_path, cfg->stats_path);
    sky_schema_opts_init(&in->schema_opts);
    in->schema_opts.schema = in->schema;
    in->schema_opts.retention_days = cfg->retention_days;
    return rc ? SKY_ENOMEM : 0;
}

static int allocate(sky_ingest_t *in) {
    size_t n = (size_t)in->batch_rows;
    in->rows = calloc(n, sizeof *in->rows);
    in->pg_rows = calloc(n, sizeof *in->pg_rows);
    in->t38_rows = calloc(n, sizeof *in->t38_rows);
    in->h_consumed = sky_hist_new();
    in->h_tile38 = sky_hist_new();
    in->h_pg = sky_hist_new();
    in->h_batch_rows = sky_hist_new();
    in->h_batch_us = sky_hist_new();
    sky_buf_init(&in->raw, 0);
    bool ok = in->rows && in->pg_rows && in->t38_rows && in->h_consumed &&
              in->h_tile38 && in->h_pg && in->h_batch_rows && in->h_batch_us;
    return ok && ensure_partition(in, 0) == 0 ? 0 : SKY_ENOMEM;
}

static int render_metrics(void *opaque, sky_buf_t *out);

static int connect_sinks(sky_ingest_t *in, const sky_ingest_config_t *cfg, char *errstr,
                         size_t errstr_size) {
    if (!cfg->disable_tile38) {
        in->tile38 = sky_t38sink_new(cfg->tile38_host ? cfg->tile38_host : "127.0.0.1",
                                     cfg->tile38_port ? cfg->tile38_port : 9851, in->collection,
                                     in->ttl_s, 5000, errstr, errstr_size);
        if (!in->tile38)
            return SKY_ENOMEM;
        char why[512];
        /* Tile38 down at the start is a Tile38 down like any other: wait for it */
        if (sky_t38sink_connect(in->tile38, why, sizeof why))
            sky_log_warn("ingest: %s; starting anyway: every batch waits for Tile38 "
                         "(partitions paused, retried with backoff up to %d s) and no offset "
                         "is committed until it answers",
                         why, BACKOFF_MAX_MS / 1000);
    }
    in->pg = sky_pgsink_new(in->pg_conninfo, in->schema, errstr, errstr_size);
    if (!in->pg)
        return SKY_EUNAVAIL;
    sky_schema_info_t info;
    int rc = cfg->init_schema ? sky_schema_init(sky_pgsink_conn(in->pg), &in->schema_opts, &info,
                                                errstr, errstr_size)
                              : sky_schema_read(sky_pgsink_conn(in->pg), in->schema, &info, errstr,
                                                errstr_size);
    if (!rc && info.version == 0)
        rc = sky_err(errstr, errstr_size, SKY_EUSAGE,
                     "PostgreSQL schema \"%s\" has no skyload tables: run ingest --init-schema",
                     in->schema);
    in->schema_native = !info.timescaledb;
    /* the staging table and search_path are per session: set them up again */
    return rc ? rc : sky_pgsink_reconnect(in->pg, errstr, errstr_size);
}

static int start_kafka(sky_ingest_t *in, const sky_ingest_config_t *cfg, char *errstr,
                       size_t errstr_size) {
    in->consumer = sky_consumer_new(in->kafka, in->group, errstr, errstr_size);
    if (!in->consumer)
        return SKY_EKAFKA;
    sky_consumer_set_rebalance_cb(in->consumer, on_rebalance, in);
    int rc = sky_consumer_subscribe(in->consumer, in->topic, errstr, errstr_size);
    if (rc || !cfg->metrics_addr)
        return rc;
    char host[128];
    int port = 0;
    const char *colon = strrchr(cfg->metrics_addr, ':');
    /* port 0 (any free port, logged) is fine here, unlike for servers we connect to */
    if (colon && strcmp(colon, ":0") == 0 && (size_t)(colon - cfg->metrics_addr) < sizeof host)
        snprintf(host, sizeof host, "%.*s", (int)(colon - cfg->metrics_addr), cfg->metrics_addr);
    else
        rc = sky_parse_hostport(cfg->metrics_addr, host, sizeof host, &port, "--metrics", errstr,
                                errstr_size);
    if (!rc && !(in->metrics = sky_metrics_http_start(host, port, render_metrics, in, errstr,
                                                      errstr_size)))
        rc = SKY_EIO;
    if (!rc)
        sky_log_info("ingest: metrics on http://%s:%d/metrics", host,
                     sky_metrics_http_port(in->metrics));
    return rc;
}

sky_ingest_t *sky_ingest_new(const sky_ingest_config_t *cfg, int *code, char *errstr,
                             size_t errstr_size) {
    int rc = 0;
    sky_ingest_t *in = calloc(1, sizeof *in);
    if (!in || pthread_mutex_init(&in->lock, NULL) || pthread_mutex_init(&in->pg_mu, NULL) ||
        pthread_cond_init(&in->pg_cv, NULL)) {
        free(in);
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating ingest");
        if (code)
            *code = SKY_ENOMEM;
        return NULL;
    }
    in->c.lag = -1;
    if (!cfg->topic || !*cfg->topic)
        rc = sky_err(errstr, errstr_size, SKY_EUSAGE, "ingest needs a topic (-t)");
    if (!rc && (copy_config(in, cfg) || allocate(in)))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating ingest");
    rc = rc ? rc : connect_sinks(in, cfg, errstr, errstr_size);
    if (!rc && pthread_create(&in->pg_thread, NULL, pg_worker_main, in) != 0)
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "cannot start the PostgreSQL thread");
    in->pg_thread_started = rc == 0;
    rc = rc ? rc : start_kafka(in, cfg, errstr, errstr_size);
    if (code)
        *code = rc;
    if (rc) {
        sky_ingest_destroy(in);
        return NULL;
    }
    return in;
}

void sky_ingest_destroy(sky_ingest_t *in) {
    if (!in)
        return;
    sky_metrics_http_stop(in->metrics);
    if (in->pg_thread_started) {
        pthread_mutex_lock(&in->pg_mu);
        in->pg_state = PG_QUIT;
        pthread_cond_broadcast(&in->pg_cv);
        pthread_mutex_unlock(&in->pg_mu);
        pthread_join(in->pg_thread, NULL);
    }
    sky_consumer_destroy(in->consumer);
    if (in->dlq) {
        char ignored[128];
        sky_producer_flush(in->dlq, 5000, ignored, sizeof ignored);
    }
    sky_producer_destroy(in->dlq);
    sky_t38sink_destroy(in->tile38);
    sky_pgsink_destroy(in->pg);
    sky_hist_destroy(in->h_consumed);
    sky_hist_destroy(in->h_tile38);
    sky_hist_destroy(in->h_pg);
    sky_hist_destroy(in->h_batch_rows);
    sky_hist_destroy(in->h_batch_us);
    sky_buf_free(&in->raw);
    free(in->rows);
    free(in->pg_rows);
    free(in->t38_rows);
    free(in->next_offset);
    free(in->committed);
    free(in->topic);
    free(in->group);
    free(in->collection);
    free(in->dlq_topic);
    free(in->schema);
    free(in->pg_conninfo);
    free(in->stats_path);
    pthread_mutex_destroy(&in->lock);
    pthread_mutex_destroy(&in->pg_mu);
    pthread_cond_destroy(&in->pg_cv);
    free(in);
}

/* ---- observability ---- */

void sky_ingest_snapshot(sky_ingest_t *in, sky_ingest_snapshot_t *out) {
    out->consumed = in->c.consumed;
    out->stored_pg = in->c.stored_pg;
    out->duplicates_ignored = in->c.duplicates;
    out->stored_tile38 = in->c.stored_tile38;
    out->stale_dropped = in->c.stale;
    out->dlq = in->c.dlq;
    out->tile38_refused = in->c.tile38_refused;
    out->batches = in->c.batches;
    out->sink_retries = in->c.retries;
    out->pauses = in->c.pauses;
    int64_t started = in->c.pause_started_ns;
    out->paused_ms = (in->c.paused_ns + (started ? sky_monotonic_ns() - started : 0)) / 1000000;
    out->lag = in->c.lag;
    out->pending = in->c.pending;
    out->assigned = in->c.assigned;
    out->paused = in->c.paused;
}

int sky_ingest_metrics_port(const sky_ingest_t *in) {
    return in->metrics ? sky_metrics_http_port(in->metrics) : 0;
}

static int render_metrics(void *opaque, sky_buf_t *out) {
    sky_ingest_t *in = opaque;
    sky_ingest_snapshot_t s;
    sky_ingest_snapshot(in, &s);
    int rc = sky_metrics_add_counter(out, "skyload_ingest_consumed_total",
                                     "Records read from the topic", "counter", (int64_t)s.consumed);
    rc |= sky_buf_addf(out,
                       "# HELP skyload_ingest_stored_total Rows stored per sink\n"
                       "# TYPE skyload_ingest_stored_total counter\n"
                       "skyload_ingest_stored_total{sink=\"pg\"} %llu\n"
                       "skyload_ingest_stored_total{sink=\"tile38\"} %llu\n",
                       (unsigned long long)s.stored_pg, (unsigned long long)s.stored_tile38);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_dlq_total", "Records sent to the DLQ",
                                  "counter", (int64_t)s.dlq);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_duplicates_total",
                                  "Rows PostgreSQL already had", "counter",
                                  (int64_t)s.duplicates_ignored);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_stale_total",
                                  "Updates older than Tile38's position", "counter",
                                  (int64_t)s.stale_dropped);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_sink_retries_total",
                                  "Failed sink attempts retried", "counter",
                                  (int64_t)s.sink_retries);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_consumer_lag", "Consumer lag (records)",
                                  "gauge", s.lag);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_pending_rows",
                                  "Rows consumed, not committed", "gauge", s.pending);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_paused", "1 while a sink is down",
                                  "gauge", s.paused);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_pauses_total",
                                  "Times the partitions were paused for a sink", "counter",
                                  (int64_t)s.pauses);
    rc |= sky_buf_addf(out,
                       "# HELP skyload_ingest_paused_seconds_total Time paused for a sink\n"
                       "# TYPE skyload_ingest_paused_seconds_total counter\n"
                       "skyload_ingest_paused_seconds_total %.3f\n",
                       (double)s.paused_ms / 1000.0);
    rc |= sky_metrics_add_counter(out, "skyload_ingest_tile38_refused_total",
                                  "Rows whose SET Tile38 refused (sent to the DLQ)", "counter",
                                  (int64_t)s.tile38_refused);
    pthread_mutex_lock(&in->lock);
    rc |= sky_metrics_add_summary(out, "skyload_ingest_consumed_latency_seconds",
                                  "intended -> consumed", in->h_consumed, 1e6);
    rc |= sky_metrics_add_summary(out, "skyload_ingest_tile38_latency_seconds",
                                  "intended -> Tile38 ack", in->h_tile38, 1e6);
    rc |= sky_metrics_add_summary(out, "skyload_ingest_pg_commit_latency_seconds",
                                  "intended -> PostgreSQL commit", in->h_pg, 1e6);
    rc |= sky_metrics_add_summary(out, "skyload_ingest_batch_rows", "rows per batch",
                                  in->h_batch_rows, 1.0);
    rc |= sky_metrics_add_summary(out, "skyload_ingest_batch_duration_seconds",
                                  "time to store a batch in both sinks", in->h_batch_us, 1e6);
    pthread_mutex_unlock(&in->lock);
    return rc ? SKY_ENOMEM : 0;
}

static int stats_json(sky_ingest_t *in, sky_buf_t *b) {
    sky_ingest_snapshot_t s;
    sky_ingest_snapshot(in, &s);
    int rc = sky_buf_add_str(b, "{\"skyload_ingest_stats\":1,\"group\":");
    rc |= sky_buf_add_json_str(b, in->group, strlen(in->group));
    rc |= sky_buf_add_str(b, ",\"topic\":");
    rc |= sky_buf_add_json_str(b, in->topic, strlen(in->topic));
    rc |= sky_buf_addf(b,
                       ",\"consumed\":%llu,\"stored_pg\":%llu,\"stored_tile38\":%llu,\"dlq\":%llu,"
                       "\"stale_dropped\":%llu,\"duplicates_ignored\":%llu,\"batches\":%llu,"
                       "\"sink_retries\":%llu,\"tile38_refused\":%llu,\"pauses\":%llu,"
                       "\"paused_ms\":%lld,\"latency_us\":{\"consumed\":",
                       (unsigned long long)s.consumed, (unsigned long long)s.stored_pg,
                       (unsigned long long)s.stored_tile38, (unsigned long long)s.dlq,
                       (unsigned long long)s.stale_dropped,
                       (unsigned long long)s.duplicates_ignored, (unsigned long long)s.batches,
                       (unsigned long long)s.sink_retries, (unsigned long long)s.tile38_refused,
                       (unsigned long long)s.pauses, (long long)s.paused_ms);
    pthread_mutex_lock(&in->lock);
    rc |= sky_hist_to_json(in->h_consumed, b);
    rc |= sky_buf_add_str(b, ",\"tile38\":");
    rc |= sky_hist_to_json(in->h_tile38, b);
    rc |= sky_buf_add_str(b, ",\"pg_commit\":");
    rc |= sky_hist_to_json(in->h_pg, b);
    pthread_mutex_unlock(&in->lock);
    rc |= sky_buf_add_str(b, "}}\n");
    return rc ? SKY_ENOMEM : 0;
}

int sky_ingest_write_stats(sky_ingest_t *in, const char *path, char *errstr, size_t errstr_size) {
    sky_buf_t b;
    sky_buf_init(&b, 0);
    char tmp[4096];
    int rc = stats_json(in, &b);
    if (rc) {
        sky_buf_free(&b);
        return sky_err(errstr, errstr_size, rc, "out of memory writing the stats");
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0 || rename(tmp, path) != 0) {
        rc = sky_err(errstr, errstr_size, SKY_EIO, "%s: cannot write the stats", path);
        remove(tmp);
    }
    sky_buf_free(&b);
    return rc;
}
