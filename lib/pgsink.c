/* PostgreSQL sink: COPY into a session temp table, then one INSERT ... ON
 * CONFLICT DO NOTHING per batch, all in one transaction. */
#include "pgsink.h"

#include "error.h"
#include "idmap.h"
#include "log.h"
#include "parse.h"
#include "schema.h"
#include "timefmt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "add_ewkb_point writes little-endian EWKB from the host's doubles"
#endif

struct sky_pgsink {
    PGconn *conn;
    char *conninfo;
    char schema[SKY_SCHEMA_NAME_MAX];
    char insert_sql[1024];
    char flights_sql[1024];
    char copy_direct_sql[256], copy_direct_binary_sql[256];
    sky_buf_t copy;    /* positions, reused for every batch */
    sky_buf_t flights; /* new flights' metadata */
    bool staging_ready; /* the session's temp tables exist (after the first write) */
    bool format_checked; /* the columns' types were read (first write of a session) */
    bool binary;         /* they are the ones the binary COPY writer knows */
    sky_idmap_t *meta_stored; /* flights whose metadata row this sink committed */
    sky_idmap_t *meta_batch;  /* flights whose metadata the current write carries */
};

/* The metadata set only saves work (ON CONFLICT DO NOTHING keeps the table right):
 * past this many flights it starts afresh rather than grow without bound. */
#define META_MAX_FLIGHTS 2000000

/* Same columns and COPY text as flight_positions, so one buffer serves the
 * direct COPY and the staging fallback. */
