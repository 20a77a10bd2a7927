/* skyload ingest: a pipeline. The consumer thread polls, decodes and batches records
 * per lane (a lane = a PostgreSQL connection and the partitions routed to it); a
 * closed batch goes to its lane's thread (COPY + commit) and to the Tile38 thread
 * (latest position per flight) at the same time, while the consumer thread goes on
 * filling the next one; offsets are committed per partition up to the last batch
 * both sinks acknowledged. At-least-once delivery, exactly-once rows. */
#include "ingest_int.h"

#include "codec.h"
#include "cpus.h"
#include "dynbuf.h"
#include "error.h"
#include "geofence_relay.h"
#include "log.h"
#include "parse.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REVOKE_GIVE_UP_MS 10000
#define STOP_GIVE_UP_MS 30000
#define MAX_INFLIGHT 3    /* closed batches per lane: written, waiting for it, committing */
#define DLQ_WAIT_NS (1000 * MS_NS) /* then a batch's dead letters are flushed, blocking */
#define POLL_BURST 4096   /* records taken per poll round before the batches are looked at */
#define RECOMMIT_NS (2000 * MS_NS)

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

int sky_ingest_default_pg_connections(void) {
    int n = sky_cpus_usable();
    return n < 2 ? 2 : n > 8 ? 8 : n;
}

/* ---- pausing: a partition is paused while a sink is down or its lane is full ---- */

static bool want_paused(const sky_ingest_t *in, int32_t p) {
    return in->sink_down || in->lanes[in->part_lane[p]].blocked;
}

/* Pauses and resumes exactly the partitions whose state changes (resuming one that is
 * not paused can make librdkafka fetch from an older position). */
static void apply_pauses(sky_ingest_t *in) {
    rd_kafka_topic_partition_list_t *pause = NULL, *resume = NULL;
    for (int p = 0; p < in->nparts_seen; p++) {
        if (in->part_lane[p] < 0)
            continue;
        bool want = want_paused(in, p);
        if (want == in->part_paused[p])
            continue;
        rd_kafka_topic_partition_list_t **l = want ? &pause : &resume;
        if (!*l && !(*l = rd_kafka_topic_partition_list_new(16)))
            continue;
        rd_kafka_topic_partition_list_add(*l, in->topic, p);
        in->part_paused[p] = want;
    }
    rd_kafka_t *rk = sky_consumer_handle(in->consumer);
    if (pause) {
        rd_kafka_pause_partitions(rk, pause);
        rd_kafka_topic_partition_list_destroy(pause);
    }
    if (resume) {
        rd_kafka_resume_partitions(rk, resume);
        rd_kafka_topic_partition_list_destroy(resume);
    }
}

/* A sink retrying a batch pauses every partition: memory stays bounded (the open
 * batches and MAX_INFLIGHT closed ones per lane) and the consumer keeps serving the
 * group. */
static void watch_sinks(sky_ingest_t *in) {
    bool down = false;
    for (int i = 0; i < in->nlanes && !down; i++)
        down = in->lanes[i].failing || in->lanes[i].t38.failing;
    if (down == in->sink_down)
        return;
    in->sink_down = down;
    int64_t now = sky_monotonic_ns();
    if (down) {
        in->c.pauses++;
        in->c.pause_started_ns = now;
        sky_log_info("ingest: paused %d partition(s): a sink is down", (int)in->c.assigned);
    } else if (in->c.pause_started_ns) {
        int64_t took = now - in->c.pause_started_ns;
        in->c.paused_ns += took;
        in->c.pause_started_ns = 0;
        sky_log_info("ingest: resumed %d partition(s) after %.1f s", (int)in->c.assigned,
                     (double)took / 1e9);
    }
    in->c.paused = down;
    apply_pauses(in);
}

/* ---- batches ---- */

static sky_batch_t *take_batch(sky_ingest_t *in, int lane) {
    sky_batch_t *b = in->free_batches;
    if (b)
        in->free_batches = b->next;
    else if ((b = sky_batch_new()))
        in->nbatches++;
    if (b)
        sky_batch_reset(b, lane);
    return b;
}

static void update_pending(sky_ingest_t *in) {
    int64_t rows = 0;
    for (int i = 0; i < in->nlanes; i++) {
        const sky_lane_t *l = &in->lanes[i];
        rows += l->open ? (int64_t)l->open->nrows : 0;
        for (const sky_batch_t *b = l->inflight; b; b = b->next)
            rows += (int64_t)b->nrows;
    }
    in->c.pending = rows;
}

