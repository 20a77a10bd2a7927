/* Airspace geometry as Tile38 decides it: points on polygon edges and vertices, holes,
 * circles by haversine, the altitude filter, the hook rectangle (inside out across the
 * antimeridian), and the enter/exit events of a flight's positions. The same cases run
 * against the real Tile38 in tests/e2e/test_geofence_rules.sh. */
#include "airspace_resolve.h"
#include "error.h"
#include "tile38.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static sky_airspace_t polygon(const char *name, const double *latlon, size_t n) {
    sky_airspace_t a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.kind = SKY_AIRSPACE_POLYGON;
    a.points = (double *)latlon;
    a.npoints = n;
    return a;
}

static sky_airspace_t circle(const char *name, double lat, double lon, double nm) {
    sky_airspace_t a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.kind = SKY_AIRSPACE_CIRCLE;
    a.lat = lat;
    a.lon = lon;
    a.radius_nm = nm;
    return a;
}

static void test_tile38_coord_is_ingest_text_read_back(void **state) {
    (void)state;
    static const double v[] = {0, 51.4775, -0.4614, 179.99999995, -179.99999995, 1e-8,
                               -1e-8, 45.123456749999, 45.12345675, -33.9461234567, 89.9999999};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char text[40];
        sky_fmt_fixed(text, v[i], SKY_TILE38_COORD_DECIMALS);
        double back = strtod(text, NULL);
        if (sky_tile38_coord(v[i]) != back)
            fail_msg("row %zu: %.17g -> \"%s\" = %.17g, sky_tile38_coord %.17g", i, v[i], text,
                     back, sky_tile38_coord(v[i]));
    }
    /* and a sweep of ordinary positions */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d = ((double)(x >> 11) / 9007199254740992.0) * 360.0 - 180.0;
        char text[40];
        sky_fmt_fixed(text, d, 7);
        assert_true(sky_tile38_coord(d) == strtod(text, NULL));
    }
}

struct point_row {
    double lat, lon, alt;
    bool inside;
};