static const char staging_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS skyload_staging (\"time\" timestamptz, flight_id text, "
    "seq bigint, geom public.geography(Point, 4326), altitude_ft integer, airspeed_kt integer, "
    "airline text, flight_number text, departure text, arrival text, intended_at timestamptz) "
    "ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS skyload_flights_staging (flight_id text, airline text, "
    "flight_number text, departure text, arrival text, first_seen timestamptz) "
    "ON COMMIT DELETE ROWS";

#define POSITION_COLUMNS                                                                           \
    "(\"time\", flight_id, seq, geom, altitude_ft, airspeed_kt, airline, flight_number, "          \
    "departure, arrival, intended_at)"

static int pg_error(sky_pgsink_t *s, char *errstr, size_t errstr_size, const char *what) {
    char msg[400];
    sky_strlcpy(msg, s->conn ? PQerrorMessage(s->conn) : "not connected", sizeof msg);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    int down = !s->conn || PQstatus(s->conn) != CONNECTION_OK;
    if (down && s->conn) {
        PQfinish(s->conn);
        s->conn = NULL;
    }
    return sky_err(errstr, errstr_size, down ? SKY_EUNAVAIL : SKY_EPG, "PostgreSQL %s: %s", what,
                   msg);
}

static int exec_ok(sky_pgsink_t *s, const char *sql, const char *what, char *errstr,
                   size_t errstr_size) {
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return pg_error(s, errstr, errstr_size, what);
    return 0;
}

static void build_statements(sky_pgsink_t *s) {
    snprintf(s->copy_direct_sql, sizeof s->copy_direct_sql,
             "COPY \"%s\".flight_positions " POSITION_COLUMNS " FROM STDIN", s->schema);
    snprintf(s->copy_direct_binary_sql, sizeof s->copy_direct_binary_sql,
             "COPY \"%s\".flight_positions " POSITION_COLUMNS " FROM STDIN WITH (FORMAT binary)",
             s->schema);
    snprintf(s->insert_sql, sizeof s->insert_sql,
             "INSERT INTO \"%s\".flight_positions " POSITION_COLUMNS
             " SELECT * FROM skyload_staging ON CONFLICT DO NOTHING",
             s->schema);
    snprintf(s->flights_sql, sizeof s->flights_sql,
             "INSERT INTO \"%s\".flights (flight_id, airline, flight_number, departure, arrival, "
             "first_seen) SELECT DISTINCT ON (flight_id) * FROM skyload_flights_staging "
             "ORDER BY flight_id, first_seen ON CONFLICT (flight_id) DO NOTHING",
             s->schema);
}

/* libpq prints NOTICEs on stderr by default; the library never prints. */
static void route_notice(void *arg, const char *message) {
    (void)arg;
    sky_log_debug("PostgreSQL: %s", message);
}

int sky_pgsink_reconnect(sky_pgsink_t *s, char *errstr, size_t errstr_size) {
    if (s->conn)
        PQfinish(s->conn);
    /* dbname last, expanded: the user's conninfo overrides our defaults. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "skyload-ingest", s->conninfo, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory connecting to PostgreSQL");
    if (PQstatus(s->conn) != CONNECTION_OK)
        return pg_error(s, errstr, errstr_size, "connect (check --pg / PG* variables)");
    PQsetNoticeProcessor(s->conn, route_notice, NULL);
    char sql[160];
    snprintf(sql, sizeof sql, "SET search_path TO \"%s\", public", s->schema);
    /* The staging tables need PostGIS, which --init-schema may only be about to
     * create on this connection: they are made at the first write. */
    s->staging_ready = s->format_checked = false;
    return exec_ok(s, sql, "set search_path", errstr, errstr_size);
}

sky_pgsink_t *sky_pgsink_new(const char *conninfo, const char *schema, char *errstr,
                             size_t errstr_size) {
    const char *name = schema && *schema ? schema : "public";
    if (sky_schema_check_name(name, errstr, errstr_size))
        return NULL;
    sky_pgsink_t *s = calloc(1, sizeof *s);
    if (!s || !(s->conninfo = strdup(conninfo ? conninfo : ""))) {
        free(s);
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating the PostgreSQL sink");
        return NULL;
    }
    sky_strlcpy(s->schema, name, sizeof s->schema);
    sky_buf_init(&s->copy, 0);
    sky_buf_init(&s->flights, 0);
    s->meta_stored = sky_idmap_new(4096);
    s->meta_batch = sky_idmap_new(4096);
    if (!s->meta_stored || !s->meta_batch) {
        sky_pgsink_destroy(s);
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating the PostgreSQL sink");
        return NULL;
    }
    build_statements(s);
    if (sky_pgsink_reconnect(s, errstr, errstr_size)) {
        sky_pgsink_destroy(s);
        return NULL;
    }
    return s;
}

void sky_pgsink_destroy(sky_pgsink_t *s) {
    if (!s)
        return;
    if (s->conn)
        PQfinish(s->conn);
    sky_buf_free(&s->copy);
    sky_buf_free(&s->flights);
    sky_idmap_destroy(s->meta_stored);
    sky_idmap_destroy(s->meta_batch);
    free(s->conninfo);
    free(s);
}

PGconn *sky_pgsink_conn(sky_pgsink_t *s) {
    return s->conn;
}

/* COPY text format: NULL is \N; backslash, tab, newline and CR are escaped. */
static int add_text(sky_buf_t *out, const char *v) {
    if (!v || !*v)
        return sky_buf_add(out, "\\N", 2);
    int rc = 0;
    for (const char *p = v; *p && !rc; p++) {
        switch (*p) {
        case '\\': rc = sky_buf_add(out, "\\\\", 2); break;
        case '\t': rc = sky_buf_add(out, "\\t", 2); break;
        case '\n': rc = sky_buf_add(out, "\\n", 2); break;
        case '\r': rc = sky_buf_add(out, "\\r", 2); break;
        default: rc = sky_buf_add_char(out, *p);
        }
    }
    return rc;
}

static int add_num(sky_buf_t *out, int64_t v, int is_null) {
    if (is_null)
        return sky_buf_add(out, "\\N", 2);
    return sky_buf_add_i64(out, v);
}

/* \tairline\tflight_number\tdeparture\tarrival (NULL without metadata). */
static int add_metadata(sky_buf_t *out, const sky_flight_t *f) {
    int md = f->has_metadata;
    int rc = sky_buf_add_char(out, '\t') | add_text(out, md ? f->airline : NULL);
    rc |= sky_buf_add_char(out, '\t') | add_text(out, md ? f->flight_number : NULL);
    rc |= sky_buf_add_char(out, '\t') | add_text(out, md ? f->departure_airport : NULL);
    rc |= sky_buf_add_char(out, '\t') | add_text(out, md ? f->arrival_airport : NULL);
    return rc;
}

/* A point as hex EWKB (little endian, SRID 4326), which geography's input reads
 * as is: no per-row ST_MakePoint on the server. */
static int add_ewkb_point(sky_buf_t *out, double lon, double lat) {
    static const char hex[] = "0123456789ABCDEF";
    static const char head[] = "0101000020E6100000";
    char text[sizeof head - 1 + 32];
    memcpy(text, head, sizeof head - 1);
    double xy[2] = {lon, lat};
    uint8_t raw[16];
    memcpy(raw, xy, sizeof raw); /* x86/ARM hosts are little endian, as EWKB's 01 says */
    for (size_t i = 0; i < sizeof raw; i++) {
        text[sizeof head - 1 + 2 * i] = hex[raw[i] >> 4];
        text[sizeof head - 1 + 2 * i + 1] = hex[raw[i] & 15];
    }
    return sky_buf_add(out, text, sizeof text);
}

/* ISO 8601 UTC with microseconds, "2026-11-25T10:00:05.123456Z", from ms plus
 * extra_us (0..999): ms alone, because ns overflow int64 after 2262. */
static int add_time(sky_buf_t *out, int64_t ms, unsigned extra_us) {
    char t[SKY_TS_MAX + 4];
    size_t n = sky_ts_format(ms, SKY_TS_ISO8601, t);
    if (n < 2 || t[n - 1] != 'Z')
        return sky_buf_add(out, "\\N", 2); /* outside years 0..9999: unknown */
    t[n - 1] = (char)('0' + extra_us / 100);
    t[n++] = (char)('0' + extra_us / 10 % 10);
    t[n++] = (char)('0' + extra_us % 10);
    t[n++] = 'Z';
    return sky_buf_add(out, t, n);
}

static int add_time_ns(sky_buf_t *out, int64_t ns) {
    int64_t ms = ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000);
    return add_time(out, ms, (unsigned)((ns - ms * 1000000) / 1000));
}

