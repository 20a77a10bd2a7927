/* Manifests: write -> load round trip, streaming writer, merge of shards, and
 * load errors that name the file and position. */
#include "error.h"
#include "manifest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void tmp_path(char *out, size_t n, const char *tag) {
    snprintf(out, n, "/tmp/sky_test_manifest_%d_%s.json", (int)getpid(), tag);
}

static sky_manifest_t *sample(int shard, const char *prefix) {
    sky_manifest_t *m = sky_manifest_new();
    char start[32], end[32], run[32];
    snprintf(start, sizeof start, "2026-11-25T10:00:0%d.000Z", shard);
    snprintf(end, sizeof end, "2026-11-25T10:01:0%d.000Z", shard);
    snprintf(run, sizeof run, "r-x-42-%d", shard);
    sky_manifest_info_t info = {run, "simulate", "smoke", 42, "flights", shard, 1, start, end,
                                5000, 120};
    assert_int_equal(sky_manifest_set_info(m, &info), 0);
    for (int i = 0; i < 3; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s%d", prefix, i);
        sky_manifest_flight_t f = {id, "BAW", "BA1", "EGLL", "LFPG", 0, 10 + i, i, i == 2, true,
                                   {10 + i, 51.5 + i, -0.25, 31000, 450, 1795600860000,
                                    1795600860000000001}};
        assert_int_equal(sky_manifest_add_flight(m, &f), 0);
    }
    sky_manifest_fault_t faults[] = {{SKY_FAULT_GAP, "x", 4, 3, NULL},
                                     {SKY_FAULT_MALFORMED, "y", 2, 1, "latitude 91 out of range"}};
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(sky_manifest_add_fault(m, &faults[i]), 0);
    sky_manifest_partition_t p = {shard, 0, 99, 100};
    assert_int_equal(sky_manifest_add_partition(m, &p), 0);
    sky_manifest_totals_t t = {3, 36, 36, 0, 30};
    sky_manifest_set_totals(m, &t);
    json_t *slo = json_pack("{s:{s:{s:i}}}", "latency_ms", "kafka_ack", "p99", 50);
    sky_manifest_set_slo(m, slo);
    json_decref(slo);
    sky_hist_t *h = sky_hist_new();
    sky_hist_record(h, 1200);
    assert_int_equal(sky_manifest_set_ack_hist(m, h), 0);
    sky_hist_destroy(h);
    return m;
}

static void test_manifest_round_trips_every_field(void **state) {
    (void)state;
    char path[256], err[256];
    tmp_path(path, sizeof path, "rt");
    sky_manifest_t *m = sample(0, "F"), *back = NULL;
    assert_int_equal(sky_manifest_write(m, path, err, sizeof err), 0);
    assert_int_equal(sky_manifest_load(path, &back, err, sizeof err), 0);
    assert_string_equal(sky_manifest_info(back)->run_id, "r-x-42-0");
    assert_string_equal(sky_manifest_info(back)->scenario, "smoke");
    assert_int_equal(sky_manifest_info(back)->ttl_s, 120);
    assert_int_equal(sky_manifest_flight_count(back), 3);
    const sky_manifest_flight_t *f = sky_manifest_find_flight(back, "F2");
    assert_non_null(f);
    assert_int_equal(f->last_seq, 12);
    assert_int_equal(f->partition, 2);
    assert_true(f->landed && f->has_final);
    assert_true(f->final.lat == 53.5 && f->final.lon == -0.25);
    assert_int_equal(f->final.intended_ns, 1795600860000000001);
    assert_string_equal(f->arrival, "LFPG");
    assert_null(sky_manifest_find_flight(back, "nope"));
    assert_int_equal(sky_manifest_fault_count(back), 2);
    assert_int_equal(sky_manifest_fault(back, 0)->kind, SKY_FAULT_GAP);
    assert_int_equal(sky_manifest_fault(back, 0)->count, 3);
    assert_string_equal(sky_manifest_fault(back, 1)->reason, "latitude 91 out of range");
    assert_int_equal(sky_manifest_partition(back, 0)->last_offset, 99);
    assert_int_equal(sky_manifest_totals(back)->expected_unique, 30);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(sky_manifest_slo(back), "latency_ms"),
                                         "kafka_ack"),
                         "p99")),
                     50);
    assert_int_equal(sky_hist_count(sky_manifest_ack_hist(back)), 1);
    sky_manifest_destroy(m);
    sky_manifest_destroy(back);
    unlink(path);
}

