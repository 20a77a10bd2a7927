/* The traffic model on thousands of flights built from the real data files:
 * realism envelopes, geometry, determinism, region filters and data errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geodesy.h"
#include "profile.h"
#include "traffic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NFLIGHTS 3000
#define STEP_MS 5000

static char data_dir[4096];

static sky_traffic_t *model(uint64_t seed, sky_region_t region) {
    char err[512];
    sky_traffic_params_t p = {.data_dir = data_dir, .seed = seed, .region = region};
    sky_traffic_t *t = sky_traffic_new(&p, err, sizeof err);
    if (!t)
        fail_msg("sky_traffic_new: %s", err);
    return t;
}

static void plan_or_fail(const sky_traffic_t *t, uint64_t i, sky_flight_plan_t *plan) {
    char err[512];
    if (sky_traffic_plan(t, i, plan, err, sizeof err) != 0)
        fail_msg("plan %llu: %s", (unsigned long long)i, err);
}

static int setup(void **state) {
    const char *src = getenv("SKY_SOURCE_DIR");
    snprintf(data_dir, sizeof data_dir, "%s/scenarios/data", src ? src : SKY_SOURCE_DIR);
    *state = model(42, (sky_region_t){0});
    return 0;
}

static int teardown(void **state) {
    sky_traffic_destroy(*state);
    return 0;
}

/* Walks one flight every 5 s and checks each step: on the great circle, moving as its
 * ground speed says, within the vertical rates and levels aircraft fly, landing on the field. */
static void check_flight(const sky_traffic_t *t, const sky_flight_plan_t *plan) {
    const sky_aircraft_type_t *y = sky_traffic_type(t, plan->type);
    double dlat, dlon, alat, alon;
    int32_t delev, aelev;
    sky_traffic_airport_pos(t, plan->dep, &dlat, &dlon, &delev);
    sky_traffic_airport_pos(t, plan->arr, &alat, &alon, &aelev);
    int32_t cruise = sky_traffic_cruise_ft(plan), top = sky_traffic_top_ft(plan);
    assert_true(top <= y->ceiling_ft && cruise <= top);
    assert_true(sky_traffic_distance_nm(plan) <= y->range_nm);
    sky_position_t prev, cur;
    sky_traffic_position(t, plan, 0, &prev);
    assert_true(sky_geo_distance_nm(prev.lat, prev.lon, dlat, dlon) < 0.01);
    for (int64_t ms = STEP_MS; ms - STEP_MS < plan->duration_ms; ms += STEP_MS) {
        sky_traffic_position(t, plan, ms, &cur);
        double moved = sky_geo_distance_nm(prev.lat, prev.lon, cur.lat, cur.lon);
        double expect = (prev.speed_kt + cur.speed_kt) * 0.5 * STEP_MS / 3.6e6;
        if (ms > plan->duration_ms) /* last step is shorter: flight clamps at touchdown */
            expect *= (double)(plan->duration_ms - (ms - STEP_MS)) / STEP_MS;
        else if (fabs(moved - expect) > 0.10 * expect)
            fail_msg("%s %s-%s t=%lld: moved %.3f nm, speed says %.3f", y->icao,
                     sky_traffic_airport_icao(t, plan->dep), sky_traffic_airport_icao(t, plan->arr),
                     (long long)ms, moved, expect);
        assert_true(moved < 1.0); /* no jumps: 5 s at 700 kt is < 1 nm */
        double xt = sky_geo_cross_track_nm(cur.lat, cur.lon, dlat, dlon, alat, alon);
        if (xt > 1.0)
            fail_msg("t=%lld: %.3f nm off the great circle", (long long)ms, xt);
        double fpm = (cur.alt_ft - prev.alt_ft) * 60000.0 / STEP_MS;
        if (fabs(fpm) > 5000)
            fail_msg("%s %s %.0f fpm at %d ft", y->icao, fpm > 0 ? "climbs" : "descends",
                     fabs(fpm), prev.alt_ft);
        assert_true(cur.alt_ft <= top && cur.alt_ft >= (delev < aelev ? delev : aelev));
        if (cur.speed_kt < 60 || cur.speed_kt > 750)
            fail_msg("%s ground speed %d kt at %d ft", y->icao, cur.speed_kt, cur.alt_ft);
        if (cur.phase == SKY_PHASE_CRUISE)
            assert_true(cur.alt_ft >= cruise && cur.alt_ft <= top);
        prev = cur;
    }
    sky_traffic_position(t, plan, plan->duration_ms, &cur);
    assert_int_equal(cur.phase, SKY_PHASE_LANDED);
    assert_true(sky_geo_distance_nm(cur.lat, cur.lon, alat, alon) < 1e-6);
    assert_int_equal(cur.alt_ft, aelev);
    assert_true(cur.speed_kt >= y->touchdown_kt - 40 && cur.speed_kt <= y->approach_kt + 40);
    /* and the last airborne moment is on the runway's doorstep, not a jump away */
    sky_traffic_position(t, plan, plan->duration_ms - 1, &cur);
    assert_true(sky_geo_distance_nm(cur.lat, cur.lon, alat, alon) < 0.01);
}