int sky_pg_copy_row(sky_buf_t *out, const sky_pg_row_t *row) {
    const sky_flight_t *f = row->flight;
    int rc = add_time(out, row->ts_ms, 0);
    rc |= sky_buf_add_char(out, '\t') | add_text(out, f->flight_id);
    rc |= sky_buf_add_char(out, '\t') | add_num(out, row->seq, row->seq < 0);
    rc |= sky_buf_add_char(out, '\t') | add_ewkb_point(out, f->longitude, f->latitude);
    rc |= sky_buf_add_char(out, '\t') | sky_buf_add_i64(out, f->altitude);
    rc |= sky_buf_add_char(out, '\t') | sky_buf_add_i64(out, f->airspeed);
    rc |= add_metadata(out, f);
    rc |= sky_buf_add_char(out, '\t');
    rc |= row->intended_ns > 0 ? add_time_ns(out, row->intended_ns) : sky_buf_add(out, "\\N", 2);
    rc |= sky_buf_add_char(out, '\n');
    return rc ? SKY_ENOMEM : 0;
}

/* ---- COPY binary: the server parses no text (timestamps, numbers, hex EWKB) ---- */

static const char binary_header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
#define BINARY_HEADER_LEN 19
#define PG_EPOCH_US (INT64_C(946684800) * 1000000) /* 2000-01-01 in Unix microseconds */

static void put_be(char *p, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (char)(v & 0xff);
}

static int bin_i64(sky_buf_t *out, int64_t v) {
    char b[12];
    put_be(b, 8, 4);
    put_be(b + 4, (uint64_t)v, 8);
    return sky_buf_add(out, b, sizeof b);
}

static int bin_i32(sky_buf_t *out, int32_t v) {
    char b[8];
    put_be(b, 4, 4);
    put_be(b + 4, (uint32_t)v, 4);
    return sky_buf_add(out, b, sizeof b);
}

static int bin_null(sky_buf_t *out) {
    return sky_buf_add(out, "\377\377\377\377", 4);
}

/* Empty text is NULL, as in the text form (\N). */
static int bin_text(sky_buf_t *out, const char *v) {
    size_t n = v ? strlen(v) : 0;
    if (!n)
        return bin_null(out);
    char len[4];
    put_be(len, n, 4);
    return sky_buf_add(out, len, 4) | sky_buf_add(out, v, n);
}

/* geography's binary input is EWKB: little endian point, SRID 4326. */
static int bin_point(sky_buf_t *out, double lon, double lat) {
    char b[4 + 25] = {0, 0, 0, 25, 1, 1, 0, 0, 0x20, (char)0xE6, 0x10, 0, 0};
    memcpy(b + 13, &lon, 8);
    memcpy(b + 21, &lat, 8);
    return sky_buf_add(out, b, sizeof b);
}