/* A command's own member ("replay" counts) is written as given, once per name, and the
 * file still loads as a manifest. */
static void test_manifest_member_is_written_and_ignored_by_load(void **state) {
    (void)state;
    char path[256], err[256];
    tmp_path(path, sizeof path, "member");
    sky_manifest_t *m = sample(0, "F"), *back = NULL;
    json_t *old = json_pack("{s:i}", "read", 1), *rep = json_pack("{s:i,s:s}", "read", 4000,
                                                                  "note", "a \"quoted\" word");
    assert_int_equal(sky_manifest_set_member(m, "replay", old), 0);
    assert_int_equal(sky_manifest_set_member(m, "replay", rep), 0); /* replaces */
    json_decref(old);
    json_decref(rep);
    assert_int_equal(sky_manifest_write(m, path, err, sizeof err), 0);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        fail_msg("%s: %s", path, jerr.text);
    json_t *got = json_object_get(root, "replay");
    assert_int_equal(json_integer_value(json_object_get(got, "read")), 4000);
    assert_string_equal(json_string_value(json_object_get(got, "note")), "a \"quoted\" word");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "totals"), "produced")),
                     36);
    json_decref(root);
    assert_int_equal(sky_manifest_load(path, &back, err, sizeof err), 0);
    assert_int_equal(sky_manifest_flight_count(back), 3);
    sky_manifest_destroy(m);
    sky_manifest_destroy(back);
    unlink(path);
}

static void test_manifest_merge_concatenates_and_adds(void **state) {
    (void)state;
    char err[256];
    sky_manifest_t *a = sample(1, "A"), *b = sample(0, "B");
    assert_int_equal(sky_manifest_merge(a, b, err, sizeof err), 0);
    assert_int_equal(sky_manifest_flight_count(a), 6);
    assert_non_null(sky_manifest_find_flight(a, "B1"));
    assert_non_null(sky_manifest_find_flight(a, "A1"));
    assert_int_equal(sky_manifest_fault_count(a), 4);
    assert_int_equal(sky_manifest_partition_count(a), 2);
    assert_int_equal(sky_manifest_totals(a)->produced, 72);
    assert_int_equal(sky_manifest_totals(a)->expected_unique, 60);
    assert_int_equal(sky_manifest_info(a)->shard_count, 2);
    assert_string_equal(sky_manifest_info(a)->started_at, "2026-11-25T10:00:00.000Z");
    assert_string_equal(sky_manifest_info(a)->ended_at, "2026-11-25T10:01:01.000Z");
    assert_int_equal(sky_hist_count(sky_manifest_ack_hist(a)), 2);
    sky_manifest_destroy(b);
    sky_manifest_destroy(a);
}

static void test_manifest_streaming_writer_puts_streamed_flights_first(void **state) {
    (void)state;
    char path[256], err[256];
    tmp_path(path, sizeof path, "stream");
    sky_manifest_t *m = sample(0, "M"), *back = NULL;
    sky_manifest_writer_t *w;
    assert_int_equal(sky_manifest_writer_open(m, path, &w, err, sizeof err), 0);
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof id, "S%d", i);
        sky_manifest_flight_t f = {id, NULL, NULL, NULL, NULL, 0, i, -1, false, false, {0}};
        assert_int_equal(sky_manifest_writer_flight(w, &f), 0);
    }
    assert_int_equal(sky_manifest_writer_close(w, m, err, sizeof err), 0);
    assert_int_equal(sky_manifest_load(path, &back, err, sizeof err), 0);
    assert_int_equal(sky_manifest_flight_count(back), 1003);
    assert_string_equal(sky_manifest_flight(back, 999)->id, "S999");
    assert_false(sky_manifest_flight(back, 999)->has_final);
    assert_null(sky_manifest_flight(back, 0)->airline);
    assert_string_equal(sky_manifest_flight(back, 1000)->id, "M0");
    sky_manifest_destroy(m);
    sky_manifest_destroy(back);
    unlink(path);
}

struct bad_row {
    const char *text;
    const char *error; /* expected substring */
};

