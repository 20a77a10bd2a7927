/* The replay line parsers: one table of {format, lines, expected record or error}. */
#include "error.h"
#include "reader.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define OS_HDR "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk," \
               "baroaltitude,geoaltitude,lastposupdate,lastcontact"
#define CSV_HDR "flight_id,timestamp,latitude,longitude,altitude,airspeed,airline,flight_number," \
                "departure_airport,arrival_airport"
#define SBS_ID "MSG,1,1,1,4CA7B5,1,2026/11/25,10:00:00.000,2026/11/25,10:00:00.000,BAW123  ,,,,,,,,,,,0"
#define SBS_VEL "MSG,4,1,1,4CA7B5,1,2026/11/25,10:00:00.500,2026/11/25,10:00:00.500,,,250,270,,,640,,,,,0"

typedef struct row {
    const char *name;
    sky_replay_format_t fmt;
    const char *setup[3]; /* lines fed first (header, state) */
    const char *line;
    int result;           /* SKY_ROW_* or SKY_EINVAL */
    const char *flight_id; /* record: expected values */
    double lat, lon;
    int alt, speed;
    int64_t ts_ms;
    const char *airline;
    const char *error; /* SKY_EINVAL: substring of the reason */
} row_t;

static const row_t rows[] = {
    {"opensky_converts_metres_and_ms", SKY_FMT_OPENSKY, {OS_HDR},
     "1795600800,4ca7b5,51.47,-0.4543,128.6,270,10,BAW123  ,False,False,False,1000,1524.0,1600,1,1",
     SKY_ROW_RECORD, "4ca7b5-20261125", 51.47, -0.4543, 5000, 250, 1795600800000, "BAW", NULL},
    {"opensky_without_header_reads_hour_variant", SKY_FMT_OPENSKY, {NULL},
     "1795600800,4CA7B5,51.47,-0.4543,128.6,270,10,,False,False,False,,1524.0,,1,1,1795600800",
     SKY_ROW_RECORD, "4ca7b5-20261125", 51.47, -0.4543, 5000, 250, 1795600800000, "", NULL},
    {"opensky_uses_geoaltitude_without_baro", SKY_FMT_OPENSKY, {OS_HDR},
     "1795600800,4ca7b5,51.47,-0.4543,0,270,10,,False,False,False,,,3048,1,1",
     SKY_ROW_RECORD, "4ca7b5-20261125", 51.47, -0.4543, 10000, 0, 1795600800000, "", NULL},
    {"opensky_skips_empty_position", SKY_FMT_OPENSKY, {OS_HDR},
     "1795600800,4ca7b5,,,,,,,False,False,False,,,,,1", SKY_ROW_SKIPPED, .error = ""},
    {"opensky_skips_empty_velocity_rather_than_0_kt", SKY_FMT_OPENSKY, {OS_HDR},
     "1795600800,4ca7b5,51.47,-0.4543,,270,10,,False,False,False,,11186,,1,1", SKY_ROW_SKIPPED,
     .error = ""},
    {"opensky_rejects_latitude_91", SKY_FMT_OPENSKY, {OS_HDR},
     "1795600800,4ca7b5,91.5,0,100,0,0,,False,False,False,,1000,,1,1", SKY_EINVAL, .error = "latitude"},
    {"opensky_rejects_text_velocity", SKY_FMT_OPENSKY, {OS_HDR},
     "1795600800,4ca7b5,51,0,x1,0,0,,False,False,False,,1000,,1,1", SKY_EINVAL,
     .error = "velocity \"x1\""},
    {"opensky_rejects_short_row", SKY_FMT_OPENSKY, {OS_HDR}, "1795600800,4ca7b5,51,0", SKY_EINVAL,
     .error = "4 fields, expected 16"},
    {"csv_reads_a_flightdata_row", SKY_FMT_CSV, {CSV_HDR},
     "AFR1-1,2026-11-25T10:00:02.000Z,49.0097,2.5479,3000,210,AFR,AF1,LFPG,KJFK", SKY_ROW_RECORD,
     "AFR1-1", 49.0097, 2.5479, 3000, 210, 1795600802000, "AFR", NULL},
    {"csv_unescapes_quotes", SKY_FMT_CSV, {CSV_HDR},
     "\"A,\"\"B\",2026-11-25T10:00:02Z,1,2,3,4,,,,", SKY_ROW_RECORD, "A,\"B", 1, 2, 3, 4,
     1795600802000, "", NULL},
    {"csv_rejects_bad_timestamp", SKY_FMT_CSV, {CSV_HDR}, "X,yesterday,1,2,3,4,,,,", SKY_EINVAL,
     .error = "timestamp"},
    {"csv_rejects_unterminated_quote", SKY_FMT_CSV, {CSV_HDR}, "\"X,2026-11-25T10:00:02Z", SKY_EINVAL,
     .error = "unterminated quote"},
    {"csv_rejects_airspeed_2001", SKY_FMT_CSV, {CSV_HDR}, "X,2026-11-25T10:00:02Z,1,2,3,2001,,,,",
     SKY_EINVAL, .error = "airspeed 2001"},
    {"sbs_assembles_callsign_speed_position", SKY_FMT_SBS, {SBS_ID, SBS_VEL},
     "MSG,3,1,1,4CA7B5,1,2026/11/25,10:00:01.250,2026/11/25,10:00:01.250,,5000,,,51.47,-0.4543,,,0,0,0,0",
     SKY_ROW_RECORD, "4ca7b5-20261125", 51.47, -0.4543, 5000, 250, 1795600801250, "BAW", NULL},
    {"sbs_velocity_message_is_a_row_without_position", SKY_FMT_SBS, {NULL}, SBS_VEL,
     SKY_ROW_SKIPPED, .error = ""},
    {"sbs_status_message_is_a_row_without_position", SKY_FMT_SBS, {NULL},
     "STA,,5,179,400AE7,10103,2026/11/25,10:00:03.000,2026/11/25,10:00:03.000,RM",
     SKY_ROW_SKIPPED, .error = ""},
    {"sbs_position_before_velocity_is_held", SKY_FMT_SBS, {SBS_ID},
     "MSG,3,1,1,4CA7B5,1,2026/11/25,10:00:01.250,2026/11/25,10:00:01.250,,36700,,,51.47,-0.4543,,,0,0,0,0",
     SKY_ROW_HELD, .error = ""},
    {"sbs_held_position_is_still_range_checked", SKY_FMT_SBS, {SBS_ID},
     "MSG,3,1,1,4CA7B5,1,2026/11/25,10:00:01.250,2026/11/25,10:00:01.250,,36700,,,91.5,-0.4543,,,0,0,0,0",
     SKY_EINVAL, .error = "latitude"},
    {"csv_header_is_not_a_row", SKY_FMT_CSV, {NULL}, CSV_HDR, SKY_ROW_NONE, .error = ""},
    {"sbs_rejects_bad_hex_ident", SKY_FMT_SBS, {NULL},
     "MSG,3,1,1,XYZ,1,2026/11/25,10:00:01.250,2026/11/25,10:00:01.250,,5000,,,51,0,,,0,0,0,0",
     SKY_EINVAL, .error = "hex ident"},
    {"sbs_rejects_21_fields", SKY_FMT_SBS, {NULL},
     "MSG,3,1,1,4CA7B5,1,2026/11/25,10:00:01,2026/11/25,10:00:01,,5000,,,51,0,,,0,0,0",
     SKY_EINVAL, .error = "21 fields"},
    {"sbs_rejects_month_13", SKY_FMT_SBS, {NULL},
     "MSG,3,1,1,4CA7B5,1,2026/13/25,10:00:01,2026/13/25,10:00:01,,5000,,,51,0,,,0,0,0,0",
     SKY_EINVAL, .error = "date/time"},
    {"jsonl_reads_tail_output", SKY_FMT_JSONL, {NULL},
     "{\"topic\":\"f\",\"partition\":0,\"offset\":1,\"timestamp\":1,\"key\":\"K\",\"headers\":{},"
     "\"value\":{\"flight_id\":\"K\",\"location\":{\"latitude\":1.5,\"longitude\":-2.25},"
     "\"altitude\":100,\"airspeed\":200,\"timestamp\":\"2026-11-25T10:00:05.000Z\"}}",
     SKY_ROW_RECORD, "K", 1.5, -2.25, 100, 200, 1795600805000, "", NULL},
    {"jsonl_rejects_value_b64_with_its_error", SKY_FMT_JSONL, {NULL},
     "{\"key\":\"B\",\"value_b64\":\"AA==\",\"error\":\"does not decode: x\"}", SKY_EINVAL,
     .error = "does not decode: x"},
    {"jsonl_rejects_broken_json", SKY_FMT_JSONL, {NULL}, "{\"key\":", SKY_EINVAL, .error = "column"},
    {"jsonl_rejects_fractional_altitude", SKY_FMT_JSONL, {NULL},
     "{\"value\":{\"flight_id\":\"K\",\"altitude\":1.5,\"timestamp\":\"2026-11-25T10:00:05Z\"}}",
     SKY_EINVAL, .error = "32-bit integer"},
};