int sky_pg_copy_row_binary(sky_buf_t *out, const sky_pg_row_t *row) {
    const sky_flight_t *f = row->flight;
    int md = f->has_metadata;
    int rc = sky_buf_add(out, "\0\013", 2); /* 11 columns */
    rc |= bin_i64(out, row->ts_ms * 1000 - PG_EPOCH_US);
    rc |= bin_text(out, f->flight_id);
    rc |= row->seq < 0 ? bin_null(out) : bin_i64(out, row->seq);
    rc |= bin_point(out, f->longitude, f->latitude);
    rc |= bin_i32(out, f->altitude);
    rc |= bin_i32(out, f->airspeed);
    rc |= bin_text(out, md ? f->airline : NULL);
    rc |= bin_text(out, md ? f->flight_number : NULL);
    rc |= bin_text(out, md ? f->departure_airport : NULL);
    rc |= bin_text(out, md ? f->arrival_airport : NULL);
    rc |= row->intended_ns > 0 ? bin_i64(out, row->intended_ns / 1000 - PG_EPOCH_US)
                               : bin_null(out);
    return rc ? SKY_ENOMEM : 0;
}

/* The binary writer knows these types in this order; a table with other ones (an
 * older or newer schema) gets the text form, which the server converts. */
static void check_format(sky_pgsink_t *s) {
    static const char *const want[] = {"timestamp with time zone", "text", "bigint",
                                       "geography(Point,4326)", "integer", "integer", "text",
                                       "text", "text", "text", "timestamp with time zone"};
    static const char *const names[] = {"time",   "flight_id",     "seq",       "geom",
                                        "altitude_ft", "airspeed_kt", "airline", "flight_number",
                                        "departure", "arrival",   "intended_at"};
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid "
             "= '\"%s\".flight_positions'::regclass AND attnum > 0 AND NOT attisdropped",
             s->schema);
    PGresult *r = PQexec(s->conn, sql);
    int found = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        for (int i = 0; i < PQntuples(r); i++)
            for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
                if (strcmp(PQgetvalue(r, i, 0), names[k]) == 0 &&
                    strcmp(PQgetvalue(r, i, 1), want[k]) == 0)
                    found++;
    PQclear(r);
    s->binary = found == (int)(sizeof names / sizeof names[0]);
    s->format_checked = true;
    if (!s->binary)
        sky_log_info("PostgreSQL: %s.flight_positions has columns of other types than this "
                     "build knows: COPY in text form",
                     s->schema);
}

static int copy_flight_row(sky_buf_t *out, const sky_pg_row_t *row) {
    int rc = add_text(out, row->flight->flight_id);
    rc |= add_metadata(out, row->flight);
    rc |= sky_buf_add_char(out, '\t') | add_time(out, row->ts_ms, 0);
    rc |= sky_buf_add_char(out, '\n');
    return rc ? SKY_ENOMEM : 0;
}

/* Runs one COPY FROM STDIN of buf. SKY_EINVAL (connection still usable) when the
 * server refused the data with a unique violation, so the caller can fall back. */
static int copy_buffer(sky_pgsink_t *s, const char *sql, const sky_buf_t *buf, char *errstr,
                       size_t errstr_size) {
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COPY_IN)
        return pg_error(s, errstr, errstr_size, "COPY");
    if (PQputCopyData(s->conn, buf->data, (int)buf->len) != 1 || PQputCopyEnd(s->conn, NULL) != 1)
        return pg_error(s, errstr, errstr_size, "COPY data");
    int rc = 0;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            rc = state && strcmp(state, "23505") == 0 ? SKY_EINVAL : SKY_EPG;
            if (rc == SKY_EPG)
                pg_error(s, errstr, errstr_size, "COPY");
        }
        PQclear(r);
    }
    return rc;
}

static int build_buffers(sky_pgsink_t *s, const sky_pg_row_t *rows, size_t n, char *errstr,
                         size_t errstr_size) {
    sky_buf_reset(&s->copy);
    sky_buf_reset(&s->flights);
    sky_idmap_clear(s->meta_batch);
    if (s->binary && sky_buf_add(&s->copy, binary_header, BINARY_HEADER_LEN))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory building a COPY");
    for (size_t i = 0; i < n; i++) {
        const char *id = rows[i].flight->flight_id;
        size_t len = strlen(id);
        bool added = false;
        if ((s->binary ? sky_pg_copy_row_binary(&s->copy, &rows[i])
                       : sky_pg_copy_row(&s->copy, &rows[i])) ||
            (sky_idmap_find(s->meta_stored, id, len) < 0 &&
             sky_idmap_intern(s->meta_batch, id, len, &added) < 0) ||
            (added && copy_flight_row(&s->flights, &rows[i])))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory building a COPY");
    }
    if (s->binary && sky_buf_add(&s->copy, "\377\377", 2)) /* the trailer */
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory building a COPY");
    return 0;
}

