/* skyload ingest: consume -> batch -> Tile38 (latest per flight) + PostgreSQL
 * (every row once) -> commit offsets. At-least-once delivery, exactly-once rows. */
#include "ingest.h"

#include "codec.h"
#include "dynbuf.h"
#include "error.h"
#include "geofence_relay.h"
#include "histogram.h"
#include "log.h"
#include "metrics_http.h"
#include "parse.h"
#include "pgsink.h"
#include "schema.h"
#include "seqmap.h"
#include "tile38.h"
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
    bool newer; /* newer than the flight's position before it: SET in Tile38, in order */
} batch_row_t;

typedef struct counters {
    _Atomic uint64_t consumed, stored_pg, duplicates, stored_tile38, stale, dlq, batches, retries;
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
    sky_tile38_t *tile38;
    sky_pgsink_t *pg;
    sky_seqmap_t *seqmap;
    sky_metrics_http_t *metrics;
    sky_geofence_relay_t *relay; /* geofence events, relay route (NULL otherwise) */

    /* the current batch */
    batch_row_t *rows;
    sky_pg_row_t *pg_rows;
    size_t *lookups;
    size_t nrows;
    bool tile38_done, pg_done;
    int64_t batch_started_ns; /* monotonic; 0 = nothing pending */
    size_t dlq_unflushed;
    uint32_t gen, pg_gen;
    sky_buf_t resp;
    char ttl_text[24];

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

/* ---- Tile38 ---- */

static int resp_arg(sky_buf_t *b, const char *s, size_t n) {
    char len[24];
    size_t ln = sky_fmt_u64(len, n);
    int rc = sky_buf_add_char(b, '$');
    rc |= sky_buf_add(b, len, ln);
    rc |= sky_buf_add(b, "\r\n", 2);
    rc |= sky_buf_add(b, s, n);
    rc |= sky_buf_add(b, "\r\n", 2);
    return rc;
}

#define RESP_LIT(b, s) resp_arg((b), (s), sizeof(s) - 1)

static int resp_i64(sky_buf_t *b, int64_t v) {
    char tmp[24];
    return resp_arg(b, tmp, sky_fmt_i64(tmp, v));
}

static int resp_count(sky_buf_t *b, int argc) {
    char tmp[24];
    size_t n = sky_fmt_i64(tmp, argc);
    return sky_buf_add_char(b, '*') | sky_buf_add(b, tmp, n) | sky_buf_add(b, "\r\n", 2);
}

static int append_set(sky_ingest_t *in, const batch_row_t *r) {
    sky_buf_t *b = &in->resp;
    char lat[40], lon[40];
    size_t nlat = sky_fmt_fixed(lat, r->f.latitude, 7);
    size_t nlon = sky_fmt_fixed(lon, r->f.longitude, 7);
    int argc = 3 + (r->seq >= 0 ? 3 : 0) + 9 + (in->ttl_s > 0 ? 2 : 0) + 3;
    int rc = resp_count(b, argc) | RESP_LIT(b, "SET");
    rc |= resp_arg(b, in->collection, strlen(in->collection));
    rc |= resp_arg(b, r->f.flight_id, strlen(r->f.flight_id));
    if (r->seq >= 0)
        rc |= RESP_LIT(b, "FIELD") | RESP_LIT(b, "seq") | resp_i64(b, r->seq);
    rc |= RESP_LIT(b, "FIELD") | RESP_LIT(b, "altitude") | resp_i64(b, r->f.altitude);
    rc |= RESP_LIT(b, "FIELD") | RESP_LIT(b, "airspeed") | resp_i64(b, r->f.airspeed);
    rc |= RESP_LIT(b, "FIELD") | RESP_LIT(b, "ts") | resp_i64(b, r->ts_ms);
    if (in->ttl_s > 0)
        rc |= RESP_LIT(b, "EX") | resp_arg(b, in->ttl_text, strlen(in->ttl_text));
    rc |= RESP_LIT(b, "POINT") | resp_arg(b, lat, nlat) | resp_arg(b, lon, nlon);
    return rc ? SKY_ENOMEM : 0;
}

/* Flights seen for the first time (since start or the last assignment) get their
 * current position from Tile38 itself, so ordering survives restarts and rebalances. */
static int learn_unknown_flights(sky_ingest_t *in, char *errstr, size_t errstr_size) {
    size_t nlook = 0;
    sky_buf_reset(&in->resp);
    for (size_t i = 0; i < in->nrows; i++) {
        sky_seq_entry_t *e = sky_seqmap_get(in->seqmap, in->rows[i].f.flight_id, true);
        e->pending = -1;
        if (e->known || e->gen == in->gen) {
            e->gen = in->gen;
            continue;
        }
        e->gen = in->gen;
        const char *id = in->rows[i].f.flight_id;
        int rc = resp_count(&in->resp, 5) | RESP_LIT(&in->resp, "GET") |
                 resp_arg(&in->resp, in->collection, strlen(in->collection)) |
                 resp_arg(&in->resp, id, strlen(id)) | RESP_LIT(&in->resp, "WITHFIELDS") |
                 RESP_LIT(&in->resp, "POINT");
        if (rc)
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory building GETs");
        in->lookups[nlook++] = i;
    }
    if (!nlook)
        return 0;
    int rc = sky_tile38_append_raw(in->tile38, in->resp.data, in->resp.len, errstr, errstr_size);
    for (size_t k = 0; k < nlook && !rc; k++) {
        redisReply *r;
        sky_tile38_obj_t obj;
        if ((rc = sky_tile38_get_reply(in->tile38, &r, errstr, errstr_size)) != 0)
            break;
        rc = sky_tile38_parse_object(r, &obj, errstr, errstr_size);
        freeReplyObject(r);
        const char *id = in->rows[in->lookups[k]].f.flight_id;
        sky_seq_entry_t *e = sky_seqmap_get(in->seqmap, id, false);
        if (!rc) {
            e->known = true;
            e->present = obj.found;
            e->has_seq = obj.has_seq;
            e->seq = obj.seq;
            e->ts_ms = obj.ts_ms;
        }
    }
    return rc;
}

/* Picks, per flight, the newest row of the batch that is newer than Tile38's;
 * returns the number of stale rows. Nothing is confirmed until Tile38 acks. */
static uint64_t pick_winners(sky_ingest_t *in) {
    uint64_t stale = 0;
    for (size_t i = 0; i < in->nrows; i++) {
        const batch_row_t *r = &in->rows[i];
        sky_seq_entry_t *e = sky_seqmap_get(in->seqmap, r->f.flight_id, false);
        bool newer;
        if (e->pending >= 0) {
            const batch_row_t *p = &in->rows[e->pending];
            newer = sky_seq_newer(r->seq >= 0, r->seq, r->ts_ms, p->seq >= 0, p->seq, p->ts_ms);
        } else {
            newer = !e->present ||
                    sky_seq_newer(r->seq >= 0, r->seq, r->ts_ms, e->has_seq, e->seq, e->ts_ms);
        }
        /* every newer row is SET, in order, not only the batch's newest: geofence
         * enter/exit events come from each pair of consecutive positions */
        in->rows[i].newer = newer;
        if (newer)
            e->pending = (int32_t)i;
        else
            stale++;
    }
    return stale;
}

static int send_winners(sky_ingest_t *in, char *errstr, size_t errstr_size) {
    size_t nset = 0;
    sky_buf_reset(&in->resp);
    for (size_t i = 0; i < in->nrows; i++) {
        if (!in->rows[i].newer)
            continue;
        if (append_set(in, &in->rows[i]))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory building SETs");
        nset++;
    }
    int rc = nset ? sky_tile38_append_raw(in->tile38, in->resp.data, in->resp.len, errstr,
                                          errstr_size)
                  : 0;
    for (size_t k = 0; k < nset && !rc; k++) {
        redisReply *r;
        if ((rc = sky_tile38_get_reply(in->tile38, &r, errstr, errstr_size)) != 0)
            break;
        if (r->type != REDIS_REPLY_STRING || strncmp(r->str, "{\"ok\":true", 10) != 0)
            rc = sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 SET refused: %s",
                         r->type == REDIS_REPLY_STRING ? r->str : "unexpected reply");
        freeReplyObject(r);
    }
    /* an unread reply would be taken for the next command's: start afresh */
    if (rc && rc != SKY_EUNAVAIL) {
        char ignored[64];
        sky_tile38_reconnect(in->tile38, ignored, sizeof ignored);
    }
    return rc;
}

