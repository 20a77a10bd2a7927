/* The simulator's record encoder against codec.c's: the bytes of every flight's
 * records (all timestamp formats, every second of the minute, positions with zero,
 * negative and extreme fields) are sky_flight_encode's for the same flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "codec.h"
#include "record.h"
#include "timefmt.h"
#include "traffic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFLIGHTS 2000

static sky_traffic_t *traffic;

static int setup(void **state) {
    (void)state;
    char data_dir[4096], err[512];
    const char *src = getenv("SKY_SOURCE_DIR");
    snprintf(data_dir, sizeof data_dir, "%s/scenarios/data", src ? src : SKY_SOURCE_DIR);
    sky_traffic_params_t p = {.data_dir = data_dir, .seed = 7};
    if (!(traffic = sky_traffic_new(&p, err, sizeof err)))
        fail_msg("sky_traffic_new: %s", err);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    sky_traffic_destroy(traffic);
    return 0;
}

/* The record as a sky_flight_t from the model's documented strings, encoded by codec.c. */
static size_t reference(const sky_flight_plan_t *plan, const sky_position_t *pos, int64_t ts_ms,
                        sky_ts_format_t fmt, uint8_t *out) {
    sky_flight_t f;
    memset(&f, 0, sizeof f);
    sky_traffic_flight_id(traffic, plan, f.flight_id, sizeof f.flight_id);
    f.has_location = true;
    f.latitude = pos->lat;
    f.longitude = pos->lon;
    f.altitude = pos->alt_ft;
    f.airspeed = pos->speed_kt;
    f.timestamp[sky_ts_format(ts_ms, fmt, f.timestamp)] = '\0';
    f.has_metadata = true;
    snprintf(f.airline, sizeof f.airline, "%s", sky_traffic_airline_icao(traffic, plan));
    sky_traffic_flight_number(traffic, plan, f.flight_number, sizeof f.flight_number);
    snprintf(f.departure_airport, sizeof f.departure_airport, "%s",
             sky_traffic_airport_icao(traffic, plan->dep));
    snprintf(f.arrival_airport, sizeof f.arrival_airport, "%s",
             sky_traffic_airport_icao(traffic, plan->arr));
    return sky_flight_encode(&f, out, SKY_FLIGHT_ENCODED_MAX);
}

static void expect_same_bytes(sky_simrec_t *r, const sky_flight_plan_t *plan,
                              const sky_position_t *pos, int64_t ts_ms, sky_ts_format_t fmt) {
    uint8_t got[SKY_FLIGHT_ENCODED_MAX], want[SKY_FLIGHT_ENCODED_MAX];
    sky_simrec_id_t kept, none = {{0}, 0};
    char text[SKY_TRAFFIC_PUT_ROOM];
    sky_simrec_id(&kept, text, sky_traffic_put_flight_id(traffic, plan, text));
    /* the kept id (when it fits) and the id written from the plan give the same bytes */
    size_t n = sky_simrec_encode(r, plan, (ts_ms & 1) ? &none : &kept, pos, ts_ms, got);
    size_t m = reference(plan, pos, ts_ms, fmt, want);
    if (n != m || memcmp(got, want, n) != 0)
        fail_msg("flight %llu at %lld ms (format %d, lat %.17g, alt %d): %zu bytes, want %zu",
                 (unsigned long long)plan->index, (long long)ts_ms, (int)fmt, pos->lat,
                 pos->alt_ft, n, m);
    assert_int_equal(got[0], 0x0a); /* the key is field 1, first */
    char id[64];
    assert_int_equal(got[1], sky_traffic_flight_id(traffic, plan, id, sizeof id));
    assert_memory_equal(got + 2, id, got[1]);
}

static void test_model_records_match_the_generic_encoder(void **state) {
    (void)state;
    static const sky_ts_format_t formats[] = {SKY_TS_ISO8601, SKY_TS_EPOCH, SKY_TS_EPOCH_MS};
    const int64_t start_ms = 1795600800000LL; /* 2026-11-25T10:00:00Z */
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        sky_simrec_t *r = sky_simrec_new(traffic, formats[k]);
        assert_non_null(r);
        for (uint64_t i = 0; i < NFLIGHTS; i++) {
            sky_flight_plan_t plan;
            char err[256];
            if (sky_traffic_plan(traffic, i * 7919, &plan, err, sizeof err))
                fail_msg("plan: %s", err);
            /* times step by 1.7 s (the timestamp cache sees new and same seconds) */
            for (int64_t t = 0; t <= plan.duration_ms; t += plan.duration_ms / 23 + 1700) {
                sky_position_t pos;
                sky_traffic_position(traffic, &plan, t, &pos);
                expect_same_bytes(r, &plan, &pos, start_ms + (int64_t)i * 3 + t, formats[k]);
            }
        }
        sky_simrec_destroy(r);
    }
}

/* Fields the model rarely or never gives: zeros (omitted), negative altitude (a 10-byte
 * varint), the bounds, and times before 1970 and across a second. */
static void test_edge_positions_match_the_generic_encoder(void **state) {
    (void)state;
    static const sky_position_t positions[] = {
        {0.0, 0.0, 0, 0, 0},        {-0.0, 12.5, 35000, 450, 0}, {51.47, 0.0, -11, 140, 0},
        {-89.999, -180, -2000, 0, 0}, {90, 180, 100000, 2000, 0}, {1e-300, -1e-300, 1, 1, 0},
    };
    static const int64_t times[] = {0, 999, 1000, 1795600800999LL, 1795600801000LL, -1,
                                    -86400001LL};
    sky_simrec_t *r = sky_simrec_new(traffic, SKY_TS_ISO8601);
    assert_non_null(r);
    sky_flight_plan_t plan;
    char err[256];
    if (sky_traffic_plan(traffic, 3, &plan, err, sizeof err))
        fail_msg("plan: %s", err);
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++)
        for (size_t k = 0; k < sizeof times / sizeof times[0]; k++)
            expect_same_bytes(r, &plan, &positions[i], times[k], SKY_TS_ISO8601);
    /* ids of 15 bytes are kept, longer ones (a 5-digit number, 8+ hex digits) are not */
    static const struct {
        uint64_t index;
        uint16_t number;
        uint8_t kept_len;
    } ids[] = {{0xfffffff, 9999, 15}, {0x10000000, 9999, 0}, {0xfffffffffULL, 1, 14}, {0xfffffffffffULL, 1, 0},
               {5, 65535, 15}, {UINT64_MAX, 65535, 0}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        sky_simrec_id_t kept;
        char text[SKY_TRAFFIC_PUT_ROOM];
        plan.index = ids[i].index;
        plan.number = ids[i].number;
        sky_simrec_id(&kept, text, sky_traffic_put_flight_id(traffic, &plan, text));
        assert_int_equal(kept.len, ids[i].kept_len);
        for (size_t k = 0; k < sizeof times / sizeof times[0]; k++)
            expect_same_bytes(r, &plan, &positions[1], times[k], SKY_TS_ISO8601);
    }
    sky_simrec_destroy(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_records_match_the_generic_encoder),
        cmocka_unit_test(test_edge_positions_match_the_generic_encoder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
