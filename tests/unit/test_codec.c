/* Codec: the hand-written encoder/decoder agree byte for byte with protobuf-c,
 * and validation rejects exactly what DESIGN.md says, with a precise reason. */
#include "codec.h"
#include "error.h"
#include "flight_data.pb-c.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static sky_flight_t sample(void) {
    sky_flight_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.flight_id, sizeof f.flight_id, "BAW123-00002a");
    f.has_location = true;
    f.latitude = 51.4700223;
    f.longitude = -0.4542955;
    f.altitude = 35000;
    f.airspeed = 450;
    snprintf(f.timestamp, sizeof f.timestamp, "2026-11-25T10:00:05.000Z");
    f.has_metadata = true;
    snprintf(f.airline, sizeof f.airline, "BAW");
    snprintf(f.flight_number, sizeof f.flight_number, "BA123");
    snprintf(f.departure_airport, sizeof f.departure_airport, "EGLL");
    snprintf(f.arrival_airport, sizeof f.arrival_airport, "KJFK");
    return f;
}

/* Packs the same values with protobuf-c, the reference implementation. */
static size_t pack_reference(const sky_flight_t *f, uint8_t *out) {
    FlightData fd = FLIGHT_DATA__INIT;
    Location loc = LOCATION__INIT;
    FlightMetadata md = FLIGHT_METADATA__INIT;
    fd.flight_id = (char *)f->flight_id;
    if (f->has_location) {
        loc.latitude = f->latitude;
        loc.longitude = f->longitude;
        fd.location = &loc;
    }
    fd.altitude = f->altitude;
    fd.airspeed = f->airspeed;
    fd.timestamp = (char *)f->timestamp;
    if (f->has_metadata) {
        md.airline = (char *)f->airline;
        md.flight_number = (char *)f->flight_number;
        md.departure_airport = (char *)f->departure_airport;
        md.arrival_airport = (char *)f->arrival_airport;
        fd.metadata = &md;
    }
    return flight_data__pack(&fd, out);
}

typedef void (*mutate_fn)(sky_flight_t *f);
static void m_none(sky_flight_t *f) { (void)f; }
static void m_negative_alt(sky_flight_t *f) { f->altitude = -1500; }
static void m_zero_speed(sky_flight_t *f) { f->airspeed = 0; }
static void m_no_meta(sky_flight_t *f) { f->has_metadata = false; }
static void m_no_loc(sky_flight_t *f) { f->has_location = false; }
static void m_equator(sky_flight_t *f) { f->latitude = 0.0; f->longitude = 0.0; }
static void m_empty_airline(sky_flight_t *f) { f->airline[0] = '\0'; }
static void m_long_id(sky_flight_t *f) { memset(f->flight_id, 'X', 63); f->flight_id[63] = '\0'; }

static void test_encode_matches_protobuf_c(void **state) {
    (void)state;
    static const mutate_fn rows[] = {m_none, m_negative_alt, m_zero_speed, m_no_meta,
                                     m_no_loc, m_equator, m_empty_airline, m_long_id};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_flight_t f = sample();
        uint8_t ours[SKY_FLIGHT_ENCODED_MAX], ref[SKY_FLIGHT_ENCODED_MAX];
        rows[i](&f);
        size_t n = sky_flight_encode(&f, ours, sizeof ours);
        size_t rn = pack_reference(&f, ref);
        assert_int_equal(n, rn);
        assert_memory_equal(ours, ref, n);
    }
}