static void test_flights_stay_in_type_envelope_on_the_great_circle(void **state) {
    const sky_traffic_t *t = *state;
    for (uint64_t i = 0; i < NFLIGHTS; i++) {
        sky_flight_plan_t plan;
        plan_or_fail(t, i, &plan);
        check_flight(t, &plan);
    }
}

static void test_random_routes_are_at_least_100_nm_and_within_range(void **state) {
    const sky_traffic_t *t = *state;
    for (uint64_t i = 0; i < NFLIGHTS; i++) {
        sky_flight_plan_t plan;
        plan_or_fail(t, i, &plan);
        assert_true(sky_traffic_distance_nm(&plan) >= 100.0);
        assert_true(sky_traffic_distance_nm(&plan) * 1.05 <=
                    sky_traffic_type(t, plan.type)->range_nm);
        assert_true(plan.dep != plan.arr);
        assert_true(plan.number >= 1 && plan.number <= 9999);
    }
}

static void test_short_routes_cruise_lower_than_long_ones(void **state) {
    (void)state;
    static const struct {
        const char *route;
        int32_t max_cruise_ft;
    } rows[] = {{"EGLL-LFPG", 28000}, {"EDDF-EDDM", 26000}, {"EGLL-KJFK", 43100}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *routes[] = {rows[r].route};
        sky_traffic_t *t = model(1, (sky_region_t){.routes = routes, .nroutes = 1});
        for (uint64_t i = 0; i < 200; i++) {
            sky_flight_plan_t plan;
            plan_or_fail(t, i, &plan);
            if (sky_traffic_top_ft(&plan) > rows[r].max_cruise_ft)
                fail_msg("%s cruises at %d ft", rows[r].route, sky_traffic_top_ft(&plan));
            check_flight(t, &plan);
        }
        sky_traffic_destroy(t);
    }
}

static int same_flight(const sky_flight_plan_t *a, const sky_flight_plan_t *b) {
    return a->dep == b->dep && a->arr == b->arr && a->type == b->type &&
           a->airline == b->airline && a->number == b->number;
}

static void test_same_seed_and_index_give_identical_flights(void **state) {
    const sky_traffic_t *t = *state;
    sky_traffic_t *again = model(42, (sky_region_t){0});
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t index = i * 7919; /* any order, any index: no hidden RNG state */
        sky_flight_plan_t a, b;
        plan_or_fail(t, index, &a);
        plan_or_fail(again, index, &b);
        assert_true(same_flight(&a, &b));
        assert_int_equal(a.index, b.index);
        assert_int_equal(a.duration_ms, b.duration_ms);
        assert_memory_equal(a.seg_h, b.seg_h, sizeof a.seg_h);
        assert_memory_equal(a.geo, b.geo, sizeof a.geo); /* arrays: no padding inside */
        assert_memory_equal(a.profile, b.profile, sizeof a.profile);
        assert_memory_equal(a.seg_s, b.seg_s, sizeof a.seg_s);
        assert_memory_equal(a.seg_v, b.seg_v, sizeof a.seg_v);
        sky_position_t pa, pb;
        sky_traffic_position(t, &a, a.duration_ms / 3, &pa);
        sky_traffic_position(again, &b, b.duration_ms / 3, &pb);
        assert_true(pa.lat == pb.lat && pa.lon == pb.lon && pa.alt_ft == pb.alt_ft &&
                    pa.speed_kt == pb.speed_kt && pa.phase == pb.phase);
    }
    sky_traffic_destroy(again);
}

