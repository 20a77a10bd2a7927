/* PostgreSQL schema for ingest: SQL text builders and the idempotent init /
 * maintenance that runs them (TimescaleDB when available, native partitions otherwise). */
#include "schema.h"

#include "error.h"
#include "log.h"
#include "parse.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)

void sky_schema_opts_init(sky_schema_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->schema = "public";
    o->retention_days = 30;
    o->partitions_ahead = 7;
    o->compress_after_days = 1;
}

static const char *schema_name(const sky_schema_opts_t *o) {
    return o->schema && *o->schema ? o->schema : "public";
}

int sky_schema_check_name(const char *schema, char *errstr, size_t errstr_size) {
    size_t n = schema ? strlen(schema) : 0;
    int ok = n > 0 && n < SKY_SCHEMA_NAME_MAX && !(schema[0] >= '0' && schema[0] <= '9');
    for (size_t i = 0; ok && i < n; i++) {
        char c = schema[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_';
    }
    if (!ok)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--schema \"%s\": use 1-63 letters, digits or '_', not starting with a "
                       "digit",
                       schema ? schema : "");
    return 0;
}

/* Names are checked by sky_schema_check_name, so quoting never needs escaping. */
#define Q "\"%s\""

int sky_schema_sql_common(const sky_schema_opts_t *o, sky_buf_t *out) {
    const char *s = schema_name(o);
    return sky_buf_addf(
        out,
        "CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;\n"
        "CREATE SCHEMA IF NOT EXISTS " Q ";\n"
        "CREATE TABLE IF NOT EXISTS " Q ".skyload_schema (\n"
        "    version integer PRIMARY KEY,\n"
        "    timescaledb boolean NOT NULL,\n"
        "    applied_at timestamptz NOT NULL DEFAULT now());\n"
        "CREATE TABLE IF NOT EXISTS " Q ".flights (\n"
        "    flight_id text PRIMARY KEY,\n"
        "    airline text, flight_number text, departure text, arrival text,\n"
        "    first_seen timestamptz NOT NULL);\n",
        s, s, s);
}

static int positions_table(const sky_schema_opts_t *o, bool partitioned, sky_buf_t *out) {
    return sky_buf_addf(out,
                        "CREATE TABLE IF NOT EXISTS " Q ".flight_positions (\n"
                        "    \"time\" timestamptz NOT NULL,\n"
                        "    flight_id text NOT NULL,\n"
                        "    seq bigint,\n"
                        "    geom public.geography(Point, 4326) NOT NULL,\n"
                        "    altitude_ft integer,\n"
                        "    airspeed_kt integer,\n"
                        "    airline text, flight_number text, departure text, arrival text,\n"
                        "    intended_at timestamptz,\n"
                        "    stored_at timestamptz NOT NULL DEFAULT now(),\n"
                        "    CONSTRAINT flight_positions_flight_time UNIQUE (flight_id, \"time\"))"
                        "%s;\n",
                        schema_name(o), partitioned ? " PARTITION BY RANGE (\"time\")" : "");
}

int sky_schema_sql_timescaledb(const sky_schema_opts_t *o, int ts_version, sky_buf_t *out) {
    const char *s = schema_name(o);
    int rc = sky_buf_add_str(out, "CREATE EXTENSION IF NOT EXISTS timescaledb;\n");
    rc = rc ? rc : positions_table(o, false, out);
    /* by_range() exists from 2.13; the classic signature works on every 2.x. */
    if (!rc && ts_version >= 213)
        rc = sky_buf_addf(out,
                          "SELECT create_hypertable('" Q ".flight_positions', "
                          "by_range('time', INTERVAL '1 day'), if_not_exists => TRUE);\n",
                          s);
    else if (!rc)
        rc = sky_buf_addf(out,
                          "SELECT create_hypertable('" Q ".flight_positions', 'time', "
                          "chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE);\n",
                          s);
    rc = rc ? rc
            : sky_buf_addf(out,
                           "CREATE INDEX IF NOT EXISTS flight_positions_geom_gist ON " Q
                           ".flight_positions USING gist (geom);\n"
                           "ALTER TABLE " Q ".flight_positions SET (timescaledb.compress, "
                           "timescaledb.compress_segmentby = 'flight_id', "
                           "timescaledb.compress_orderby = 'time DESC');\n"
                           "SELECT add_compression_policy('" Q ".flight_positions', "
                           "INTERVAL '%d days', if_not_exists => TRUE);\n",
                           s, s, s, o->compress_after_days > 0 ? o->compress_after_days : 1);
    if (!rc && o->retention_days > 0)
        rc = sky_buf_addf(out,
                          "SELECT add_retention_policy('" Q ".flight_positions', "
                          "INTERVAL '%d days', if_not_exists => TRUE);\n",
                          s, o->retention_days);
    return rc;
}

