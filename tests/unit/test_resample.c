/* The resampler: exact cadence points on a straight track, no overshoot, breaks on gaps,
 * continuity across the antimeridian, linear/as-is fallbacks, the flight cap. */
#include "resample.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T0 1795600800000LL /* a multiple of every cadence used here */
#define MAXP 64
#define NONE 1e300         /* no exact expectation for this value */

typedef struct pt {
    int64_t dt_ms; /* from T0 */
    double lat, lon, alt;
} pt_t;

typedef struct out_pt {
    char id[SKY_FLIGHT_ID_MAX];
    int64_t t;
    double lat, lon;
    int32_t alt;
} out_pt_t;

typedef struct sink {
    out_pt_t p[4 * MAXP];
    size_t n;
} sink_t;

static int collect(void *opaque, const sky_flight_t *f, int64_t ts_ms) {
    sink_t *s = opaque;
    assert_true(s->n < 4 * MAXP);
    out_pt_t *o = &s->p[s->n++];
    snprintf(o->id, sizeof o->id, "%s", f->flight_id);
    o->t = ts_ms - T0;
    o->lat = f->latitude;
    o->lon = f->longitude;
    o->alt = f->altitude;
    return 0;
}

static void push(sky_resampler_t *rs, const char *id, const pt_t *p, sink_t *s) {
    sky_flight_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.flight_id, sizeof f.flight_id, "%s", id);
    f.has_location = true;
    f.latitude = p->lat;
    f.longitude = p->lon;
    f.altitude = (int32_t)p->alt;
    f.airspeed = 420;
    assert_int_equal(sky_resampler_push(rs, &f, T0 + p->dt_ms, collect, s), 0);
}

typedef struct row {
    const char *name;
    int64_t cadence_ms, gap_ms;
    pt_t in[MAXP];
    size_t nin;
    pt_t want[MAXP]; /* dt, lat, lon, alt (NONE = not checked) */
    size_t nwant;
} row_t;

static const row_t rows[] = {
    {"straight track sampled irregularly", 5000, 60000,
     {{0, 10, 20, 1000}, {3000, 10.03, 20.06, 1300}, {4000, 10.04, 20.08, 1400},
      {11000, 10.11, 20.22, 2100}, {13000, 10.13, 20.26, 2300}, {20000, 10.2, 20.4, 3000}},
     6,
     {{0, 10, 20, 1000}, {5000, 10.05, 20.1, 1500}, {10000, 10.1, 20.2, 2000},
      {15000, 10.15, 20.3, 2500}, {20000, 10.2, 20.4, 3000}},
     5},
    {"a gap longer than the threshold splits the track", 5000, 60000,
     {{0, 10, 20, 1000}, {5000, 10.5, 20, 1000}, {10000, 11, 20, 1000},
      {200000, 30, 40, 2000}, {210000, 31, 40, 2000}, {220000, 32, 40, 2000}},
     6,
     {{0, 10, 20, 1000}, {5000, 10.5, 20, 1000}, {10000, 11, 20, 1000},
      {200000, 30, 40, 2000}, {205000, 30.5, 40, 2000}, {210000, 31, 40, 2000},
      {215000, 31.5, 40, 2000}, {220000, 32, 40, 2000}},
     8},
    {"antimeridian crossing stays continuous", 5000, 60000,
     {{0, 0, 179.0, 0}, {10000, 0, 179.6, 0}, {20000, 0, -179.8, 0}, {30000, 0, -179.2, 0}},
     4,
     {{0, 0, 179.0, 0}, {5000, 0, 179.3, 0}, {10000, 0, 179.6, 0}, {15000, 0, 179.9, 0},
      {20000, 0, -179.8, 0}, {25000, 0, -179.5, 0}, {30000, 0, -179.2, 0}},
     7},
    {"two points fall back to linear", 5000, 60000,
     {{0, 10, 20, 0}, {10000, 11, 21, 1000}},
     2,
     {{0, 10, 20, 0}, {5000, 10.5, 20.5, 500}, {10000, 11, 21, 1000}},
     3},
    {"a single point is kept as it is", 5000, 60000,
     {{2500, 10, 20, 700}},
     1,
     {{2500, 10, 20, 700}},
     1},
    {"a step is not overshot", 1000, 60000,
     {{0, 0, 0, 0}, {10000, 0, 0, 0}, {20000, 0, 0, 0}, {30000, 1, 1, 1000},
      {40000, 1, 1, 1000}, {50000, 1, 1, 1000}},
     6,
     {{0, 0, 0, 0}, {10000, 0, 0, 0}, {20000, 0, 0, 0}, {25000, NONE, NONE, NONE},
      {30000, 1, 1, 1000}, {40000, 1, 1, 1000}, {50000, 1, 1, 1000}},
     7},
};

