/* Registration commands: each airspace's SETHOOK / SETCHAN, argument by argument
 * (route, META, the fence, DETECT enter,exit, COMMANDS set, WHERE altitude, the
 * geometry written so Tile38 reads back the exact doubles), and the events topic. */
#include "error.h"
#include "geofence.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void joined(const sky_geofence_args_t *a, char *out, size_t outsz) {
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < a->argc && at < outsz; i++) {
        int n = snprintf(out + at, outsz - at, "%s%s", i ? " " : "", a->argv[i]);
        at += n > 0 ? (size_t)n : 0;
    }
}

struct cmd_row {
    sky_airspace_t a;
    sky_geofence_route_t route;
    const char *brokers;
    const char *want;
};

static void test_geofence_commands(void **state) {
    (void)state;
    static double square[] = {0, 0, 0, 10, 10, 10, 10, 0, /* hole, closed: */ 4, 4, 4, 6, 6, 6,
                              6, 4, 4, 4};
    static size_t ends[] = {4, 9};
    static double tri[] = {51.0, -1.0, 51.0, 0.8, 52.1, 0.1};
    struct cmd_row rows[] = {
        {{.name = "SQ", .kind = SKY_AIRSPACE_POLYGON, .points = square, .npoints = 9,
          .ring_end = ends, .nrings = 2, .has_ceiling = true, .ceiling_ft = 20000},
         SKY_GEOFENCE_RELAY, NULL,
         "SETCHAN SQ META source skyload WITHIN flights FENCE DETECT enter,exit COMMANDS set "
         "WHERE altitude -inf 20000 OBJECT {\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],"
         "[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"},
        {{.name = "LTMA", .kind = SKY_AIRSPACE_POLYGON, .points = tri, .npoints = 3,
          .has_floor = true, .floor_ft = 2500},
         SKY_GEOFENCE_HOOK, "PLAINTEXT://10.0.0.7:9092,10.0.0.8:9092",
         "SETHOOK LTMA kafka://10.0.0.7:9092/flights.events META source skyload WITHIN flights "
         "FENCE DETECT enter,exit COMMANDS set WHERE altitude 2500 +inf OBJECT "
         "{\"type\":\"Polygon\",\"coordinates\":[[[-1,51],[0.8,51],[0.1,52.1],[-1,51]]]}"},
        {{.name = "EGLL-TMA", .kind = SKY_AIRSPACE_AIRPORT, .lat = 51.4706, .lon = -0.461941,
          .radius_nm = 35},
         SKY_GEOFENCE_RELAY, NULL,
         "SETCHAN EGLL-TMA META source skyload NEARBY flights FENCE DETECT enter,exit COMMANDS "
         "set POINT 51.4706 -0.461941 64820"},
        {{.name = "C", .kind = SKY_AIRSPACE_CIRCLE, .lat = 0.1, .lon = 179.8, .radius_nm = 0.3},
         SKY_GEOFENCE_HOOK, NULL,
         "SETHOOK C kafka://127.0.0.1:9092/flights.events META source skyload NEARBY flights "
         "FENCE DETECT enter,exit COMMANDS set POINT 0.1 179.8 555.6"}, /* shortest exact text */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_geofence_config_t c = {.route = rows[i].route, .events_topic = "flights.events",
                                   .brokers = rows[i].brokers};
        sky_geofence_args_t args;
        char err[256], got[1024];
        if (sky_geofence_command(&c, &rows[i].a, &args, err, sizeof err))
            fail_msg("row %zu: %s", i, err);
        joined(&args, got, sizeof got);
        if (strcmp(got, rows[i].want) != 0)
            fail_msg("row %zu:\n got  %s\n want %s", i, got, rows[i].want);
        for (size_t k = 0; k < args.argc; k++) /* every number reads back exactly */
            if (strcmp(args.argv[k], "POINT") == 0)
                assert_true(strtod(args.argv[k + 1], NULL) == rows[i].a.lat &&
                            strtod(args.argv[k + 2], NULL) == rows[i].a.lon &&
                            strtod(args.argv[k + 3], NULL) == rows[i].a.radius_nm * 1852.0);
        sky_geofence_args_free(&args);
    }
}

static void test_geofence_command_errors(void **state) {
    (void)state;
    sky_airspace_t unresolved = {.name = "X", .kind = SKY_AIRSPACE_AIRPORT, .radius_nm = 5};
    memcpy(unresolved.airport, "EGLL", 5);
    sky_airspace_t circle = {.name = "Y", .kind = SKY_AIRSPACE_CIRCLE, .lat = 1, .lon = 2,
                             .radius_nm = 5};
    sky_geofence_config_t c = {.route = SKY_GEOFENCE_RELAY, .events_topic = "e"};
    sky_geofence_args_t args;
    char err[256];
    assert_int_equal(sky_geofence_command(&c, &unresolved, &args, err, sizeof err), SKY_EUSAGE);
    assert_non_null(strstr(err, "EGLL not resolved"));
    c.route = SKY_GEOFENCE_HOOK;
    c.brokers = "nohostport";
    assert_int_equal(sky_geofence_command(&c, &circle, &args, err, sizeof err), SKY_EUSAGE);
    assert_non_null(strstr(err, "host:port"));
}

static void test_geofence_route_and_topic_names(void **state) {
    (void)state;
    sky_geofence_route_t r;
    char err[256], topic[64];
    assert_int_equal(sky_geofence_route_parse("hook", &r, err, sizeof err), 0);
    assert_int_equal(r, SKY_GEOFENCE_HOOK);
    assert_string_equal(sky_geofence_route_name(r), "hook");
    assert_int_equal(sky_geofence_route_parse("relay", &r, err, sizeof err), 0);
    assert_int_equal(r, SKY_GEOFENCE_RELAY);
    assert_int_equal(sky_geofence_route_parse("webhook", &r, err, sizeof err), SKY_EUSAGE);
    assert_int_equal(SKY_GEOFENCE_DEFAULT_ROUTE, SKY_GEOFENCE_RELAY);
    sky_geofence_events_topic("flights", topic, sizeof topic);
    assert_string_equal(topic, "flights.events");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geofence_commands),
        cmocka_unit_test(test_geofence_command_errors),
        cmocka_unit_test(test_geofence_route_and_topic_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