static void close_batch(sky_ingest_t *in, sky_lane_t *l) {
    sky_batch_t *b = l->open;
    l->open = NULL;
    b->next = NULL;
    b->closed_ns = sky_monotonic_ns();
    b->closed_wall_ns = sky_now_ns();
    if (l->inflight_tail)
        l->inflight_tail->next = b;
    else
        l->inflight = b;
    l->inflight_tail = b;
    l->ninflight++;
    sky_ingest_stages_post(in, b);
}

/* Both sinks have finished every batch of the lane (some may still wait for their
 * dead letters' acknowledgement or their commit: that is not the sinks' work). */
static bool sinks_idle(const sky_lane_t *l) {
    for (const sky_batch_t *b = l->inflight; b; b = b->next)
        if (atomic_load(&b->done) != (SKY_BATCH_PG | SKY_BATCH_TILE38))
            return false;
    return true;
}

/* Adaptive batching: a lane whose sinks have nothing of it in hand gets what the open
 * batch holds at once (small batches, low latency when the load is light); while they
 * work, rows accumulate (large batches under load) until --batch-rows or --batch-ms. */
static void close_ready(sky_ingest_t *in, bool force) {
    int64_t now = sky_monotonic_ns();
    bool changed = false;
    for (int i = 0; i < in->nlanes; i++) {
        sky_lane_t *l = &in->lanes[i];
        sky_batch_t *b = l->open;
        bool blocked = false;
        if (b && b->nranges) {
            bool full = b->nrows >= (size_t)in->batch_rows;
            bool old = now - b->opened_ns >= in->batch_ms * MS_NS;
            if (force || (l->ninflight < MAX_INFLIGHT && (sinks_idle(l) || full || old)))
                close_batch(in, l);
            else
                blocked = full;
        }
        if (blocked != l->blocked) {
            l->blocked = blocked;
            changed = true;
        }
    }
    if (changed)
        apply_pauses(in);
}

/* Milliseconds until an open batch is due (capped). */
static int next_deadline_ms(sky_ingest_t *in, int cap) {
    int64_t now = sky_monotonic_ns();
    int wait = cap;
    for (int i = 0; i < in->nlanes; i++) {
        const sky_batch_t *b = in->lanes[i].open;
        if (!b || !b->nranges || in->lanes[i].ninflight >= MAX_INFLIGHT)
            continue;
        int64_t left = (b->opened_ns + in->batch_ms * MS_NS - now) / MS_NS;
        if (left < wait)
            wait = left < 0 ? 0 : (int)left;
    }
    return wait;
}

/* ---- offsets ---- */