static void test_different_index_or_seed_gives_different_flights(void **state) {
    const sky_traffic_t *t = *state;
    sky_traffic_t *other_seed = model(43, (sky_region_t){0});
    int same_as_next = 0, same_as_other_seed = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        sky_flight_plan_t a, b, c;
        plan_or_fail(t, i, &a);
        plan_or_fail(t, i + 1, &b);
        plan_or_fail(other_seed, i, &c);
        same_as_next += same_flight(&a, &b);
        same_as_other_seed += same_flight(&a, &c);
    }
    assert_true(same_as_next <= 2);
    assert_true(same_as_other_seed <= 2);
    sky_traffic_destroy(other_seed);
}

static bool in_box(const sky_region_t *r, double lat, double lon) {
    bool in_lon = r->west <= r->east ? lon >= r->west && lon <= r->east
                                     : lon >= r->west || lon <= r->east;
    return lat >= r->south && lat <= r->north && in_lon;
}

/* A region's traffic is what crosses it: domestic, in, out and overflights. */
static void test_bbox_region_flies_routes_that_cross_it(void **state) {
    (void)state;
    static const sky_region_t boxes[] = {
        {.has_bbox = true, .south = 35, .west = -10, .north = 60, .east = 25}, /* Europe */
        {.has_bbox = true, .south = 25, .west = -125, .north = 49, .east = -66}, /* US */
        {.has_bbox = true, .south = -50, .west = 160, .north = 0, .east = -170}, /* antimeridian */
        {.has_bbox = true, .south = 49, .west = 5, .north = 51, .east = 8}, /* a small one */
    };
    for (size_t b = 0; b < sizeof boxes / sizeof boxes[0]; b++) {
        sky_traffic_t *t = model(5, boxes[b]);
        int both_in = 0, over = 0;
        for (uint64_t i = 0; i < 1000; i++) {
            sky_flight_plan_t plan;
            plan_or_fail(t, i, &plan);
            int inside = 0, ends = 0, n = plan.duration_ms / 10000 + 1; /* every 10 s */
            for (int k = 0; k <= n; k++) {
                sky_position_t pos;
                sky_traffic_position(t, &plan, (int64_t)plan.duration_ms * k / n, &pos);
                inside += in_box(&boxes[b], pos.lat, pos.lon);
                if (k == 0 || k == n)
                    ends += in_box(&boxes[b], pos.lat, pos.lon);
            }
            if (!inside)
                fail_msg("box %zu: %s-%s never enters it", b,
                     sky_traffic_airport_icao(t, plan.dep),
                     sky_traffic_airport_icao(t, plan.arr));
            both_in += ends == 2;
            over += ends == 0;
        }
        print_message("box %zu: %d domestic, %d in or out, %d overflights of 1000\n", b, both_in,
                      1000 - both_in - over, over);
        if (b < 2 && (both_in < 500 || over < 5))
            fail_msg("box %zu: %d domestic, %d overflights of 1000", b, both_in, over);
        sky_traffic_destroy(t);
    }
}

static void test_airport_list_and_routes_are_honoured(void **state) {
    (void)state;
    const char *airports[] = {"EGLL", "LFPG", "EDDF", "EHAM", "LEMD", "LIRF"};
    const char *routes[] = {"EGLL-LFPG", "KJFK-EGLL", "YSSY-NZAA"};
    sky_traffic_t *t = model(9, (sky_region_t){.airports = airports, .nairports = 6});
    sky_traffic_t *r = model(9, (sky_region_t){.routes = routes, .nroutes = 3});
    int seen[3] = {0};
    for (uint64_t i = 0; i < 1000; i++) {
        sky_flight_plan_t plan;
        plan_or_fail(t, i, &plan);
        int found = 0;
        for (int k = 0; k < 6; k++)
            found += !strcmp(sky_traffic_airport_icao(t, plan.dep), airports[k]) +
                     !strcmp(sky_traffic_airport_icao(t, plan.arr), airports[k]);
        assert_int_equal(found, 2);
        plan_or_fail(r, i, &plan);
        char route[16];
        snprintf(route, sizeof route, "%s-%s", sky_traffic_airport_icao(r, plan.dep),
                 sky_traffic_airport_icao(r, plan.arr));
        int k = 0;
        while (k < 3 && strcmp(route, routes[k]))
            k++;
        if (k == 3)
            fail_msg("route %s is not in the list", route);
        seen[k]++;
    }
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    sky_traffic_destroy(t);
    sky_traffic_destroy(r);
}

