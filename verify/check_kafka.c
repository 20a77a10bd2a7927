/* Kafka checks: completeness, duplicates, one partition per flight, per-flight
 * order, and the intended -> broker-timestamp latency. Reads headers and keys
 * only (values are never decoded) and allocates nothing per record. */
#include "checks.h"

#include "cpus.h"
#include "error.h"
#include "topic_reader.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct kafka_pass {
    sky_verify_ctx_t *ctx;
    sky_verify_check_t *complete, *dups, *parts, *order;
    bool shared;          /* several reading threads: flight state is updated atomically */
    pthread_mutex_t lock; /* the checks' problem lists, when shared */
} kafka_pass_t;

/* One reading thread's part of the pass, added up when the reading is done. */
typedef struct lane {
    kafka_pass_t *k;
    sky_hist_t *latency;
    int tstype; /* of the first record with a timestamp */
    uint64_t other_run, no_headers, unknown_flight, outside_range, dropped_present;
    uint64_t injected_dups, injected_reorders;
} lane_t;

__attribute__((format(printf, 7, 8))) static void
problem(lane_t *l, sky_verify_check_t *c, const char *flight, size_t flight_len, int64_t seq,
        const rd_kafka_message_t *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (l->k->shared)
        pthread_mutex_lock(&l->k->lock);
    sky_verify_check_vproblem(c, flight, flight_len, seq, m->partition, m->offset, fmt, ap);
    if (l->k->shared)
        pthread_mutex_unlock(&l->k->lock);
    va_end(ap);
}

static int run_matches(const sky_verify_manifest_t *m, rd_kafka_headers_t *h) {
    const void *v;
    size_t len;
    if (rd_kafka_header_get_last(h, SKY_HDR_RUN, &v, &len) || !v)
        return 0;
    if (!m->nrun_ids) /* a manifest without run id accepts every skyload record */
        return 1;
    for (size_t i = 0; i < m->nrun_ids; i++)
        if (strlen(m->run_ids[i]) == len && memcmp(m->run_ids[i], v, len) == 0)
            return 1;
    return 0;
}

/* Returns the flight's partition (the first one it was seen on). */
static int32_t check_partition(lane_t *l, sky_vflight_t *f, const rd_kafka_message_t *m,
                               int64_t seq) {
    int32_t first = sky_flight_claim_partition(f, m->partition);
    if (first != m->partition && sky_flight_note_other_partition(f, m->partition))
        problem(l, l->k->parts, f->id, f->id_len, seq, m,
                "flight split across partitions %d and %d", (int)first, (int)m->partition);
    return first;
}

/* Only the reader of the flight's first partition gets here, so max_seq is its own. */
static void check_order(lane_t *l, sky_vflight_t *f, const rd_kafka_message_t *m, int64_t seq) {
    if (seq < f->max_seq) {
        if (sky_flight_faults_at(l->k->ctx->table, f, seq) & SKY_FAULT_BIT(SKY_FAULT_REORDER))
            l->injected_reorders++;
        else
            problem(l, l->k->order, f->id, f->id_len, seq, m,
                    "seq %lld at offset %lld comes after seq %lld at offset %lld", (long long)seq,
                    (long long)m->offset, (long long)f->max_seq, (long long)f->max_seq_offset);
        return;
    }
    f->max_seq = seq;
    f->max_seq_offset = m->offset;
}

static void on_new_seq(lane_t *l, sky_vflight_t *f, const rd_kafka_message_t *m, int64_t seq) {
    const unsigned absent = SKY_FAULT_BIT(SKY_FAULT_DROP) | SKY_FAULT_BIT(SKY_FAULT_GAP);
    if (f->nfaults && (sky_flight_faults_at(l->k->ctx->table, f, seq) & absent)) {
        l->dropped_present++;
        problem(l, l->k->complete, f->id, f->id_len, seq, m,
                "seq was dropped by the generator but is in the topic");
    }
}

