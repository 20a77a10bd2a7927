/* Geofence check: the events topic holds every enter/exit event the manifest expects
 * (flight, airspace, kind, seq of the position that caused it) exactly once, each
 * flight's in seq order, and nothing else for the run's flights and airspaces; the
 * latency intended -> event on the topic is the "geofence" stage. Events are Tile38's
 * own JSON messages, whichever route (hook or relay) put them there. */
#include "checks.h"

#include "error.h"
#include "idmap.h"
#include "timefmt.h"
#include "topic_reader.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SETTLE_MS 3000  /* a route still delivering: wait this long after its last event */
#define PASS_PAUSE_MS 250

typedef struct geo_pass {
    sky_verify_ctx_t *ctx;
    sky_verify_check_t *check;
    const sky_manifest_t *geo;
    sky_idmap_t *expected; /* "flight\x1f airspace\x1f kind\x1f seq" -> event index */
    uint32_t *matched;     /* per expected event */
    sky_idmap_t *flights;  /* flights seen in events -> index */
    int64_t *last_seq;     /* per flight in `flights`: highest seq of its events so far */
    size_t cap_flights;
    int64_t *next_offset;  /* per partition: where the next pass starts */
    size_t npart;
    sky_hist_t *latency;
    int tstype;
    uint64_t records, matched_total, unexpected, duplicates, out_of_order, other_airspaces,
        other_flights, other_kinds, not_json;
    int64_t last_new_ns; /* monotonic time of the latest event of this run */
    bool topic_missing;
} geo_pass_t;

static size_t event_key(char *out, size_t outsz, const char *flight, size_t flen,
                        const char *airspace, int kind, int64_t seq) {
    int n = snprintf(out, outsz, "%.*s\x1f%s\x1f%d\x1f%lld", (int)flen, flight, airspace, kind,
                     (long long)seq);
    return n < 0 ? 0 : (size_t)n < outsz ? (size_t)n : outsz - 1;
}

static bool is_airspace(const sky_manifest_geofence_t *g, const char *name) {
    for (size_t i = 0; i < g->nairspaces; i++)
        if (strcmp(g->airspaces[i], name) == 0)
            return true;
    return false;
}

static int64_t *flight_last_seq(geo_pass_t *p, const char *id, size_t len) {
    int64_t i = sky_idmap_intern(p->flights, id, len, NULL);
    if (i < 0)
        return NULL;
    if ((size_t)i >= p->cap_flights) {
        size_t cap = p->cap_flights ? p->cap_flights * 2 : 256;
        while (cap <= (size_t)i)
            cap *= 2;
        int64_t *n = realloc(p->last_seq, cap * sizeof *n);
        if (!n)
            return NULL;
        for (size_t k = p->cap_flights; k < cap; k++)
            n[k] = -1;
        p->last_seq = n;
        p->cap_flights = cap;
    }
    return &p->last_seq[i];
}

static void note_offset(geo_pass_t *p, int32_t partition, int64_t offset) {
    if (partition < 0)
        return;
    if ((size_t)partition >= p->npart) {
        int64_t *n = realloc(p->next_offset, ((size_t)partition + 1) * sizeof *n);
        if (!n)
            return; /* the next pass reads this partition again from its start: harmless */
        for (size_t k = p->npart; k <= (size_t)partition; k++)
            n[k] = -1;
        p->next_offset = n;
        p->npart = (size_t)partition + 1;
    }
    if (offset + 1 > p->next_offset[partition])
        p->next_offset[partition] = offset + 1;
}