static void run_row(const row_t *r) {
    sky_line_parser_t *p = sky_line_parser_new(r->fmt);
    char line[1024], err[256] = "";
    sky_rrec_t rec;
    assert_non_null(p);
    for (int i = 0; i < 3 && r->setup[i]; i++) {
        snprintf(line, sizeof line, "%s", r->setup[i]);
        assert_true(sky_line_parse(p, line, strlen(line), &rec, err, sizeof err) >= 0);
    }
    snprintf(line, sizeof line, "%s", r->line);
    int rc = sky_line_parse(p, line, strlen(line), &rec, err, sizeof err);
    if (rc != r->result)
        fail_msg("%s: result %d, expected %d (%s)", r->name, rc, r->result, err);
    if (rc == SKY_EINVAL && !strstr(err, r->error))
        fail_msg("%s: error \"%s\" lacks \"%s\"", r->name, err, r->error);
    if (rc == SKY_ROW_RECORD) {
        assert_string_equal(rec.flight.flight_id, r->flight_id);
        assert_true(rec.flight.latitude == r->lat && rec.flight.longitude == r->lon);
        assert_int_equal(rec.flight.altitude, r->alt);
        assert_int_equal(rec.flight.airspeed, r->speed);
        assert_int_equal(rec.ts_ms, r->ts_ms);
        assert_string_equal(rec.flight.airline, r->airline);
        assert_int_equal(sky_flight_validate(&rec.flight, NULL, err, sizeof err), 0);
    }
    sky_line_parser_destroy(p);
}