static void commit_offsets(sky_ingest_t *in, bool sync) {
    rd_kafka_topic_partition_list_t *l = NULL;
    for (int p = 0; p < in->nparts_seen; p++) {
        if (in->part_commit[p] < 0 || in->part_commit[p] <= in->part_sent[p])
            continue;
        if (!l && !(l = rd_kafka_topic_partition_list_new(8)))
            return;
        rd_kafka_topic_partition_list_add(l, in->topic, p)->offset = in->part_commit[p];
    }
    if (!l)
        return;
    char err[256];
    int rc = sync ? sky_consumer_commit(in->consumer, l, err, sizeof err)
                  : sky_consumer_commit_async(in->consumer, l, err, sizeof err);
    /* Commit failures are not fatal: the rows are stored, the offsets go again with
     * the next commit, and a crash in between only re-delivers (PostgreSQL dedupes). */
    if (rc)
        sky_log_warn("ingest: %s (sent again with the next commit)", err);
    else
        for (int i = 0; i < l->cnt; i++)
            in->part_sent[l->elems[i].partition] = l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- reaping the batches both sinks finished ---- */

/* Clocks of two threads (or of the broker) can disagree by a little: never below 0. */
static void rec(sky_hist_t *h, int64_t v) {
    sky_hist_record(h, v > 0 ? v : 0);
}

static void rec_n(sky_hist_t *h, int64_t v, uint64_t n) {
    sky_hist_record_n(h, v > 0 ? v : 0, n);
}

static void record_stages(sky_ingest_t *in, const sky_batch_t *b, int64_t committed_wall) {
    int64_t done_wall = b->pg_done_wall_ns > b->t38_done_wall_ns ? b->pg_done_wall_ns
                                                                  : b->t38_done_wall_ns;
    sky_ingest_hists_t *h = &in->h;
    pthread_mutex_lock(&in->lock);
    for (size_t i = 0; i < b->nrows; i++) {
        const sky_batch_row_t *r = &b->rows[i];
        if (r->intended_ns > 0) {
            rec(h->consumed, (r->consumed_ns - r->intended_ns) / 1000);
            rec(h->pg, (b->pg_done_wall_ns - r->intended_ns) / 1000);
            if (in->with_tile38)
                rec(h->tile38, (b->t38_done_wall_ns - r->intended_ns) / 1000);
        }
        if (r->append_ms >= 0)
            rec(h->consume, r->consumed_ns / 1000 - r->append_ms * 1000);
        rec(h->decode_ns, r->decode_ns);
        rec(h->batch, (b->closed_wall_ns - r->consumed_ns) / 1000);
    }
    if (b->nrows) {
        rec_n(h->pg_stage, (b->pg_done_wall_ns - b->closed_wall_ns) / 1000, b->nrows);
        rec(h->pg_write, b->pg_service_ns / 1000);
        if (in->with_tile38) {
            rec_n(h->t38_stage, (b->t38_done_wall_ns - b->closed_wall_ns) / 1000,
                              b->nrows);
            rec(h->t38_write, b->t38_service_ns / 1000);
        }
        rec(h->commit, (committed_wall - done_wall) / 1000);
        rec(h->batch_rows, (int64_t)b->nrows);
        rec(h->batch_us, (done_wall - b->closed_wall_ns) / 1000);
    }
    pthread_mutex_unlock(&in->lock);
}

/* A batch both sinks finished: its offsets become committable (ranges still owned),
 * its dead letters acknowledged first. false: not yet (the DLQ did not flush). */
static bool reap_one(sky_ingest_t *in, sky_batch_t *b) {
    /* its offsets pass its dead letters only once Kafka has them: waited for without
     * blocking the consumer (delivery takes a linger and a broker round trip), and with
     * a flush only when bad records keep coming so that some are always in flight */
    if (!b->failed && (b->dlq_records || b->t38_refused) && sky_ingest_dlq_in_flight(in) > 0) {
        int64_t now = sky_monotonic_ns();
        if (!b->dlq_wait_ns)
            b->dlq_wait_ns = now;
        if (now - b->dlq_wait_ns < DLQ_WAIT_NS)
            return false;
        char err[256];
        if (sky_ingest_dlq_flush(in, 5000, err, sizeof err)) {
            sky_log_warn("ingest: dead-letter topic %s: %s (offsets held)", in->dlq_topic, err);
            return false;
        }
    }
    for (size_t k = 0; k < b->nranges; k++) {
        const sky_batch_range_t *g = &b->ranges[k];
        if (g->epoch != atomic_load(&in->part_epoch[g->partition]))
            continue; /* revoked meanwhile: the next owner has these */
        if (b->failed) /* never past a batch that was not stored */
            in->part_frozen[g->partition] = true;
        if (in->part_frozen[g->partition])
            continue;
        if (g->end > in->part_commit[g->partition])
            in->part_commit[g->partition] = g->end;
    }
    if (!b->failed) {
        in->c.stored_pg += b->pg_inserted;
        in->c.duplicates += b->pg_rows - b->pg_inserted;
        in->c.stored_tile38 += b->t38_applied;
        in->c.stale += b->t38_stale;
        in->c.tile38_refused += b->t38_refused;
        in->c.tile38_sets += b->t38_sets;
        if (b->nrows)
            in->c.batches++;
        record_stages(in, b, sky_now_ns());
    }
    return true;
}

static bool reap(sky_ingest_t *in) {
    bool any = false;
    for (int i = 0; i < in->nlanes; i++) {
        sky_lane_t *l = &in->lanes[i];
        sky_batch_t *b;
        while ((b = l->inflight) && atomic_load(&b->done) == (SKY_BATCH_PG | SKY_BATCH_TILE38)) {
            if (!reap_one(in, b))
                break;
            l->inflight = b->next;
            if (!l->inflight)
                l->inflight_tail = NULL;
            l->ninflight--;
            b->next = in->free_batches;
            in->free_batches = b;
            any = true;
        }
    }
    if (any) {
        commit_offsets(in, false);
        update_pending(in);
    }
    return any;
}

static bool inflight_any(const sky_ingest_t *in) {
    for (int i = 0; i < in->nlanes; i++)
        if (in->lanes[i].inflight)
            return true;
    return false;
}

/* Waits up to ms for a sink to finish a batch. */
static void wait_done(sky_ingest_t *in, int ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)ms * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&in->done_mu);
    pthread_cond_timedwait(&in->done_cv, &in->done_mu, &until);
    pthread_mutex_unlock(&in->done_mu);
}

/* ---- consuming ---- */

static bool send_to_dlq(sky_ingest_t *in, const rd_kafka_message_t *m, const char *why,
                        int64_t intended) {
    rd_kafka_headers_t *orig = NULL;
    rd_kafka_headers_t *h = rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR
                                ? rd_kafka_headers_copy(orig)
                                : rd_kafka_headers_new(4);
    return sky_ingest_dlq_send(in, h, m->key, m->key_len, m->payload, m->len, why, intended);
}