static void test_decode_roundtrips_through_protobuf_c(void **state) {
    (void)state;
    sky_flight_t f = sample(), back;
    uint8_t ref[SKY_FLIGHT_ENCODED_MAX];
    char err[256];
    size_t n = pack_reference(&f, ref);
    assert_int_equal(sky_flight_decode(ref, n, &back, err, sizeof err), 0);
    assert_string_equal(back.flight_id, f.flight_id);
    assert_true(back.latitude == f.latitude && back.longitude == f.longitude);
    assert_int_equal(back.altitude, 35000);
    assert_int_equal(back.airspeed, 450);
    assert_string_equal(back.timestamp, f.timestamp);
    assert_string_equal(back.arrival_airport, "KJFK");
    FlightData *fd = flight_data__unpack(NULL, n, ref);
    assert_non_null(fd);
    uint8_t ours[SKY_FLIGHT_ENCODED_MAX];
    size_t on = sky_flight_encode(&back, ours, sizeof ours);
    assert_memory_equal(ours, ref, on);
    flight_data__free_unpacked(fd, NULL);
}

static sky_flight_lens_t lens_of(const sky_flight_t *f) {
    return (sky_flight_lens_t){(uint8_t)strlen(f->flight_id), (uint8_t)strlen(f->timestamp),
                               (uint8_t)strlen(f->airline), (uint8_t)strlen(f->flight_number),
                               (uint8_t)strlen(f->departure_airport),
                               (uint8_t)strlen(f->arrival_airport)};
}

/* The generator's length-aware encoder writes sky_flight_encode's bytes exactly, for
 * every shape a field can take: empty, at the 32-byte copy, longer, zero, negative. */
static void test_encode_lens_matches_encode(void **state) {
    (void)state;
    static const char long_id[] = "FLIGHT-ID-LONGER-THAN-THIRTY-TWO-BYTES-0001";
    for (int shape = 0; shape < 12; shape++) {
        sky_flight_t f = sample();
        switch (shape) {
        case 1: f.flight_id[0] = '\0'; break;
        case 2: snprintf(f.flight_id, sizeof f.flight_id, "%s", long_id); break;
        case 3: snprintf(f.flight_id, sizeof f.flight_id, "%.32s", long_id); break;
        case 4: f.has_location = false; break;
        case 5: f.latitude = 0.0; break;
        case 6: f.longitude = 0.0, f.latitude = 0.0; break;
        case 7: f.altitude = -1500, f.airspeed = 0; break;
        case 8: f.has_metadata = false; break;
        case 9: f.airline[0] = f.arrival_airport[0] = '\0'; break;
        case 10: snprintf(f.flight_number, sizeof f.flight_number, "%.31s", long_id); break;
        case 11: f.timestamp[0] = '\0'; break;
        default: break;
        }
        uint8_t want[SKY_FLIGHT_ENCODED_MAX], got[SKY_FLIGHT_ENCODED_MAX];
        memset(got, 0xAA, sizeof got);
        sky_flight_lens_t l = lens_of(&f);
        size_t n = sky_flight_encode(&f, want, sizeof want);
        assert_true(n > 0);
        assert_int_equal(sky_flight_encode_lens(&f, &l, got, sizeof got), n);
        assert_memory_equal(got, want, n);
    }
    sky_flight_t f = sample();
    sky_flight_lens_t l = lens_of(&f);
    uint8_t small[SKY_FLIGHT_ENCODED_MAX - 1];
    assert_int_equal(sky_flight_encode_lens(&f, &l, small, sizeof small), 0);
}

/* sky_flight_measure == strnlen(field, size - 1) for every length of every field,
 * an unterminated array included (it reads whole blocks, so each boundary matters). */
static void test_measure_matches_strnlen(void **state) {
    (void)state;
    for (int which = 0; which < 6; which++) {
        sky_flight_t f = sample();
        char *field[] = {f.flight_id, f.timestamp, f.airline, f.flight_number,
                         f.departure_airport, f.arrival_airport};
        size_t size[] = {sizeof f.flight_id, sizeof f.timestamp, sizeof f.airline,
                         sizeof f.flight_number, sizeof f.departure_airport,
                         sizeof f.arrival_airport};
        for (size_t len = 0; len <= size[which]; len++) {
            memset(field[which], 'Z', size[which]);
            if (len < size[which])
                field[which][len] = '\0';
            sky_flight_lens_t l;
            sky_flight_measure(&f, &l);
            uint8_t got[] = {l.flight_id, l.timestamp, l.airline, l.flight_number, l.departure,
                             l.arrival};
            for (int k = 0; k < 6; k++)
                if (got[k] != strnlen(field[k], size[k] - 1))
                    fail_msg("field %d of %zu bytes, %zu set in field %d: measured %u, "
                             "strnlen %zu", k, size[k], len, which, got[k],
                             strnlen(field[k], size[k] - 1));
        }
    }
}