static void test_reader_line_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        run_row(&rows[i]);
}

typedef struct detect_row {
    const char *name, *head;
    sky_replay_format_t expected;
} detect_row_t;

static void test_reader_detects_each_format(void **state) {
    (void)state;
    static const detect_row_t d[] = {
        {"a.csv", OS_HDR "\n", SKY_FMT_OPENSKY},
        {"a.csv", "1,a,1,2,3,4,5,c,f,f,f,1,1,1,1,1\n", SKY_FMT_OPENSKY},
        {"a.csv", CSV_HDR "\n", SKY_FMT_CSV},
        {"a.sbs", SBS_ID "\n", SKY_FMT_SBS},
        {"a.jsonl", "  {\"key\":1}\n", SKY_FMT_JSONL},
        {"a.skc", "SKYCAPT\n\1\0\0\0", SKY_FMT_CAPTURE},
        {"sbs://127.0.0.1:30003", "", SKY_FMT_SBS},
        {"a.txt", "hello world\n", SKY_FMT_AUTO},
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (sky_replay_detect(d[i].name, d[i].head, strlen(d[i].head) + (i == 5 ? 4 : 0)) !=
            d[i].expected)
            fail_msg("detect row %zu (%s)", i, d[i].name);
}

static void test_reader_reports_file_and_line(void **state) {
    (void)state;
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/tests/data/replay/flights.csv", getenv("SKY_SOURCE_DIR")
                                                                        ? getenv("SKY_SOURCE_DIR")
                                                                        : SKY_SOURCE_DIR);
    sky_reader_t *r;
    assert_int_equal(sky_reader_open(path, SKY_FMT_AUTO, &r, err, sizeof err), 0);
    assert_int_equal(sky_reader_format(r), SKY_FMT_CSV);
    sky_rrec_t rec;
    int records = 0, rejected = 0, rc;
    while ((rc = sky_reader_next(r, &rec, err, sizeof err)) != 0) {
        if (rc == 1)
            records++;
        else {
            assert_int_equal(rc, SKY_EINVAL);
            if (rejected++ == 0)
                assert_non_null(strstr(err, "flights.csv:5: latitude 123.4"));
        }
    }
    assert_int_equal(records, 5);
    assert_int_equal(rejected, 2);
    sky_reader_destroy(r);
}