/* Leaves a record unconsumed: the fetch goes back to it. */
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

/* Keeps the record's bytes with its row (for the DLQ, should a sink refuse it). */
static int keep_raw(sky_batch_t *b, sky_batch_row_t *r, const rd_kafka_message_t *m) {
    const void *run = NULL;
    size_t run_len = 0;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, SKY_HDR_RUN, &run, &run_len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        run_len = 0;
    r->raw_off = (uint32_t)b->raw.len;
    r->key_len = (uint32_t)m->key_len;
    r->value_len = (uint32_t)m->len;
    r->run_len = (uint32_t)run_len;
    int rc = sky_buf_add(&b->raw, m->key ? m->key : "", m->key_len);
    rc |= sky_buf_add(&b->raw, m->payload ? m->payload : "", m->len);
    rc |= sky_buf_add(&b->raw, run ? run : "", run_len);
    return rc ? SKY_ENOMEM : 0;
}

/* A record of a partition not (or no longer) ours: left to librdkafka (a rebalance
 * races with the fetch). */
static bool ours(const sky_ingest_t *in, const rd_kafka_message_t *m) {
    return m->partition >= 0 && m->partition < SKY_INGEST_MAX_PARTITIONS &&
           in->part_lane[m->partition] >= 0;
}

static void handle_message(sky_ingest_t *in, rd_kafka_message_t *m) {
    if (m->err) {
        consumer_error(in, m);
        rd_kafka_message_destroy(m);
        return;
    }
    if (!ours(in, m)) {
        rd_kafka_message_destroy(m);
        return;
    }
    sky_lane_t *l = &in->lanes[in->part_lane[m->partition]];
    if (!l->open && (l->open = take_batch(in, l->index)))
        l->open->opened_ns = sky_monotonic_ns();
    sky_batch_t *b = l->open;
    sky_batch_row_t *r = b ? sky_batch_next_row(b) : NULL;
    uint32_t epoch = atomic_load(&in->part_epoch[m->partition]);
    if (!r) {
        sky_log_error("ingest: out of memory batching a record: left for later");
        rewind_to(in, m);
        rd_kafka_message_destroy(m);
        return;
    }
    char why[256];
    int64_t seq, intended, t0 = sky_monotonic_ns();
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    r->seq = sky_msg_header_i64(m, SKY_HDR_SEQ, &seq) == 0 && seq >= 0 ? seq : -1;
    r->intended_ns = sky_msg_header_i64(m, SKY_HDR_INTENDED, &intended) == 0 ? intended : 0;
    r->consumed_ns = sky_now_ns();
    r->append_ms = tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? ts : -1;
    r->partition = m->partition;
    bool valid = sky_flight_parse(m->payload, m->len, &r->f, &r->ts_ms, why, sizeof why) == 0 &&
                 !timestamp_out_of_range(r->ts_ms, why, sizeof why);
    r->decode_ns = (uint32_t)(sky_monotonic_ns() - t0);
    /* the offset joins the batch's range only once the record is kept or dead-lettered:
     * a record left for later must not be committed past */
    bool kept = valid ? keep_raw(b, r, m) == 0 : send_to_dlq(in, m, why, r->intended_ns);
    if (!kept || sky_batch_cover(b, m->partition, epoch, m->offset)) {
        if (valid && kept)
            b->raw.len = r->raw_off; /* the row was not counted: drop its bytes */
        sky_log_error("ingest: %s: left for later", !kept && !valid
                                                        ? "cannot queue a bad record for the DLQ"
                                                        : "out of memory keeping a record");
        rewind_to(in, m);
        rd_kafka_message_destroy(m);
        return;
    }
    if (valid)
        sky_batch_commit_row(b);
    else
        b->dlq_records++;
    in->c.consumed++;
    rd_kafka_message_destroy(m);
}

/* ---- rebalance ---- */

static void assign(sky_ingest_t *in, const rd_kafka_topic_partition_list_t *parts) {
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p < 0 || p >= SKY_INGEST_MAX_PARTITIONS) {
            sky_log_error("ingest: partition %d ignored: at most %d partitions", (int)p,
                          SKY_INGEST_MAX_PARTITIONS);
            continue;
        }
        /* the lane with the fewest partitions: each connection gets its share */
        int best = 0;
        for (int k = 1; k < in->nlanes; k++)
            if (in->lanes[k].npartitions < in->lanes[best].npartitions)
                best = k;
        in->lanes[best].npartitions++;
        in->part_lane[p] = (int8_t)best;
        in->part_paused[p] = in->part_frozen[p] = false;
        in->part_commit[p] = in->part_sent[p] = -1;
        if (p >= in->nparts_seen)
            in->nparts_seen = p + 1;
    }
    /* another member may have moved these flights meanwhile: ask Tile38 again */
    in->t38_forget++;
    in->c.assigned += parts->cnt;
    apply_pauses(in);
    sky_log_info("ingest: assigned %d partition(s) over %d PostgreSQL connection(s)", parts->cnt,
                 in->nlanes);
}