int sky_schema_sql_native(const sky_schema_opts_t *o, sky_buf_t *out) {
    const char *s = schema_name(o);
    int rc = positions_table(o, true, out);
    return rc ? rc
              : sky_buf_addf(out,
                             "CREATE INDEX IF NOT EXISTS flight_positions_time_brin ON " Q
                             ".flight_positions USING brin (\"time\");\n"
                             "CREATE INDEX IF NOT EXISTS flight_positions_geom_gist ON " Q
                             ".flight_positions USING gist (geom);\n"
                             "CREATE TABLE IF NOT EXISTS " Q ".flight_positions_default "
                             "PARTITION OF " Q ".flight_positions DEFAULT;\n",
                             s, s, s, s);
}

static void day_text(int64_t day, char *ymd, size_t ymdsz, char *iso, size_t isosz) {
    int64_t y;
    unsigned m, d;
    sky_civil_from_days(day, &y, &m, &d);
    snprintf(ymd, ymdsz, "%04lld%02u%02u", (long long)y, m, d);
    snprintf(iso, isosz, "%04lld-%02u-%02u 00:00:00+00", (long long)y, m, d);
}

int sky_schema_sql_partition(const sky_schema_opts_t *o, int64_t day, sky_buf_t *out) {
    const char *s = schema_name(o);
    char ymd[16], from[40], ymd2[16], to[40];
    day_text(day, ymd, sizeof ymd, from, sizeof from);
    day_text(day + 1, ymd2, sizeof ymd2, to, sizeof to);
    return sky_buf_addf(out,
                        "CREATE TABLE IF NOT EXISTS " Q ".\"flight_positions_p%s\" PARTITION OF " Q
                        ".flight_positions FOR VALUES FROM ('%s') TO ('%s');\n",
                        s, ymd, s, from, to);
}

int sky_schema_ts_version(const char *text) {
    char *end;
    long major = strtol(text, &end, 10);
    if (end == text || *end != '.')
        return -1;
    const char *minor_text = end + 1;
    long minor = strtol(minor_text, &end, 10);
    if (end == minor_text || major < 0 || major > 99 || minor < 0 || minor > 99)
        return -1;
    return (int)(major * 100 + minor);
}

/* ---- execution ---- */

static int pg_fail(PGconn *conn, char *errstr, size_t errstr_size, const char *what) {
    char msg[400];
    sky_strlcpy(msg, PQerrorMessage(conn), sizeof msg);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    return sky_err(errstr, errstr_size, PQstatus(conn) == CONNECTION_OK ? SKY_EPG : SKY_EUNAVAIL,
                   "PostgreSQL %s: %s", what, msg);
}

static int exec_sql(PGconn *conn, const char *sql, const char *what, char *errstr,
                    size_t errstr_size) {
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return pg_fail(conn, errstr, errstr_size, what);
    return 0;
}

/* One-value query; the value is copied into out (outsz bytes), "" when NULL / no row. */
static int query_text(PGconn *conn, const char *sql, const char *param, char *out, size_t outsz,
                      char *errstr, size_t errstr_size) {
    PGresult *r =
        PQexecParams(conn, sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return pg_fail(conn, errstr, errstr_size, sql);
    }
    out[0] = '\0';
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        sky_strlcpy(out, PQgetvalue(r, 0, 0), outsz);
    PQclear(r);
    return 0;
}