/* ---- the route network, checked against the data files read here independently ---- */

typedef struct row {
    char icao[8], country[4], kind[16], scheduled[4], hubs[400], fleet[200];
} row_t;

/* Field col of a CSV line (RFC 4180 quotes: a quoted comma does not split). */
static void field(const char *line, int col, char *out, size_t outsz) {
    int c = 0;
    bool quoted = false;
    size_t n = 0;
    for (const char *p = line; *p && *p != '\n'; p++) {
        if (*p == '"') {
            quoted = !quoted;
        } else if (*p == ',' && !quoted) {
            if (c++ == col)
                break;
        } else if (c == col && n + 1 < outsz) {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

static size_t read_rows(const char *file, const int cols[6], row_t *rows, size_t max) {
    char path[4200], line[2048];
    snprintf(path, sizeof path, "%s/%s", data_dir, file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = 0;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (n < max && fgets(line, sizeof line, f)) {
        row_t *r = &rows[n++];
        memset(r, 0, sizeof *r);
        char *dst[6] = {r->icao, r->country, r->kind, r->scheduled, r->hubs, r->fleet};
        size_t sz[6] = {sizeof r->icao, sizeof r->country, sizeof r->kind, sizeof r->scheduled,
                        sizeof r->hubs, sizeof r->fleet};
        for (int c = 0; c < 6; c++)
            if (cols[c] >= 0)
                field(line, cols[c], dst[c], sz[c]);
    }
    fclose(f);
    return n;
}

static const row_t *find_row(const row_t *rows, size_t n, const char *icao) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].icao, icao))
            return &rows[i];
    return NULL;
}

static bool has_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    return false;
}

static row_t airport_rows[5000], airline_rows[300];

/* Who flies where: every flight touches its airline's country or one of its hubs, flies a
 * type of its fleet, between fields with scheduled service; low-cost carriers stay within
 * 2,500 nm and regionals within 1,300; a route keeps its number, odd one way, even back. */
static void test_airlines_fly_their_own_network(void **state) {
    const sky_traffic_t *t = *state;
    /* airports.csv: icao,iata,name,type,lat,lon,elevation_ft,country,continent,scheduled */
    static const int ap_cols[6] = {0, 7, -1, 9, -1, -1};
    /* airlines.csv: icao,iata,name,country,region,kind,weight,hubs,fleet */
    static const int al_cols[6] = {0, 3, 5, -1, 7, 8};
    size_t nap = read_rows("airports.csv", ap_cols, airport_rows, 5000);
    size_t nal = read_rows("airlines.csv", al_cols, airline_rows, 300);
    assert_true(nap > 4000 && nal > 50);
    struct {
        uint16_t airline;
        uint32_t dep, arr;
        uint16_t number;
    } seen[NFLIGHTS];
    size_t nseen = 0, pairs = 0;
    for (uint64_t i = 0; i < NFLIGHTS; i++) {
        sky_flight_plan_t plan;
        plan_or_fail(t, i, &plan);
        const char *dep = sky_traffic_airport_icao(t, plan.dep);
        const char *arr = sky_traffic_airport_icao(t, plan.arr);
        const row_t *al = find_row(airline_rows, nal, sky_traffic_airline_icao(t, &plan));
        const row_t *d = find_row(airport_rows, nap, dep), *a = find_row(airport_rows, nap, arr);
        assert_non_null(al);
        assert_non_null(d);
        assert_non_null(a);
        if (!has_word(al->hubs, dep) && !has_word(al->hubs, arr) &&
            strcmp(al->country, d->country) && strcmp(al->country, a->country))
            fail_msg("%s flies %s-%s: neither its hub nor its country", al->icao, dep, arr);
        if (strcmp(d->scheduled, "yes") || strcmp(a->scheduled, "yes"))
            fail_msg("%s-%s: a field without scheduled service", dep, arr);
        const char *type = sky_traffic_type(t, plan.type)->icao;
        if (!has_word(al->fleet, type))
            fail_msg("%s flies a %s, not in its fleet \"%s\"", al->icao, type, al->fleet);
        double nm = sky_traffic_distance_nm(&plan);
        bool wide = !strcmp(sky_traffic_type(t, plan.type)->category, "widebody");
        if (!strcmp(al->kind, "lowcost") && nm > 2500 && !wide)
            fail_msg("low-cost %s flies %s-%s, %.0f nm", al->icao, dep, arr, nm);
        if (!strcmp(al->kind, "regional") && nm > 1300)
            fail_msg("regional %s flies %s-%s, %.0f nm", al->icao, dep, arr, nm);
        for (size_t k = 0; k < nseen; k++) {
            if (seen[k].airline != plan.airline)
                continue;
            if (seen[k].dep == plan.dep && seen[k].arr == plan.arr)
                assert_int_equal(seen[k].number, plan.number);
            if (seen[k].dep == plan.arr && seen[k].arr == plan.dep) {
                assert_int_not_equal(seen[k].number % 2, plan.number % 2);
                pairs++;
            }
        }
        seen[nseen].airline = plan.airline;
        seen[nseen].dep = plan.dep;
        seen[nseen].arr = plan.arr;
        seen[nseen++].number = plan.number;
    }
    assert_true(pairs > 10); /* both directions of some routes were flown */
}