#define SBS_POS(t, alt, lat)                                                                       \
    "MSG,3,1,1,4CA7B5,1,2026/11/25," t ",2026/11/25," t ",," alt ",,," lat ",-0.4543,,,0,0,0,0"
#define SBS_VEL_AT(t) "MSG,4,1,1,4CA7B5,1,2026/11/25," t ",2026/11/25," t ",,,451,270,,,0,,,,,0"

typedef struct hold_row {
    const char *name;
    const char *lines[5];
    int results[5];          /* sky_line_parse result of each line */
    int released_after;      /* index of the line after which a record comes out; -1 none */
    double lat;              /* ... the released position */
    int64_t ts_ms;
    uint64_t dropped;        /* sky_line_parser_dropped at the end */
} hold_row_t;

/* SBS: a position that comes before its aircraft's velocity waits for it (bounded),
 * and is never published with airspeed 0. */
static void test_reader_sbs_holds_position_until_velocity(void **state) {
    (void)state;
    static const hold_row_t holds[] = {
        {"released_with_the_velocity_that_follows",
         {SBS_ID, SBS_POS("10:00:01.000", "36700", "51.47"), SBS_VEL_AT("10:00:01.500")},
         {SKY_ROW_SKIPPED, SKY_ROW_HELD, SKY_ROW_SKIPPED}, 2, 51.47, 1795600801000, 0},
        {"a_newer_position_supersedes_the_held_one",
         {SBS_POS("10:00:01.000", "36700", "51.47"), SBS_POS("10:00:02.000", "36700", "51.48"),
          SBS_VEL_AT("10:00:02.500")},
         {SKY_ROW_HELD, SKY_ROW_HELD, SKY_ROW_SKIPPED}, 2, 51.48, 1795600802000, 1},
        {"a_velocity_more_than_10s_later_drops_it",
         {SBS_POS("10:00:01.000", "36700", "51.47"), SBS_VEL_AT("10:00:11.001")},
         {SKY_ROW_HELD, SKY_ROW_SKIPPED}, -1, 0, 0, 1},
        {"never_completed_counts_as_dropped",
         {SBS_ID, SBS_POS("10:00:01.000", "36700", "51.47")},
         {SKY_ROW_SKIPPED, SKY_ROW_HELD}, -1, 0, 0, 1},
        {"altitude_and_velocity_both_awaited",
         {SBS_POS("10:00:01.000", "", "51.47"), SBS_VEL_AT("10:00:01.200"),
          "MSG,5,1,1,4CA7B5,1,2026/11/25,10:00:01.400,2026/11/25,10:00:01.400,,36000,,,,,,,0,,0,0"},
         {SKY_ROW_HELD, SKY_ROW_SKIPPED, SKY_ROW_SKIPPED}, 2, 51.47, 1795600801000, 0},
    };
    for (size_t i = 0; i < sizeof holds / sizeof holds[0]; i++) {
        const hold_row_t *r = &holds[i];
        sky_line_parser_t *p = sky_line_parser_new(SKY_FMT_SBS);
        assert_non_null(p);
        int released = 0;
        for (int k = 0; k < 5 && r->lines[k]; k++) {
            char line[256], err[256] = "";
            sky_rrec_t rec;
            snprintf(line, sizeof line, "%s", r->lines[k]);
            int rc = sky_line_parse(p, line, strlen(line), &rec, err, sizeof err);
            if (rc != r->results[k])
                fail_msg("%s: line %d: result %d, expected %d (%s)", r->name, k, rc,
                         r->results[k], err);
            if (rc == SKY_ROW_RECORD)
                fail_msg("%s: line %d published a position without a velocity", r->name, k);
            if (!sky_line_parser_released(p, &rec))
                continue;
            released++;
            if (k != r->released_after)
                fail_msg("%s: released after line %d, expected %d", r->name, k,
                         r->released_after);
            assert_true(rec.flight.latitude == r->lat);
            assert_int_equal(rec.ts_ms, r->ts_ms);
            assert_int_equal(rec.flight.airspeed, 451);
            assert_true(rec.flight.altitude == 36700 || rec.flight.altitude == 36000);
            assert_string_equal(rec.flight.flight_id, "4ca7b5-20261125");
            assert_int_equal(sky_flight_validate(&rec.flight, NULL, err, sizeof err), 0);
        }
        if (released != (r->released_after >= 0))
            fail_msg("%s: %d records released", r->name, released);
        if (sky_line_parser_dropped(p) != r->dropped)
            fail_msg("%s: %llu dropped, expected %llu", r->name,
                     (unsigned long long)sky_line_parser_dropped(p),
                     (unsigned long long)r->dropped);
        sky_line_parser_destroy(p);
    }
}