/* Every output lies between the two input points around it (Steffen is monotone). */
static void assert_within_neighbours(const row_t *r, const out_pt_t *o) {
    for (size_t i = 0; i + 1 < r->nin; i++) {
        const pt_t *a = &r->in[i], *b = &r->in[i + 1];
        if (o->t < a->dt_ms || o->t > b->dt_ms || b->dt_ms - a->dt_ms > r->gap_ms)
            continue;
        double lo = a->lat < b->lat ? a->lat : b->lat, hi = a->lat < b->lat ? b->lat : a->lat;
        if (o->lat < lo - 1e-9 || o->lat > hi + 1e-9)
            fail_msg("%s: latitude %.9f at %lld outside [%g, %g]", r->name, o->lat,
                     (long long)o->t, lo, hi);
    }
}

static void test_resample_rows(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row_t *r = &rows[i];
        sky_resampler_t *rs = sky_resampler_new(r->cadence_ms, r->gap_ms, 16);
        assert_non_null(rs);
        sink_t *s = calloc(1, sizeof *s);
        assert_non_null(s);
        for (size_t k = 0; k < r->nin; k++)
            push(rs, "F1", &r->in[k], s);
        assert_int_equal(sky_resampler_flush(rs, collect, s), 0);
        size_t ngot = 0;
        for (size_t k = 0; k < s->n; k++) {
            const out_pt_t *o = &s->p[k];
            assert_within_neighbours(r, o);
            if (r->cadence_ms > 1000 || o->t % 10000 == 0 || o->t == 25000)
                ngot++;
            else
                continue; /* the step row checks only its knots and midpoint */
            if (ngot > r->nwant)
                fail_msg("%s: more points than expected (at %lld)", r->name, (long long)o->t);
            const pt_t *w = &r->want[ngot - 1];
            if (o->t != w->dt_ms)
                fail_msg("%s: point %zu at %lld, want %lld", r->name, ngot, (long long)o->t,
                         (long long)w->dt_ms);
            if (w->lat != NONE && (fabs(o->lat - w->lat) > 1e-6 || fabs(o->lon - w->lon) > 1e-6))
                fail_msg("%s: at %lld got (%.9f, %.9f), want (%.9f, %.9f)", r->name,
                         (long long)o->t, o->lat, o->lon, w->lat, w->lon);
            if (w->alt != NONE && abs(o->alt - (int32_t)w->alt) > 1)
                fail_msg("%s: altitude at %lld %d, want %g", r->name, (long long)o->t, o->alt,
                         w->alt);
        }
        if (ngot != r->nwant)
            fail_msg("%s: %zu points, want %zu", r->name, ngot, r->nwant);
        free(s);
        sky_resampler_destroy(rs);
    }
}

/* Points arrive while the track goes on: only ticks up to the second-to-last point. */
static void test_resample_emits_up_to_second_to_last_point(void **state) {
    (void)state;
    sky_resampler_t *rs = sky_resampler_new(5000, 60000, 4);
    sink_t s = {.n = 0};
    const pt_t in[] = {{0, 10, 20, 0}, {10000, 11, 20, 0}, {20000, 12, 20, 0},
                       {30000, 13, 20, 0}};
    const size_t after[] = {0, 0, 3, 5}; /* outputs after each push */
    for (size_t i = 0; i < 4; i++) {
        push(rs, "F1", &in[i], &s);
        assert_int_equal(s.n, after[i]);
    }
    assert_int_equal(sky_resampler_flush(rs, collect, &s), 0);
    assert_int_equal(s.n, 7);
    assert_int_equal(s.p[6].t, 30000);
    sky_resampler_destroy(rs);
}

/* With room for one flight, a second flight flushes the first. */
static void test_resample_caps_tracked_flights(void **state) {
    (void)state;
    sky_resampler_t *rs = sky_resampler_new(5000, 60000, 1);
    sink_t s = {.n = 0};
    const pt_t a = {0, 10, 20, 0}, b = {1000, 30, 40, 0};
    push(rs, "A", &a, &s);
    push(rs, "B", &b, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.p[0].id, "A");
    assert_int_equal(sky_resampler_stats(rs)->evicted, 1);
    assert_int_equal(sky_resampler_flush(rs, collect, &s), 0);
    assert_string_equal(s.p[1].id, "B");
    sky_resampler_destroy(rs);
}

/* Idle flights are flushed once the input time moves a gap past them. */
static void test_resample_flushes_idle_flights(void **state) {
    (void)state;
    sky_resampler_t *rs = sky_resampler_new(5000, 60000, 8);
    sink_t s = {.n = 0};
    const pt_t a0 = {0, 10, 20, 0}, a1 = {5000, 10.5, 20, 0}, b = {70000, 30, 40, 0};
    push(rs, "A", &a0, &s);
    push(rs, "A", &a1, &s);
    assert_int_equal(s.n, 0);
    push(rs, "B", &b, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.p[1].id, "A");
    sky_resampler_destroy(rs);
}