/* The generator's own sincos and atan2 against libm, over the ranges positions use. */
static void test_fast_trig_matches_libm_within_1e_15(void **state) {
    (void)state;
    static const double angles[] = {0, 1e-9, 0.1, 0.5, 0.785398163397, 0.8, 1.5707963267949,
                                    2.0, 2.35619449019, 2.9, 3.14159265358979, 4.0, 5.5, 6.28};
    for (size_t i = 0; i < sizeof angles / sizeof angles[0]; i++) {
        double sn, c;
        sky_geo_sincos(angles[i], &sn, &c);
        if (fabs(sn - sin(angles[i])) > 1e-15 || fabs(c - cos(angles[i])) > 1e-15)
            fail_msg("sincos(%.17g) = %.17g, %.17g", angles[i], sn, c);
    }
    static const double points[][2] = {{0, 1},     {1, 0},     {0, -1},   {-1, 0},  {1, 1},
                                       {-1, -1},   {0.3, 0.9}, {0.9, 0.3}, {-0.2, 0.7},
                                       {0.7, -0.2}, {1e-12, 1}, {0.66, 1}, {0.67, 1},
                                       {5, -0.001}, {-5, -0.001}, {0.99999, 0.001},
                                       {1e-120, 3e-120}, {-3e-160, 1e-160}};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        double got = sky_geo_atan2(points[i][0], points[i][1]);
        if (fabs(got - atan2(points[i][0], points[i][1])) > 1e-15)
            fail_msg("atan2(%g, %g) = %.17g", points[i][0], points[i][1], got);
    }
}

/* The two-lane atan2 gives sky_geo_atan2's bits: every range boundary, both signs of
 * each coordinate, zeros, and random unit-circle and mixed-scale points. */
static void test_atan2_pair_gives_the_scalar_bits(void **state) {
    (void)state;
    static const double edge[] = {0.0, -0.0, 1e-300, 1.0, 0.66, 0.6600000000000001, 0.65999999,
                                  1.5, 1e-12, 3.0, 1e6};
    size_t nedge = sizeof edge / sizeof edge[0];
    uint64_t rng = 88172645463325252ULL;
    for (size_t i = 0; i < nedge * nedge + 200000; i++) {
        double y, x;
        if (i < nedge * nedge) {
            y = edge[i / nedge], x = edge[i % nedge];
            if (i & 1)
                y = -y;
            if (i & 2)
                x = -x;
        } else {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            double a = (double)(rng >> 11) * 0x1p-53 * 2 * M_PI;
            double scale = (i & 3) ? 1.0 : (double)(rng & 1023) + 1e-3;
            y = sin(a) * scale, x = cos(a);
        }
        double ys[2] = {y, x}, xs[2] = {x, y}, r[2];
        sky_geo_atan2_2(ys, xs, r);
        double want0 = sky_geo_atan2(y, x), want1 = sky_geo_atan2(x, y);
        if (memcmp(&r[0], &want0, sizeof r[0]) != 0 || memcmp(&r[1], &want1, sizeof r[1]) != 0)
            fail_msg("atan2 pair (%.17g, %.17g): %.17g %.17g, scalar %.17g %.17g", y, x, r[0],
                     r[1], want0, want1);
    }
}

