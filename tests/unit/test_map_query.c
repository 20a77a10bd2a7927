/* The map server's pure parts and the report's curves: query strings that must
 * be 400s, WITHIN replies to columns (absent fields are 0), fence commands to
 * GeoJSON, hook messages to events, the events ring, percentile curve points,
 * and the assets compiled into the binary. */
#include "histogram.h"
#include "map_events.h"
#include "map_query.h"
#include "report_html.h"
#include "web_assets.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_bbox_accepts_good_and_rejects_bad(void **state) {
    (void)state;
    static const struct {
        const char *in;
        int ok;
        double w, s, e, n;
    } rows[] = {
        {"-10,36,30,60", 1, -10, 36, 30, 60},
        {"-180,-90,180,90", 1, -180, -90, 180, 90},
        {"170,-10,-170,10", 1, 170, -10, -170, 10}, /* across the antimeridian */
        {"0.5,1.25,2.5,3.75", 1, 0.5, 1.25, 2.5, 3.75},
        {"", 0, 0, 0, 0, 0},
        {"1,2,3", 0, 0, 0, 0, 0},
        {"1,2,3,4,5", 0, 0, 0, 0, 0},
        {"1,,3,4", 0, 0, 0, 0, 0},
        {"a,b,c,d", 0, 0, 0, 0, 0},
        {"nan,0,1,1", 0, 0, 0, 0, 0},
        {"inf,0,1,1", 0, 0, 0, 0, 0},
        {"0,0,1,91", 0, 0, 0, 0, 0},
        {"-181,0,1,1", 0, 0, 0, 0, 0},
        {"0,10,1,5", 0, 0, 0, 0, 0}, /* south north of north */
        {"1 ,2,3,4", 0, 0, 0, 0, 0},
        {"1,2,3,4,", 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_bbox_t b;
        char err[256] = "";
        int rc = sky_map_parse_bbox(rows[i].in, &b, err, sizeof err);
        if (rows[i].ok) {
            assert_int_equal(rc, 0);
            assert_true(b.west == rows[i].w && b.south == rows[i].s && b.east == rows[i].e &&
                        b.north == rows[i].n);
        } else {
            assert_int_not_equal(rc, 0);
            assert_true(strlen(err) > 0);
        }
    }
}

static void test_listen_parses_host_and_port(void **state) {
    (void)state;
    static const struct {
        const char *in;
        int ok;
        const char *host;
        int port;
    } rows[] = {{"127.0.0.1:8080", 1, "127.0.0.1", 8080}, {"localhost:0", 1, "127.0.0.1", 0},
                {"0.0.0.0:9000", 1, "0.0.0.0", 9000},     {"127.0.0.1", 0, NULL, 0},
                {":8080", 0, NULL, 0},                    {"127.0.0.1:65536", 0, NULL, 0},
                {"example.com:80", 0, NULL, 0},           {"127.0.0.1:80x", 0, NULL, 0}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char host[64], err[256];
        int port = -1;
        int rc = sky_map_parse_listen(rows[i].in, host, sizeof host, &port, err, sizeof err);
        assert_int_equal(rc == 0, rows[i].ok);
        if (rows[i].ok) {
            assert_string_equal(host, rows[i].host);
            assert_int_equal(port, rows[i].port);
        }
    }
}