static bool holds_any(const sky_ingest_t *in, const rd_kafka_topic_partition_list_t *parts) {
    for (int i = 0; i < in->nlanes; i++)
        for (const sky_batch_t *b = in->lanes[i].inflight; b; b = b->next)
            for (int k = 0; k < parts->cnt; k++) {
                int32_t p = parts->elems[k].partition;
                const sky_batch_range_t *g = sky_batch_range_of(b, p);
                if (g && p >= 0 && p < SKY_INGEST_MAX_PARTITIONS &&
                    g->epoch == atomic_load(&in->part_epoch[p]))
                    return true;
            }
    return false;
}

static void on_rebalance(void *opaque, int kind, const rd_kafka_topic_partition_list_t *parts) {
    sky_ingest_t *in = opaque;
    if (kind == SKY_REBALANCE_ASSIGN) {
        assign(in, parts);
        return;
    }
    if (kind == SKY_REBALANCE_REVOKE) {
        /* store and commit what these partitions have in hand, for up to 10 s */
        close_ready(in, true);
        int64_t deadline = sky_monotonic_ns() + REVOKE_GIVE_UP_MS * MS_NS;
        while (holds_any(in, parts) && sky_monotonic_ns() < deadline) {
            if (!reap(in))
                wait_done(in, 50);
            watch_sinks(in);
        }
        reap(in);
        commit_offsets(in, true);
        if (holds_any(in, parts))
            sky_log_warn("ingest: revoked partitions had uncommitted rows: left to their next "
                         "owner (re-delivered, not lost)");
    }
    rd_kafka_topic_partition_list_t *resume = NULL;
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p < 0 || p >= SKY_INGEST_MAX_PARTITIONS || in->part_lane[p] < 0)
            continue;
        /* rows of these partitions still in a batch are skipped by the sinks, their
         * offsets never committed here */
        atomic_fetch_add(&in->part_epoch[p], 1);
        in->lanes[in->part_lane[p]].npartitions--;
        in->part_lane[p] = -1;
        in->part_commit[p] = in->part_sent[p] = -1;
        if (in->part_paused[p] && (resume || (resume = rd_kafka_topic_partition_list_new(8))))
            rd_kafka_topic_partition_list_add(resume, in->topic, p);
        in->part_paused[p] = false;
    }
    if (resume) { /* a partition must not come back to us paused */
        rd_kafka_resume_partitions(sky_consumer_handle(in->consumer), resume);
        rd_kafka_topic_partition_list_destroy(resume);
    }
    in->c.assigned -= parts->cnt;
    update_pending(in);
    sky_log_info("ingest: %s %d partition(s)", kind == SKY_REBALANCE_LOST ? "lost" : "revoked",
                 parts->cnt);
}

/* ---- periodic work ---- */

