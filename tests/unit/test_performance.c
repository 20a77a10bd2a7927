/* Performance draws, the ISA speeds and the wind field against their references: the
 * quantiles of WRAP's statistical models (scipy.stats, the models' own definition), true
 * airspeed from CAS and Mach (openap.aero 2.6.2), and the wind of tests/realism/wind_model.py
 * (the realism test's copy of the field). Reference values were computed with those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geodesy.h"
#include "performance.h"
#include "wind.h"

#include <math.h>
#include <string.h>

static void test_quantile_tables_match_scipy(void **state) {
    (void)state;
    static const struct {
        const char *model;
        double p[4];
        double q_lo, q_mid, q_hi; /* at u = 0.002, 0.5, 0.998 */
    } rows[] = {
        {"norm", {10.25, 1.59, 0, 0}, 5.67372283, 10.25, 14.82627717},
        {"beta", {3.52, 1.95, -19.0, 18.22}, -16.88049941, -6.93701455, -1.0478105},
        {"gamma", {1.71, 453.95, 569.12, 0}, 473.66803786, 1245.40591293, 4924.74295482},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        float q[SKY_PERF_KNOTS];
        char err[200];
        assert_int_equal(sky_perf_quantiles(rows[i].model, rows[i].p, q, err, sizeof err), 0);
        double got[3] = {q[0], q[SKY_PERF_KNOTS / 2], q[SKY_PERF_KNOTS - 1]};
        double want[3] = {rows[i].q_lo, rows[i].q_mid, rows[i].q_hi};
        for (int k = 0; k < 3; k++)
            if (fabs(got[k] - want[k]) > 1e-4 * fabs(want[k]) + 1e-5)
                fail_msg("%s row %zu knot %d: %.8g, scipy %.8g", rows[i].model, i, k, got[k],
                         want[k]);
        for (int k = 1; k < SKY_PERF_KNOTS; k++)
            assert_true(q[k] >= q[k - 1]);
        /* a draw interpolates the table: u = 0.5 is the median, u = 0 and 1 the ends */
        assert_true(fabs(sky_perf_draw(q, 0.5) - q[SKY_PERF_KNOTS / 2]) < 1e-9);
        assert_true(sky_perf_draw(q, 0.0) == q[0]);
        assert_true(sky_perf_draw(q, 0.999999999) <= q[SKY_PERF_KNOTS - 1]);
    }
}

static void test_bad_statistical_models_are_refused(void **state) {
    (void)state;
    static const struct {
        const char *model;
        double p[4];
        const char *expect;
    } rows[] = {
        {"lognorm", {1, 1, 0, 0}, "not norm, beta or gamma"},
        {"norm", {10, 0, 0, 0}, "out of range"},
        {"beta", {2, 2, 0, -1}, "out of range"},
        {"gamma", {-1, 0, 1, 0}, "out of range"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        float q[SKY_PERF_KNOTS];
        char err[200] = "";
        assert_int_equal(sky_perf_quantiles(rows[i].model, rows[i].p, q, err, sizeof err), -1);
        if (!strstr(err, rows[i].expect))
            fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err, rows[i].expect);
    }
    assert_int_equal(sky_perf_var("cl_vs_avg_cas_const"), SKY_PV_CL_VS_CAS);
    assert_int_equal(sky_perf_var("to_d_tof"), -1);
}

static void test_true_airspeed_matches_openap(void **state) {
    (void)state;
    static const struct {
        int mach; /* 1: speed is a Mach number, 0: CAS in kt */
        double speed, h_ft, tas_kt;
    } rows[] = {
        {0, 250, 10000, 288.71179552545414}, {0, 280, 30000, 437.41604296526447},
        {0, 140, 0, 140.0},                  {0, 300, 20000, 400.1234389242116},
        {1, 0.78, 35000, 449.60699470111354}, {1, 0.85, 41000, 487.5342495640162},
        {1, 0.5, 20000, 307.1586693193074},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double got = rows[i].mach ? sky_isa_tas_from_mach(rows[i].speed, rows[i].h_ft)
                                  : sky_isa_tas_from_cas(rows[i].speed, rows[i].h_ft);
        if (fabs(got - rows[i].tas_kt) > 0.001 * rows[i].tas_kt)
            fail_msg("row %zu: %.3f kt, openap %.3f", i, got, rows[i].tas_kt);
    }
}

static void test_wind_matches_the_realism_tests_copy(void **state) {
    (void)state;
    static const struct {
        uint64_t seed;
        double lat1, lon1, lat2, lon2, along, cross;
    } rows[] = {
        {11, 51.47, -0.46, 40.64, -73.78, -30.463984399453565, 15.637006479594424},
        {1, 35.55, 139.78, -33.95, 151.18, -1.6948077472326548, 11.843173563618004},
        {7, 25.25, 55.36, 1.36, 103.99, 0.4660562096939304, 1.6352369168388412},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double along, cross;
        sky_wind_route(rows[i].seed, sky_geo_unit(rows[i].lat1, rows[i].lon1),
                       sky_geo_unit(rows[i].lat2, rows[i].lon2), &along, &cross);
        if (fabs(along - rows[i].along) > 1e-9 || fabs(cross - rows[i].cross) > 1e-9)
            fail_msg("row %zu: %.12g %.12g, python %.12g %.12g", i, along, cross,
                     rows[i].along, rows[i].cross);
    }
    double u, v;
    sky_wind_jet(3, 45.0, 10.0, &u, &v);
    assert_true(fabs(u - 66.01688476126465) < 1e-9 && fabs(v - 31.847264719496806) < 1e-9);
    assert_true(sky_wind_height_factor(0) == 0 && sky_wind_height_factor(17000) == 0.5 &&
                sky_wind_height_factor(SKY_WIND_JET_FT) == 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile_tables_match_scipy),
        cmocka_unit_test(test_bad_statistical_models_are_refused),
        cmocka_unit_test(test_true_airspeed_matches_openap),
        cmocka_unit_test(test_wind_matches_the_realism_tests_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
