/* Schema: the generated SQL for both storage paths says exactly what DESIGN.md
 * promises (TimescaleDB 2.x signatures, native partitions), the decision between
 * them follows what the server offers (usable = installed and preloaded), names
 * are checked. */
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

static void test_timescaledb_sql_follows_the_extension_version(void **state) {
    (void)state;
    static const struct {
        int version;
        const char *expected[2];
        const char *absent[2];
    } rows[] = {
        {228,
         {"SELECT \"public\".create_hypertable('\"t1\".flight_positions', \"public\".by_range("
          "'time', INTERVAL '1 hour'), if_not_exists => TRUE);",
          "ALTER TABLE \"t1\".flight_positions SET (timescaledb.enable_columnstore, "
          "timescaledb.segmentby = 'flight_id', timescaledb.orderby = 'time');\n"
          "CALL \"public\".add_columnstore_policy('\"t1\".flight_positions', after => INTERVAL "
          "'2 hours', if_not_exists => TRUE);"},
         {"chunk_time_interval", "compress_segmentby"}},
        {218, {"by_range('time', INTERVAL '1 hour')", "add_columnstore_policy"},
         {"chunk_time_interval", "add_compression_policy"}},
        {215,
         {"by_range('time', INTERVAL '1 hour')",
          "ALTER TABLE \"t1\".flight_positions SET (timescaledb.compress, "
          "timescaledb.compress_segmentby = 'flight_id', timescaledb.compress_orderby = "
          "'time');\nSELECT \"public\".add_compression_policy('\"t1\".flight_positions', "
          "compress_after => INTERVAL '2 hours', if_not_exists => TRUE);"},
         {"chunk_time_interval", "columnstore"}},
        {211,
         {"SELECT \"public\".create_hypertable('\"t1\".flight_positions', 'time', "
          "chunk_time_interval => INTERVAL '1 hour', if_not_exists => TRUE);",
          "add_compression_policy"},
         {"by_range", "columnstore"}},
        {200, {"chunk_time_interval => INTERVAL '1 hour'", "timescaledb.compress,"},
         {"by_range", "columnstore"}},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_schema_opts_t o;
        sky_schema_opts_init(&o);
        o.schema = "t1";
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(sky_schema_sql_timescaledb(&o, rows[i].version, NULL, true, &b), 0);
        for (int k = 0; k < 2; k++) {
            assert_contains(b.data, rows[i].expected[k]);
            assert_lacks(b.data, rows[i].absent[k]);
        }
        /* in public, never in the schema being created (DROP SCHEMA would take it along) */
        assert_contains(b.data, "CREATE EXTENSION IF NOT EXISTS timescaledb WITH SCHEMA public;");
        assert_contains(b.data, "SELECT \"public\".add_retention_policy('\"t1\".flight_positions', "
                                "drop_after => INTERVAL '30 days', if_not_exists => TRUE);");
        /* a hypertable's unique index must include the time column */
        assert_contains(b.data, "UNIQUE (flight_id, \"time\")");
        assert_lacks(b.data, "PARTITION BY");
        sky_buf_free(&b);
    }
}