static void on_record(lane_t *l, const rd_kafka_message_t *m, sky_vflight_t *candidate,
                      uint64_t hash) {
    kafka_pass_t *k = l->k;
    rd_kafka_headers_t *h = NULL;
    int64_t seq, intended;
    if (rd_kafka_message_headers(m, &h) || !h || sky_header_i64(h, SKY_HDR_SEQ, &seq)) {
        l->no_headers++;
        return;
    }
    if (!run_matches(k->ctx->m, h)) {
        l->other_run++;
        return;
    }
    sky_vflight_t *f =
        m->key ? sky_flight_table_confirm(k->ctx->table, candidate, m->key, m->key_len, hash)
               : NULL;
    if (!f) {
        l->unknown_flight++;
        problem(l, k->complete, (const char *)m->key, m->key ? m->key_len : 0, seq, m,
                "flight is not in the manifest");
        return;
    }
    int32_t partition = check_partition(l, f, m, seq);
    int mark = k->shared ? sky_flight_mark_shared(f, seq) : sky_flight_mark(f, seq);
    if (mark < 0) {
        l->outside_range++;
        problem(l, k->complete, f->id, f->id_len, seq, m,
                "seq outside the manifest's range [%lld, %lld]", (long long)f->first_seq,
                (long long)f->last_seq);
    } else if (mark > 0) {
        if (sky_flight_faults_at(k->ctx->table, f, seq) & SKY_FAULT_BIT(SKY_FAULT_DUPLICATE))
            l->injected_dups++;
        else
            problem(l, k->dups, f->id, f->id_len, seq, m, "duplicate record");
    } else {
        on_new_seq(l, f, m, seq);
    }
    if (m->partition == partition) /* order is only defined within one partition */
        check_order(l, f, m, seq);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts_ms = rd_kafka_message_timestamp(m, &tstype);
    if (ts_ms > 0 && !sky_header_i64(h, SKY_HDR_INTENDED, &intended) && intended > 0) {
        if (l->tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
            l->tstype = (int)tstype;
        sky_hist_record(l->latency, ts_ms * 1000 - intended / 1000);
    }
}

#define STAGE 32 /* records whose flight lookups are in flight at once */

/* Looks the flights of STAGE records up in three passes -- hash and slot, candidate
 * flight, its bitmap -- before handling each record, so that the lookups' cache misses
 * (a flight table of 100,000 flights is far larger than the caches) overlap. */
static void on_records(void *opaque, const rd_kafka_message_t *const *msgs, size_t n) {
    lane_t *l = opaque;
    sky_flight_table_t *t = l->k->ctx->table;
    uint64_t hash[STAGE];
    sky_vflight_t *cand[STAGE];
    for (size_t at = 0; at < n; at += STAGE) {
        size_t k = n - at < STAGE ? n - at : STAGE;
        for (size_t i = 0; i < k; i++) {
            const rd_kafka_message_t *m = msgs[at + i];
            hash[i] = m->key ? sky_flight_table_prefetch(t, m->key, m->key_len) : 0;
        }
        for (size_t i = 0; i < k; i++)
            cand[i] = msgs[at + i]->key ? sky_flight_table_candidate(t, hash[i]) : NULL;
        for (size_t i = 0; i < k; i++)
            if (cand[i])
                __builtin_prefetch(cand[i]->seen);
        for (size_t i = 0; i < k; i++)
            on_record(l, msgs[at + i], cand[i], hash[i]);
    }
}

uint64_t sky_verify_report_missing(sky_verify_ctx_t *ctx, sky_verify_check_t *c,
                                   unsigned excused, uint64_t *expected) {
    uint64_t missing = 0, exp = 0;
    for (size_t i = 0; i < sky_flight_table_count(ctx->table); i++) {
        sky_vflight_t *f = sky_flight_table_at(ctx->table, i);
        for (int64_t s = f->first_seq; s <= f->last_seq; s++) {
            uint64_t bit = (uint64_t)(s - f->first_seq);
            uint64_t word = f->seen[bit >> 6];
            if (word == UINT64_MAX && (bit & 63) == 0 && s + 63 <= f->last_seq && !f->nfaults) {
                exp += 64; /* a whole word seen: skip ahead */
                s += 63;
                continue;
            }
            int excused_here =
                f->nfaults && (sky_flight_faults_at(ctx->table, f, s) & excused);
            if (excused_here)
                continue;
            exp++;
            if ((word >> (bit & 63)) & 1)
                continue;
            missing++;
            sky_verify_check_problem(c, f->id, f->id_len, s, f->partition, -1, "missing");
        }
    }
    if (expected)
        *expected = exp;
    return missing;
}

static void summarize(kafka_pass_t *k, const lane_t *l, const sky_topic_read_stats_t *st) {
    const unsigned absent = SKY_FAULT_BIT(SKY_FAULT_DROP) | SKY_FAULT_BIT(SKY_FAULT_GAP);
    uint64_t expected;
    uint64_t missing = sky_verify_report_missing(k->ctx, k->complete, absent, &expected);
    sky_verify_check_count(k->complete, "records_read", (int64_t)st->records);
    sky_verify_check_count(k->complete, "expected", (int64_t)expected);
    sky_verify_check_count(k->complete, "missing", (int64_t)missing);
    sky_verify_check_count(k->complete, "unknown_flight", (int64_t)l->unknown_flight);
    sky_verify_check_count(k->complete, "outside_range", (int64_t)l->outside_range);
    sky_verify_check_count(k->complete, "dropped_present", (int64_t)l->dropped_present);
    sky_verify_check_count(k->complete, "other_runs", (int64_t)l->other_run);
    sky_verify_check_count(k->complete, "without_headers", (int64_t)l->no_headers);
    if (!st->complete)
        sky_verify_check_set(k->complete, SKY_CHECK_FAIL,
                             "read stopped before the end of the topic (%llu of %lld records)",
                             (unsigned long long)st->records, (long long)st->expected);
    else if (k->complete->status == SKY_CHECK_FAIL)
        sky_verify_check_set(k->complete, SKY_CHECK_FAIL,
                             "%llu missing, %llu unexpected records in %s",
                             (unsigned long long)missing,
                             (unsigned long long)(l->unknown_flight + l->outside_range +
                                                  l->dropped_present), k->ctx->topic);
    else
        sky_verify_check_set(k->complete, SKY_CHECK_PASS, "all %llu expected records in %s",
                             (unsigned long long)expected, k->ctx->topic);
    sky_verify_check_count(k->dups, "injected", (int64_t)l->injected_dups);
    sky_verify_check_set(k->dups, k->dups->status, "%llu unexpected duplicates (%llu injected)",
                         (unsigned long long)k->dups->nproblems,
                         (unsigned long long)l->injected_dups);
    sky_verify_check_set(k->parts, k->parts->status, "%llu flights on more than one partition",
                         (unsigned long long)k->parts->nproblems);
    sky_verify_check_count(k->order, "injected_reorders", (int64_t)l->injected_reorders);
    sky_verify_check_set(k->order, k->order->status,
                         "%llu records out of per-flight order (%llu injected reorders)",
                         (unsigned long long)k->order->nproblems,
                         (unsigned long long)l->injected_reorders);
}

static int add_checks(kafka_pass_t *k, sky_verify_report_t *r) {
    /* Checks are added up front and looked up again: add_check may move them. */
    if (!sky_verify_report_add_check(r, "kafka.complete") ||
        !sky_verify_report_add_check(r, "kafka.duplicates") ||
        !sky_verify_report_add_check(r, "kafka.partitioning") ||
        !sky_verify_report_add_check(r, "kafka.ordering"))
        return SKY_ENOMEM;
    k->complete = &r->checks[r->nchecks - 4];
    k->dups = &r->checks[r->nchecks - 3];
    k->parts = &r->checks[r->nchecks - 2];
    k->order = &r->checks[r->nchecks - 1];
    return 0;
}

/* Adds lane src into dst. */
static void merge_lane(lane_t *dst, const lane_t *src) {
    dst->other_run += src->other_run;
    dst->no_headers += src->no_headers;
    dst->unknown_flight += src->unknown_flight;
    dst->outside_range += src->outside_range;
    dst->dropped_present += src->dropped_present;
    dst->injected_dups += src->injected_dups;
    dst->injected_reorders += src->injected_reorders;
    if (dst->tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
        dst->tstype = src->tstype;
    sky_hist_merge(dst->latency, src->latency);
}

static int read_topic(kafka_pass_t *k, lane_t *lanes, int nlanes, sky_topic_read_stats_t *st,
                      char *errstr, size_t errstr_size) {
    sky_verify_ctx_t *ctx = k->ctx;
    void *opaques[SKY_VERIFY_MAX_THREADS];
    for (int i = 0; i < nlanes; i++)
        opaques[i] = &lanes[i];
    k->shared = nlanes > 1;
    int rc = sky_topic_read_parallel(ctx->cfg->kafka, ctx->topic, ctx->m, 1, ctx->timeout_ms,
                                     ctx->cfg->stop, nlanes, on_records, opaques, st, errstr,
                                     errstr_size);
    if (!rc && st->topic_missing)
        rc = sky_err(errstr, errstr_size, SKY_EKAFKA, "topic \"%s\" does not exist", ctx->topic);
    for (int i = 1; !rc && i < nlanes; i++)
        merge_lane(&lanes[0], &lanes[i]);
    return rc;
}

int sky_verify_check_kafka(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size) {
    kafka_pass_t k = {.ctx = ctx};
    lane_t lanes[SKY_VERIFY_MAX_THREADS];
    long nlanes = ctx->cfg->threads > 0 ? ctx->cfg->threads : sky_cpus_usable();
    nlanes = nlanes < 1 ? 1 : nlanes > SKY_VERIFY_MAX_THREADS ? SKY_VERIFY_MAX_THREADS : nlanes;
    int rc = add_checks(&k, ctx->report) ? SKY_ENOMEM : 0;
    for (long i = 0; i < nlanes; i++) {
        lanes[i] = (lane_t){.k = &k, .tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE,
                            .latency = sky_hist_new()};
        if (!lanes[i].latency)
            rc = SKY_ENOMEM;
    }
    pthread_mutex_init(&k.lock, NULL);
    sky_flight_table_reset(ctx->table);
    sky_topic_read_stats_t st;
    if (rc)
        sky_err(errstr, errstr_size, rc, "out of memory");
    else
        rc = read_topic(&k, lanes, (int)nlanes, &st, errstr, errstr_size);
    if (!rc) {
        summarize(&k, &lanes[0], &st);
        const char *src = lanes[0].tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime"
                                                                                : "CreateTime";
        if (!sky_verify_report_add_stage(ctx->report, "kafka", src, lanes[0].latency))
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
        lanes[0].latency = NULL; /* the report's now, also on failure */
    }
    for (long i = 0; i < nlanes; i++)
        sky_hist_destroy(lanes[i].latency);
    pthread_mutex_destroy(&k.lock);
    return rc;
}