/* After the commit: these flights' metadata rows are in the table. */
static void remember_flights(sky_pgsink_t *s) {
    size_t n = sky_idmap_count(s->meta_batch);
    if (sky_idmap_count(s->meta_stored) + n > META_MAX_FLIGHTS)
        sky_idmap_clear(s->meta_stored);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *id = sky_idmap_key(s->meta_batch, i, &len);
        if (sky_idmap_intern(s->meta_stored, id, len, NULL) < 0)
            return; /* out of memory: the next batch writes them again, harmlessly */
    }
}

/* Optimistic path: COPY straight into flight_positions under a savepoint (as fast
 * as a raw COPY). A re-delivered row makes it fail with a unique violation; then
 * the batch goes through the staging table and INSERT ... ON CONFLICT DO NOTHING. */
static int store_positions(sky_pgsink_t *s, size_t n, uint64_t *inserted, char *errstr,
                           size_t errstr_size) {
    int rc = exec_ok(s, "SAVEPOINT skyload_direct", "SAVEPOINT", errstr, errstr_size);
    rc = rc ? rc
            : copy_buffer(s, s->binary ? s->copy_direct_binary_sql : s->copy_direct_sql, &s->copy,
                          errstr, errstr_size);
    if (!rc) {
        *inserted = n;
        return exec_ok(s, "RELEASE SAVEPOINT skyload_direct", "RELEASE", errstr, errstr_size);
    }
    if (rc != SKY_EINVAL)
        return rc;
    rc = exec_ok(s, "ROLLBACK TO SAVEPOINT skyload_direct", "ROLLBACK TO", errstr, errstr_size);
    rc = rc ? rc
            : copy_buffer(s,
                          s->binary ? "COPY skyload_staging FROM STDIN WITH (FORMAT binary)"
                                    : "COPY skyload_staging FROM STDIN",
                          &s->copy, errstr, errstr_size);
    if (rc == SKY_EINVAL)
        rc = sky_err(errstr, errstr_size, SKY_EPG, "COPY into staging: unexpected conflict");
    if (rc)
        return rc;
    PGresult *r = PQexec(s->conn, s->insert_sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        return pg_error(s, errstr, errstr_size, "INSERT into flight_positions");
    }
    *inserted = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

static int write_transaction(sky_pgsink_t *s, size_t n, uint64_t *inserted, char *errstr,
                             size_t errstr_size) {
    int rc = exec_ok(s, "BEGIN", "BEGIN", errstr, errstr_size);
    if (!rc && s->flights.len) {
        rc = copy_buffer(s, "COPY skyload_flights_staging FROM STDIN", &s->flights, errstr,
                         errstr_size);
        rc = rc ? rc : exec_ok(s, s->flights_sql, "INSERT into flights", errstr, errstr_size);
    }
    rc = rc ? rc : store_positions(s, n, inserted, errstr, errstr_size);
    return rc ? rc : exec_ok(s, "COMMIT", "COMMIT", errstr, errstr_size);
}

int sky_pgsink_write(sky_pgsink_t *s, const sky_pg_row_t *rows, size_t n, uint64_t *inserted,
                     char *errstr, size_t errstr_size) {
    *inserted = 0;
    if (n == 0)
        return 0;
    if (!s->conn) {
        int rc = sky_pgsink_reconnect(s, errstr, errstr_size);
        if (rc)
            return rc;
    }
    int rc = 0;
    if (!s->format_checked)
        check_format(s);
    if (!s->staging_ready) {
        rc = exec_ok(s, staging_sql, "create the staging table", errstr, errstr_size);
        s->staging_ready = rc == 0;
    }
    rc = rc ? rc : build_buffers(s, rows, n, errstr, errstr_size);
    rc = rc ? rc : write_transaction(s, n, inserted, errstr, errstr_size);
    if (rc && s->conn && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    if (rc)
        *inserted = 0;
    else
        remember_flights(s);
    return rc;
}