static void confirm_winners(sky_ingest_t *in) {
    for (size_t i = 0; i < in->nrows; i++) {
        const batch_row_t *r = &in->rows[i];
        sky_seq_entry_t *e = sky_seqmap_get(in->seqmap, r->f.flight_id, false);
        if (e->pending != (int32_t)i)
            continue;
        e->present = true;
        e->has_seq = r->seq >= 0;
        e->seq = r->seq;
        e->ts_ms = r->ts_ms;
        e->pending = -1;
    }
}

static int flush_tile38(sky_ingest_t *in, char *errstr, size_t errstr_size) {
    if (in->tile38_done || in->nrows == 0 || !in->tile38)
        return 0;
    if (!sky_geofence_relay_ready(in->relay)) /* its geofence events would be lost */
        return sky_err(errstr, errstr_size, SKY_EUNAVAIL,
                       "the geofence relay is not subscribed to Tile38 yet: holding the batch");
    if (sky_seqmap_reserve(in->seqmap, in->nrows))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory growing the flight map");
    in->gen++;
    int rc = learn_unknown_flights(in, errstr, errstr_size);
    if (rc)
        return rc;
    uint64_t stale = pick_winners(in);
    rc = send_winners(in, errstr, errstr_size);
    if (rc) {
        /* some SETs may have landed: ask Tile38 where each flight is before the retry,
         * or it would SET them again and move flights back (and out of geofences) */
        for (size_t i = 0; i < in->nrows; i++)
            sky_seqmap_get(in->seqmap, in->rows[i].f.flight_id, false)->known = false;
        return rc;
    }
    confirm_winners(in);
    int64_t now = sky_now_ns();
    pthread_mutex_lock(&in->lock);
    for (size_t i = 0; i < in->nrows; i++)
        if (in->rows[i].intended_ns > 0)
            sky_hist_record(in->h_tile38, (now - in->rows[i].intended_ns) / 1000);
    pthread_mutex_unlock(&in->lock);
    in->c.stale += stale;
    in->c.stored_tile38 += in->nrows - stale;
    in->tile38_done = true;
    return 0;
}