static void test_manifest_load_rejects_bad_files(void **state) {
    (void)state;
    static const struct bad_row rows[] = {
        {"{\"skyload_manifest\":1,\n\"flights\":[}", ":2:12: "},
        {"{\"run_id\":\"x\"}", "not a skyload manifest"},
        {"{\"skyload_manifest\":1,\"flights\":[{\"first_seq\":0}]}", "flights[0]"},
        {"{\"skyload_manifest\":1,\"faults\":[{\"kind\":\"teleport\",\"flight\":\"a\"}]}",
         "faults[0]"},
        {"{\"skyload_manifest\":1,\"partitions\":{}}", "\"partitions\" is not an array"},
        {"{\"skyload_manifest\":1,\"events\":[{\"flight\":\"a\",\"airspace\":\"b\",\"kind\":"
         "\"inside\",\"seq\":1}]}", "events[0]"},
        {"{\"skyload_manifest\":1,\"geofence\":{\"from_offsets\":[{\"partition\":0}]}}",
         "geofence.from_offsets[0]"},
    };
    char path[256];
    tmp_path(path, sizeof path, "bad");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(rows[i].text, f);
        fclose(f);
        sky_manifest_t *m = NULL;
        char err[256] = "";
        int rc = sky_manifest_load(path, &m, err, sizeof err);
        if (rc != SKY_EINVAL || m || !strstr(err, rows[i].error) || strncmp(err, path, strlen(path)))
            fail_msg("row %zu: rc=%d error \"%s\", want \"%s\"", i, rc, err, rows[i].error);
    }
    unlink(path);
    sky_manifest_t *m = NULL;
    char err[256];
    assert_int_equal(sky_manifest_load("/nonexistent/m.json", &m, err, sizeof err), SKY_EIO);
}

/* A shard with airspaces: events, and the events topic's offsets at its start. */
static void add_geofence(sky_manifest_t *m, const char *flight, const char *extra_airspace,
                         int64_t offset0) {
    const char *names[] = {"LHR-CTR", extra_airspace};
    sky_manifest_partition_t from[] = {{0, offset0, -1, 0}, {3, 7, -1, 0}};
    sky_manifest_geofence_t g = {"flights.events", "flights", names, 2, from, 2};
    assert_int_equal(sky_manifest_set_geofence(m, &g), 0);
    sky_manifest_event_t e[] = {{flight, "LHR-CTR", 0, 3, 1795600860000000001, 51.4, -0.4, 2500},
                                {flight, extra_airspace, 1, 9, 1795600890000000000, 51.6, 0.1,
                                 9000}};
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(sky_manifest_add_event(m, &e[i]), 0);
}

static void test_manifest_events_round_trip_and_merge(void **state) {
    (void)state;
    char path[256], err[256];
    tmp_path(path, sizeof path, "ev");
    sky_manifest_t *a = sample(0, "A"), *b = sample(1, "B"), *back = NULL;
    assert_null(sky_manifest_geofence(a));
    add_geofence(a, "A0", "LON-FIR", 12);
    add_geofence(b, "B1", "LTMA", 5);
    assert_int_equal(sky_manifest_merge(a, b, err, sizeof err), 0);
    assert_int_equal(sky_manifest_write(a, path, err, sizeof err), 0);
    assert_int_equal(sky_manifest_load(path, &back, err, sizeof err), 0);
    const sky_manifest_geofence_t *g = sky_manifest_geofence(back);
    assert_non_null(g);
    assert_string_equal(g->events_topic, "flights.events");
    assert_int_equal(g->nairspaces, 3); /* LHR-CTR once, LON-FIR, LTMA */
    assert_string_equal(g->airspaces[2], "LTMA");
    assert_int_equal(g->nfrom, 2);
    assert_int_equal(g->from[0].first_offset, 5); /* the lower start of the two shards */
    assert_int_equal(g->from[1].partition, 3);
    assert_int_equal(sky_manifest_event_count(back), 4);
    const sky_manifest_event_t *e = sky_manifest_event(back, 3);
    assert_string_equal(e->flight, "B1");
    assert_string_equal(e->airspace, "LTMA");
    assert_int_equal(e->kind, 1);
    assert_int_equal(e->seq, 9);
    assert_int_equal(e->alt_ft, 9000);
    assert_true(e->lat == 51.6 && e->lon == 0.1);
    assert_int_equal(sky_manifest_event(back, 0)->intended_ns, 1795600860000000001);
    sky_manifest_destroy(a);
    sky_manifest_destroy(b);
    sky_manifest_destroy(back);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_round_trips_every_field),
        cmocka_unit_test(test_manifest_member_is_written_and_ignored_by_load),
        cmocka_unit_test(test_manifest_merge_concatenates_and_adds),
        cmocka_unit_test(test_manifest_streaming_writer_puts_streamed_flights_first),
        cmocka_unit_test(test_manifest_load_rejects_bad_files),
        cmocka_unit_test(test_manifest_events_round_trip_and_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