static void test_timescaledb_sql_has_the_per_minute_aggregate_and_its_refresh(void **state) {
    (void)state;
    sky_schema_opts_t o;
    sky_schema_opts_init(&o);
    o.schema = "t2";
    sky_buf_t b;
    sky_buf_init(&b, 0);
    assert_int_equal(sky_schema_sql_timescaledb(&o, 228, "public", false, &b), 0);
    static const char *const expected[] = {
        "CREATE MATERIALIZED VIEW IF NOT EXISTS \"t2\".flight_minutes\n"
        "    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS\n",
        "\"public\".time_bucket(INTERVAL '1 minute', \"time\") AS minute",
        "\"public\".last(geom, \"time\") AS geom",
        "max(altitude_ft) AS max_altitude_ft",
        "count(*) AS positions",
        "FROM \"t2\".flight_positions\nGROUP BY flight_id, minute\nWITH NO DATA;",
        "SELECT \"public\".add_continuous_aggregate_policy('\"t2\".flight_minutes', "
        "start_offset => INTERVAL '29 days', end_offset => INTERVAL '1 minute', "
        "schedule_interval => INTERVAL '1 minute', if_not_exists => TRUE);",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_contains(b.data, expected[i]);
    /* the extension is there already: not created again */
    assert_lacks(b.data, "CREATE EXTENSION");
    sky_buf_free(&b);
}

static void test_timescaledb_sql_follows_the_options(void **state) {
    (void)state;
    static const struct {
        int64_t chunk_ms, after_ms;
        int retention_days;
        const char *ts_schema;
        const char *expected[3];
        const char *absent;
    } rows[] = {
        {1800000, 86400000, 7, NULL,
         {"by_range('time', INTERVAL '30 minutes')", "after => INTERVAL '1 day'",
          "start_offset => INTERVAL '6 days'"},
         "INTERVAL '1 hour'"},
        {86400000, 7200000, 1, NULL,
         {"by_range('time', INTERVAL '1 day')", "drop_after => INTERVAL '1 days'",
          "start_offset => INTERVAL '23 hours'"},
         "chunk_time_interval"},
        {3600000, 5400000, 0, "ext",
         {"\"ext\".create_hypertable(", "after => INTERVAL '90 minutes'",
          "start_offset => NULL"},
         "add_retention_policy"},
        {1500, 7200000, 30, NULL, {"INTERVAL '1500 milliseconds'", "", ""}, "\"ext\""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_schema_opts_t o;
        sky_schema_opts_init(&o);
        o.chunk_interval_ms = rows[i].chunk_ms;
        o.compress_after_ms = rows[i].after_ms;
        o.retention_days = rows[i].retention_days;
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(sky_schema_sql_timescaledb(&o, 228, rows[i].ts_schema, false, &b), 0);
        for (int k = 0; k < 3; k++)
            assert_contains(b.data, rows[i].expected[k]);
        assert_lacks(b.data, rows[i].absent);
        if (rows[i].ts_schema)
            assert_lacks(b.data, "\"public\".time_bucket");
        sky_buf_free(&b);
    }
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

/* The field failure: TimescaleDB installed (pg_available_extensions lists it) but not
 * preloaded. Usable means installed and preloaded; anything else says why and the fix. */
static void test_decide_uses_timescaledb_only_when_usable(void **state) {
    (void)state;
    enum { ERR = -1 };
    static const struct {
        const char *created, *ext_schema, *available;
        bool preloaded;
        sky_schema_kind_t positions;
        int version;
        sky_storage_t storage;
        int kind; /* sky_schema_kind_t, or ERR */
        bool create_extension, warning, up_to_date;
        const char *message; /* in the note or the error; "" = no note */
    } rows[] = {
        {"", "", "", false, SKY_SCHEMA_NONE, 0, SKY_STORAGE_AUTO, SKY_SCHEMA_NATIVE, false, false,
         false, "TimescaleDB is not installed on this PostgreSQL server: storing positions in "
                "native daily partitions instead"},
        {"", "", "2.28.3", false, SKY_SCHEMA_NONE, 0, SKY_STORAGE_AUTO, SKY_SCHEMA_NATIVE, false,
         true, false,
         "TimescaleDB 2.28.3 is installed but the server does not preload it, so it would refuse "
         "CREATE EXTENSION: storing positions in native daily partitions instead (fix: "
         "shared_preload_libraries = 'timescaledb' in postgresql.conf, then restart PostgreSQL)"},
        {"", "", "2.28.3", true, SKY_SCHEMA_NONE, 0, SKY_STORAGE_AUTO, SKY_SCHEMA_TIMESCALEDB,
         true, false, false, ""},
        {"2.28.3", "ext", "2.28.3", true, SKY_SCHEMA_NONE, 0, SKY_STORAGE_AUTO,
         SKY_SCHEMA_TIMESCALEDB, false, false, false, ""},
        {"2.28.3", "public", "2.28.3", false, SKY_SCHEMA_NONE, 0, SKY_STORAGE_AUTO,
         SKY_SCHEMA_NATIVE, false, true, false, "does not preload it"},
        {"", "", "1.7.5", true, SKY_SCHEMA_NONE, 0, SKY_STORAGE_AUTO, SKY_SCHEMA_NATIVE, false,
         true, false, "TimescaleDB 1.7.5 is older than 2.0"},
        {"", "", "2.28.3", false, SKY_SCHEMA_NONE, 0, SKY_STORAGE_TIMESCALEDB, ERR, false, false,
         false, "--storage timescaledb: TimescaleDB 2.28.3 is installed but the server does not "
                "preload it"},
        {"", "", "2.28.3", true, SKY_SCHEMA_NONE, 0, SKY_STORAGE_NATIVE, SKY_SCHEMA_NATIVE, false,
         false, false, ""},
        /* existing tables: kept, reported, never dropped */
        {"2.28.3", "public", "2.28.3", true, SKY_SCHEMA_NATIVE, 1, SKY_STORAGE_AUTO,
         SKY_SCHEMA_NATIVE, false, false, false,
         "\"s\".flight_positions exists as a natively partitioned table (made without "
         "TimescaleDB); kept with its rows"},
        {"", "", "", false, SKY_SCHEMA_NATIVE, 2, SKY_STORAGE_AUTO, SKY_SCHEMA_NATIVE, false,
         false, true, ""},
        {"2.28.3", "public", "2.28.3", true, SKY_SCHEMA_NATIVE, 2, SKY_STORAGE_TIMESCALEDB, ERR,
         false, false, false, "it is never dropped"},
        {"2.28.3", "public", "2.28.3", true, SKY_SCHEMA_PLAIN, 0, SKY_STORAGE_AUTO,
         SKY_SCHEMA_PLAIN, false, false, false, "neither partitioned nor a hypertable; kept"},
        {"2.28.3", "public", "2.28.3", false, SKY_SCHEMA_TIMESCALEDB, 2, SKY_STORAGE_AUTO, ERR,
         false, false, false, "is a TimescaleDB hypertable but TimescaleDB 2.28.3 is installed"},
        {"2.28.3", "public", "2.28.3", true, SKY_SCHEMA_TIMESCALEDB, 2, SKY_STORAGE_NATIVE, ERR,
         false, false, false, "--storage native"},
        {"2.28.3", "public", "2.28.3", true, SKY_SCHEMA_TIMESCALEDB, 2, SKY_STORAGE_AUTO,
         SKY_SCHEMA_TIMESCALEDB, false, false, true, ""},
        {"2.28.3", "public", "2.28.3", true, SKY_SCHEMA_TIMESCALEDB, 1, SKY_STORAGE_AUTO,
         SKY_SCHEMA_TIMESCALEDB, false, false, false, ""},
        /* a version row without its table (dropped by hand): created again */
        {"2.28.3", "public", "2.28.3", true, SKY_SCHEMA_NONE, 2, SKY_STORAGE_AUTO,
         SKY_SCHEMA_TIMESCALEDB, false, false, false, ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_schema_probe_t p;
        memset(&p, 0, sizeof p);
        snprintf(p.ts_created, sizeof p.ts_created, "%s", rows[i].created);
        snprintf(p.ts_schema, sizeof p.ts_schema, "%s", rows[i].ext_schema);
        snprintf(p.ts_available, sizeof p.ts_available, "%s", rows[i].available);
        p.ts_preloaded = rows[i].preloaded;
        p.positions = rows[i].positions;
        p.version = rows[i].version;
        sky_schema_opts_t o;
        sky_schema_opts_init(&o);
        o.schema = "s";
        o.storage = rows[i].storage;
        sky_schema_plan_t plan;
        char err[512] = "";
        int rc = sky_schema_decide(&p, &o, &plan, err, sizeof err);
        if (rows[i].kind == ERR) {
            if (rc == 0)
                fail_msg("row %zu: expected an error, got kind %d", i, plan.kind);
            assert_int_equal(rc, -2); /* SKY_EUSAGE */
            assert_contains(err, rows[i].message);
            continue;
        }
        if (rc != 0)
            fail_msg("row %zu: %s", i, err);
        assert_int_equal(plan.kind, rows[i].kind);
        assert_int_equal(plan.create_extension, rows[i].create_extension);
        assert_int_equal(plan.note_is_warning, rows[i].warning);
        assert_int_equal(plan.up_to_date, rows[i].up_to_date);
        if (*rows[i].message)
            assert_contains(plan.note, rows[i].message);
        else if (plan.note[0])
            fail_msg("row %zu: unexpected note: %s", i, plan.note);
        assert_null(strchr(plan.note, '\n')); /* one line */
        if (rows[i].kind == SKY_SCHEMA_TIMESCALEDB)
            assert_string_equal(plan.ts_schema, *rows[i].created ? rows[i].ext_schema : "public");
    }
}

static void test_print_without_a_server_needs_a_storage(void **state) {
    (void)state;
    sky_schema_opts_t o;
    sky_schema_opts_init(&o);
    o.schema = "p1";
    sky_buf_t b;
    sky_buf_init(&b, 0);
    char err[256] = "";
    assert_int_equal(sky_schema_print(NULL, &o, 0, &b, err, sizeof err), -2);
    assert_contains(err, "--storage timescaledb or --storage native");

    o.storage = SKY_STORAGE_TIMESCALEDB;
    sky_buf_reset(&b);
    assert_int_equal(sky_schema_print(NULL, &o, 0, &b, err, sizeof err), 0);
    static const char *const ts[] = {
        "-- skyload ingest --init-schema, schema \"p1\": TimescaleDB hypertable (TimescaleDB "
        "2.28.3, assumed: no server was asked)\nBEGIN;\n"
        "SELECT pg_advisory_xact_lock(hashtext('skyload_schema'));\n"
        "CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;\n",
        "CREATE EXTENSION IF NOT EXISTS timescaledb WITH SCHEMA public;\n",
        "add_columnstore_policy",
        "INSERT INTO \"p1\".skyload_schema (version, timescaledb) VALUES (2, true) ON CONFLICT "
        "(version) DO NOTHING;\nCOMMIT;\n",
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        assert_contains(b.data, ts[i]);
    assert_lacks(b.data, "PARTITION");

    o.storage = SKY_STORAGE_NATIVE;
    sky_buf_reset(&b);
    int64_t now_ms = sky_days_from_civil(2026, 11, 25) * 86400000 + 3600000;
    assert_int_equal(sky_schema_print(NULL, &o, now_ms, &b, err, sizeof err), 0);
    static const char *const native[] = {
        "schema \"p1\": native daily partitions\n",
        "PARTITION BY RANGE (\"time\");",
        "VALUES (2, false) ON CONFLICT (version) DO NOTHING;\nCOMMIT;\n-- then at once",
        "\"flight_positions_p20261124\"",
        "\"flight_positions_p20261202\"",
    };
    for (size_t i = 0; i < sizeof native / sizeof native[0]; i++)
        assert_contains(b.data, native[i]);
    assert_lacks(b.data, "timescaledb WITH");
    assert_lacks(b.data, "\"flight_positions_p20261203\"");
    sky_buf_free(&b);
}

static void test_interval_text_uses_the_largest_exact_unit(void **state) {
    (void)state;
    static const struct {
        int64_t ms;
        const char *expected;
    } rows[] = {{3600000, "1 hour"},     {7200000, "2 hours"},   {86400000, "1 day"},
                {5400000, "90 minutes"}, {1000, "1 second"},     {2592000000, "30 days"},
                {1500, "1500 milliseconds"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[48];
        sky_schema_interval_text(rows[i].ms, text, sizeof text);
        assert_string_equal(text, rows[i].expected);
    }
}

static void test_storage_parse_accepts_three_names(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int rc;
        sky_storage_t expected;
    } rows[] = {{"auto", 0, SKY_STORAGE_AUTO},
                {"timescaledb", 0, SKY_STORAGE_TIMESCALEDB},
                {"native", 0, SKY_STORAGE_NATIVE},
                {"Native", -2, SKY_STORAGE_AUTO},
                {"", -2, SKY_STORAGE_AUTO}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_storage_t s = SKY_STORAGE_AUTO;
        char err[128];
        assert_int_equal(sky_storage_parse(rows[i].text, &s, err, sizeof err), rows[i].rc);
        assert_int_equal(s, rows[i].expected);
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
        cmocka_unit_test(test_timescaledb_sql_follows_the_extension_version),
        cmocka_unit_test(test_timescaledb_sql_has_the_per_minute_aggregate_and_its_refresh),
        cmocka_unit_test(test_timescaledb_sql_follows_the_options),
        cmocka_unit_test(test_native_sql_partitions_by_day_with_brin_and_gist),
        cmocka_unit_test(test_partition_sql_covers_one_utc_day),
        cmocka_unit_test(test_decide_uses_timescaledb_only_when_usable),
        cmocka_unit_test(test_print_without_a_server_needs_a_storage),
        cmocka_unit_test(test_interval_text_uses_the_largest_exact_unit),
        cmocka_unit_test(test_storage_parse_accepts_three_names),
        cmocka_unit_test(test_schema_name_rejects_what_needs_escaping),
        cmocka_unit_test(test_ts_version_parses_major_minor),
        cmocka_unit_test(test_common_sql_is_idempotent_and_versioned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
