/* Kafka checks: completeness, duplicates, one partition per flight, per-flight
 * order, and the intended -> broker-timestamp latency. Reads headers and keys
 * only (values are never decoded) and allocates nothing per record. */
#include "checks.h"

#include "error.h"
#include "topic_reader.h"

#include <string.h>

typedef struct kafka_pass {
    sky_verify_ctx_t *ctx;
    sky_verify_check_t *complete, *dups, *parts, *order;
    sky_hist_t *latency;
    int tstype; /* of the first record with a timestamp */
    uint64_t other_run, no_headers, unknown_flight, outside_range, dropped_present;
    uint64_t injected_dups, injected_reorders;
} kafka_pass_t;

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

static void check_partition(kafka_pass_t *k, sky_vflight_t *f, const rd_kafka_message_t *m,
                            int64_t seq) {
    if (f->partition < 0) {
        f->partition = m->partition;
        return;
    }
    if (m->partition == f->partition || f->other_partition >= 0)
        return;
    f->other_partition = m->partition;
    sky_verify_check_problem(k->parts, f->id, f->id_len, seq, m->partition, m->offset,
                             "flight split across partitions %d and %d", (int)f->partition,
                             (int)m->partition);
}

static void check_order(kafka_pass_t *k, sky_vflight_t *f, const rd_kafka_message_t *m,
                        int64_t seq) {
    if (m->partition != f->partition)
        return; /* order is only defined within one partition */
    if (seq < f->max_seq) {
        if (sky_flight_faults_at(k->ctx->table, f, seq) & SKY_FAULT_BIT(SKY_FAULT_REORDER))
            k->injected_reorders++;
        else
            sky_verify_check_problem(k->order, f->id, f->id_len, seq, m->partition, m->offset,
                                     "seq %lld at offset %lld comes after seq %lld at offset %lld",
                                     (long long)seq, (long long)m->offset, (long long)f->max_seq,
                                     (long long)f->max_seq_offset);
        return;
    }
    f->max_seq = seq;
    f->max_seq_offset = m->offset;
}

static void on_new_seq(kafka_pass_t *k, sky_vflight_t *f, const rd_kafka_message_t *m,
                       int64_t seq) {
    const unsigned absent = SKY_FAULT_BIT(SKY_FAULT_DROP) | SKY_FAULT_BIT(SKY_FAULT_GAP);
    if (f->nfaults && (sky_flight_faults_at(k->ctx->table, f, seq) & absent)) {
        k->dropped_present++;
        sky_verify_check_problem(k->complete, f->id, f->id_len, seq, m->partition, m->offset,
                                 "seq was dropped by the generator but is in the topic");
    }
}

