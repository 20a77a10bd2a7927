/* Schema: the generated SQL for both storage paths says exactly what DESIGN.md
 * promises (TimescaleDB 2.x signatures, native partitions), names are checked. */
#include "schema.h"
#include "timefmt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static void assert_contains(const char *text, const char *needle) {
    if (!strstr(text, needle))
        fail_msg("expected to find:\n  %s\nin:\n%s", needle, text);
}

static void assert_lacks(const char *text, const char *needle) {
    if (strstr(text, needle))
        fail_msg("did not expect:\n  %s\nin:\n%s", needle, text);
}

static void test_timescaledb_sql_uses_2x_signatures(void **state) {
    (void)state;
    static const struct {
        int version;
        const char *expected;
        const char *absent;
    } rows[] = {
        {213, "SELECT create_hypertable('\"t1\".flight_positions', by_range('time', INTERVAL "
              "'1 day'), if_not_exists => TRUE);",
         "chunk_time_interval"},
        {215, "by_range('time', INTERVAL '1 day')", "chunk_time_interval"},
        {211, "SELECT create_hypertable('\"t1\".flight_positions', 'time', chunk_time_interval "
              "=> INTERVAL '1 day', if_not_exists => TRUE);",
         "by_range"},
        {200, "chunk_time_interval => INTERVAL '1 day'", "by_range"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_schema_opts_t o;
        sky_schema_opts_init(&o);
        o.schema = "t1";
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(sky_schema_sql_timescaledb(&o, rows[i].version, &b), 0);
        assert_contains(b.data, rows[i].expected);
        assert_lacks(b.data, rows[i].absent);
        assert_contains(b.data, "CREATE EXTENSION IF NOT EXISTS timescaledb;");
        assert_contains(b.data,
                        "ALTER TABLE \"t1\".flight_positions SET (timescaledb.compress, "
                        "timescaledb.compress_segmentby = 'flight_id', "
                        "timescaledb.compress_orderby = 'time DESC');");
        assert_contains(b.data, "SELECT add_compression_policy('\"t1\".flight_positions', "
                                "INTERVAL '1 days', if_not_exists => TRUE);");
        assert_contains(b.data, "SELECT add_retention_policy('\"t1\".flight_positions', "
                                "INTERVAL '30 days', if_not_exists => TRUE);");
        /* a hypertable's unique index must include the time column */
        assert_contains(b.data, "UNIQUE (flight_id, \"time\")");
        assert_lacks(b.data, "PARTITION BY");
        sky_buf_free(&b);
    }
}

static void test_timescaledb_sql_omits_retention_when_forever(void **state) {
    (void)state;
    sky_schema_opts_t o;
    sky_schema_opts_init(&o);
    o.retention_days = 0;
    sky_buf_t b;
    sky_buf_init(&b, 0);
    assert_int_equal(sky_schema_sql_timescaledb(&o, 214, &b), 0);
    assert_lacks(b.data, "add_retention_policy");
    assert_contains(b.data, "\"public\".flight_positions");
    sky_buf_free(&b);
}

static void test_native_sql_partitions_by_day_with_brin_and_gist(void **state) {
    (void)state;
    sky_schema_opts_t o;
    sky_schema_opts_init(&o);
    o.schema = "s_2";
    sky_buf_t b;
    sky_buf_init(&b, 0);
    assert_int_equal(sky_schema_sql_native(&o, &b), 0);
    static const char *const expected[] = {
        "CREATE TABLE IF NOT EXISTS \"s_2\".flight_positions (",
        "geom public.geography(Point, 4326) NOT NULL",
        "seq bigint",
        "intended_at timestamptz",
        "stored_at timestamptz NOT NULL DEFAULT now()",
        "CONSTRAINT flight_positions_flight_time UNIQUE (flight_id, \"time\")) PARTITION BY "
        "RANGE (\"time\");",
        "USING brin (\"time\")",
        "USING gist (geom)",
        "PARTITION OF \"s_2\".flight_positions DEFAULT;",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_contains(b.data, expected[i]);
    assert_lacks(b.data, "timescaledb");
    sky_buf_free(&b);
}

static void test_partition_sql_covers_one_utc_day(void **state) {
    (void)state;
    static const struct {
        int64_t y;
        unsigned m, d;
        const char *expected;
    } rows[] = {
        {2026, 11, 25, "\"s\".\"flight_positions_p20261125\" PARTITION OF \"s\".flight_positions "
                       "FOR VALUES FROM ('2026-11-25 00:00:00+00') TO ('2026-11-26 00:00:00+00');"},
        {2026, 12, 31, "FROM ('2026-12-31 00:00:00+00') TO ('2027-01-01 00:00:00+00')"},
        {2028, 2, 28, "FROM ('2028-02-28 00:00:00+00') TO ('2028-02-29 00:00:00+00')"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_schema_opts_t o;
        sky_schema_opts_init(&o);
        o.schema = "s";
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(
            sky_schema_sql_partition(&o, sky_days_from_civil(rows[i].y, rows[i].m, rows[i].d), &b),
            0);
        assert_contains(b.data, rows[i].expected);
        sky_buf_free(&b);
    }
}

static void test_schema_name_rejects_what_needs_escaping(void **state) {
    (void)state;
    static const struct {
        const char *name;
        int ok;
    } rows[] = {
        {"public", 1}, {"e2e_ingest_123", 1}, {"Mixed_Case", 1}, {"", 0}, {"1abc", 0},
        {"a-b", 0},    {"a\"b", 0},           {"a b", 0},        {"a;drop", 0},
        {"x123456789012345678901234567890123456789012345678901234567890123", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[256] = "";
        int rc = sky_schema_check_name(rows[i].name, err, sizeof err);
        if ((rc == 0) != rows[i].ok)
            fail_msg("\"%s\": expected %s, got rc %d (%s)", rows[i].name,
                     rows[i].ok ? "ok" : "rejected", rc, err);
    }
}

static void test_ts_version_parses_major_minor(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int expected;
    } rows[] = {{"2.14.2", 214}, {"2.9.0", 209}, {"2.13", 213}, {"1.7.5", 107},
                {"dev", -1},     {"", -1},       {"2", -1}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(sky_schema_ts_version(rows[i].text), rows[i].expected);
}

static void test_common_sql_is_idempotent_and_versioned(void **state) {
    (void)state;
    sky_schema_opts_t o;
    sky_schema_opts_init(&o);
    sky_buf_t b;
    sky_buf_init(&b, 0);
    assert_int_equal(sky_schema_sql_common(&o, &b), 0);
    assert_contains(b.data, "CREATE EXTENSION IF NOT EXISTS postgis");
    assert_contains(b.data, "CREATE TABLE IF NOT EXISTS \"public\".skyload_schema");
    assert_contains(b.data, "CREATE TABLE IF NOT EXISTS \"public\".flights");
    assert_lacks(b.data, "CREATE TABLE \"");
    sky_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timescaledb_sql_uses_2x_signatures),
        cmocka_unit_test(test_timescaledb_sql_omits_retention_when_forever),
        cmocka_unit_test(test_native_sql_partitions_by_day_with_brin_and_gist),
        cmocka_unit_test(test_partition_sql_covers_one_utc_day),
        cmocka_unit_test(test_schema_name_rejects_what_needs_escaping),
        cmocka_unit_test(test_ts_version_parses_major_minor),
        cmocka_unit_test(test_common_sql_is_idempotent_and_versioned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
