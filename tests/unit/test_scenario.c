/* Scenario files: every field read, defaults kept, load profiles, and each bad
 * input reported as file:line:col. */
#include "error.h"
#include "scenario.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static sky_scenario_t *parse_ok(const char *yaml) {
    sky_scenario_t *s = NULL;
    char err[512];
    int rc = sky_scenario_parse(yaml, strlen(yaml), "t.yaml", &s, err, sizeof err);
    if (rc)
        fail_msg("parse failed: %s", err);
    return s;
}

static void test_scenario_reads_every_field(void **state) {
    (void)state;
    const char *y = "name: demo\nseed: 9\nstart_time: 2026-11-25T10:00:00Z\nduration: 90s\n"
                    "cadence: 2s\nspeedup: 4\nrate: max\naircraft: 70\ntopic: t1\npartitions: 3\n"
                    "ttl: 5m\ntimestamp_format: epoch-ms\n"
                    "region: {bbox: [40, -10, 60, 20], airports: [EGLL, LFPG], routes: [EGLL-LFPG]}\n"
                    "faults: {drop: 0.1, gap: 0.05, gap_length: 5}\n"
                    "slo: {latency_ms: {kafka_ack: {p99: 50}}}\n";
    sky_scenario_t *s = parse_ok(y);
    assert_string_equal(s->name, "demo");
    assert_int_equal(s->seed, 9);
    assert_true(s->has_start_time);
    assert_int_equal(s->start_time_ms, 1795600800000LL);
    assert_int_equal(s->duration_ms, 90000);
    assert_int_equal(s->cadence_ms, 2000);
    assert_true(s->speedup == 4.0);
    assert_true(s->rate < 0);
    assert_int_equal(s->load.from, 70);
    assert_string_equal(s->topic, "t1");
    assert_int_equal(s->partitions, 3);
    assert_int_equal(s->ttl_s, 300);
    assert_string_equal(s->timestamp_format, "epoch-ms");
    assert_true(s->has_bbox && s->south == 40 && s->east == 20);
    assert_int_equal(s->nairports, 2);
    assert_string_equal(s->routes[0], "EGLL-LFPG");
    assert_true(s->faults.drop == 0.1 && s->faults.gap_length == 5);
    json_t *p99 = json_object_get(
        json_object_get(json_object_get(s->slo, "latency_ms"), "kafka_ack"), "p99");
    assert_true(json_is_integer(p99) && json_integer_value(p99) == 50);
    sky_scenario_destroy(s);
}

static void test_scenario_defaults_when_absent(void **state) {
    (void)state;
    sky_scenario_t *s = parse_ok("aircraft: 5\n");
    assert_string_equal(s->name, "t");
    assert_int_equal(s->cadence_ms, 5000);
    assert_int_equal(s->partitions, 6);
    assert_int_equal(s->ttl_s, 120);
    assert_false(s->has_start_time);
    assert_null(s->slo);
    assert_null(s->topic);
    sky_scenario_destroy(s);
}

static void test_scenario_keeps_airspaces(void **state) {
    (void)state;
    sky_scenario_t *s = parse_ok("aircraft: 5\nairspaces:\n"
                                 "  - {name: a, polygon: [[1, 2], [3, 4], [5, 6]]}\n"
                                 "  - {name: b, circle: {lat: 50, lon: 8, radius_nm: 25}}\n"
                                 "  - {name: c, airport: EGLL, radius_nm: 10}\n");
    assert_int_equal(s->nairspaces, 3);
    assert_int_equal(s->airspaces[0].kind, SKY_AIRSPACE_POLYGON);
    assert_int_equal(s->airspaces[0].npoints, 3);
    assert_true(s->airspaces[0].points[5] == 6);
    assert_int_equal(s->airspaces[1].kind, SKY_AIRSPACE_CIRCLE);
    assert_true(s->airspaces[1].radius_nm == 25 && s->airspaces[1].lat == 50);
    assert_int_equal(s->airspaces[2].kind, SKY_AIRSPACE_AIRPORT);
    assert_string_equal(s->airspaces[2].airport, "EGLL");
    sky_scenario_destroy(s);
}