static void on_record(void *opaque, const rd_kafka_message_t *m) {
    kafka_pass_t *k = opaque;
    rd_kafka_headers_t *h = NULL;
    int64_t seq, intended;
    if (rd_kafka_message_headers(m, &h) || !h || sky_header_i64(h, SKY_HDR_SEQ, &seq)) {
        k->no_headers++;
        return;
    }
    if (!run_matches(k->ctx->m, h)) {
        k->other_run++;
        return;
    }
    sky_vflight_t *f = m->key ? sky_flight_table_find(k->ctx->table, m->key, m->key_len) : NULL;
    if (!f) {
        k->unknown_flight++;
        sky_verify_check_problem(k->complete, (const char *)m->key, m->key ? m->key_len : 0, seq,
                                 m->partition, m->offset, "flight is not in the manifest");
        return;
    }
    f->seen_count++;
    check_partition(k, f, m, seq);
    int mark = sky_flight_mark(f, seq);
    if (mark < 0) {
        k->outside_range++;
        sky_verify_check_problem(k->complete, f->id, f->id_len, seq, m->partition, m->offset,
                                 "seq outside the manifest's range [%lld, %lld]",
                                 (long long)f->first_seq, (long long)f->last_seq);
    } else if (mark > 0) {
        f->duplicates++;
        if (sky_flight_faults_at(k->ctx->table, f, seq) & SKY_FAULT_BIT(SKY_FAULT_DUPLICATE))
            k->injected_dups++;
        else
            sky_verify_check_problem(k->dups, f->id, f->id_len, seq, m->partition, m->offset,
                                     "duplicate record");
    } else {
        on_new_seq(k, f, m, seq);
    }
    check_order(k, f, m, seq);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts_ms = rd_kafka_message_timestamp(m, &tstype);
    if (ts_ms > 0 && !sky_header_i64(h, SKY_HDR_INTENDED, &intended) && intended > 0) {
        if (k->tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
            k->tstype = (int)tstype;
        sky_hist_record(k->latency, ts_ms * 1000 - intended / 1000);
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

static void summarize(kafka_pass_t *k, const sky_topic_read_stats_t *st) {
    const unsigned absent = SKY_FAULT_BIT(SKY_FAULT_DROP) | SKY_FAULT_BIT(SKY_FAULT_GAP);
    uint64_t expected;
    uint64_t missing = sky_verify_report_missing(k->ctx, k->complete, absent, &expected);
    sky_verify_check_count(k->complete, "records_read", (int64_t)st->records);
    sky_verify_check_count(k->complete, "expected", (int64_t)expected);
    sky_verify_check_count(k->complete, "missing", (int64_t)missing);
    sky_verify_check_count(k->complete, "unknown_flight", (int64_t)k->unknown_flight);
    sky_verify_check_count(k->complete, "outside_range", (int64_t)k->outside_range);
    sky_verify_check_count(k->complete, "dropped_present", (int64_t)k->dropped_present);
    sky_verify_check_count(k->complete, "other_runs", (int64_t)k->other_run);
    sky_verify_check_count(k->complete, "without_headers", (int64_t)k->no_headers);
    if (!st->complete)
        sky_verify_check_set(k->complete, SKY_CHECK_FAIL,
                             "read stopped before the end of the topic (%llu of %lld records)",
                             (unsigned long long)st->records, (long long)st->expected);
    else if (k->complete->status == SKY_CHECK_FAIL)
        sky_verify_check_set(k->complete, SKY_CHECK_FAIL,
                             "%llu missing, %llu unexpected records in %s",
                             (unsigned long long)missing,
                             (unsigned long long)(k->unknown_flight + k->outside_range +
                                                  k->dropped_present), k->ctx->topic);
    else
        sky_verify_check_set(k->complete, SKY_CHECK_PASS, "all %llu expected records in %s",
                             (unsigned long long)expected, k->ctx->topic);
    sky_verify_check_count(k->dups, "injected", (int64_t)k->injected_dups);
    sky_verify_check_set(k->dups, k->dups->status, "%llu unexpected duplicates (%llu injected)",
                         (unsigned long long)k->dups->nproblems,
                         (unsigned long long)k->injected_dups);
    sky_verify_check_set(k->parts, k->parts->status, "%llu flights on more than one partition",
                         (unsigned long long)k->parts->nproblems);
    sky_verify_check_count(k->order, "injected_reorders", (int64_t)k->injected_reorders);
    sky_verify_check_set(k->order, k->order->status,
                         "%llu records out of per-flight order (%llu injected reorders)",
                         (unsigned long long)k->order->nproblems,
                         (unsigned long long)k->injected_reorders);
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

int sky_verify_check_kafka(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size) {
    kafka_pass_t k = {.ctx = ctx, .tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE};
    if (!(k.latency = sky_hist_new()) || add_checks(&k, ctx->report)) {
        sky_hist_destroy(k.latency);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    sky_flight_table_reset(ctx->table);
    sky_topic_read_stats_t st;
    int rc = sky_topic_read(ctx->cfg->kafka, ctx->topic, ctx->m, 1, ctx->timeout_ms,
                            ctx->cfg->stop, on_record, &k, &st, errstr, errstr_size);
    if (!rc && st.topic_missing)
        rc = sky_err(errstr, errstr_size, SKY_EKAFKA, "topic \"%s\" does not exist", ctx->topic);
    if (rc) {
        sky_hist_destroy(k.latency);
        return rc;
    }
    summarize(&k, &st);
    const char *src = k.tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime"
                                                                      : "CreateTime";
    if (!sky_verify_report_add_stage(ctx->report, "kafka", src, k.latency))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    return 0;
}