/* ---- PostgreSQL ---- */

/* Fills pg_rows (the flights table gets each flight once per process, ON
 * CONFLICT DO NOTHING). Main thread: it uses the flight map. */
static int prepare_pg(sky_ingest_t *in, char *errstr, size_t errstr_size) {
    if (sky_seqmap_reserve(in->seqmap, in->nrows))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory growing the flight map");
    in->pg_gen++;
    for (size_t i = 0; i < in->nrows; i++) {
        const batch_row_t *r = &in->rows[i];
        sky_seq_entry_t *e = sky_seqmap_get(in->seqmap, r->f.flight_id, true);
        bool first = !e->meta_stored && e->meta_gen != in->pg_gen;
        if (first)
            e->meta_gen = in->pg_gen;
        in->pg_rows[i] = (sky_pg_row_t){.flight = &r->f, .ts_ms = r->ts_ms, .seq = r->seq,
                                        .intended_ns = r->intended_ns, .new_flight = first};
    }
    return 0;
}

static void finish_pg(sky_ingest_t *in, uint64_t inserted) {
    for (size_t i = 0; i < in->nrows; i++)
        if (in->pg_rows[i].new_flight)
            sky_seqmap_get(in->seqmap, in->rows[i].f.flight_id, true)->meta_stored = true;
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
    int rc = pg ? prepare_pg(in, errstr, errstr_size) : 0;
    if (rc)
        return rc;
    if (pg)
        pg_post(in);
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
    sky_log_info("ingest: %s %d partition(s)", pause ? "paused (a sink is down)" : "resumed",
                 a->cnt);
    rd_kafka_topic_partition_list_destroy(a);
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
    /* winners were picked over the old rows: recompute them on the next attempt */
    in->gen++;
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
    char err[256];
    /* created on the first bad record, so a clean topic gets no <topic>.dlq auto-created */
    if (!in->dlq && !(in->dlq = sky_producer_new(in->kafka, in->dlq_topic, err, sizeof err))) {
        sky_log_error("ingest: dead-letter producer: %s", err);
        return false;
    }
    rd_kafka_headers_t *orig = NULL, *h;
    h = rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR
            ? rd_kafka_headers_copy(orig)
            : rd_kafka_headers_new(4);
    rd_kafka_header_add(h, SKY_HDR_ERROR, -1, why, -1);
    int rc = sky_producer_send_with(in->dlq, in->dlq_topic, RD_KAFKA_PARTITION_UA, m->key,
                                    m->key_len, m->payload, m->len, h, 0, intended, err,
                                    sizeof err);
    rd_kafka_headers_destroy(h);
    if (rc) {
        sky_log_error("ingest: dead-letter %s: %s", in->dlq_topic, err);
        return false;
    }
    in->dlq_unflushed++;
    in->c.dlq++;
    return true;
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
        sky_seqmap_clear(in->seqmap);
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
    in->ttl_text[sky_fmt_i64(in->ttl_text, in->ttl_s)] = '\0';
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
    if (cfg->schema_opts)
        in->schema_opts = *cfg->schema_opts;
    in->schema_opts.schema = in->schema;
    in->schema_opts.retention_days = cfg->retention_days;
    return rc ? SKY_ENOMEM : 0;
}