static void test_columns_from_within_reply(void **state) {
    (void)state;
    /* fields by name, in Tile38's order; a field Tile38 left out (value 0) is 0 */
    const char *reply =
        "{\"ok\":true,\"fields\":[\"airspeed\",\"altitude\",\"seq\",\"ts\"],\"points\":["
        "{\"id\":\"BAW1-00002a\",\"point\":{\"lat\":51.5,\"lon\":-0.45},\"fields\":[450,31000,5,1]},"
        "{\"id\":\"AF\\\"X\",\"point\":{\"lat\":-33.123456,\"lon\":151.2},\"fields\":[0,0,0,0]},"
        "{\"id\":\"obj\",\"object\":{\"type\":\"Polygon\"}}],"
        "\"count\":3,\"cursor\":100}";
    sky_map_columns_t c;
    sky_map_columns_init(&c);
    int64_t cursor = 0;
    char err[256];
    assert_int_equal(sky_map_columns_add_reply(&c, reply, strlen(reply), &cursor, err, sizeof err),
                     0);
    assert_int_equal(c.count, 2);
    assert_int_equal(cursor, 100);
    sky_buf_t out;
    sky_buf_init(&out, 0);
    assert_int_equal(sky_map_columns_write(&c, &out), 0);
    assert_string_equal(out.data, "\"ids\":[\"BAW1-00002a\",\"AF\\\"X\"],\"lat\":[51.50000,"
                                  "-33.12346],\"lon\":[-0.45000,151.20000],\"alt\":[31000,0],"
                                  "\"spd\":[450,0],\"seq\":[5,0]");
    sky_buf_free(&out);
    /* a collection that does not exist yet is empty, not an error; a bad reply is */
    const char *missing = "{\"ok\":false,\"err\":\"key not found\"}";
    assert_int_equal(sky_map_columns_add_reply(&c, missing, strlen(missing), &cursor, err,
                                               sizeof err),
                     0);
    const char *bad = "{\"ok\":false,\"err\":\"invalid argument 'x'\"}";
    assert_int_not_equal(sky_map_columns_add_reply(&c, bad, strlen(bad), &cursor, err, sizeof err),
                         0);
    assert_int_not_equal(sky_map_columns_add_reply(&c, "{", 1, &cursor, err, sizeof err), 0);
    sky_map_columns_free(&c);
}

static json_t *fake_get(void *opaque, const char *key, const char *id) {
    (void)opaque;
    if (strcmp(key, "fences") || strcmp(id, "lhr"))
        return NULL;
    return json_loads("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}", 0,
                      NULL);
}