int sky_schema_read(PGconn *conn, const char *schema, sky_schema_info_t *info, char *errstr,
                    size_t errstr_size) {
    char qualified[SKY_SCHEMA_NAME_MAX + 32], val[64];
    memset(info, 0, sizeof *info);
    snprintf(qualified, sizeof qualified, "\"%s\".skyload_schema",
             schema && *schema ? schema : "public");
    int rc = query_text(conn, "SELECT to_regclass($1)::text", qualified, val, sizeof val, errstr,
                        errstr_size);
    if (rc || !*val)
        return rc;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT max(version)::text || ' ' || bool_or(timescaledb)::text FROM %s", qualified);
    rc = query_text(conn, sql, NULL, val, sizeof val, errstr, errstr_size);
    if (!rc && *val) {
        info->version = (int)strtol(val, NULL, 10);
        info->timescaledb = strstr(val, "true") != NULL;
    }
    return rc;
}

/* Returns the installable TimescaleDB version (major*100+minor) or 0. */
static int timescaledb_available(PGconn *conn, char *errstr, size_t errstr_size, int *version) {
    char val[64];
    *version = 0;
    int rc = query_text(conn,
                        "SELECT coalesce(installed_version, default_version) FROM "
                        "pg_available_extensions WHERE name = 'timescaledb'",
                        NULL, val, sizeof val, errstr, errstr_size);
    if (!rc && *val)
        *version = sky_schema_ts_version(val);
    return rc;
}

/* TimescaleDB can be listed yet not loadable (shared_preload_libraries): try it
 * under a savepoint and fall back to the native path when it fails. */
static int create_positions(PGconn *conn, const sky_schema_opts_t *o, bool *timescale,
                            char *errstr, size_t errstr_size) {
    sky_buf_t sql;
    sky_buf_init(&sql, 0);
    int ts_version = 0;
    int rc = o->no_timescaledb ? 0 : timescaledb_available(conn, errstr, errstr_size, &ts_version);
    *timescale = false;
    if (!rc && ts_version >= 200) {
        rc = exec_sql(conn, "SAVEPOINT skyload_ts", "savepoint", errstr, errstr_size);
        if (!rc && (rc = sky_schema_sql_timescaledb(o, ts_version, &sql)) == 0) {
            char why[300];
            if (exec_sql(conn, sql.data, "TimescaleDB schema", why, sizeof why) == 0) {
                *timescale = true;
            } else {
                sky_log_warn("schema: TimescaleDB listed but unusable, using native partitions: %s",
                             why);
                rc = exec_sql(conn, "ROLLBACK TO SAVEPOINT skyload_ts", "rollback", errstr,
                              errstr_size);
            }
        }
    }
    if (!rc && !*timescale) {
        sky_buf_reset(&sql);
        rc = sky_schema_sql_native(o, &sql);
        rc = rc ? rc : exec_sql(conn, sql.data, "native partitioned schema", errstr, errstr_size);
    }
    sky_buf_free(&sql);
    return rc;
}

static int init_in_transaction(PGconn *conn, const sky_schema_opts_t *o, sky_schema_info_t *info,
                               char *errstr, size_t errstr_size) {
    /* Two ingest processes started with --init-schema must not race. */
    int rc = exec_sql(conn, "SELECT pg_advisory_xact_lock(hashtext('skyload_schema'))", "lock",
                      errstr, errstr_size);
    rc = rc ? rc : sky_schema_read(conn, o->schema, info, errstr, errstr_size);
    if (rc || info->version >= SKY_SCHEMA_VERSION)
        return rc;
    sky_buf_t sql;
    sky_buf_init(&sql, 0);
    rc = sky_schema_sql_common(o, &sql);
    rc = rc ? rc : exec_sql(conn, sql.data, "schema", errstr, errstr_size);
    sky_buf_free(&sql);
    bool timescale = false;
    rc = rc ? rc : create_positions(conn, o, &timescale, errstr, errstr_size);
    if (!rc) {
        char ins[256];
        snprintf(ins, sizeof ins,
                 "INSERT INTO \"%s\".skyload_schema (version, timescaledb) VALUES (%d, %s) "
                 "ON CONFLICT (version) DO NOTHING",
                 schema_name(o), SKY_SCHEMA_VERSION, timescale ? "true" : "false");
        rc = exec_sql(conn, ins, "record the schema version", errstr, errstr_size);
        info->version = SKY_SCHEMA_VERSION;
        info->timescaledb = timescale;
    }
    return rc;
}