static void on_event(geo_pass_t *p, const rd_kafka_message_t *m) {
    const sky_manifest_geofence_t *g = sky_manifest_geofence(p->geo);
    note_offset(p, m->partition, m->offset);
    p->records++;
    json_t *j = m->payload ? json_loadb(m->payload, m->len, 0, NULL) : NULL;
    const char *command = json_string_value(json_object_get(j, "command"));
    const char *detect = json_string_value(json_object_get(j, "detect"));
    const char *hook = json_string_value(json_object_get(j, "hook"));
    const char *id = json_string_value(json_object_get(j, "id"));
    /* Tile38 stores no zero-valued field: a flight's seq 0 has no "seq" */
    json_t *seqv = json_object_get(json_object_get(j, "fields"), "seq");
    int64_t seq = json_is_number(seqv) ? (int64_t)json_number_value(seqv) : 0;
    int kind = detect && strcmp(detect, "enter") == 0 ? 0 : detect && strcmp(detect, "exit") == 0
                                                                ? 1
                                                                : -1;
    if (!j || !hook || !id) {
        p->not_json++;
    } else if (!command || strcmp(command, "set") != 0 || kind < 0) {
        p->other_kinds++;
    } else if (!is_airspace(g, hook)) {
        p->other_airspaces++;
    } else if (!sky_flight_table_find(p->ctx->table, id, strlen(id))) {
        p->other_flights++;
    } else {
        char key[512];
        size_t klen = event_key(key, sizeof key, id, strlen(id), hook, kind, seq);
        int64_t e = sky_idmap_find(p->expected, key, klen);
        int64_t *last = flight_last_seq(p, id, strlen(id));
        p->last_new_ns = sky_monotonic_ns();
        if (e < 0) {
            p->unexpected++;
            sky_verify_check_problem(p->check, id, strlen(id), seq, m->partition, m->offset,
                                     "unexpected %s %s", detect, hook);
        } else if (p->matched[e]++) {
            p->duplicates++;
            sky_verify_check_problem(p->check, id, strlen(id), seq, m->partition, m->offset,
                                     "duplicate %s %s", detect, hook);
        } else {
            p->matched_total++;
            rd_kafka_timestamp_type_t tstype;
            int64_t ts_ms = rd_kafka_message_timestamp(m, &tstype);
            int64_t intended = sky_manifest_event(p->geo, (size_t)e)->intended_ns;
            if (ts_ms > 0 && intended > 0) {
                if (p->tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
                    p->tstype = (int)tstype;
                sky_hist_record(p->latency, ts_ms * 1000 - intended / 1000);
            }
        }
        if (last && seq < *last) {
            p->out_of_order++;
            sky_verify_check_problem(p->check, id, strlen(id), seq, m->partition, m->offset,
                                     "%s %s comes after an event of seq %lld", detect, hook,
                                     (long long)*last);
        } else if (last) {
            *last = seq;
        }
    }
    json_decref(j);
}

static void on_records(void *opaque, const rd_kafka_message_t *const *msgs, size_t n) {
    for (size_t i = 0; i < n; i++)
        on_event(opaque, msgs[i]);
}

static int build_index(geo_pass_t *p, char *errstr, size_t errsz) {
    size_t n = sky_manifest_event_count(p->geo);
    p->expected = sky_idmap_new(n);
    p->flights = sky_idmap_new(n / 2 + 16);
    p->matched = calloc(n ? n : 1, sizeof *p->matched);
    p->latency = sky_hist_new();
    if (!p->expected || !p->flights || !p->matched || !p->latency)
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const sky_manifest_event_t *e = sky_manifest_event(p->geo, i);
        char key[512];
        size_t klen = event_key(key, sizeof key, e->flight, strlen(e->flight), e->airspace,
                                e->kind, e->seq);
        bool added;
        if (sky_idmap_intern(p->expected, key, klen, &added) < 0)
            return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
        if (!added) /* two events with one key cannot both be sent: the manifest is wrong */
            return sky_err(errstr, errsz, SKY_EINVAL,
                           "manifest: event %s %s of %s at seq %lld listed twice",
                           sky_manifest_event_kind_name(e->kind), e->airspace, e->flight,
                           (long long)e->seq);
    }
    return 0;
}

/* One pass over the events topic from each partition's next offset to its high mark. */
static int read_pass(geo_pass_t *p, const char *topic, bool *complete, char *errstr,
                     size_t errsz) {
    sky_verify_manifest_t from;
    memset(&from, 0, sizeof from);
    sky_vm_partition_t *parts = calloc(p->npart ? p->npart : 1, sizeof *parts);
    if (!parts)
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->npart; i++)
        if (p->next_offset[i] >= 0)
            parts[from.npartitions++] = (sky_vm_partition_t){(int32_t)i, p->next_offset[i], -1};
    from.partitions = parts;
    sky_topic_read_stats_t st;
    int rc = sky_topic_read(p->ctx->cfg->kafka, topic, &from, 1, p->ctx->timeout_ms,
                            p->ctx->cfg->stop, on_records, p, &st, errstr, errsz);
    free(parts);
    *complete = !rc && (st.complete || st.topic_missing);
    p->topic_missing = !rc && st.topic_missing;
    return rc;
}