/* "rows read" has one meaning in every format: every row ends as exactly one of
 * record, rejected or without a position. */
static void test_reader_rows_add_up_in_every_format(void **state) {
    (void)state;
    static const struct {
        const char *file;
        uint64_t rows, records, rejected, skipped;
    } files[] = {
        {"opensky.csv", 9, 4, 3, 2},  {"opensky_hour.csv", 2, 2, 0, 0},
        {"flights.csv", 7, 5, 2, 0},  {"feed.sbs", 10, 2, 2, 6},
        {"tail.jsonl", 6, 2, 4, 0},
    };
    const char *src = getenv("SKY_SOURCE_DIR") ? getenv("SKY_SOURCE_DIR") : SKY_SOURCE_DIR;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096], err[512];
        snprintf(path, sizeof path, "%s/tests/data/replay/%s", src, files[i].file);
        sky_reader_t *r;
        assert_int_equal(sky_reader_open(path, SKY_FMT_AUTO, &r, err, sizeof err), 0);
        sky_rrec_t rec;
        uint64_t records = 0, rejected = 0;
        int rc;
        while ((rc = sky_reader_next(r, &rec, err, sizeof err)) != 0) {
            if (rc == 1) {
                records++;
                if (sky_reader_format(r) == SKY_FMT_SBS && rec.flight.airspeed == 0 &&
                    !rec.on_ground)
                    fail_msg("%s: %s published at 0 kt and %d ft", files[i].file,
                             rec.flight.flight_id, rec.flight.altitude);
            } else {
                rejected++;
            }
        }
        if (sky_reader_rows(r) != files[i].rows || records != files[i].records ||
            rejected != files[i].rejected || sky_reader_skipped(r) != files[i].skipped)
            fail_msg("%s: rows %llu records %llu rejected %llu skipped %llu", files[i].file,
                     (unsigned long long)sky_reader_rows(r), (unsigned long long)records,
                     (unsigned long long)rejected, (unsigned long long)sky_reader_skipped(r));
        assert_int_equal(sky_reader_rows(r), records + rejected + sky_reader_skipped(r));
        sky_reader_destroy(r);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_line_table),
        cmocka_unit_test(test_reader_detects_each_format),
        cmocka_unit_test(test_reader_reports_file_and_line),
        cmocka_unit_test(test_reader_sbs_holds_position_until_velocity),
        cmocka_unit_test(test_reader_rows_add_up_in_every_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