static void periodic(sky_ingest_t *in) {
    int64_t now = sky_monotonic_ns();
    if (now >= in->next_lag_ns) {
        in->next_lag_ns = now + 250 * MS_NS;
        in->c.lag = sky_consumer_lag(in->consumer);
    }
    if (now >= in->next_recommit_ns) { /* an async commit that failed goes again */
        in->next_recommit_ns = now + RECOMMIT_NS;
        for (int p = 0; p < in->nparts_seen; p++)
            if (in->part_commit[p] >= 0)
                in->part_sent[p] = -1;
        commit_offsets(in, false);
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
}

/* One round: take what the fetcher has (up to a burst), then look at the batches. */
static void round_trip(sky_ingest_t *in, int wait_ms) {
    rd_kafka_message_t *m = sky_consumer_poll(in->consumer, wait_ms);
    for (int n = 0; m; n++) {
        handle_message(in, m);
        m = n < POLL_BURST ? sky_consumer_poll(in->consumer, 0) : NULL;
    }
    reap(in);
    watch_sinks(in);
    close_ready(in, false);
    update_pending(in);
    periodic(in);
}

/* Stops consuming, hands every open batch to the sinks and waits for them (bounded,
 * or until a second signal); the last offsets are committed synchronously. */
static int drain_and_stop(sky_ingest_t *in, volatile sig_atomic_t *stop, char *errstr,
                          size_t errstr_size) {
    in->sink_down = true; /* pauses everything: nothing new comes in */
    apply_pauses(in);
    int64_t deadline = sky_monotonic_ns() + STOP_GIVE_UP_MS * MS_NS;
    bool given_up = false;
    for (;;) {
        close_ready(in, true);
        reap(in);
        if (!inflight_any(in))
            break;
        if (!given_up && ((stop && *stop >= 2) || sky_monotonic_ns() > deadline || in->fatal)) {
            sky_ingest_stages_give_up(in);
            given_up = true;
        }
        rd_kafka_message_t *m = sky_consumer_poll(in->consumer, 50);
        for (; m; m = sky_consumer_poll(in->consumer, 0))
            handle_message(in, m); /* fetched before the pause: stored like the rest */
        periodic(in);
    }
    commit_offsets(in, true);
    update_pending(in);
    if (in->fatal)
        return sky_err(errstr, errstr_size, in->fatal, "ingest: a sink failed for good (see the "
                                                       "log); nothing after it was committed");
    if (given_up)
        return sky_err(errstr, errstr_size, SKY_EINTR,
                       "stopped with rows not stored (not committed: re-delivered later)");
    return 0;
}

int sky_ingest_run(sky_ingest_t *in, volatile sig_atomic_t *stop, char *errstr,
                   size_t errstr_size) {
    while (!*stop && !in->fatal)
        round_trip(in, next_deadline_ms(in, 100));
    return drain_and_stop(in, stop, errstr, errstr_size);
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
    in->nlanes = cfg->pg_connections > 0 ? cfg->pg_connections
                                         : sky_ingest_default_pg_connections();
    if (in->nlanes > SKY_INGEST_MAX_PG_CONNECTIONS)
        in->nlanes = SKY_INGEST_MAX_PG_CONNECTIONS;
    in->with_tile38 = !cfg->disable_tile38;
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
    sky_hist_t **all[] = {&in->h.consumed,  &in->h.tile38,    &in->h.pg,        &in->h.consume,
                          &in->h.decode_ns, &in->h.batch,     &in->h.pg_stage,  &in->h.t38_stage,
                          &in->h.pg_write,  &in->h.t38_write, &in->h.commit,    &in->h.batch_rows,
                          &in->h.batch_us};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!(*all[i] = sky_hist_new()))
            return SKY_ENOMEM;
    in->lanes = calloc((size_t)in->nlanes, sizeof *in->lanes);
    if (!in->lanes)
        return SKY_ENOMEM;
    for (int i = 0; i < in->nlanes; i++) {
        sky_lane_t *l = &in->lanes[i];
        l->in = in;
        l->index = i;
        if (pthread_mutex_init(&l->mu, NULL) || pthread_cond_init(&l->cv, NULL) ||
            pthread_mutex_init(&l->t38.mu, NULL) || pthread_cond_init(&l->t38.cv, NULL))
            return SKY_ENOMEM;
    }
    for (int p = 0; p < SKY_INGEST_MAX_PARTITIONS; p++) {
        in->part_lane[p] = -1;
        in->part_commit[p] = in->part_sent[p] = -1;
    }
    return 0;
}

static int render_metrics(void *opaque, sky_buf_t *out);

static int connect_sinks(sky_ingest_t *in, const sky_ingest_config_t *cfg, char *errstr,
                         size_t errstr_size) {
    for (int i = 0; in->with_tile38 && i < in->nlanes; i++) {
        sky_t38sink_t *t = sky_t38sink_new(cfg->tile38_host ? cfg->tile38_host : "127.0.0.1",
                                           cfg->tile38_port ? cfg->tile38_port : 9851,
                                           in->collection, in->ttl_s, 5000, errstr, errstr_size);
        if (!(in->lanes[i].t38.sink = t))
            return SKY_ENOMEM;
        char why[512];
        /* Tile38 down at the start is a Tile38 down like any other: wait for it */
        if (sky_t38sink_connect(t, why, sizeof why) && i == 0)
            sky_log_warn("ingest: %s; starting anyway: every batch waits for Tile38 "
                         "(partitions paused, retried with backoff up to %d s) and no offset "
                         "is committed until it answers",
                         why, BACKOFF_MAX_MS / 1000);
    }
    for (int i = 0; i < in->nlanes; i++) {
        in->lanes[i].pg = sky_pgsink_new(in->pg_conninfo, in->schema, errstr, errstr_size);
        if (!in->lanes[i].pg)
            return SKY_EUNAVAIL;
    }
    sky_schema_info_t info;
    PGconn *conn = sky_pgsink_conn(in->lanes[0].pg);
    int rc = cfg->init_schema
                 ? sky_schema_init(conn, &in->schema_opts, &info, errstr, errstr_size)
                 : sky_schema_read(conn, in->schema, &info, errstr, errstr_size);
    if (!rc && info.version == 0)
        rc = sky_err(errstr, errstr_size, SKY_EUSAGE,
                     "PostgreSQL schema \"%s\" has no skyload tables: run ingest --init-schema",
                     in->schema);
    in->schema_native = !info.timescaledb;
    /* the staging table and search_path are per session: set them up again */
    return rc ? rc : sky_pgsink_reconnect(in->lanes[0].pg, errstr, errstr_size);
}