static void test_scenario_airspace_altitudes_and_files(void **state) {
    (void)state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "aircraft: 5\nairspaces:\n"
             "  - {name: low, polygon: [[1, 2], [3, 4], [5, 6]], floor_ft: -500, ceiling_ft: "
             "10000}\n"
             "  - file: %s/tests/data/airspaces/two.geojson\n"
             "  - file: %s/tests/data/airspaces/list.yaml\n",
             SKY_SOURCE_DIR, SKY_SOURCE_DIR);
    sky_scenario_t *s = parse_ok(yaml);
    assert_int_equal(s->nairspaces, 5);
    const sky_airspace_t *a = s->airspaces;
    assert_true(a[0].has_floor && a[0].floor_ft == -500 && a[0].ceiling_ft == 10000);
    assert_string_equal(a[1].name, "DONUT");
    assert_int_equal(sky_airspace_rings(&a[1]), 2);
    size_t first, end;
    sky_airspace_ring(&a[1], 1, &first, &end);
    assert_int_equal(first, 5);
    assert_int_equal(end, 10);
    assert_true(a[1].points[2 * 6] == 4 && a[1].points[2 * 6 + 1] == 6); /* [lon, lat] swapped */
    assert_true(a[1].has_ceiling && a[1].ceiling_ft == 24500);
    assert_string_equal(a[2].name, "RING"); /* Tile38's own circle form, named by id */
    assert_int_equal(a[2].kind, SKY_AIRSPACE_CIRCLE);
    assert_true(a[2].radius_nm == 10 && a[2].lat == 50.0333);
    assert_string_equal(a[4].name, "LIST-B");
    assert_int_equal(a[4].kind, SKY_AIRSPACE_AIRPORT);
    assert_false(a[4].has_floor);
    sky_scenario_destroy(s);
    /* airspaces: {file: PATH} */
    snprintf(yaml, sizeof yaml, "airspaces: {file: %s/tests/data/airspaces/two.geojson}\n",
             SKY_SOURCE_DIR);
    s = parse_ok(yaml);
    assert_int_equal(s->nairspaces, 2);
    sky_scenario_destroy(s);
}