static void test_resample_drops_out_of_order_points(void **state) {
    (void)state;
    sky_resampler_t *rs = sky_resampler_new(5000, 60000, 8);
    sink_t s = {.n = 0};
    const pt_t p[] = {{10000, 10, 20, 0}, {5000, 11, 20, 0}, {10000, 12, 20, 0}};
    for (size_t i = 0; i < 3; i++)
        push(rs, "A", &p[i], &s);
    assert_int_equal(sky_resampler_stats(rs)->dropped, 2);
    sky_resampler_destroy(rs);
}

/* Many flights interleaved (and the pool's removals moving tracks around) give each
 * flight exactly the points it gets when resampled alone. */
static void test_resample_interleaved_flights_match_each_alone(void **state) {
    (void)state;
    enum { NF = 24, NP = 6 };
    static sink_t together, alone;
    sky_resampler_t *rs = sky_resampler_new(5000, 10000, NF); /* odd flights idle out */
    together.n = 0;
    for (int k = 0; k < NP; k++)
        for (int f = 0; f < NF; f++) {
            char id[16];
            snprintf(id, sizeof id, "F%02d", f);
            /* flight f ends early when f is odd, so removals happen mid-stream */
            if (f % 2 && k >= NP / 2)
                continue;
            pt_t p = {k * 7000 + f * 100, 10 + f + 0.01 * k, 20 + 0.02 * k * (f + 1), 1000.0 * k};
            push(rs, id, &p, &together);
        }
    assert_int_equal(sky_resampler_flush(rs, collect, &together), 0);
    sky_resampler_destroy(rs);
    size_t total = 0;
    for (int f = 0; f < NF; f++) {
        char id[16];
        snprintf(id, sizeof id, "F%02d", f);
        sky_resampler_t *one = sky_resampler_new(5000, 10000, 1);
        alone.n = 0;
        for (int k = 0; k < NP; k++) {
            if (f % 2 && k >= NP / 2)
                continue;
            pt_t p = {k * 7000 + f * 100, 10 + f + 0.01 * k, 20 + 0.02 * k * (f + 1), 1000.0 * k};
            push(one, id, &p, &alone);
        }
        assert_int_equal(sky_resampler_flush(one, collect, &alone), 0);
        sky_resampler_destroy(one);
        size_t j = 0;
        for (size_t i = 0; i < together.n; i++) {
            if (strcmp(together.p[i].id, id) != 0)
                continue;
            assert_true(j < alone.n);
            assert_int_equal(together.p[i].t, alone.p[j].t);
            assert_true(together.p[i].lat == alone.p[j].lat);
            assert_true(together.p[i].lon == alone.p[j].lon);
            j++;
        }
        assert_int_equal(j, alone.n);
        total += j;
    }
    assert_int_equal(total, together.n);
}

/* A flight evicted for room and seen again starts a new track under its old id. */
static void test_resample_flight_returns_after_eviction(void **state) {
    (void)state;
    sky_resampler_t *rs = sky_resampler_new(5000, 600000, 1);
    sink_t s = {.n = 0};
    const pt_t a0 = {0, 10, 20, 0}, b = {1000, 30, 40, 0}, a1 = {2000, 11, 21, 0},
               a2 = {7000, 12, 22, 0};
    push(rs, "A", &a0, &s);
    push(rs, "B", &b, &s);  /* evicts A: its one point comes out */
    push(rs, "A", &a1, &s); /* evicts B */
    push(rs, "A", &a2, &s);
    assert_int_equal(sky_resampler_flush(rs, collect, &s), 0);
    assert_int_equal(sky_resampler_stats(rs)->evicted, 2);
    assert_string_equal(s.p[0].id, "A");
    assert_string_equal(s.p[1].id, "B");
    assert_int_equal(s.n, 3); /* A's new track: 2000 and 7000 interpolate to the tick 5000 */
    assert_string_equal(s.p[2].id, "A");
    assert_int_equal(s.p[2].t, 5000);
    sky_resampler_destroy(rs);
}

static void test_resample_rejects_bad_arguments(void **state) {
    (void)state;
    const int64_t bad[][3] = {{0, 60000, 1}, {5000, 0, 1}, {5000, 60000, 0}, {-1, 1, 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(sky_resampler_new(bad[i][0], bad[i][1], (size_t)bad[i][2]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resample_rows),
        cmocka_unit_test(test_resample_emits_up_to_second_to_last_point),
        cmocka_unit_test(test_resample_caps_tracked_flights),
        cmocka_unit_test(test_resample_flushes_idle_flights),
        cmocka_unit_test(test_resample_drops_out_of_order_points),
        cmocka_unit_test(test_resample_interleaved_flights_match_each_alone),
        cmocka_unit_test(test_resample_flight_returns_after_eviction),
        cmocka_unit_test(test_resample_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