/* Every position lies on the libm great circle (sky_geo_arc_point) within 1e-9 degree. */
static void test_positions_match_the_libm_great_circle(void **state) {
    const sky_traffic_t *t = *state;
    double worst = 0;
    for (uint64_t i = 0; i < NFLIGHTS; i++) {
        sky_flight_plan_t plan;
        plan_or_fail(t, i, &plan);
        double dlat, dlon, alat, alon;
        int32_t elev;
        sky_traffic_airport_pos(t, plan.dep, &dlat, &dlon, &elev);
        sky_traffic_airport_pos(t, plan.arr, &alat, &alon, &elev);
        sky_geo_arc_t arc;
        assert_int_equal(sky_geo_arc_init(&arc, dlat, dlon, alat, alon), 0);
        for (int k = 0; k < 10; k++) {
            int64_t ms = (int64_t)plan.duration_ms * k / 10;
            sky_position_t pos;
            double s, lat, lon;
            int32_t alt, kt;
            int phase;
            sky_traffic_position(t, &plan, ms, &pos);
            sky_profile_eval(&plan, ms, &s, &alt, &kt, &phase);
            sky_geo_arc_point(&arc, s * plan.rad_per_nm * SKY_EARTH_RADIUS_NM, &lat, &lon);
            double dlon_deg = fabs(pos.lon - lon);
            if (dlon_deg > 180)
                dlon_deg = 360 - dlon_deg;
            double err = fmax(fabs(pos.lat - lat), dlon_deg * cos(lat * M_PI / 180));
            worst = fmax(worst, err);
        }
    }
    if (worst > 1e-9)
        fail_msg("worst position error %.3g degree", worst);
}

static void test_type_suits_route_length(void **state) {
    const sky_traffic_t *t = *state;
    int long_haul = 0;
    for (uint64_t i = 0; i < NFLIGHTS; i++) {
        sky_flight_plan_t plan;
        plan_or_fail(t, i, &plan);
        const char *cat = sky_traffic_type(t, plan.type)->category;
        double nm = sky_traffic_distance_nm(&plan);
        if (nm < 800)
            assert_string_not_equal(cat, "widebody");
        if (nm > 3300) {
            assert_string_equal(cat, "widebody");
            long_haul++;
        }
        if (!strcmp(cat, "turboprop"))
            assert_true(nm <= 500);
    }
    assert_true(long_haul > 0);
}

/* The documented formats, "%s%u-%06llx" (airline ICAO) and "%s%u" (IATA), for every
 * airline, every digit count of the number and hex ids of 6 to 16 digits; the bounded
 * forms truncate as snprintf does. */