static void test_encode_refuses_small_buffer(void **state) {
    (void)state;
    sky_flight_t f = sample();
    uint8_t small[16];
    assert_int_equal(sky_flight_encode(&f, small, sizeof small), 0);
}

struct bad_bytes {
    const char *name;
    const uint8_t bytes[16];
    size_t len;
    const char *reason;
};

static void test_decode_rejects_malformed_bytes(void **state) {
    (void)state;
    static const struct bad_bytes rows[] = {
        {"truncated string", {0x0A, 0x05, 'A', 'B'}, 4, "flight_id truncated"},
        {"wrong wire type", {0x08, 0x01}, 2, "flight_id has the wrong wire type"},
        {"truncated varint", {0x18, 0xFF}, 2, "altitude truncated"},
        {"field zero", {0x00, 0x01}, 2, "unknown field truncated"},
        {"truncated double", {0x12, 0x09, 0x09, 1, 2, 3}, 6, "location truncated"},
        {"bad group wire type", {0x3B}, 1, "unknown field truncated"},
        {"NUL in id", {0x0A, 0x02, 'A', 0x00}, 4, "flight_id contains a NUL byte"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_flight_t f;
        char err[256] = "";
        int rc = sky_flight_decode(rows[i].bytes, rows[i].len, &f, err, sizeof err);
        if (rc == 0 || !strstr(err, rows[i].reason))
            fail_msg("%s: rc=%d err=\"%s\", want \"%s\"", rows[i].name, rc, err, rows[i].reason);
    }
}

/* Strings followed by at least 32 bytes of message are checked 32 bytes at a time: a NUL
 * inside the string is caught, zero bytes after it (the next fields) are not taken for one. */
static void test_decode_nul_check_looks_only_inside_each_string(void **state) {
    (void)state;
    uint8_t msg[64];
    size_t n = 0;
    const uint8_t id[] = {0x0A, 0x02, 'A', 'B'};
    memcpy(msg, id, sizeof id);
    n = sizeof id;
    for (int k = 0; k < 5; k++) { /* unknown field 7, fixed64 zero: zero bytes after the id */
        msg[n++] = 7 << 3 | 1;
        memset(msg + n, 0, 8);
        n += 8;
    }
    sky_flight_t f;
    char err[256] = "";
    assert_int_equal(sky_flight_decode(msg, n, &f, err, sizeof err), 0);
    assert_string_equal(f.flight_id, "AB");
    msg[3] = 0x00; /* "A\0": now inside the string */
    assert_int_equal(sky_flight_decode(msg, n, &f, err, sizeof err), SKY_EINVAL);
    assert_non_null(strstr(err, "flight_id contains a NUL byte"));
}

static void test_decode_skips_unknown_fields(void **state) {
    (void)state;
    sky_flight_t f = sample(), back;
    uint8_t buf[SKY_FLIGHT_ENCODED_MAX + 16];
    size_t n = sky_flight_encode(&f, buf, sizeof buf);
    static const uint8_t unknown[] = {0x78, 0x2A, 0x82, 0x01, 0x02, 'h', 'i'}; /* 15: 42, 16: "hi" */
    memcpy(buf + n, unknown, sizeof unknown);
    char err[256];
    assert_int_equal(sky_flight_decode(buf, n + sizeof unknown, &back, err, sizeof err), 0);
    assert_string_equal(back.flight_id, f.flight_id);
}

struct validation_row {
    const char *name;
    void (*mutate)(sky_flight_t *f);
    const char *reason; /* NULL = valid */
};

static void v_lat_high(sky_flight_t *f) { f->latitude = 91.5; }
static void v_lat_low(sky_flight_t *f) { f->latitude = -90.0001; }
static void v_lat_edge(sky_flight_t *f) { f->latitude = -90.0; }
static void v_lat_nan(sky_flight_t *f) { f->latitude = NAN; }
static void v_lon_high(sky_flight_t *f) { f->longitude = 180.5; }
static void v_lon_edge(sky_flight_t *f) { f->longitude = 180.0; }
static void v_alt_high(sky_flight_t *f) { f->altitude = 100001; }
static void v_alt_low(sky_flight_t *f) { f->altitude = -2001; }
static void v_alt_edge(sky_flight_t *f) { f->altitude = -2000; }
static void v_speed_neg(sky_flight_t *f) { f->airspeed = -1; }
static void v_speed_high(sky_flight_t *f) { f->airspeed = 2001; }
static void v_speed_edge(sky_flight_t *f) { f->airspeed = 2000; }
static void v_no_id(sky_flight_t *f) { f->flight_id[0] = '\0'; }
static void v_no_ts(sky_flight_t *f) { f->timestamp[0] = '\0'; }
static void v_bad_ts(sky_flight_t *f) { snprintf(f->timestamp, sizeof f->timestamp, "yesterday"); }
static void v_epoch_ts(sky_flight_t *f) { snprintf(f->timestamp, sizeof f->timestamp, "1795600805"); }

static void test_validation_rules(void **state) {
    (void)state;
    static const struct validation_row rows[] = {
        {"valid sample", m_none, NULL},
        {"latitude 91.5", v_lat_high, "latitude 91.5 out of range [-90, 90]"},
        {"latitude -90.0001", v_lat_low, "latitude -90.0001 out of range"},
        {"latitude -90 edge", v_lat_edge, NULL},
        {"latitude NaN", v_lat_nan, "latitude nan out of range"},
        {"longitude 180.5", v_lon_high, "longitude 180.5 out of range [-180, 180]"},
        {"longitude 180 edge", v_lon_edge, NULL},
        {"altitude 100001", v_alt_high, "altitude 100001 ft out of range [-2000, 100000]"},
        {"altitude -2001", v_alt_low, "altitude -2001 ft out of range"},
        {"altitude -2000 edge", v_alt_edge, NULL},
        {"airspeed -1", v_speed_neg, "airspeed -1 kt out of range [0, 2000]"},
        {"airspeed 2001", v_speed_high, "airspeed 2001 kt out of range"},
        {"airspeed 2000 edge", v_speed_edge, NULL},
        {"no flight_id", v_no_id, "flight_id is missing"},
        {"no location", m_no_loc, "location is missing"},
        {"no timestamp", v_no_ts, "timestamp is empty"},
        {"bad timestamp", v_bad_ts, "timestamp \"yesterday\": not ISO 8601"},
        {"epoch timestamp", v_epoch_ts, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_flight_t f = sample();
        char err[256] = "";
        rows[i].mutate(&f);
        int rc = sky_flight_validate(&f, NULL, err, sizeof err);
        if (!rows[i].reason && rc != 0)
            fail_msg("%s: rejected: %s", rows[i].name, err);
        if (rows[i].reason && (rc == 0 || !strstr(err, rows[i].reason)))
            fail_msg("%s: rc=%d err=\"%s\", want \"%s\"", rows[i].name, rc, err, rows[i].reason);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_matches_protobuf_c),
        cmocka_unit_test(test_decode_roundtrips_through_protobuf_c),
        cmocka_unit_test(test_encode_lens_matches_encode),
        cmocka_unit_test(test_measure_matches_strnlen),
        cmocka_unit_test(test_encode_refuses_small_buffer),
        cmocka_unit_test(test_decode_rejects_malformed_bytes),
        cmocka_unit_test(test_decode_nul_check_looks_only_inside_each_string),
        cmocka_unit_test(test_decode_skips_unknown_fields),
        cmocka_unit_test(test_validation_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
