/* PostgreSQL sink: COPY into a session temp table, then one INSERT ... ON
 * CONFLICT DO NOTHING per batch, all in one transaction. */
#include "pgsink.h"

#include "error.h"
#include "log.h"
#include "parse.h"
#include "schema.h"
#include "tile38.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sky_pgsink {
    PGconn *conn;
    char *conninfo;
    char schema[SKY_SCHEMA_NAME_MAX];
    char insert_sql[1024];
    char flights_sql[1024];
    sky_buf_t copy; /* reused for every batch */
};

static const char staging_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS skyload_staging (ts_ms bigint, flight_id text, seq bigint, "
    "lat float8, lon float8, altitude_ft integer, airspeed_kt integer, airline text, "
    "flight_number text, departure text, arrival text, intended_us bigint) "
    "ON COMMIT DELETE ROWS";

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
    snprintf(s->insert_sql, sizeof s->insert_sql,
             "INSERT INTO \"%s\".flight_positions (\"time\", flight_id, seq, geom, altitude_ft, "
             "airspeed_kt, airline, flight_number, departure, arrival, intended_at) "
             "SELECT timestamptz 'epoch' + ts_ms * interval '1 millisecond', flight_id, seq, "
             "public.ST_SetSRID(public.ST_MakePoint(lon, lat), 4326)::public.geography, "
             "altitude_ft, airspeed_kt, airline, flight_number, departure, arrival, "
             "timestamptz 'epoch' + intended_us * interval '1 microsecond' "
             "FROM skyload_staging ON CONFLICT DO NOTHING",
             s->schema);
    snprintf(s->flights_sql, sizeof s->flights_sql,
             "INSERT INTO \"%s\".flights AS f (flight_id, airline, flight_number, departure, "
             "arrival, first_seen, last_seen, last_seq) "
             "SELECT flight_id, max(airline), max(flight_number), max(departure), max(arrival), "
             "timestamptz 'epoch' + min(ts_ms) * interval '1 millisecond', "
             "timestamptz 'epoch' + max(ts_ms) * interval '1 millisecond', max(seq) "
             "FROM skyload_staging GROUP BY flight_id ORDER BY flight_id "
             "ON CONFLICT (flight_id) DO UPDATE SET "
             "airline = coalesce(excluded.airline, f.airline), "
             "flight_number = coalesce(excluded.flight_number, f.flight_number), "
             "departure = coalesce(excluded.departure, f.departure), "
             "arrival = coalesce(excluded.arrival, f.arrival), "
             "first_seen = least(f.first_seen, excluded.first_seen), "
             "last_seen = greatest(f.last_seen, excluded.last_seen), "
             "last_seq = greatest(f.last_seq, excluded.last_seq)",
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
    int rc = exec_ok(s, sql, "set search_path", errstr, errstr_size);
    rc = rc ? rc : exec_ok(s, staging_sql, "create the staging table", errstr, errstr_size);
    return rc;
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

static int add_deg(sky_buf_t *out, double v) {
    char tmp[40];
    size_t n = sky_fmt_fixed(tmp, v, 9);
    return sky_buf_add(out, tmp, n);
}

int sky_pg_copy_row(sky_buf_t *out, const sky_pg_row_t *row) {
    const sky_flight_t *f = row->flight;
    int rc = sky_buf_add_i64(out, row->ts_ms);
    rc |= sky_buf_add_char(out, '\t') | add_text(out, f->flight_id);
    rc |= sky_buf_add_char(out, '\t') | add_num(out, row->seq, row->seq < 0);
    rc |= sky_buf_add_char(out, '\t') | add_deg(out, f->latitude);
    rc |= sky_buf_add_char(out, '\t') | add_deg(out, f->longitude);
    rc |= sky_buf_add_char(out, '\t') | sky_buf_add_i64(out, f->altitude);
    rc |= sky_buf_add_char(out, '\t') | sky_buf_add_i64(out, f->airspeed);
    rc |= sky_buf_add_char(out, '\t') | add_text(out, f->has_metadata ? f->airline : NULL);
    rc |= sky_buf_add_char(out, '\t') | add_text(out, f->has_metadata ? f->flight_number : NULL);
    rc |= sky_buf_add_char(out, '\t') |
          add_text(out, f->has_metadata ? f->departure_airport : NULL);
    rc |= sky_buf_add_char(out, '\t') | add_text(out, f->has_metadata ? f->arrival_airport : NULL);
    rc |= sky_buf_add_char(out, '\t') |
          add_num(out, row->intended_ns / 1000, row->intended_ns <= 0);
    rc |= sky_buf_add_char(out, '\n');
    return rc ? SKY_ENOMEM : 0;
}

static int copy_rows(sky_pgsink_t *s, const sky_pg_row_t *rows, size_t n, char *errstr,
                     size_t errstr_size) {
    sky_buf_reset(&s->copy);
    for (size_t i = 0; i < n; i++)
        if (sky_pg_copy_row(&s->copy, &rows[i]))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory building a COPY");
    PGresult *r = PQexec(s->conn, "COPY skyload_staging FROM STDIN");
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COPY_IN)
        return pg_error(s, errstr, errstr_size, "COPY into staging");
    if (PQputCopyData(s->conn, s->copy.data, (int)s->copy.len) != 1 ||
        PQputCopyEnd(s->conn, NULL) != 1)
        return pg_error(s, errstr, errstr_size, "COPY data");
    int rc = 0;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc)
            rc = SKY_EPG;
        PQclear(r);
    }
    return rc ? pg_error(s, errstr, errstr_size, "COPY") : 0;
}

static int write_transaction(sky_pgsink_t *s, const sky_pg_row_t *rows, size_t n,
                             uint64_t *inserted, char *errstr, size_t errstr_size) {
    int rc = exec_ok(s, "BEGIN", "BEGIN", errstr, errstr_size);
    rc = rc ? rc : copy_rows(s, rows, n, errstr, errstr_size);
    if (rc)
        return rc;
    PGresult *r = PQexec(s->conn, s->insert_sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        return pg_error(s, errstr, errstr_size, "INSERT into flight_positions (is the schema "
                                                "initialised? run ingest --init-schema)");
    }
    *inserted = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    rc = exec_ok(s, s->flights_sql, "upsert flights", errstr, errstr_size);
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
    int rc = write_transaction(s, rows, n, inserted, errstr, errstr_size);
    if (rc && s->conn && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    if (rc)
        *inserted = 0;
    return rc;
}