static void test_flight_id_and_number_formats(void **state) {
    const sky_traffic_t *t = *state;
    static const uint16_t numbers[] = {1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535};
    static const uint64_t indices[] = {0, 0x2a, 0xffffff, 0x1000000, 0xfffffffffULL, UINT64_MAX};
    sky_flight_plan_t plan;
    plan_or_fail(t, 42, &plan);
    for (size_t a = 0; a < sky_traffic_airline_count(t); a++) {
        plan.airline = (uint16_t)a;
        for (size_t k = 0; k < sizeof numbers / sizeof numbers[0]; k++) {
            plan.number = numbers[k];
            for (size_t x = 0; x < sizeof indices / sizeof indices[0]; x++) {
                char id[64], expect[64], put[SKY_TRAFFIC_PUT_ROOM];
                plan.index = indices[x];
                snprintf(expect, sizeof expect, "%s%u-%06llx",
                         sky_traffic_airline_icao(t, &plan), plan.number,
                         (unsigned long long)plan.index);
                assert_int_equal(sky_traffic_flight_id(t, &plan, id, sizeof id), strlen(expect));
                assert_string_equal(id, expect);
                size_t n = sky_traffic_put_flight_id(t, &plan, put);
                assert_int_equal(n, strlen(expect));
                assert_memory_equal(put, expect, n);
                char number[SKY_TRAFFIC_PUT_ROOM], want[16];
                int m = snprintf(want, sizeof want, "%s%u", sky_traffic_airline_iata(t, &plan),
                                 plan.number);
                assert_int_equal(sky_traffic_put_flight_number_from_id(t, &plan, put, n, number),
                                 m);
                assert_memory_equal(number, want, (size_t)m);
            }
            char number[16], expect[16];
            snprintf(expect, sizeof expect, "%s%u", sky_traffic_airline_iata(t, &plan),
                     plan.number);
            assert_int_equal(sky_traffic_flight_number(t, &plan, number, sizeof number),
                             strlen(expect));
            assert_string_equal(number, expect);
        }
    }
    plan.airline = 0;
    for (uint32_t number = 0; number <= UINT16_MAX; number++) {
        char got[SKY_TRAFFIC_PUT_ROOM], expect[16];
        plan.number = (uint16_t)number;
        int n = snprintf(expect, sizeof expect, "%s%u", sky_traffic_airline_iata(t, &plan),
                         plan.number);
        assert_int_equal(sky_traffic_put_flight_number(t, &plan, got), n);
        assert_memory_equal(got, expect, (size_t)n);
    }
    char small[5];
    plan.index = 42;
    size_t full = sky_traffic_flight_id(t, &plan, small, sizeof small);
    assert_true(full > sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_region_errors_name_the_bad_value(void **state) {
    (void)state;
    static const char *const unknown[] = {"ZZZZ"};
    static const char *const bad_route[] = {"EGLL_LFPG"};
    static const char *const short_route[] = {"EGLL-EGLC"};
    static const char *const one[] = {"EGLL"};
    static const struct {
        sky_region_t region;
        const char *expect;
    } rows[] = {
        {{.airports = unknown, .nairports = 1}, "\"ZZZZ\" is not in airports.csv"},
        {{.routes = bad_route, .nroutes = 1}, "expected ICAO-ICAO"},
        {{.routes = short_route, .nroutes = 1}, "routes must be 50 to 10000 nm"},
        {{.airports = one, .nairports = 1}, "at least 2 are needed"},
        {{.has_bbox = true, .south = 89, .west = 0, .north = 90, .east = 1}, "at least 2"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[512] = "";
        sky_traffic_params_t p = {.data_dir = data_dir, .seed = 1, .region = rows[i].region};
        sky_traffic_t *t = sky_traffic_new(&p, err, sizeof err);
        assert_null(t);
        if (!strstr(err, rows[i].expect))
            fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err, rows[i].expect);
    }
}

/* ---- bad data files: each row writes one broken file next to two good ones ---- */

static const char good_airports[] = "icao,iata,name,type,lat,lon,elevation_ft,country\n"
                                    "EGLL,LHR,Heathrow,large,51.4706,-0.461941,83,GB\n"
                                    "LFPG,CDG,\"Paris, CDG\",large,49.0128,2.55,392,FR\n";
static const char good_airlines[] = "icao,iata,name,country\nBAW,BA,British Airways,GB\n";
static const char good_types[] =
    "icao,category,cruise_ft,ceiling_ft,cruise_mach,cruise_kt,climb_fpm_below_fl100,"
    "climb_fpm_fl100_fl240,climb_fpm_above_fl240,descent_fpm,climb_kt,approach_kt,"
    "touchdown_kt,range_nm\n"
    "A320,narrowbody,37000,39800,0.78,447,2500,2000,1000,2500,290,137,132,3300\n";

static void write_text(const char *dir, const char *name, const char *text) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_data_rows_are_reported_with_file_and_line(void **state) {
    (void)state;
    static const struct {
        const char *file, *text, *expect;
    } rows[] = {
        {"airports.csv", "icao,iata,name,type,lat,lon,elevation_ft\n"
                         "EGLL,LHR,Heathrow,large,51.47,-0.46,83\n"
                         "LFPG,CDG,CDG,large,91.5,2.55,392\n",
         "airports.csv:3: lat: \"91.5\" out of range [-90, 90]"},
        {"airports.csv", "icao,iata,name,type,lon,elevation_ft\nEGLL,LHR,x,large,0,1\n",
         "airports.csv:1: missing column \"lat\""},
        {"airports.csv", "icao,iata,name,type,lat,lon,elevation_ft\n"
                         "EGLL,LHR,\"Heathrow,large,51.47,-0.46,83\n",
         "airports.csv:2: bad quoting"},
        {"airports.csv", "icao,iata,name,type,lat,lon,elevation_ft\n"
                         "EGLL,LHR,Heathrow,small,51.47,-0.46,83\n",
         "airports.csv:2: type \"small\" is not large or medium"},
        {"airports.csv", "icao,iata,name,type,lat,lon,elevation_ft\nEGL,LHR,x,large,1,2\n",
         "airports.csv:2: 6 fields"},
        {"airlines.csv", "icao,iata\nBAW,BA\nDLH,L\n",
         "airlines.csv:3: iata \"L\" is not 2 capital letters or digits"},
        {"aircraft_types.csv",
         "icao,category,cruise_ft,ceiling_ft,cruise_mach,cruise_kt,climb_fpm_below_fl100,"
         "climb_fpm_fl100_fl240,climb_fpm_above_fl240,descent_fpm,climb_kt,approach_kt,"
         "touchdown_kt,range_nm\n"
         "A320,narrowbody,37000,39800,0.78,447,2500,2000,1000,2500,290,137,150,3300\n",
         "aircraft_types.csv:2: figures out of order"},
        {"aircraft_types.csv",
         "icao,category,cruise_ft,ceiling_ft,cruise_mach,cruise_kt,climb_fpm_below_fl100,"
         "climb_fpm_fl100_fl240,climb_fpm_above_fl240,descent_fpm,climb_kt,approach_kt,"
         "touchdown_kt,range_nm\n"
         "A320,narrowbody,37000,39800,0.78,fast,2500,2000,1000,2500,290,137,132,3300\n",
         "aircraft_types.csv:2: cruise_kt: \"fast\" is not a whole number"},
        {"aircraft_types.csv", "", "aircraft_types.csv:1: no data rows"},
    };
    char dir[] = "/tmp/sky_test_traffic_XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        write_text(dir, "airports.csv", good_airports);
        write_text(dir, "airlines.csv", good_airlines);
        write_text(dir, "aircraft_types.csv", good_types);
        write_text(dir, rows[i].file, rows[i].text);
        char err[512] = "";
        sky_traffic_params_t p = {.data_dir = dir, .seed = 1};
        sky_traffic_t *t = sky_traffic_new(&p, err, sizeof err);
        assert_null(t);
        if (!strstr(err, rows[i].expect))
            fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err, rows[i].expect);
    }
    /* and the good files load, quoted comma and all */
    write_text(dir, "aircraft_types.csv", good_types);
    write_text(dir, "airports.csv", good_airports);
    char err[512] = "";
    sky_traffic_params_t p = {.data_dir = dir, .seed = 1};
    sky_traffic_t *t = sky_traffic_new(&p, err, sizeof err);
    if (!t)
        fail_msg("good files: %s", err);
    assert_int_equal(sky_traffic_airport_count(t), 2);
    assert_int_equal(sky_traffic_find_airport(t, "LFPG"), 1);
    sky_traffic_destroy(t);
    const char *names[] = {"airports.csv", "airlines.csv", "aircraft_types.csv"};
    for (int i = 0; i < 3; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void test_missing_data_dir_is_reported(void **state) {
    (void)state;
    char err[512] = "";
    sky_traffic_params_t p = {.data_dir = "/nonexistent/skyload", .seed = 1};
    assert_null(sky_traffic_new(&p, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/skyload/airports.csv: cannot open"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flights_stay_in_type_envelope_on_the_great_circle),
        cmocka_unit_test(test_random_routes_are_at_least_100_nm_and_within_range),
        cmocka_unit_test(test_short_routes_cruise_lower_than_long_ones),
        cmocka_unit_test(test_same_seed_and_index_give_identical_flights),
        cmocka_unit_test(test_different_index_or_seed_gives_different_flights),
        cmocka_unit_test(test_bbox_region_flies_routes_that_cross_it),
        cmocka_unit_test(test_airport_list_and_routes_are_honoured),
        cmocka_unit_test(test_type_suits_route_length),
        cmocka_unit_test(test_airlines_fly_their_own_network),
        cmocka_unit_test(test_fast_trig_matches_libm_within_1e_15),
        cmocka_unit_test(test_atan2_pair_gives_the_scalar_bits),
        cmocka_unit_test(test_positions_match_the_libm_great_circle),
        cmocka_unit_test(test_flight_id_and_number_formats),
        cmocka_unit_test(test_region_errors_name_the_bad_value),
        cmocka_unit_test(test_bad_data_rows_are_reported_with_file_and_line),
        cmocka_unit_test(test_missing_data_dir_is_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
