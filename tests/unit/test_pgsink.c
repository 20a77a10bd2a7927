/* PostgreSQL sink: the COPY text for the staging table escapes what COPY
 * needs escaped, writes the point as hex EWKB (SRID 4326, lon then lat) and
 * NULL for absent seq, intended time and metadata. */
#include "pgsink.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static sky_flight_t flight(const char *id, bool metadata) {
    sky_flight_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.flight_id, sizeof f.flight_id, "%s", id);
    f.has_location = true;
    f.latitude = 51.4700223;
    f.longitude = -0.4542955;
    f.altitude = 35000;
    f.airspeed = 450;
    if (metadata) {
        f.has_metadata = true;
        snprintf(f.airline, sizeof f.airline, "BAW");
        snprintf(f.flight_number, sizeof f.flight_number, "BA123");
        snprintf(f.departure_airport, sizeof f.departure_airport, "EGLL");
        snprintf(f.arrival_airport, sizeof f.arrival_airport, "KJFK");
    }
    return f;
}

/* -0.4542955, 51.4700223 as little-endian EWKB with SRID 4326 */
#define POINT "0101000020E6100000F513CE6E2D13DDBF0272D3B029BC4940"

static void test_copy_row_writes_flight_positions_columns(void **state) {
    (void)state;
    static const struct {
        const char *id;
        bool metadata;
        int64_t seq, intended_ns;
        const char *expected;
    } rows[] = {
        {"BAW123-0001", true, 7, 1795600805123456789,
         "2026-11-25T10:00:05.000000Z\tBAW123-0001\t7\t" POINT "\t35000\t450\tBAW\tBA123\t"
         "EGLL\tKJFK\t2026-11-25T10:00:05.123456Z\n"},
        {"OTHER", false, -1, 0,
         "2026-11-25T10:00:05.000000Z\tOTHER\t\\N\t" POINT "\t35000\t450\t\\N\t\\N\t\\N\t\\N\t"
         "\\N\n"},
        {"a\tb\\c\nd", false, 0, 0,
         "2026-11-25T10:00:05.000000Z\ta\\tb\\\\c\\nd\t0\t" POINT "\t35000\t450\t\\N\t\\N\t"
         "\\N\t\\N\t\\N\n"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_flight_t f = flight(rows[i].id, rows[i].metadata);
        sky_pg_row_t r = {.flight = &f, .ts_ms = 1795600805000, .seq = rows[i].seq,
                          .intended_ns = rows[i].intended_ns};
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(sky_pg_copy_row(&b, &r), 0);
        assert_string_equal(b.data, rows[i].expected);
        sky_buf_free(&b);
    }
}

static void test_copy_row_writes_microsecond_times_and_null_outside_iso_years(void **state) {
    (void)state;
    static const struct {
        int64_t ts_ms, intended_ns;
        const char *time_text, *intended_text;
    } rows[] = {
        {0, 1, "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:00.000000Z"},
        {1795600805999, 1795600805999999999, "2026-11-25T10:00:05.999000Z",
         "2026-11-25T10:00:05.999999Z"},
        {-1, 0, "1969-12-31T23:59:59.999000Z", "\\N"},
        {253402300800000, 0, "\\N", "\\N"}, /* year 10000 */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_flight_t f = flight("F", false);
        sky_pg_row_t r = {.flight = &f, .ts_ms = rows[i].ts_ms, .seq = 1,
                          .intended_ns = rows[i].intended_ns};
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(sky_pg_copy_row(&b, &r), 0);
        assert_true(strncmp(b.data, rows[i].time_text, strlen(rows[i].time_text)) == 0);
        const char *last = strrchr(b.data, '\t') + 1;
        assert_true(strncmp(last, rows[i].intended_text, strlen(rows[i].intended_text)) == 0);
        sky_buf_free(&b);
    }
}

static void test_new_rejects_a_schema_name_that_needs_quoting(void **state) {
    (void)state;
    char err[256] = "";
    assert_null(sky_pgsink_new("", "bad\"name", err, sizeof err));
    assert_non_null(strstr(err, "--schema"));
}

/* One binary COPY tuple, as hex: the same two rows as above, field by field (length,
 * then big-endian value; -1 = NULL). Times are microseconds since 2000-01-01. */
static void test_copy_row_binary_writes_the_same_columns(void **state) {
    (void)state;
    static const struct {
        const char *id;
        bool metadata;
        int64_t seq, intended_ns;
        const char *expected;
    } rows[] = {
        {"BAW123-0001", true, 7, 1795600805123456789,
         "000b"
         "00000008" "00030415a8ec1340"     /* 2026-11-25T10:00:05Z */
         "0000000b" "4241573132332d30303031"
         "00000008" "0000000000000007"
         "00000019" "0101000020e6100000f513ce6e2d13ddbf0272d3b029bc4940"
         "00000004" "000088b8" "00000004" "000001c2"
         "00000003" "424157" "00000005" "4241313233" "00000004" "45474c4c"
         "00000004" "4b4a464b"
         "00000008" "00030415a8edf580"},   /* + 0.123456 s */
        {"OTHER", false, -1, 0,
         "000b"
         "00000008" "00030415a8ec1340"
         "00000005" "4f54484552"
         "ffffffff"
         "00000019" "0101000020e6100000f513ce6e2d13ddbf0272d3b029bc4940"
         "00000004" "000088b8" "00000004" "000001c2"
         "ffffffff" "ffffffff" "ffffffff" "ffffffff" "ffffffff"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_flight_t f = flight(rows[i].id, rows[i].metadata);
        sky_pg_row_t r = {.flight = &f, .ts_ms = 1795600805000, .seq = rows[i].seq,
                          .intended_ns = rows[i].intended_ns};
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(sky_pg_copy_row_binary(&b, &r), 0);
        char hex[512];
        assert_true(b.len * 2 < sizeof hex);
        for (size_t k = 0; k < b.len; k++)
            snprintf(hex + 2 * k, 3, "%02x", (unsigned char)b.data[k]);
        assert_string_equal(hex, rows[i].expected);
        sky_buf_free(&b);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_row_writes_flight_positions_columns),
        cmocka_unit_test(test_copy_row_writes_microsecond_times_and_null_outside_iso_years),
        cmocka_unit_test(test_new_rejects_a_schema_name_that_needs_quoting),
        cmocka_unit_test(test_copy_row_binary_writes_the_same_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