static void test_airspaces_load_reports_file_errors(void **state) {
    (void)state;
    static const struct {
        const char *text, *error;
    } rows[] = {
        {"{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", "
         "\"properties\": {}, \"geometry\": {\"type\": \"Point\", \"coordinates\": [1, 2]}}]}",
         "x.geojson: features[0]: needs properties.name"},
        {"{\"type\": \"Feature\", \"properties\": {\"name\": \"P\"}, \"geometry\": {\"type\": "
         "\"Point\", \"coordinates\": [1, 2]}}",
         "x.geojson: feature: Point \"P\": needs properties.radius_nm"},
        {"{\"type\": \"Feature\", \"properties\": {\"name\": \"P\"}, \"geometry\": {\"type\": "
         "\"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [0, 0]]]}}",
         "x.geojson: feature: \"P\": polygon 0 needs at least 3 distinct points"},
        {"{\"type\": \"Feature\", \"properties\": {\"name\": \"P Q\"}, \"geometry\": {\"type\": "
         "\"Point\", \"coordinates\": [1, 2]}}",
         "x.geojson: feature: Point \"P Q\": needs"},
        {"{\"type\": \"Feature\", \"properties\": {\"name\": \"P\", \"radius_nm\": 3, "
         "\"floor_ft\": 9000, \"ceiling_ft\": 1000}, \"geometry\": {\"type\": \"Point\", "
         "\"coordinates\": [1, 2]}}",
         "x.geojson: feature: \"P\": floor_ft 9000 is above ceiling_ft 1000"},
        {"{\"type\": \"Feature\", \"properties\": {\"name\": \"P\"}, \"geometry\": {\"type\": "
         "\"Polygon\", \"coordinates\": [[[200, 0], [1, 0], [1, 1]]]}}",
         "x.geojson: feature: ring 0, position 0: expected [lon, lat]"},
        {"[1,", "x.geojson:1:"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_airspace_t *arr = NULL;
        size_t n = 0;
        char err[512] = "";
        int rc = sky_airspaces_parse_geojson(rows[i].text, strlen(rows[i].text), "x.geojson",
                                             &arr, &n, err, sizeof err);
        if (rc != SKY_EINVAL || strncmp(err, rows[i].error, strlen(rows[i].error)) != 0)
            fail_msg("row %zu: rc=%d error \"%s\", want prefix \"%s\"", i, rc, err,
                     rows[i].error);
        sky_airspaces_free(arr, n);
    }
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/tests/data/airspaces/bad.geojson", SKY_SOURCE_DIR);
    sky_airspace_t *arr = NULL;
    size_t n = 0;
    assert_int_equal(sky_airspaces_load(path, &arr, &n, err, sizeof err), SKY_EINVAL);
    assert_non_null(strstr(err, "features[1]: geometry type \"MultiPolygon\""));
    sky_airspaces_free(arr, n);
}

struct bad_row {
    const char *yaml;
    const char *error; /* expected prefix of the message */
};

static void test_scenario_rejects_bad_input_with_position(void **state) {
    (void)state;
    static const struct bad_row rows[] = {
        {"aircraft: 10\nduraton: 30s\n", "t.yaml:2:1: unknown key \"duraton\""},
        {"aircraft: 10\nspeedup: fast\n", "t.yaml:2:10: speedup"},
        {"aircraft: 0\n", "t.yaml:1:11: aircraft"},
        {"aircraft: 1\nregion:\n  bbox: [50, 0, 40]\n", "t.yaml:3:10: bbox: expected"},
        {"aircraft: 1\nregion:\n  bbox: [50, 0, 40, 10]\n", "t.yaml:3:10: bbox: south"},
        {"aircraft: 1\nfaults: {drop: 1.5}\n", "t.yaml:2:16: drop"},
        {"aircraft: 1\nfaults: {drop: 0.6, gap: 0.6}\n", "t.yaml:2:10: faults: the rates"},
        {"load: {profile: wave, to: 3}\n", "t.yaml:1:17: profile: \"wave\""},
        {"aircraft: 1\nregion: {routes: [EGLL]}\n", "t.yaml:2:19: routes"},
        {"aircraft: 1\nairspaces: [{name: x}]\n", "t.yaml:2:14: airspace: needs one"},
        {"aircraft: 1\nairspaces: [{name: a b, airport: EGLL, radius_nm: 1}]\n",
         "t.yaml:2:14: airspace: name \"a b\" may only hold"},
        {"aircraft: 1\nairspaces: [{name: a, airport: EGLL}]\n",
         "t.yaml:2:14: airspace: \"a\" needs radius_nm"},
        {"aircraft: 1\nairspaces:\n  - {name: a, airport: EGLL, radius_nm: 1}\n"
         "  - {name: a, airport: EHAM, radius_nm: 1}\n",
         "t.yaml:4:6: airspaces: \"a\" is named twice"},
        {"aircraft: 1\nairspaces: [{name: a, airport: EGLL, radius_nm: 1, ceiling_ft: 10, "
         "floor_ft: 20}]\n", "t.yaml:2:14: airspace: \"a\": floor_ft 20 is above"},
        {"aircraft: 1\nairspaces: [{file: /nonexistent.geojson}]\n",
         "t.yaml:2:20: file: /nonexistent.geojson: cannot open"},
        {"aircraft: 1\nairspaces: [{file: x.geojson, name: y}]\n",
         "t.yaml:2:14: airspace: `file:` stands alone"},
        {"aircraft: 1\nstart_time: yesterday\n", "t.yaml:2:13: start_time"},
        {"aircraft: [1\n", "t.yaml:"},
        {"aircraft: 1\nfaults:\n  drop: 0.01\n duplicate: 0.01\n", "t.yaml:4:2: invalid indentation"},
        {"\taircraft: 1\n", "t.yaml:1:1: invalid tab"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_scenario_t *s = NULL;
        char err[512] = "";
        int rc = sky_scenario_parse(rows[i].yaml, strlen(rows[i].yaml), "t.yaml", &s, err,
                                    sizeof err);
        if (rc != SKY_EINVAL || s || strncmp(err, rows[i].error, strlen(rows[i].error)) != 0)
            fail_msg("row %zu: rc=%d error \"%s\", want prefix \"%s\"", i, rc, err,
                     rows[i].error);
    }
}

struct profile_row {
    sky_load_profile_t p;
    int64_t t_ms;
    uint64_t target;
};

static void test_profile_target_table(void **state) {
    (void)state;
    static const struct profile_row rows[] = {
        {{SKY_PROFILE_CONSTANT, 10, 0, 0, 0, 0}, 500, 10},
        {{SKY_PROFILE_RAMP, 100, 200, 0, 0, 0}, 0, 100},
        {{SKY_PROFILE_RAMP, 100, 200, 0, 0, 0}, 5000, 150},
        {{SKY_PROFILE_RAMP, 100, 200, 0, 0, 0}, 10000, 200},
        {{SKY_PROFILE_STEP, 10, 20, 3000, 0, 0}, 2999, 10},
        {{SKY_PROFILE_STEP, 10, 20, 3000, 0, 0}, 3000, 20},
        {{SKY_PROFILE_SPIKE, 10, 50, 1000, 1000, 0}, 1500, 50},
        {{SKY_PROFILE_SPIKE, 10, 50, 1000, 1000, 0}, 2000, 10},
        {{SKY_PROFILE_DIURNAL, 0, 100, 0, 0, 4000}, 0, 0},
        {{SKY_PROFILE_DIURNAL, 0, 100, 0, 0, 4000}, 2000, 100},
        {{SKY_PROFILE_DIURNAL, 0, 100, 0, 0, 4000}, 1000, 50},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t got = sky_profile_target(&rows[i].p, rows[i].t_ms, 10000);
        if (got != rows[i].target)
            fail_msg("row %zu: target %llu, want %llu", i, (unsigned long long)got,
                     (unsigned long long)rows[i].target);
    }
}

static void test_shipped_scenarios_load(void **state) {
    (void)state;
    static const char *const names[] = {"smoke", "ci", "europe-peak", "world-peak", "million",
                                        "faults"};
    const char *src = getenv("SKY_SOURCE_DIR");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1024], err[512];
        sky_scenario_t *s = NULL;
        snprintf(path, sizeof path, "%s/scenarios/%s.yaml", src ? src : SKY_SOURCE_DIR, names[i]);
        if (sky_scenario_load(path, &s, err, sizeof err))
            fail_msg("%s", err);
        assert_string_equal(s->name, names[i]);
        sky_scenario_destroy(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_reads_every_field),
        cmocka_unit_test(test_scenario_defaults_when_absent),
        cmocka_unit_test(test_scenario_keeps_airspaces),
        cmocka_unit_test(test_scenario_airspace_altitudes_and_files),
        cmocka_unit_test(test_airspaces_load_reports_file_errors),
        cmocka_unit_test(test_scenario_rejects_bad_input_with_position),
        cmocka_unit_test(test_profile_target_table),
        cmocka_unit_test(test_shipped_scenarios_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