int sky_schema_init(PGconn *conn, const sky_schema_opts_t *o, sky_schema_info_t *info,
                    char *errstr, size_t errstr_size) {
    sky_schema_info_t local;
    if (!info)
        info = &local;
    int rc = sky_schema_check_name(schema_name(o), errstr, errstr_size);
    rc = rc ? rc : exec_sql(conn, "BEGIN", "begin", errstr, errstr_size);
    if (rc)
        return rc;
    rc = init_in_transaction(conn, o, info, errstr, errstr_size);
    char ignored[64];
    if (rc) {
        exec_sql(conn, "ROLLBACK", "rollback", ignored, sizeof ignored);
        return rc;
    }
    rc = exec_sql(conn, "COMMIT", "commit", errstr, errstr_size);
    if (!rc && !info->timescaledb)
        rc = sky_schema_maintain(conn, o, sky_now_ns() / 1000000, errstr, errstr_size);
    return rc;
}

static int create_partitions(PGconn *conn, const sky_schema_opts_t *o, int64_t today,
                             char *errstr, size_t errstr_size) {
    sky_buf_t sql;
    sky_buf_init(&sql, 0);
    int rc = 0;
    for (int64_t day = today - 1; !rc && day <= today + o->partitions_ahead; day++) {
        sky_buf_reset(&sql);
        rc = sky_schema_sql_partition(o, day, &sql);
        char why[300];
        /* Fails when the DEFAULT partition already holds rows of that day: keep going. */
        if (!rc && exec_sql(conn, sql.data, "create partition", why, sizeof why))
            sky_log_warn("schema: %s", why);
    }
    sky_buf_free(&sql);
    (void)errstr;
    (void)errstr_size;
    return rc;
}

static int drop_old_partitions(PGconn *conn, const sky_schema_opts_t *o, int64_t today,
                               char *errstr, size_t errstr_size) {
    const char *s = schema_name(o);
    const char *sql = "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                      "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON "
                      "n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = "
                      "'flight_positions' AND c.relname ~ '^flight_positions_p[0-9]{8}$'";
    PGresult *r = PQexecParams(conn, sql, 1, NULL, &s, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return pg_fail(conn, errstr, errstr_size, "list partitions");
    }
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        const char *name = PQgetvalue(r, i, 0);
        long ymd = strtol(name + strlen("flight_positions_p"), NULL, 10);
        int64_t day = sky_days_from_civil(ymd / 10000, (unsigned)(ymd / 100 % 100),
                                          (unsigned)(ymd % 100));
        if (day + 1 > today - o->retention_days)
            continue;
        char drop[200];
        snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS \"%s\".\"%s\"", s, name);
        rc = exec_sql(conn, drop, "drop an expired partition", errstr, errstr_size);
        if (!rc)
            sky_log_info("schema: retention dropped %s.%s", s, name);
    }
    PQclear(r);
    return rc;
}

int sky_schema_maintain(PGconn *conn, const sky_schema_opts_t *o, int64_t now_ms, char *errstr,
                        size_t errstr_size) {
    sky_schema_info_t info;
    int rc = sky_schema_read(conn, o->schema, &info, errstr, errstr_size);
    if (rc || info.version == 0 || info.timescaledb)
        return rc;
    int64_t today = now_ms / DAY_MS;
    rc = create_partitions(conn, o, today, errstr, errstr_size);
    if (!rc && o->retention_days > 0)
        rc = drop_old_partitions(conn, o, today, errstr, errstr_size);
    return rc;
}