/* A 10 x 10 degree square with a 2 x 2 hole, floor 1000 ft, ceiling 20000 ft. */
static void test_polygon_edges_vertices_holes_and_altitude(void **state) {
    (void)state;
    static const double ring[] = {0, 0, 0, 10, 10, 10, 10, 0, /* hole: */ 4, 4, 4, 6, 6, 6, 6, 4};
    size_t ends[] = {4, 8};
    sky_airspace_t a = polygon("SQ", ring, 8);
    a.ring_end = ends;
    a.nrings = 2;
    a.has_floor = a.has_ceiling = true;
    a.floor_ft = 1000;
    a.ceiling_ft = 20000;
    char err[256];
    sky_fenceset_t *fs = sky_fenceset_new(&a, 1, err, sizeof err);
    assert_non_null(fs);
    static const struct point_row rows[] = {
        {5, 2, 5000, true},     {5, 11, 5000, false},  {5, 0, 5000, true},  /* west edge */
        {0, 0, 5000, true},     {10, 10, 5000, true},  {10, 5, 5000, true}, /* top edge */
        {0, 5, 5000, true},     {5, 10, 5000, true},   {-0.0000001, 5, 5000, false},
        {10.0000001, 5, 5000, false},
        {5, 5, 5000, false},    /* in the hole */
        {4, 5, 5000, true},     /* on the hole's edge: Tile38 keeps it in the polygon */
        {6, 6, 5000, true},     /* a hole vertex */
        {5, 2, 999, false},     {5, 2, 1000, true},    {5, 2, 20000, true}, {5, 2, 20001, false},
        {10, -0.0000001, 5000, false}, /* level with a vertex, just outside */
        {0, 10.5, 5000, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (sky_fence_contains(fs, 0, rows[i].lat, rows[i].lon, rows[i].alt) != rows[i].inside)
            fail_msg("row %zu: (%g, %g, %g ft) should be %s", i, rows[i].lat, rows[i].lon,
                     rows[i].alt, rows[i].inside ? "inside" : "outside");
    double r[4];
    sky_fence_rect(fs, 0, r);
    assert_true(r[0] == 0 && r[1] == 0 && r[2] == 10 && r[3] == 10);
    sky_fenceset_destroy(fs);
}

/* A concave polygon (a U), its notch outside, points level with vertices. */
static void test_polygon_concave_and_vertex_levels(void **state) {
    (void)state;
    static const double ring[] = {0, 0, 0, 9, 9, 9, 9, 6, 3, 6, 3, 3, 9, 3, 9, 0, 0, 0};
    sky_airspace_t a = polygon("U", ring, 9);
    char err[256];
    sky_fenceset_t *fs = sky_fenceset_new(&a, 1, err, sizeof err);
    assert_non_null(fs);
    static const struct point_row rows[] = {
        {1, 1, 0, true},  {6, 4.5, 0, false}, /* the notch */
        {6, 1.5, 0, true}, {6, 7.5, 0, true},   {3, 4.5, 0, true}, /* notch bottom edge */
        {9, 4.5, 0, false}, /* level with the top vertices, over the notch */
        {3, -1, 0, false}, {3, 10, 0, false},  {9, 1, 0, true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (sky_fence_contains(fs, 0, rows[i].lat, rows[i].lon, rows[i].alt) != rows[i].inside)
            fail_msg("row %zu: (%g, %g) should be %s", i, rows[i].lat, rows[i].lon,
                     rows[i].inside ? "inside" : "outside");
    sky_fenceset_destroy(fs);
}

static void test_circle_by_haversine(void **state) {
    (void)state;
    sky_airspace_t a = circle("C", 51.4775, -0.4614, 20); /* 37,040 m */
    char err[256];
    sky_fenceset_t *fs = sky_fenceset_new(&a, 1, err, sizeof err);
    assert_non_null(fs);
    /* north along the meridian: 20 nm = 20/60 degree on Tile38's 6371 km sphere */
    double deg = 37040.0 / 6371e3 * 180.0 / M_PI;
    struct point_row rows[] = {
        {51.4775, -0.4614, 0, true},
        {51.4775 + deg - 1e-6, -0.4614, 0, true},
        {51.4775 + deg + 1e-6, -0.4614, 0, false},
        {51.4775 - deg + 1e-6, -0.4614, 0, true},
        {51.4775, -0.4614 + deg / cos(51.4775 * M_PI / 180) * 1.01, 0, false},
        {51.4775, -0.4614 + deg / cos(51.4775 * M_PI / 180) * 0.99, 0, true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (sky_fence_contains(fs, 0, rows[i].lat, rows[i].lon, rows[i].alt) != rows[i].inside)
            fail_msg("row %zu: (%.9f, %.9f) should be %s", i, rows[i].lat, rows[i].lon,
                     rows[i].inside ? "inside" : "outside");
    sky_fenceset_destroy(fs);
}

/* Tile38 builds the circle's rectangle from a 64-gon whose half width comes from the
 * east and west destination points; across the antimeridian the west one wraps. */
static void test_antimeridian_circle_rect_is_inside_out(void **state) {
    (void)state;
    sky_airspace_t a = circle("AM", -17.0, 179.8, 60); /* 111 km: reaches 178.75 .. -179.15 */
    char err[256];
    sky_fenceset_t *fs = sky_fenceset_new(&a, 1, err, sizeof err);
    assert_non_null(fs);
    double r[4];
    sky_fence_rect(fs, 0, r);
    assert_true(r[1] < 2 && r[3] > 357); /* the "half width" is about -178.9 degrees */
    assert_true(sky_fence_contains(fs, 0, -17.0, 179.9, 0));
    assert_true(sky_fence_candidate(fs, 0, -17.0, 179.9));
    assert_true(sky_fence_contains(fs, 0, -17.0, -179.9, 0)); /* inside, east of 180 */
    assert_false(sky_fence_candidate(fs, 0, -17.0, -179.9)); /* but never looked at */
    sky_fenceset_destroy(fs);
}

typedef struct ev {
    size_t fence;
    sky_fence_kind_t kind;
} ev_t;

typedef struct evs {
    ev_t e[16];
    size_t n;
} evs_t;

static void collect(void *opaque, size_t fence, sky_fence_kind_t kind) {
    evs_t *v = opaque;
    if (v->n < 16)
        v->e[v->n++] = (ev_t){fence, kind};
}

struct step_row {
    double lat, lon;
    int32_t alt;
    int want; /* -1 none, else fence * 2 + kind */
};

static void run_steps(const sky_fenceset_t *fs, const struct step_row *rows, size_t n) {
    uint64_t state[4] = {0};
    assert_true(sky_fenceset_state_words(fs) <= 4);
    for (size_t i = 0; i < n; i++) {
        evs_t v = {.n = 0};
        sky_fenceset_step(fs, state, rows[i].lat, rows[i].lon, rows[i].alt, collect, &v);
        int got = v.n ? (int)(v.e[0].fence * 2 + v.e[0].kind) : -1;
        if (v.n > 1 || got != rows[i].want)
            fail_msg("step %zu (%g, %g, %d ft): %zu events, first %d, want %d", i, rows[i].lat,
                     rows[i].lon, rows[i].alt, v.n, got, rows[i].want);
    }
}

static void test_steps_enter_exit_and_altitude(void **state) {
    (void)state;
    static const double ring[] = {50, 0, 50, 2, 52, 2, 52, 0};
    sky_airspace_t a[2] = {polygon("P", ring, 4), circle("C", 40, 10, 30)};
    a[0].has_ceiling = true;
    a[0].ceiling_ft = 10000;
    char err[256];
    sky_fenceset_t *fs = sky_fenceset_new(a, 2, err, sizeof err);
    assert_non_null(fs);
    static const struct step_row rows[] = {
        {51, 1, 3000, 0 * 2 + SKY_FENCE_ENTER}, /* first position inside: enter */
        {51, 1.1, 5000, -1},                    /* still inside */
        {51, 1.2, 11000, 0 * 2 + SKY_FENCE_EXIT}, /* climbed through the ceiling */
        {51, 1.3, 9000, 0 * 2 + SKY_FENCE_ENTER},
        {51, 2.5, 9000, 0 * 2 + SKY_FENCE_EXIT}, /* left sideways */
        {45, 10, 9000, -1},                    /* far from both */
        {40, 10.1, 9000, 1 * 2 + SKY_FENCE_ENTER},
        {40, 11, 9000, 1 * 2 + SKY_FENCE_EXIT},
    };
    run_steps(fs, rows, sizeof rows / sizeof rows[0]);
    sky_fenceset_destroy(fs);
}

/* Westbound over the antimeridian into the circle: Tile38 looks at the hook only once
 * a position is in its rectangle (west of 180), so the entry east of 180 is never
 * reported; leaving it later is. */
static void test_steps_antimeridian_enter_is_never_sent(void **state) {
    (void)state;
    sky_airspace_t a = circle("AM", -17.0, 179.8, 60);
    char err[256];
    sky_fenceset_t *fs = sky_fenceset_new(&a, 1, err, sizeof err);
    assert_non_null(fs);
    static const struct step_row rows[] = {
        {-17.0, -178.0, 30000, -1}, /* outside, east of 180 */
        {-17.0, -179.5, 30000, -1}, /* inside already, not in the rectangle: nothing */
        {-17.0, 179.9, 30000, -1},  /* in the rectangle, old inside too: "inside", not sent */
        {-17.0, 178.0, 30000, SKY_FENCE_EXIT},
        {-17.0, 179.5, 30000, SKY_FENCE_ENTER}, /* from the west side: seen */
    };
    run_steps(fs, rows, sizeof rows / sizeof rows[0]);
    sky_fenceset_destroy(fs);
}

/* The prefilters (bounding box, 10-degree blocks, one-degree grid, circle bands) must
 * never change an answer: random flights through many fences, the step's events
 * against a plain loop over every fence with the exact tests. */
static uint64_t rnd(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static double unit(uint64_t *x) { return (double)(rnd(x) >> 11) / 9007199254740992.0; }

static void test_step_prefilters_change_nothing(void **state) {
    (void)state;
    enum { NF = 70, FLIGHTS = 300, STEPS = 200 };
    sky_airspace_t a[NF];
    double pts[NF][8];
    char names[NF][16];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < NF; i++) {
        snprintf(names[i], sizeof names[i], "F%d", i);
        double lat = unit(&x) * 140 - 70, lon = unit(&x) * 360 - 180;
        if (i % 3 == 0) {
            double w = unit(&x) * 8 + 0.5, h = unit(&x) * 6 + 0.5;
            double q[8] = {lat, lon, lat + h * 0.3, lon + w, lat + h, lon + w * 0.6, lat + h * 0.8,
                           lon - w * 0.2};
            memcpy(pts[i], q, sizeof q);
            a[i] = polygon(names[i], pts[i], 4);
        } else {
            a[i] = circle(names[i], lat, i % 7 == 0 ? 179.5 : lon, unit(&x) * 200 + 5);
        }
        a[i].has_ceiling = i % 4 == 0;
        a[i].ceiling_ft = 20000;
    }
    char err[256];
    sky_fenceset_t *fs = sky_fenceset_new(a, NF, err, sizeof err);
    assert_non_null(fs);
    size_t words = sky_fenceset_state_words(fs);
    uint64_t *st = calloc(words, sizeof *st);
    bool in[NF], rect[NF];
    uint64_t events = 0;
    for (int f = 0; f < FLIGHTS; f++) {
        memset(st, 0, words * sizeof *st);
        memset(in, 0, sizeof in);
        memset(rect, 0, sizeof rect);
        /* jumps from fence to fence: every step near some fence, often in and out */
        for (int k = 0; k < STEPS; k++) {
            const sky_airspace_t *t = &a[rnd(&x) % NF];
            double lat = (t->kind == SKY_AIRSPACE_POLYGON ? t->points[0] : t->lat) +
                         unit(&x) * 8 - 4;
            double lon = (t->kind == SKY_AIRSPACE_POLYGON ? t->points[1] : t->lon) +
                         unit(&x) * 8 - 4;
            lat = fmax(-89, fmin(89, lat));
            lon = lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon;
            int32_t alt = (int32_t)(unit(&x) * 40000);
            evs_t v = {.n = 0};
            sky_fenceset_step(fs, st, lat, lon, alt, collect, &v);
            double tl = sky_tile38_coord(lat), tn = sky_tile38_coord(lon);
            size_t n = 0;
            for (size_t i = 0; i < NF; i++) {
                bool ni = sky_fence_contains(fs, i, tl, tn, alt);
                bool nr = sky_fence_candidate(fs, i, tl, tn);
                if ((rect[i] || nr) && in[i] != ni) {
                    if (n >= v.n || v.e[n].fence != i ||
                        v.e[n].kind != (ni ? SKY_FENCE_ENTER : SKY_FENCE_EXIT))
                        fail_msg("flight %d step %d fence %zu: the step disagrees", f, k, i);
                    n++;
                }
                in[i] = ni;
                rect[i] = nr;
            }
            if (n != v.n)
                fail_msg("flight %d step %d: %zu events, the plain loop %zu", f, k, v.n, n);
            events += n;
        }
    }
    if (events < 10000)
        fail_msg("only %llu events: the flights must cross fences", (unsigned long long)events);
    free(st);
    sky_fenceset_destroy(fs);
}

static void test_tracker_by_slot_and_by_flight(void **state) {
    (void)state;
    sky_airspace_t a = circle("C", 0, 0, 60);
    char err[256];
    sky_fenceset_t *fs = sky_fenceset_new(&a, 1, err, sizeof err);
    sky_fence_tracker_t *t = sky_fence_tracker_new(fs, 2);
    assert_non_null(t);
    uint64_t *s0 = sky_fence_tracker_slot(t, 5000); /* grows */
    assert_non_null(s0);
    evs_t v = {.n = 0};
    sky_fenceset_step(fs, s0, 0, 0, 0, collect, &v);
    assert_int_equal(v.n, 1);
    sky_fence_tracker_reset(t, 5000);
    sky_fenceset_step(fs, sky_fence_tracker_slot(t, 5000), 0, 0, 0, collect, &v);
    assert_int_equal(v.n, 2); /* a new flight in the slot enters again */
    uint64_t *f1 = sky_fence_tracker_flight(t, "BAW1", 4);
    sky_fenceset_step(fs, f1, 0, 0.1, 0, collect, &v);
    assert_int_equal(v.n, 3);
    sky_fenceset_step(fs, sky_fence_tracker_flight(t, "BAW1", 4), 0, 0.2, 0, collect, &v);
    assert_int_equal(v.n, 3); /* same flight, still inside */
    sky_fence_tracker_destroy(t);
    sky_fenceset_destroy(fs);
}

static void test_kind_names_round_trip(void **state) {
    (void)state;
    sky_fence_kind_t k;
    assert_int_equal(sky_fence_kind_parse("enter", &k), 0);
    assert_int_equal(k, SKY_FENCE_ENTER);
    assert_int_equal(sky_fence_kind_parse("exit", &k), 0);
    assert_string_equal(sky_fence_kind_name(k), "exit");
    assert_int_equal(sky_fence_kind_parse("inside", &k), SKY_EINVAL);
}

static void test_airport_resolves_from_data(void **state) {
    (void)state;
    sky_airspace_t a;
    memset(&a, 0, sizeof a);
    a.name = "LHR";
    a.kind = SKY_AIRSPACE_AIRPORT;
    a.radius_nm = 10;
    memcpy(a.airport, "EGLL", 5);
    char err[512];
    assert_int_equal(sky_airspaces_resolve_dir(&a, 1, NULL, err, sizeof err), 0);
    assert_true(fabs(a.lat - 51.47) < 0.05 && fabs(a.lon + 0.46) < 0.05);
    memcpy(a.airport, "ZZZZ", 5);
    assert_int_equal(sky_airspaces_resolve_dir(&a, 1, NULL, err, sizeof err), SKY_EINVAL);
    assert_non_null(strstr(err, "ZZZZ"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tile38_coord_is_ingest_text_read_back),
        cmocka_unit_test(test_polygon_edges_vertices_holes_and_altitude),
        cmocka_unit_test(test_polygon_concave_and_vertex_levels),
        cmocka_unit_test(test_circle_by_haversine),
        cmocka_unit_test(test_antimeridian_circle_rect_is_inside_out),
        cmocka_unit_test(test_steps_enter_exit_and_altitude),
        cmocka_unit_test(test_steps_antimeridian_enter_is_never_sent),
        cmocka_unit_test(test_step_prefilters_change_nothing),
        cmocka_unit_test(test_tracker_by_slot_and_by_flight),
        cmocka_unit_test(test_kind_names_round_trip),
        cmocka_unit_test(test_airport_resolves_from_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