static void test_airspace_from_fence_commands(void **state) {
    (void)state;
    static const struct {
        const char *command; /* the JSON array HOOKS/CHANS give */
        const char *geometry; /* expected geometry type, NULL: not drawn */
        double radius;
    } rows[] = {
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"DETECT\",\"enter,exit\",\"CIRCLE\",\"51.47\","
         "\"-0.45\",\"37000\"]", "Point", 37000},
        {"[\"NEARBY\",\"flights\",\"FENCE\",\"POINT\",\"51.47\",\"-0.45\",\"5000\"]", "Point", 5000},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"DETECT\",\"enter,exit\",\"BOUNDS\",\"36\",\"-10\","
         "\"60\",\"30\"]", "Polygon", -1},
        {"[\"INTERSECTS\",\"flights\",\"WHERE\",\"altitude\",\"0\",\"10000\",\"FENCE\",\"OBJECT\","
         "\"{\\\"type\\\":\\\"Polygon\\\",\\\"coordinates\\\":[[[0,50],[1,50],[1,51],[0,50]]]}\"]",
         "Polygon", -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"OBJECT\",\"{\\\"type\\\":\\\"Feature\\\","
         "\\\"geometry\\\":{\\\"type\\\":\\\"Polygon\\\",\\\"coordinates\\\":[[[0,50],[1,50],"
         "[1,51],[0,50]]]},\\\"properties\\\":{}}\"]", "Polygon", -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"GET\",\"fences\",\"lhr\"]", "Polygon", -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"HASH\",\"gcpv\"]", "Polygon", -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"TILE\",\"1\",\"1\",\"2\"]", "Polygon", -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"QUADKEY\",\"120\"]", "Polygon", -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"WHEREIN\",\"seq\",\"2\",\"1\",\"2\",\"CIRCLE\","
         "\"1\",\"2\",\"300\"]", "Point", 300},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"GET\",\"fences\",\"nope\"]", NULL, -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"OBJECT\",\"not json\"]", NULL, -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"CIRCLE\",\"x\",\"2\",\"3\"]", NULL, -1},
        {"[\"WITHIN\",\"flights\",\"FENCE\",\"SECTOR\",\"1\",\"2\",\"3\",\"4\",\"5\"]", NULL, -1},
        {"[\"WITHIN\"]", NULL, -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *cmd = json_loads(rows[i].command, 0, NULL);
        assert_non_null(cmd);
        char why[256] = "";
        json_t *f = sky_map_airspace_feature("LHR-CTR", "hook", cmd, fake_get, NULL, why,
                                             sizeof why);
        if (!rows[i].geometry) {
            assert_null(f);
            assert_true(strlen(why) > 0);
        } else {
            assert_non_null(f);
            json_t *g = json_object_get(f, "geometry"), *p = json_object_get(f, "properties");
            assert_string_equal(json_string_value(json_object_get(g, "type")), rows[i].geometry);
            assert_string_equal(json_string_value(json_object_get(p, "name")), "LHR-CTR");
            json_t *r = json_object_get(p, "radius_m");
            if (rows[i].radius >= 0)
                assert_true(fabs(json_number_value(r) - rows[i].radius) < 1e-9);
            else
                assert_null(r);
        }
        json_decref(f);
        json_decref(cmd);
    }
    /* CIRCLE is lat lon: GeoJSON is lon lat */
    json_t *cmd = json_loads("[\"WITHIN\",\"flights\",\"FENCE\",\"CIRCLE\",\"51.5\",\"-0.5\","
                             "\"100\"]",
                             0, NULL);
    char why[64];
    json_t *f = sky_map_airspace_feature("x", "channel", cmd, NULL, NULL, why, sizeof why);
    json_t *xy = json_object_get(json_object_get(f, "geometry"), "coordinates");
    assert_true(json_number_value(json_array_get(xy, 0)) == -0.5);
    assert_true(json_number_value(json_array_get(xy, 1)) == 51.5);
    json_decref(f);
    json_decref(cmd);
}

static void test_events_parse_tile38_messages(void **state) {
    (void)state;
    static const struct {
        const char *json;
        int ok;
        const char *detect, *hook, *id;
        int has_point;
        double lat, lon;
    } rows[] = {
        {"{\"command\":\"set\",\"group\":\"6b1\",\"detect\":\"enter\",\"hook\":\"LHR-CTR\","
         "\"key\":\"flights\",\"time\":\"2026-12-04T13:45:11.03Z\",\"id\":\"BAW1-00002a\","
         "\"object\":{\"type\":\"Point\",\"coordinates\":[-0.45,51.47]},\"fields\":{\"seq\":4}}",
         1, "enter", "LHR-CTR", "BAW1-00002a", 1, 51.47, -0.45},
        {"{\"detect\":\"exit\",\"hook\":\"h\",\"id\":\"x\",\"object\":{\"type\":\"Polygon\"}}", 1,
         "exit", "h", "x", 0, 0, 0},
        {"{\"detect\":\"enter\",\"id\":\"x\"}", 0, NULL, NULL, NULL, 0, 0, 0},
        {"[1,2]", 0, NULL, NULL, NULL, 0, 0, 0},
        {"not json", 0, NULL, NULL, NULL, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_map_event_t ev;
        char err[256];
        int rc = sky_map_event_parse(rows[i].json, strlen(rows[i].json), &ev, err, sizeof err);
        assert_int_equal(rc == 0, rows[i].ok);
        if (!rows[i].ok)
            continue;
        assert_string_equal(ev.detect, rows[i].detect);
        assert_string_equal(ev.hook, rows[i].hook);
        assert_string_equal(ev.id, rows[i].id);
        assert_int_equal(ev.has_point, rows[i].has_point);
        if (ev.has_point)
            assert_true(ev.lat == rows[i].lat && ev.lon == rows[i].lon);
    }
}

static void test_events_ring_pages_after_seq(void **state) {
    (void)state;
    sky_map_events_t *e = sky_map_events_new_ring();
    assert_non_null(e);
    sky_map_event_t ev = {.detect = "enter", .hook = "h", .id = "a", .has_point = true};
    for (int i = 0; i < SKY_MAP_EVENTS_RING + 10; i++)
        sky_map_events_add(e, &ev);
    sky_buf_t b;
    sky_buf_init(&b, 0);
    assert_int_equal(sky_map_events_write(e, SKY_MAP_EVENTS_RING + 5, &b), 0);
    json_t *root = json_loadb(b.data + 9, b.len - 9, 0, NULL); /* past "events": */
    assert_non_null(root);
    json_t *list = json_object_get(root, "list");
    assert_int_equal(json_array_size(list), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "seq")),
                     SKY_MAP_EVENTS_RING + 6);
    assert_int_equal(json_integer_value(json_object_get(root, "enter")), SKY_MAP_EVENTS_RING + 10);
    json_decref(root);
    /* a reader far behind gets the newest page, not the whole ring */
    sky_buf_reset(&b);
    assert_int_equal(sky_map_events_write(e, 0, &b), 0);
    root = json_loadb(b.data + 9, b.len - 9, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(root, "list")), SKY_MAP_EVENTS_PAGE);
    json_decref(root);
    sky_buf_free(&b);
    sky_map_events_stop(e);
}