/* Geofences (lib/geofence.h): registered with --init-schema, and on the relay route
 * their events relayed to the topic (ingest/geofence_relay.h). Each lane then SETs every
 * newer position of a flight in order, not only its newest: Tile38 sends enter/exit
 * events from each pair of consecutive positions. */
static int start_geofences(sky_ingest_t *in, const sky_ingest_config_t *cfg, char *errstr,
                           size_t errstr_size) {
    if (!cfg->geofence || !in->with_tile38)
        return 0;
    for (int i = 0; i < in->nlanes; i++)
        sky_t38sink_set_every_position(in->lanes[i].t38.sink, true);
    return sky_geofence_ingest_start(cfg->geofence, cfg->kafka,
                                     cfg->tile38_host ? cfg->tile38_host : "127.0.0.1",
                                     cfg->tile38_port ? cfg->tile38_port : 9851, cfg->init_schema,
                                     &in->relay, errstr, errstr_size);
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
    if (!in || pthread_mutex_init(&in->lock, NULL) || pthread_mutex_init(&in->dlq_mu, NULL) ||
        pthread_mutex_init(&in->done_mu, NULL) || pthread_cond_init(&in->done_cv, NULL)) {
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
    rc = rc ? rc : start_geofences(in, cfg, errstr, errstr_size);
    rc = rc ? rc : start_kafka(in, cfg, errstr, errstr_size);
    rc = rc ? rc : sky_ingest_stages_start(in, errstr, errstr_size);
    if (code)
        *code = rc;
    if (rc) {
        sky_ingest_destroy(in);
        return NULL;
    }
    return in;
}

static void free_batches(sky_batch_t *b) {
    while (b) {
        sky_batch_t *next = b->next;
        sky_batch_destroy(b);
        b = next;
    }
}

void sky_ingest_destroy(sky_ingest_t *in) {
    if (!in)
        return;
    sky_metrics_http_stop(in->metrics);
    sky_ingest_stages_stop(in);
    sky_consumer_destroy(in->consumer);
    if (in->dlq) {
        char ignored[128];
        sky_producer_flush(in->dlq, 5000, ignored, sizeof ignored);
    }
    sky_producer_destroy(in->dlq);
    sky_geofence_relay_stop(in->relay, 10000); /* after the last SET: relays up to it */
    for (int i = 0; in->lanes && i < in->nlanes; i++) {
        sky_lane_t *l = &in->lanes[i];
        sky_t38sink_destroy(l->t38.sink);
        free(l->t38.rows);
        pthread_mutex_destroy(&l->t38.mu);
        pthread_cond_destroy(&l->t38.cv);
        sky_pgsink_destroy(l->pg);
        free(l->pg_rows);
        sky_batch_destroy(l->open);
        free_batches(l->inflight);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
    }
    free(in->lanes);
    free_batches(in->free_batches);
    sky_hist_t *all[] = {in->h.consumed,  in->h.tile38,    in->h.pg,       in->h.consume,
                         in->h.decode_ns, in->h.batch,     in->h.pg_stage, in->h.t38_stage,
                         in->h.pg_write,  in->h.t38_write, in->h.commit,   in->h.batch_rows,
                         in->h.batch_us};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sky_hist_destroy(all[i]);
    free(in->topic);
    free(in->group);
    free(in->collection);
    free(in->dlq_topic);
    free(in->schema);
    free(in->pg_conninfo);
    free(in->stats_path);
    pthread_mutex_destroy(&in->lock);
    pthread_mutex_destroy(&in->dlq_mu);
    pthread_mutex_destroy(&in->done_mu);
    pthread_cond_destroy(&in->done_cv);
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
    out->pg_connections = in->nlanes;
}

void sky_ingest_reset_latency(sky_ingest_t *in) {
    sky_hist_t *all[] = {in->h.consumed,  in->h.tile38,    in->h.pg,       in->h.consume,
                         in->h.decode_ns, in->h.batch,     in->h.pg_stage, in->h.t38_stage,
                         in->h.pg_write,  in->h.t38_write, in->h.commit,   in->h.batch_rows,
                         in->h.batch_us};
    pthread_mutex_lock(&in->lock);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sky_hist_reset(all[i]);
    pthread_mutex_unlock(&in->lock);
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
    rc |= sky_metrics_add_counter(out, "skyload_ingest_pg_connections",
                                  "PostgreSQL connections writing in parallel", "gauge",
                                  s.pg_connections);
    pthread_mutex_lock(&in->lock);
    static const struct {
        const char *name, *help;
        size_t off;
        double scale;
    } sums[] = {
        {"skyload_ingest_consumed_latency_seconds", "intended -> consumed",
         offsetof(sky_ingest_hists_t, consumed), 1e6},
        {"skyload_ingest_tile38_latency_seconds", "intended -> Tile38 ack",
         offsetof(sky_ingest_hists_t, tile38), 1e6},
        {"skyload_ingest_pg_commit_latency_seconds", "intended -> PostgreSQL commit",
         offsetof(sky_ingest_hists_t, pg), 1e6},
        {"skyload_ingest_batch_wait_seconds", "consumed -> its batch closed",
         offsetof(sky_ingest_hists_t, batch), 1e6},
        {"skyload_ingest_pg_write_seconds", "one batch's COPY + commit",
         offsetof(sky_ingest_hists_t, pg_write), 1e6},
        {"skyload_ingest_tile38_write_seconds", "one batch's Tile38 SETs",
         offsetof(sky_ingest_hists_t, t38_write), 1e6},
        {"skyload_ingest_batch_rows", "rows per batch", offsetof(sky_ingest_hists_t, batch_rows),
         1.0},
        {"skyload_ingest_batch_duration_seconds", "batch closed -> stored in both sinks",
         offsetof(sky_ingest_hists_t, batch_us), 1e6},
    };
    for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++)
        rc |= sky_metrics_add_summary(out, sums[i].name, sums[i].help,
                                      *(sky_hist_t **)((char *)&in->h + sums[i].off),
                                      sums[i].scale);
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
                       "\"paused_ms\":%lld,\"tile38_sets\":%llu,\"pg_connections\":%d,"
                       "\"batch_rows_max\":%d,"
                       "\"batch_ms\":%d,\"latency_us\":{\"consumed\":",
                       (unsigned long long)s.consumed, (unsigned long long)s.stored_pg,
                       (unsigned long long)s.stored_tile38, (unsigned long long)s.dlq,
                       (unsigned long long)s.stale_dropped,
                       (unsigned long long)s.duplicates_ignored, (unsigned long long)s.batches,
                       (unsigned long long)s.sink_retries, (unsigned long long)s.tile38_refused,
                       (unsigned long long)s.pauses, (long long)s.paused_ms,
                       (unsigned long long)in->c.tile38_sets, in->nlanes,
                       in->batch_rows, in->batch_ms);
    pthread_mutex_lock(&in->lock);
    sky_ingest_hists_t *h = &in->h;
    rc |= sky_hist_to_json(h->consumed, b);
    rc |= sky_buf_add_str(b, ",\"tile38\":");
    rc |= sky_hist_to_json(h->tile38, b);
    rc |= sky_buf_add_str(b, ",\"pg_commit\":");
    rc |= sky_hist_to_json(h->pg, b);
    static const struct {
        const char *name;
        size_t off;
    } stages[] = {
        {"consume", offsetof(sky_ingest_hists_t, consume)},
        {"batch", offsetof(sky_ingest_hists_t, batch)},
        {"pg", offsetof(sky_ingest_hists_t, pg_stage)},
        {"tile38", offsetof(sky_ingest_hists_t, t38_stage)},
        {"pg_write_batch", offsetof(sky_ingest_hists_t, pg_write)},
        {"tile38_write_batch", offsetof(sky_ingest_hists_t, t38_write)},
        {"commit", offsetof(sky_ingest_hists_t, commit)},
        {"batch_total", offsetof(sky_ingest_hists_t, batch_us)},
    };
    rc |= sky_buf_add_str(b, "},\"stages_us\":{");
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        rc |= sky_buf_addf(b, "%s\"%s\":", i ? "," : "", stages[i].name);
        rc |= sky_hist_to_json(*(sky_hist_t **)((char *)h + stages[i].off), b);
    }
    rc |= sky_buf_add_str(b, "},\"decode_ns\":");
    rc |= sky_hist_to_json(h->decode_ns, b);
    rc |= sky_buf_add_str(b, ",\"batch_rows\":");
    rc |= sky_hist_to_json(h->batch_rows, b);
    pthread_mutex_unlock(&in->lock);
    rc |= sky_buf_add_str(b, "}\n");
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