static int allocate(sky_ingest_t *in) {
    size_t n = (size_t)in->batch_rows;
    in->rows = calloc(n, sizeof *in->rows);
    in->pg_rows = calloc(n, sizeof *in->pg_rows);
    in->lookups = calloc(n, sizeof *in->lookups);
    in->seqmap = sky_seqmap_new(4096);
    in->h_consumed = sky_hist_new();
    in->h_tile38 = sky_hist_new();
    in->h_pg = sky_hist_new();
    in->h_batch_rows = sky_hist_new();
    in->h_batch_us = sky_hist_new();
    sky_buf_init(&in->resp, 0);
    bool ok = in->rows && in->pg_rows && in->lookups && in->seqmap && in->h_consumed &&
              in->h_tile38 && in->h_pg && in->h_batch_rows && in->h_batch_us;
    return ok && ensure_partition(in, 0) == 0 ? 0 : SKY_ENOMEM;
}

static int render_metrics(void *opaque, sky_buf_t *out);

static int connect_sinks(sky_ingest_t *in, const sky_ingest_config_t *cfg, char *errstr,
                         size_t errstr_size) {
    if (!cfg->disable_tile38 &&
        !(in->tile38 = sky_tile38_new(cfg->tile38_host ? cfg->tile38_host : "127.0.0.1",
                                      cfg->tile38_port ? cfg->tile38_port : 9851, 5000, errstr,
                                      errstr_size)))
        return SKY_EUNAVAIL;
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
    if (!rc && cfg->geofence && in->tile38) /* geofences: ingest/geofence_relay.h */
        rc = sky_geofence_ingest_start(cfg->geofence, cfg->kafka, cfg->tile38_host,
                                       cfg->tile38_port, cfg->init_schema, &in->relay, errstr,
                                       errstr_size);
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
    sky_geofence_relay_stop(in->relay, 10000); /* after the last SET: relays up to it */
    sky_tile38_destroy(in->tile38);
    sky_pgsink_destroy(in->pg);
    sky_seqmap_destroy(in->seqmap);
    sky_hist_destroy(in->h_consumed);
    sky_hist_destroy(in->h_tile38);
    sky_hist_destroy(in->h_pg);
    sky_hist_destroy(in->h_batch_rows);
    sky_hist_destroy(in->h_batch_us);
    sky_buf_free(&in->resp);
    free(in->rows);
    free(in->pg_rows);
    free(in->lookups);
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
    out->batches = in->c.batches;
    out->sink_retries = in->c.retries;
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
                       "\"sink_retries\":%llu,\"latency_us\":{\"consumed\":",
                       (unsigned long long)s.consumed, (unsigned long long)s.stored_pg,
                       (unsigned long long)s.stored_tile38, (unsigned long long)s.dlq,
                       (unsigned long long)s.stale_dropped,
                       (unsigned long long)s.duplicates_ignored, (unsigned long long)s.batches,
                       (unsigned long long)s.sink_retries);
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
