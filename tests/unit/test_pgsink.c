/* PostgreSQL sink: the COPY text for the staging table escapes what COPY
 * needs escaped and writes NULL for absent seq, intended time and metadata. */
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

static void test_copy_row_writes_staging_columns(void **state) {
    (void)state;
    static const struct {
        const char *id;
        bool metadata;
        int64_t seq, intended_ns;
        const char *expected;
    } rows[] = {
        {"BAW123-0001", true, 7, 1795600805123456789,
         "1795600805000\tBAW123-0001\t7\t51.470022300\t-0.454295500\t35000\t450\tBAW\tBA123\t"
         "EGLL\tKJFK\t1795600805123456\n"},
        {"OTHER", false, -1, 0,
         "1795600805000\tOTHER\t\\N\t51.470022300\t-0.454295500\t35000\t450\t\\N\t\\N\t\\N\t\\N\t"
         "\\N\n"},
        {"a\tb\\c\nd", false, 0, 0,
         "1795600805000\ta\\tb\\\\c\\nd\t0\t51.470022300\t-0.454295500\t35000\t450\t\\N\t\\N\t"
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

static void test_new_rejects_a_schema_name_that_needs_quoting(void **state) {
    (void)state;
    char err[256] = "";
    assert_null(sky_pgsink_new("", "bad\"name", err, sizeof err));
    assert_non_null(strstr(err, "--schema"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_row_writes_staging_columns),
        cmocka_unit_test(test_new_rejects_a_schema_name_that_needs_quoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