static void test_curve_is_hdr_percentiles(void **state) {
    (void)state;
    sky_hist_t *h = sky_hist_new();
    for (int v = 1; v <= 1000; v++)
        sky_hist_record(h, v * 1000); /* 1..1000 ms in microseconds */
    double x[128], ms[128];
    size_t n = sky_report_curve(h, x, ms, 128);
    assert_int_equal(n, 32); /* 1 .. 10^3 at ten a decade, and the maximum */
    assert_true(x[0] == 1.0);
    assert_true(fabs(x[10] - 10.0) < 1e-9 && fabs(ms[10] - 900) / 900 < 0.01);  /* p90 */
    assert_true(fabs(x[20] - 100.0) < 1e-9 && fabs(ms[20] - 990) / 990 < 0.01); /* p99 */
    assert_true(fabs(ms[n - 1] - 1000) / 1000 < 0.01);
    for (size_t i = 1; i < n; i++)
        assert_true(x[i] > x[i - 1] && ms[i] >= ms[i - 1]);
    sky_hist_reset(h);
    assert_int_equal(sky_report_curve(h, x, ms, 128), 0);
    sky_hist_destroy(h);
}

static void test_assets_are_in_the_binary(void **state) {
    (void)state;
    static const char *const names[] = {"leaflet.js", "leaflet.css", "topojson-client.js",
                                        "countries-50m.json", "countries-110m.json", "uplot.js",
                                        "uplot.css", "map.html", "map.js", "world.js",
                                        "report.js", "report.css"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const sky_web_asset_t *a = sky_web_asset(names[i]);
        assert_non_null(a);
        assert_true(a->size > 100);
        assert_int_equal(a->data[a->size], 0);
        assert_int_equal(strlen((const char *)a->data), a->size);
    }
    assert_non_null(strstr((const char *)sky_web_asset("leaflet.js")->data, "1.9.4"));
    assert_non_null(strstr((const char *)sky_web_asset("countries-50m.json")->data, "Topology"));
    assert_null(sky_web_asset("../etc/passwd"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bbox_accepts_good_and_rejects_bad),
        cmocka_unit_test(test_listen_parses_host_and_port),
        cmocka_unit_test(test_columns_from_within_reply),
        cmocka_unit_test(test_airspace_from_fence_commands),
        cmocka_unit_test(test_events_parse_tile38_messages),
        cmocka_unit_test(test_events_ring_pages_after_seq),
        cmocka_unit_test(test_curve_is_hdr_percentiles),
        cmocka_unit_test(test_assets_are_in_the_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
