/* Dead-letter check: every malformed record the manifest injected is in
 * <topic>.dlq with its key, skyload headers and skyload-error, and nothing else
 * of this run is. */
#include "checks.h"

#include "error.h"
#include "topic_reader.h"

#include <stdlib.h>
#include <string.h>

typedef struct dlq_entry {
    const sky_vm_fault_t *fault;
    uint64_t seen;
} dlq_entry_t;

typedef struct dlq_pass {
    sky_verify_ctx_t *ctx;
    sky_verify_check_t *check;
    dlq_entry_t *expected; /* malformed faults, sorted by (flight, seq) */
    size_t nexpected;
    uint64_t matched, unexpected, no_error_header, other_run;
} dlq_pass_t;

static int entry_cmp_key(const char *flight, size_t len, int64_t seq, const sky_vm_fault_t *f) {
    size_t flen = strlen(f->flight);
    int c = memcmp(flight, f->flight, len < flen ? len : flen);
    if (c)
        return c;
    if (len != flen)
        return len < flen ? -1 : 1;
    return seq < f->seq ? -1 : seq > f->seq;
}

static int entry_cmp(const void *a, const void *b) {
    const sky_vm_fault_t *x = ((const dlq_entry_t *)a)->fault;
    return entry_cmp_key(x->flight, strlen(x->flight), x->seq, ((const dlq_entry_t *)b)->fault);
}

static dlq_entry_t *find_entry(dlq_pass_t *d, const char *flight, size_t len, int64_t seq) {
    size_t lo = 0, hi = d->nexpected;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = entry_cmp_key(flight, len, seq, d->expected[mid].fault);
        if (!c)
            return &d->expected[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static int in_run(const sky_verify_manifest_t *m, rd_kafka_headers_t *h) {
    const void *v;
    size_t len;
    if (rd_kafka_header_get_last(h, SKY_HDR_RUN, &v, &len) || !v)
        return 0;
    for (size_t i = 0; i < m->nrun_ids; i++)
        if (strlen(m->run_ids[i]) == len && memcmp(m->run_ids[i], v, len) == 0)
            return 1;
    return m->nrun_ids == 0;
}

static void on_record(dlq_pass_t *d, const rd_kafka_message_t *m) {
    rd_kafka_headers_t *h = NULL;
    int64_t seq = -1;
    if (rd_kafka_message_headers(m, &h) || !h || !in_run(d->ctx->m, h)) {
        d->other_run++;
        return;
    }
    sky_header_i64(h, SKY_HDR_SEQ, &seq);
    const char *key = m->key ? (const char *)m->key : "";
    size_t klen = m->key ? m->key_len : 0;
    const void *err;
    size_t errlen;
    if (rd_kafka_header_get_last(h, SKY_HDR_ERROR, &err, &errlen)) {
        d->no_error_header++;
        sky_verify_check_problem(d->check, key, klen, seq, m->partition, m->offset,
                                 "dead letter without a %s header", SKY_HDR_ERROR);
    }
    dlq_entry_t *e = find_entry(d, key, klen, seq);
    if (e) {
        if (!e->seen++)
            d->matched++;
        return;
    }
    d->unexpected++;
    sky_verify_check_problem(d->check, key, klen, seq, m->partition, m->offset,
                             "unexpected dead letter: %.*s", err ? (int)errlen : 0,
                             err ? (const char *)err : "");
}

static void on_records(void *opaque, const rd_kafka_message_t *const *msgs, size_t n) {
    for (size_t i = 0; i < n; i++)
        on_record(opaque, msgs[i]);
}

static int collect_expected(dlq_pass_t *d) {
    const sky_verify_manifest_t *m = d->ctx->m;
    d->expected = calloc(m->nfaults ? m->nfaults : 1, sizeof *d->expected);
    if (!d->expected)
        return SKY_ENOMEM;
    for (size_t i = 0; i < m->nfaults; i++)
        if (m->faults[i].kind == SKY_FAULT_MALFORMED)
            d->expected[d->nexpected++].fault = &m->faults[i];
    qsort(d->expected, d->nexpected, sizeof *d->expected, entry_cmp);
    return 0;
}

static void summarize(dlq_pass_t *d, const sky_topic_read_stats_t *st) {
    for (size_t i = 0; i < d->nexpected; i++) {
        const sky_vm_fault_t *f = d->expected[i].fault;
        if (!d->expected[i].seen)
            sky_verify_check_problem(d->check, f->flight, strlen(f->flight), f->seq, -1, -1,
                                     "malformed record is not in %s", d->ctx->dlq_topic);
    }
    sky_verify_check_count(d->check, "expected", (int64_t)d->nexpected);
    sky_verify_check_count(d->check, "found", (int64_t)d->matched);
    sky_verify_check_count(d->check, "unexpected", (int64_t)d->unexpected);
    sky_verify_check_count(d->check, "other_runs", (int64_t)d->other_run);
    if (!st->complete)
        sky_verify_check_set(d->check, SKY_CHECK_FAIL, "read of %s stopped before its end",
                             d->ctx->dlq_topic);
    else if (d->check->status == SKY_CHECK_FAIL && st->topic_missing)
        sky_verify_check_set(d->check, SKY_CHECK_FAIL,
                             "%zu injected malformed records, and no %s: no ingest read the "
                             "topic (--skip dlq when none does)",
                             d->nexpected, d->ctx->dlq_topic);
    else if (d->check->status == SKY_CHECK_FAIL)
        sky_verify_check_set(d->check, SKY_CHECK_FAIL,
                             "%llu of %zu injected malformed records missing, %llu unexpected",
                             (unsigned long long)(d->nexpected - d->matched), d->nexpected,
                             (unsigned long long)d->unexpected);
    else
        sky_verify_check_set(d->check, SKY_CHECK_PASS, "%zu dead letters, all injected%s",
                             d->nexpected, st->topic_missing ? " (topic absent)" : "");
}

int sky_verify_check_dlq(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size) {
    dlq_pass_t d = {.ctx = ctx};
    if (collect_expected(&d) || !(d.check = sky_verify_report_add_check(ctx->report, "dlq"))) {
        free(d.expected);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    sky_topic_read_stats_t st;
    int rc = sky_topic_read(ctx->cfg->kafka, ctx->dlq_topic, ctx->m, 0, ctx->timeout_ms,
                            ctx->cfg->stop, on_records, &d, &st, errstr, errstr_size);
    if (!rc)
        summarize(&d, &st);
    free(d.expected);
    return rc;
}
