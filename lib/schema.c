/* PostgreSQL schema for ingest: the probe of what the server offers, the decision
 * between TimescaleDB and native partitions, the SQL text of both paths, and the
 * idempotent init / print / maintenance that run it. */
#include "schema.h"

#include "error.h"
#include "log.h"
#include "parse.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)

void sky_schema_opts_init(sky_schema_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->schema = "public";
    o->retention_days = 30;
    o->partitions_ahead = 7;
    o->chunk_interval_ms = HOUR_MS;
    o->compress_after_ms = 2 * HOUR_MS;
    o->storage = SKY_STORAGE_AUTO;
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

int sky_storage_parse(const char *text, sky_storage_t *out, char *errstr, size_t errstr_size) {
    static const struct {
        const char *name;
        sky_storage_t value;
    } names[] = {{"auto", SKY_STORAGE_AUTO},
                 {"timescaledb", SKY_STORAGE_TIMESCALEDB},
                 {"native", SKY_STORAGE_NATIVE}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (text && strcmp(text, names[i].name) == 0) {
            *out = names[i].value;
            return 0;
        }
    return sky_err(errstr, errstr_size, SKY_EUSAGE,
                   "--storage \"%s\": expected auto, timescaledb or native", text ? text : "");
}

void sky_schema_interval_text(int64_t ms, char *out, size_t outsz) {
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{DAY_MS, "day"}, {HOUR_MS, "hour"}, {60000, "minute"}, {1000, "second"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms > 0 && ms % units[i].ms == 0) {
            long long n = (long long)(ms / units[i].ms);
            snprintf(out, outsz, "%lld %s%s", n, units[i].unit, n == 1 ? "" : "s");
            return;
        }
    snprintf(out, outsz, "%lld milliseconds", (long long)ms);
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

/* The aggregate keeps what a flight-history user asks most: where each flight was at
 * the end of each minute, how high it flew, how many positions back it. Real-time
 * (materialized_only = false): minutes not yet refreshed are computed from the raw rows. */
static int aggregate_sql(const char *s, const char *ts, sky_buf_t *out) {
    return sky_buf_addf(
        out,
        "CREATE MATERIALIZED VIEW IF NOT EXISTS " Q "." SKY_SCHEMA_AGGREGATE "\n"
        "    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS\n"
        "SELECT flight_id,\n"
        "       " Q ".time_bucket(INTERVAL '1 minute', \"time\") AS minute,\n"
        "       count(*) AS positions,\n"
        "       max(\"time\") AS last_time,\n"
        "       " Q ".last(geom, \"time\") AS geom,\n"
        "       " Q ".last(altitude_ft, \"time\") AS altitude_ft,\n"
        "       max(altitude_ft) AS max_altitude_ft,\n"
        "       " Q ".last(airspeed_kt, \"time\") AS airspeed_kt\n"
        "FROM " Q ".flight_positions\n"
        "GROUP BY flight_id, minute\n"
        "WITH NO DATA;\n",
        s, ts, ts, ts, ts, s);
}

/* The refresh reaches back to just inside the retention: late rows (a replay of a
 * recording from last week) still reach the aggregate, and the refresh never sees the
 * region where retention dropped raw chunks (which would empty those minutes). */
static void refresh_start(const sky_schema_opts_t *o, char *out, size_t outsz) {
    if (o->retention_days <= 0) {
        snprintf(out, outsz, "NULL");
        return;
    }
    int64_t ms = (int64_t)o->retention_days * DAY_MS - (o->retention_days > 1 ? DAY_MS : HOUR_MS);
    char text[48];
    sky_schema_interval_text(ms, text, sizeof text);
    snprintf(out, outsz, "INTERVAL '%s'", text);
}

int sky_schema_sql_timescaledb(const sky_schema_opts_t *o, int ts_version, const char *ts_schema,
                               bool create_extension, sky_buf_t *out) {
    const char *s = schema_name(o), *ts = ts_schema && *ts_schema ? ts_schema : "public";
    char chunk[48], after[48], start[64];
    sky_schema_interval_text(o->chunk_interval_ms > 0 ? o->chunk_interval_ms : HOUR_MS, chunk,
                             sizeof chunk);
    sky_schema_interval_text(o->compress_after_ms > 0 ? o->compress_after_ms : 2 * HOUR_MS,
                             after, sizeof after);
    refresh_start(o, start, sizeof start);
    int rc = 0;
    /* WITH SCHEMA public: the extension belongs to the database, not to the schema
     * being created (DROP SCHEMA ... CASCADE of one run must not drop it for all). */
    if (create_extension)
        rc = sky_buf_add_str(out, "CREATE EXTENSION IF NOT EXISTS timescaledb WITH SCHEMA public;\n");
    rc = rc ? rc : positions_table(o, false, out);
    /* by_range() exists from 2.13; the classic signature works on every 2.x. */
    if (!rc && ts_version >= 213)
        rc = sky_buf_addf(out,
                          "SELECT " Q ".create_hypertable('" Q ".flight_positions', " Q
                          ".by_range('time', INTERVAL '%s'), if_not_exists => TRUE);\n",
                          ts, s, ts, chunk);
    else if (!rc)
        rc = sky_buf_addf(out,
                          "SELECT " Q ".create_hypertable('" Q ".flight_positions', 'time', "
                          "chunk_time_interval => INTERVAL '%s', if_not_exists => TRUE);\n",
                          ts, s, chunk);
    rc = rc ? rc
            : sky_buf_addf(out,
                           "CREATE INDEX IF NOT EXISTS flight_positions_geom_gist ON " Q
                           ".flight_positions USING gist (geom);\n",
                           s);
    /* Segments by flight: a flight's positions of one chunk compress together, in
     * time order, as a track is read back. 2.18 renamed compression to columnstore. */
    if (!rc && ts_version >= 218)
        rc = sky_buf_addf(out,
                          "ALTER TABLE " Q ".flight_positions SET (timescaledb.enable_columnstore, "
                          "timescaledb.segmentby = 'flight_id', timescaledb.orderby = 'time');\n"
                          "CALL " Q ".add_columnstore_policy('" Q ".flight_positions', "
                          "after => INTERVAL '%s', if_not_exists => TRUE);\n",
                          s, ts, s, after);
    else if (!rc)
        rc = sky_buf_addf(out,
                          "ALTER TABLE " Q ".flight_positions SET (timescaledb.compress, "
                          "timescaledb.compress_segmentby = 'flight_id', "
                          "timescaledb.compress_orderby = 'time');\n"
                          "SELECT " Q ".add_compression_policy('" Q ".flight_positions', "
                          "compress_after => INTERVAL '%s', if_not_exists => TRUE);\n",
                          s, ts, s, after);
    if (!rc && o->retention_days > 0)
        rc = sky_buf_addf(out,
                          "SELECT " Q ".add_retention_policy('" Q ".flight_positions', "
                          "drop_after => INTERVAL '%d days', if_not_exists => TRUE);\n",
                          ts, s, o->retention_days);
    rc = rc ? rc : aggregate_sql(s, ts, out);
    rc = rc ? rc
            : sky_buf_addf(out,
                           "SELECT " Q ".add_continuous_aggregate_policy('" Q
                           "." SKY_SCHEMA_AGGREGATE "', start_offset => %s, "
                           "end_offset => INTERVAL '1 minute', "
                           "schedule_interval => INTERVAL '1 minute', if_not_exists => TRUE);\n",
                           ts, s, start);
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

int sky_schema_sql_version(const sky_schema_opts_t *o, bool timescaledb, sky_buf_t *out) {
    return sky_buf_addf(out,
                        "INSERT INTO " Q ".skyload_schema (version, timescaledb) VALUES (%d, %s) "
                        "ON CONFLICT (version) DO NOTHING;\n",
                        schema_name(o), SKY_SCHEMA_VERSION, timescaledb ? "true" : "false");
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

/* ---- the decision ---- */

static const char *kind_words(sky_schema_kind_t k) {
    switch (k) {
    case SKY_SCHEMA_TIMESCALEDB: return "a TimescaleDB hypertable";
    case SKY_SCHEMA_NATIVE: return "a natively partitioned table";
    case SKY_SCHEMA_PLAIN: return "a table that is neither partitioned nor a hypertable";
    default: return "absent";
    }
}

/* Why TimescaleDB cannot be used, and the fix; returns false when it can. */
static bool ts_unusable(const sky_schema_probe_t *p, int version, char *why, size_t whysz,
                        char *fix, size_t fixsz) {
    const char *v = p->ts_created[0] ? p->ts_created : p->ts_available;
    if (!*v) {
        snprintf(why, whysz, "TimescaleDB is not installed on this PostgreSQL server");
        snprintf(fix, fixsz, "install TimescaleDB 2.x and preload it for a hypertable with "
                             "compression, docs/stack.md");
    } else if (version < 200) {
        snprintf(why, whysz, "TimescaleDB %s is older than 2.0", v);
        snprintf(fix, fixsz, "install TimescaleDB 2.x");
    } else if (!p->ts_preloaded) {
        /* CREATE EXTENSION would end the session with a FATAL error, so it is never tried. */
        snprintf(why, whysz,
                 "TimescaleDB %s is installed but the server does not preload it, so it would "
                 "refuse CREATE EXTENSION",
                 v);
        snprintf(fix, fixsz, "fix: shared_preload_libraries = 'timescaledb' in postgresql.conf, "
                             "then restart PostgreSQL");
    } else {
        return false;
    }
    return true;
}

int sky_schema_decide(const sky_schema_probe_t *p, const sky_schema_opts_t *o,
                      sky_schema_plan_t *plan, char *errstr, size_t errstr_size) {
    const char *s = schema_name(o);
    memset(plan, 0, sizeof *plan);
    const char *v = p->ts_created[0] ? p->ts_created : p->ts_available;
    sky_strlcpy(plan->ts_version_text, v, sizeof plan->ts_version_text);
    sky_strlcpy(plan->ts_schema, p->ts_created[0] && p->ts_schema[0] ? p->ts_schema : "public",
                sizeof plan->ts_schema);
    plan->ts_version = *v ? sky_schema_ts_version(v) : 0;
    plan->up_to_date = p->version >= SKY_SCHEMA_VERSION && p->positions != SKY_SCHEMA_NONE;
    char why[200], fix[160];
    bool unusable = ts_unusable(p, plan->ts_version, why, sizeof why, fix, sizeof fix);
    switch (p->positions) {
    case SKY_SCHEMA_TIMESCALEDB:
        if (unusable)
            return sky_err(errstr, errstr_size, SKY_EUSAGE,
                           "\"%s\".flight_positions is a TimescaleDB hypertable but %s (%s)", s,
                           why, fix);
        if (o->storage == SKY_STORAGE_NATIVE)
            return sky_err(errstr, errstr_size, SKY_EUSAGE,
                           "--storage native: \"%s\".flight_positions already is a TimescaleDB "
                           "hypertable; it is never dropped: use another --schema",
                           s);
        plan->kind = SKY_SCHEMA_TIMESCALEDB;
        return 0;
    case SKY_SCHEMA_NATIVE:
    case SKY_SCHEMA_PLAIN:
        plan->kind = p->positions;
        if (o->storage == SKY_STORAGE_TIMESCALEDB ||
            (o->storage == SKY_STORAGE_NATIVE && p->positions == SKY_SCHEMA_PLAIN))
            return sky_err(errstr, errstr_size, SKY_EUSAGE,
                           "--storage %s: \"%s\".flight_positions already exists as %s; it is "
                           "never dropped: use another --schema, or move its rows "
                           "(docs/ingest.md, \"Storage\")",
                           o->storage == SKY_STORAGE_NATIVE ? "native" : "timescaledb", s,
                           kind_words(p->positions));
        if (o->storage == SKY_STORAGE_AUTO && (!unusable || p->positions == SKY_SCHEMA_PLAIN))
            snprintf(plan->note, sizeof plan->note,
                     "schema: \"%s\".flight_positions exists as %s%s; kept with its rows, "
                     "positions go on into it (docs/ingest.md, \"Storage\", to move them)",
                     s, kind_words(p->positions),
                     p->positions == SKY_SCHEMA_NATIVE ? " (made without TimescaleDB)" : "");
        return 0;
    default: break;
    }
    if (o->storage == SKY_STORAGE_NATIVE) {
        plan->kind = SKY_SCHEMA_NATIVE;
        return 0;
    }
    if (!unusable) {
        plan->kind = SKY_SCHEMA_TIMESCALEDB;
        plan->create_extension = !p->ts_created[0];
        return 0;
    }
    if (o->storage == SKY_STORAGE_TIMESCALEDB)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "--storage timescaledb: %s (%s)", why,
                       fix);
    plan->kind = SKY_SCHEMA_NATIVE;
    plan->note_is_warning = *v != '\0'; /* installed but unusable: a misconfiguration */
    snprintf(plan->note, sizeof plan->note,
             "schema: %s: storing positions in native daily partitions instead (%s)", why, fix);
    return 0;
}

/* ---- execution ---- */

static int pg_fail(PGconn *conn, char *errstr, size_t errstr_size, const char *what) {
    char msg[400];
    sky_strlcpy(msg, PQerrorMessage(conn), sizeof msg);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++) /* "ERROR: ...\nHINT: ..." on one log line */
        if (*p == '\n')
            *p = ' ';
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

/* What flight_positions in schema is: relkind, and for a plain relation whether
 * TimescaleDB's catalog lists it as a hypertable. */
static int positions_kind(PGconn *conn, const char *schema, bool ts_created, sky_schema_kind_t *kind,
                          char *errstr, size_t errstr_size) {
    char val[16];
    *kind = SKY_SCHEMA_NONE;
    int rc = query_text(conn,
                        "SELECT c.relkind::text FROM pg_class c JOIN pg_namespace n ON "
                        "n.oid = c.relnamespace WHERE n.nspname = $1 AND "
                        "c.relname = 'flight_positions'",
                        schema, val, sizeof val, errstr, errstr_size);
    if (rc || !*val)
        return rc;
    *kind = val[0] == 'p' ? SKY_SCHEMA_NATIVE : SKY_SCHEMA_PLAIN;
    if (val[0] == 'r' && ts_created) {
        rc = query_text(conn,
                        "SELECT 1 FROM _timescaledb_catalog.hypertable WHERE schema_name = $1 "
                        "AND table_name = 'flight_positions'",
                        schema, val, sizeof val, errstr, errstr_size);
        if (!rc && *val)
            *kind = SKY_SCHEMA_TIMESCALEDB;
    }
    return rc;
}

static bool extension_created(PGconn *conn) {
    PGresult *r = PQexec(conn, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
    bool yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    PQclear(r);
    return yes;
}

int sky_schema_read(PGconn *conn, const char *schema, sky_schema_info_t *info, char *errstr,
                    size_t errstr_size) {
    char qualified[SKY_SCHEMA_NAME_MAX + 32], val[64];
    memset(info, 0, sizeof *info);
    const char *s = schema && *schema ? schema : "public";
    int rc = positions_kind(conn, s, extension_created(conn), &info->kind, errstr, errstr_size);
    snprintf(qualified, sizeof qualified, "\"%s\".skyload_schema", s);
    rc = rc ? rc
            : query_text(conn, "SELECT to_regclass($1)::text", qualified, val, sizeof val,
                         errstr, errstr_size);
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

int sky_schema_probe(PGconn *conn, const char *schema, sky_schema_probe_t *p, char *errstr,
                     size_t errstr_size) {
    memset(p, 0, sizeof *p);
    /* The loader defines timescaledb.disable_load only when the server preloads it
     * (pg_settings never lists a mere placeholder), and the setting is readable by every
     * role, unlike shared_preload_libraries. */
    PGresult *r = PQexec(
        conn, "SELECT (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'timescaledb'), "
              "(SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON "
              "n.oid = e.extnamespace WHERE e.extname = 'timescaledb'), "
              "(SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'), "
              "coalesce((SELECT setting = 'off' FROM pg_settings "
              "WHERE name = 'timescaledb.disable_load'), false)::text");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return pg_fail(conn, errstr, errstr_size, "probing TimescaleDB");
    }
    sky_strlcpy(p->ts_created, PQgetvalue(r, 0, 0), sizeof p->ts_created);
    sky_strlcpy(p->ts_schema, PQgetvalue(r, 0, 1), sizeof p->ts_schema);
    sky_strlcpy(p->ts_available, PQgetvalue(r, 0, 2), sizeof p->ts_available);
    p->ts_preloaded = strcmp(PQgetvalue(r, 0, 3), "true") == 0;
    PQclear(r);
    sky_schema_info_t info;
    int rc = sky_schema_read(conn, schema, &info, errstr, errstr_size);
    p->positions = info.kind;
    p->version = info.version;
    return rc;
}

/* The three parts of the transaction; the positions part is run under a savepoint. */
static int script_common(const sky_schema_opts_t *o, sky_buf_t *out) {
    return sky_schema_sql_common(o, out);
}

static int script_positions(const sky_schema_opts_t *o, const sky_schema_plan_t *plan,
                            sky_buf_t *out) {
    switch (plan->kind) {
    case SKY_SCHEMA_TIMESCALEDB:
        return sky_schema_sql_timescaledb(o, plan->ts_version, plan->ts_schema,
                                          plan->create_extension, out);
    case SKY_SCHEMA_NATIVE: return sky_schema_sql_native(o, out);
    default: return 0; /* a table made by someone else: used as it is */
    }
}

static const char lock_sql[] = "SELECT pg_advisory_xact_lock(hashtext('skyload_schema'));\n";

static void log_plan(const sky_schema_plan_t *plan) {
    if (!plan->note[0])
        return;
    if (plan->note_is_warning)
        sky_log_warn("%s", plan->note);
    else
        sky_log_info("%s", plan->note);
}

/* Runs the positions part under a savepoint. An ERROR (not a lost session) while creating
 * TimescaleDB objects for a new table under --storage auto falls back to native. */
static int create_positions(PGconn *conn, const sky_schema_opts_t *o, sky_schema_plan_t *plan,
                            char *errstr, size_t errstr_size) {
    sky_buf_t sql;
    sky_buf_init(&sql, 0);
    int rc = script_positions(o, plan, &sql);
    if (rc || !sql.len) {
        sky_buf_free(&sql);
        return rc;
    }
    bool may_fall_back = plan->kind == SKY_SCHEMA_TIMESCALEDB && o->storage == SKY_STORAGE_AUTO &&
                         plan->create_extension;
    rc = exec_sql(conn, "SAVEPOINT skyload_positions", "savepoint", errstr, errstr_size);
    char why[300];
    if (!rc && exec_sql(conn, sql.data, "creating flight_positions", why, sizeof why)) {
        if (!may_fall_back || PQstatus(conn) != CONNECTION_OK) {
            rc = sky_err(errstr, errstr_size, PQstatus(conn) == CONNECTION_OK ? SKY_EPG
                                                                                 : SKY_EUNAVAIL,
                         "%s (schema \"%s\", %s path)", why, schema_name(o),
                         plan->kind == SKY_SCHEMA_TIMESCALEDB ? "TimescaleDB" : "native");
        } else {
            plan->kind = SKY_SCHEMA_NATIVE;
            plan->note_is_warning = true;
            snprintf(plan->note, sizeof plan->note,
                     "schema: TimescaleDB %s could not be set up (%s): storing positions in "
                     "native daily partitions instead",
                     plan->ts_version_text, why);
            log_plan(plan);
            sky_buf_reset(&sql);
            rc = exec_sql(conn, "ROLLBACK TO SAVEPOINT skyload_positions", "rollback", errstr,
                          errstr_size);
            rc = rc ? rc : sky_schema_sql_native(o, &sql);
            rc = rc ? rc : exec_sql(conn, sql.data, "native partitioned schema", errstr, errstr_size);
        }
    }
    sky_buf_free(&sql);
    return rc;
}

static void describe(const sky_schema_opts_t *o, const sky_schema_plan_t *plan, bool nothing_new) {
    const char *s = schema_name(o);
    char keep[48] = "kept forever";
    if (o->retention_days > 0)
        snprintf(keep, sizeof keep, "kept %d days", o->retention_days);
    if (nothing_new) {
        sky_log_info("schema: \"%s\" is at version %d (%s): nothing to change", s,
                     SKY_SCHEMA_VERSION, kind_words(plan->kind));
    } else if (plan->kind == SKY_SCHEMA_TIMESCALEDB) {
        char chunk[48], after[48];
        sky_schema_interval_text(o->chunk_interval_ms, chunk, sizeof chunk);
        sky_schema_interval_text(o->compress_after_ms, after, sizeof after);
        sky_log_info("schema: \"%s\".flight_positions is a TimescaleDB %s hypertable (chunks "
                     "of %s, columnstore after %s, %s, continuous aggregate "
                     SKY_SCHEMA_AGGREGATE ")",
                     s, plan->ts_version_text, chunk, after, keep);
    } else if (plan->kind == SKY_SCHEMA_NATIVE) {
        sky_log_info("schema: \"%s\".flight_positions is natively partitioned by day (%s)", s,
                     keep);
    }
}

static int init_in_transaction(PGconn *conn, const sky_schema_opts_t *o, sky_schema_info_t *info,
                               char *errstr, size_t errstr_size) {
    /* Two ingest processes started with --init-schema must not race. */
    int rc = exec_sql(conn, lock_sql, "lock", errstr, errstr_size);
    sky_schema_probe_t probe;
    sky_schema_plan_t plan;
    rc = rc ? rc : sky_schema_probe(conn, schema_name(o), &probe, errstr, errstr_size);
    rc = rc ? rc : sky_schema_decide(&probe, o, &plan, errstr, errstr_size);
    if (rc)
        return rc;
    log_plan(&plan);
    if (plan.up_to_date) {
        /* Nothing is run: no DDL lock is taken on a table other ingests are writing. */
        describe(o, &plan, true);
        return sky_schema_read(conn, schema_name(o), info, errstr, errstr_size);
    }
    sky_buf_t sql;
    sky_buf_init(&sql, 0);
    rc = script_common(o, &sql);
    rc = rc ? rc : exec_sql(conn, sql.data, "schema", errstr, errstr_size);
    rc = rc ? rc : create_positions(conn, o, &plan, errstr, errstr_size);
    sky_buf_reset(&sql);
    rc = rc ? rc : sky_schema_sql_version(o, plan.kind == SKY_SCHEMA_TIMESCALEDB, &sql);
    rc = rc ? rc : exec_sql(conn, sql.data, "record the schema version", errstr, errstr_size);
    sky_buf_free(&sql);
    if (!rc)
        describe(o, &plan, false);
    return rc ? rc : sky_schema_read(conn, schema_name(o), info, errstr, errstr_size);
}

int sky_schema_init(PGconn *conn, const sky_schema_opts_t *o, sky_schema_info_t *info,
                    char *errstr, size_t errstr_size) {
    sky_schema_info_t local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    int rc = sky_schema_check_name(schema_name(o), errstr, errstr_size);
    rc = rc ? rc : exec_sql(conn, "BEGIN", "begin", errstr, errstr_size);
    if (rc)
        return rc;
    rc = init_in_transaction(conn, o, info, errstr, errstr_size);
    if (rc) {
        char ignored[64];
        if (PQstatus(conn) == CONNECTION_OK)
            exec_sql(conn, "ROLLBACK", "rollback", ignored, sizeof ignored);
        return rc;
    }
    rc = exec_sql(conn, "COMMIT", "commit", errstr, errstr_size);
    if (!rc && info->kind == SKY_SCHEMA_NATIVE)
        rc = sky_schema_maintain(conn, o, sky_now_ns() / 1000000, errstr, errstr_size);
    return rc;
}

/* ---- --print-schema ---- */

static int print_offline_probe(const sky_schema_opts_t *o, sky_schema_probe_t *p, char *errstr,
                               size_t errstr_size) {
    memset(p, 0, sizeof *p);
    if (o->storage == SKY_STORAGE_AUTO)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--print-schema without a server to ask: give --storage timescaledb or "
                       "--storage native (or a reachable --pg)");
    if (o->storage == SKY_STORAGE_TIMESCALEDB) {
        sky_strlcpy(p->ts_available, SKY_SCHEMA_TS_ASSUMED, sizeof p->ts_available);
        p->ts_preloaded = true;
    }
    return 0;
}

static int print_partitions(const sky_schema_opts_t *o, int64_t now_ms, sky_buf_t *out) {
    int64_t today = now_ms / DAY_MS;
    int rc = sky_buf_addf(out,
                          "-- then at once, and hourly while ingest runs: the daily partitions "
                          "from yesterday to %d days ahead%s\n",
                          o->partitions_ahead,
                          o->retention_days > 0 ? "; partitions past the retention are dropped"
                                                : "");
    for (int64_t day = today - 1; !rc && day <= today + o->partitions_ahead; day++)
        rc = sky_schema_sql_partition(o, day, out);
    return rc;
}

int sky_schema_print(PGconn *conn, const sky_schema_opts_t *o, int64_t now_ms, sky_buf_t *out,
                     char *errstr, size_t errstr_size) {
    sky_schema_probe_t probe;
    sky_schema_plan_t plan;
    int rc = sky_schema_check_name(schema_name(o), errstr, errstr_size);
    if (!rc)
        rc = conn ? sky_schema_probe(conn, schema_name(o), &probe, errstr, errstr_size)
                  : print_offline_probe(o, &probe, errstr, errstr_size);
    rc = rc ? rc : sky_schema_decide(&probe, o, &plan, errstr, errstr_size);
    if (rc)
        return rc;
    rc = sky_buf_addf(out, "-- skyload ingest --init-schema, schema \"%s\": %s%s%s",
                      schema_name(o),
                      plan.kind == SKY_SCHEMA_TIMESCALEDB ? "TimescaleDB hypertable"
                      : plan.kind == SKY_SCHEMA_NATIVE    ? "native daily partitions"
                                                          : "the existing table as it is",
                      plan.kind == SKY_SCHEMA_TIMESCALEDB ? " (TimescaleDB " : "",
                      plan.kind == SKY_SCHEMA_TIMESCALEDB ? plan.ts_version_text : "");
    if (!rc && plan.kind == SKY_SCHEMA_TIMESCALEDB)
        rc = sky_buf_addf(out, "%s)\n", conn ? "" : ", assumed: no server was asked");
    else if (!rc)
        rc = sky_buf_add_str(out, "\n");
    if (!rc && plan.note[0])
        rc = sky_buf_addf(out, "-- %s\n", plan.note);
    if (!rc && plan.up_to_date)
        return sky_buf_addf(out, "-- the schema is at version %d already: --init-schema runs "
                                 "nothing\n",
                            SKY_SCHEMA_VERSION);
    rc = rc ? rc : sky_buf_add_str(out, "BEGIN;\n");
    rc = rc ? rc : sky_buf_add_str(out, lock_sql);
    rc = rc ? rc : script_common(o, out);
    rc = rc ? rc : script_positions(o, &plan, out);
    rc = rc ? rc : sky_schema_sql_version(o, plan.kind == SKY_SCHEMA_TIMESCALEDB, out);
    rc = rc ? rc : sky_buf_add_str(out, "COMMIT;\n");
    if (!rc && plan.kind == SKY_SCHEMA_NATIVE)
        rc = print_partitions(o, now_ms, out);
    return rc;
}

/* ---- native partition maintenance ---- */

static int create_partitions(PGconn *conn, const sky_schema_opts_t *o, int64_t today) {
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
    if (rc || info.version == 0 || info.kind != SKY_SCHEMA_NATIVE)
        return rc;
    int64_t today = now_ms / DAY_MS;
    rc = create_partitions(conn, o, today);
    if (!rc && o->retention_days > 0)
        rc = drop_old_partitions(conn, o, today, errstr, errstr_size);
    return rc;
}
