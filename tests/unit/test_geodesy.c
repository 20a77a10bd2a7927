/* Spherical geodesy used by the traffic model: distances against WGS84
 * geodesics, bearings, cross-track distance and points along an arc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geodesy.h"

#include <math.h>

/* cmocka's float assertions go through float; these distances need double. */
#define assert_double_equal(a, b, eps)                                                          \
    do {                                                                                        \
        double a_ = (a), b_ = (b);                                                              \
        if (!(fabs(a_ - b_) <= (eps)))                                                          \
            fail_msg("%s = %.9f, expected %.9f (+-%g)", #a, a_, b_, (double)(eps));            \
    } while (0)

/* Reference distances are WGS84 geodesics (Vincenty's inverse formula) between
 * the airports' coordinates in scenarios/data/airports.csv. */
static const struct {
    const char *from;
    double lat1, lon1;
    const char *to;
    double lat2, lon2, wgs84_nm;
} known_routes[] = {
    {"EGLL", 51.470600, -0.461941, "KJFK", 40.639447, -73.779317, 2999.2},
    {"EGLL", 51.470600, -0.461941, "LFPG", 49.012798, 2.550000, 187.7},
    {"LFPG", 49.012798, 2.550000, "RJAA", 35.764702, 140.386002, 5255.7},
    {"KLAX", 33.942501, -118.407997, "YSSY", -33.946098, 151.177002, 6506.9},
    {"SBGR", -23.431944, -46.467778, "FAOR", -26.139200, 28.246000, 4023.4},
    {"WSSS", 1.350190, 103.994003, "EGLL", 51.470600, -0.461941, 5879.0},
    {"OMDB", 25.252800, 55.364399, "KJFK", 40.639447, -73.779317, 5951.3},
    {"EDDF", 50.036521, 8.561268, "LEMD", 40.471926, -3.562640, 768.4},
    {"NZAA", -37.011990, 174.786331, "SCEL", -33.393002, -70.785797, 5223.4},
    {"KSEA", 47.449162, -122.311134, "PANC", 61.174400, -149.996002, 1258.6},
};
#define NROUTES (sizeof known_routes / sizeof known_routes[0])

static void test_distance_within_half_percent_of_wgs84(void **state) {
    (void)state;
    for (size_t i = 0; i < NROUTES; i++) {
        double d = sky_geo_distance_nm(known_routes[i].lat1, known_routes[i].lon1,
                                       known_routes[i].lat2, known_routes[i].lon2);
        double err = fabs(d - known_routes[i].wgs84_nm) / known_routes[i].wgs84_nm;
        if (err > 0.005)
            fail_msg("%s-%s: %.1f nm, WGS84 %.1f nm (%.2f%%)", known_routes[i].from,
                     known_routes[i].to, d, known_routes[i].wgs84_nm, err * 100);
    }
}

static void test_distance_is_symmetric_and_zero_for_same_point(void **state) {
    (void)state;
    for (size_t i = 0; i < NROUTES; i++) {
        double ab = sky_geo_distance_nm(known_routes[i].lat1, known_routes[i].lon1,
                                        known_routes[i].lat2, known_routes[i].lon2);
        double ba = sky_geo_distance_nm(known_routes[i].lat2, known_routes[i].lon2,
                                        known_routes[i].lat1, known_routes[i].lon1);
        assert_double_equal(ab, ba, 1e-9);
        assert_double_equal(sky_geo_distance_nm(known_routes[i].lat1, known_routes[i].lon1,
                                                known_routes[i].lat1, known_routes[i].lon1),
                            0.0, 1e-9);
    }
}

static void test_one_degree_of_latitude_is_60_nm(void **state) {
    (void)state;
    double d = sky_geo_distance_nm(0, 0, 1, 0);
    assert_double_equal(d, SKY_EARTH_RADIUS_NM * M_PI / 180.0, 1e-9);
    assert_double_equal(d, 60.04, 0.01);
}

static void test_bearing_matches_compass_directions(void **state) {
    (void)state;
    static const struct {
        double lat1, lon1, lat2, lon2, bearing;
    } rows[] = {
        {0, 0, 10, 0, 0},     {0, 0, 0, 10, 90},    {10, 0, 0, 0, 180},
        {0, 10, 0, 0, 270},   {0, 179, 0, -179, 90}, /* across the antimeridian */
        {51.470600, -0.461941, 40.639447, -73.779317, 288.0}, /* LHR-JFK leaves to the WNW */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double b = sky_geo_bearing_deg(rows[i].lat1, rows[i].lon1, rows[i].lat2, rows[i].lon2);
        if (fabs(b - rows[i].bearing) > 0.5)
            fail_msg("row %zu: bearing %.2f, expected %.1f", i, b, rows[i].bearing);
    }
}

static void test_cross_track_of_point_north_of_equator_route(void **state) {
    (void)state;
    static const struct {
        double lat, lon, expected_nm;
    } rows[] = {{1, 5, 60.04}, {-2, 3, 120.08}, {0, 7, 0}, {0.5, -20, 30.02}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_double_equal(sky_geo_cross_track_nm(rows[i].lat, rows[i].lon, 0, 0, 0, 10),
                            rows[i].expected_nm, 0.01);
}

static void test_arc_starts_and_ends_at_its_airports(void **state) {
    (void)state;
    for (size_t i = 0; i < NROUTES; i++) {
        sky_geo_arc_t arc;
        double lat, lon;
        assert_int_equal(sky_geo_arc_init(&arc, known_routes[i].lat1, known_routes[i].lon1,
                                          known_routes[i].lat2, known_routes[i].lon2),
                         0);
        sky_geo_arc_point(&arc, 0, &lat, &lon);
        assert_double_equal(lat, known_routes[i].lat1, 1e-9);
        assert_double_equal(lon, known_routes[i].lon1, 1e-9);
        sky_geo_arc_point(&arc, arc.length_nm, &lat, &lon);
        assert_double_equal(lat, known_routes[i].lat2, 1e-9);
        assert_double_equal(lon, known_routes[i].lon2, 1e-9);
    }
}

static void test_arc_points_lie_on_the_great_circle_at_their_distance(void **state) {
    (void)state;
    for (size_t i = 0; i < NROUTES; i++) {
        sky_geo_arc_t arc;
        sky_geo_arc_init(&arc, known_routes[i].lat1, known_routes[i].lon1, known_routes[i].lat2,
                         known_routes[i].lon2);
        for (double f = 0.1; f < 1.0; f += 0.2) {
            double lat, lon, s = f * arc.length_nm;
            sky_geo_arc_point(&arc, s, &lat, &lon);
            assert_double_equal(sky_geo_distance_nm(known_routes[i].lat1, known_routes[i].lon1,
                                                    lat, lon),
                                s, 1e-6);
            assert_true(sky_geo_cross_track_nm(lat, lon, known_routes[i].lat1,
                                               known_routes[i].lon1, known_routes[i].lat2,
                                               known_routes[i].lon2) < 1e-6);
        }
    }
}

static void test_arc_rejects_antipodal_points(void **state) {
    (void)state;
    sky_geo_arc_t arc;
    assert_int_equal(sky_geo_arc_init(&arc, 10, 20, -10, -160), -1);
    assert_int_equal(sky_geo_arc_init(&arc, 10, 20, 10, 20), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance_within_half_percent_of_wgs84),
        cmocka_unit_test(test_distance_is_symmetric_and_zero_for_same_point),
        cmocka_unit_test(test_one_degree_of_latitude_is_60_nm),
        cmocka_unit_test(test_bearing_matches_compass_directions),
        cmocka_unit_test(test_cross_track_of_point_north_of_equator_route),
        cmocka_unit_test(test_arc_starts_and_ends_at_its_airports),
        cmocka_unit_test(test_arc_points_lie_on_the_great_circle_at_their_distance),
        cmocka_unit_test(test_arc_rejects_antipodal_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