static uint64_t count_missing(geo_pass_t *p) {
    uint64_t missing = 0;
    for (size_t i = 0; i < sky_manifest_event_count(p->geo); i++)
        missing += p->matched[i] == 0;
    return missing;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void report_missing(geo_pass_t *p) {
    for (size_t i = 0; i < sky_manifest_event_count(p->geo); i++) {
        const sky_manifest_event_t *e = sky_manifest_event(p->geo, i);
        if (!p->matched[i])
            sky_verify_check_problem(p->check, e->flight, strlen(e->flight), e->seq, -1, -1,
                                     "missing %s %s at (%.5f, %.5f, %d ft)",
                                     sky_manifest_event_kind_name(e->kind), e->airspace, e->lat,
                                     e->lon, (int)e->alt_ft);
    }
}

static void summarize(geo_pass_t *p, const char *topic, uint64_t missing, bool complete) {
    sky_verify_check_t *c = p->check;
    uint64_t n = sky_manifest_event_count(p->geo), enter = 0;
    for (size_t i = 0; i < n; i++)
        enter += sky_manifest_event(p->geo, i)->kind == 0;
    sky_verify_check_count(c, "expected", (int64_t)n);
    sky_verify_check_count(c, "enter", (int64_t)enter);
    sky_verify_check_count(c, "exit", (int64_t)(n - enter));
    sky_verify_check_count(c, "matched", (int64_t)p->matched_total);
    sky_verify_check_count(c, "missing", (int64_t)missing);
    sky_verify_check_count(c, "unexpected", (int64_t)p->unexpected);
    sky_verify_check_count(c, "duplicates", (int64_t)p->duplicates);
    sky_verify_check_count(c, "out_of_order", (int64_t)p->out_of_order);
    sky_verify_check_count(c, "other_airspaces", (int64_t)p->other_airspaces);
    sky_verify_check_count(c, "other_flights", (int64_t)p->other_flights);
    sky_verify_check_count(c, "records_read", (int64_t)p->records);
    if (p->topic_missing && n)
        sky_verify_check_set(c, SKY_CHECK_FAIL,
                             "events topic %s does not exist: were the airspaces registered "
                             "(ingest --init-schema --airspaces, skyload geofence setup)?",
                             topic);
    else if (!complete)
        sky_verify_check_set(c, SKY_CHECK_FAIL,
                             "read of %s stopped before its end (%llu of %llu events found)", topic,
                             (unsigned long long)p->matched_total, (unsigned long long)n);
    else if (c->status == SKY_CHECK_FAIL)
        sky_verify_check_set(c, SKY_CHECK_FAIL,
                             "%llu missing, %llu unexpected, %llu duplicate, %llu out of order of "
                             "%llu expected events on %s",
                             (unsigned long long)missing, (unsigned long long)p->unexpected,
                             (unsigned long long)p->duplicates,
                             (unsigned long long)p->out_of_order, (unsigned long long)n, topic);
    else
        sky_verify_check_set(c, SKY_CHECK_PASS,
                             "all %llu expected events (%llu enter, %llu exit) once, in order, "
                             "on %s",
                             (unsigned long long)n, (unsigned long long)enter,
                             (unsigned long long)(n - enter), topic);
}

int sky_verify_check_geofence(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size) {
    const sky_manifest_t *geo = ctx->m->geo;
    const sky_manifest_geofence_t *g = geo ? sky_manifest_geofence(geo) : NULL;
    if (!g)
        return 0; /* a run without airspaces */
    char topic[512];
    if (ctx->cfg->events_topic)
        snprintf(topic, sizeof topic, "%s", ctx->cfg->events_topic);
    else if (g->events_topic)
        snprintf(topic, sizeof topic, "%s", g->events_topic);
    else
        snprintf(topic, sizeof topic, "%s.events", ctx->topic);
    geo_pass_t p = {.ctx = ctx, .geo = geo, .tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE};
    int rc = build_index(&p, errstr, errstr_size);
    if (!rc && !(p.check = sky_verify_report_add_check(ctx->report, "geofence")))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < g->nfrom; i++)
        note_offset(&p, g->from[i].partition, g->from[i].first_offset - 1);
    bool complete = false;
    if (!rc)
        rc = read_pass(&p, topic, &complete, errstr, errstr_size);
    /* a route may still be delivering (a hook's queue): read on while events come */
    int64_t t0 = sky_monotonic_ns(), timeout_ns = (int64_t)ctx->timeout_ms * 1000000;
    p.last_new_ns = t0;
    while (!rc && complete && count_missing(&p) &&
           sky_monotonic_ns() - p.last_new_ns < (int64_t)SETTLE_MS * 1000000 &&
           sky_monotonic_ns() - t0 < timeout_ns && !(ctx->cfg->stop && *ctx->cfg->stop)) {
        sleep_ms(PASS_PAUSE_MS);
        rc = read_pass(&p, topic, &complete, errstr, errstr_size);
    }
    if (!rc) {
        uint64_t missing = count_missing(&p);
        report_missing(&p);
        summarize(&p, topic, missing, complete);
        const char *src = p.tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime"
                                                                         : "CreateTime";
        if (!sky_verify_report_add_stage(ctx->report, "geofence", src, p.latency))
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
        p.latency = NULL; /* the report's now */
    }
    sky_hist_destroy(p.latency);
    sky_idmap_destroy(p.expected);
    sky_idmap_destroy(p.flights);
    free(p.matched);
    free(p.last_seq);
    free(p.next_offset);
    return rc;
}
