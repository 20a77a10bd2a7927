/* PostgreSQL checks: every expected (flight, seq) stored exactly once in
 * <schema>.flight_positions, nothing extra, and the intended -> commit latency
 * (stored_at - intended_at) straight from the table. Rows stream with COPY, which
 * reads a TimescaleDB hypertable (compressed chunks too) and a natively partitioned
 * table alike; pg.storage says which one the history went into. */
#include "checks.h"

#include "dynbuf.h"
#include "error.h"
#include "schema.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg_pass {
    sky_verify_ctx_t *ctx;
    sky_verify_check_t *complete, *dups;
    sky_hist_t *latency;
    uint64_t rows, extra, duplicates;
} pg_pass_t;

/* '{"id1","id2"}' as one escaped SQL literal: the flights of the manifest. */
static char *flight_array_literal(PGconn *conn, sky_flight_table_t *t) {
    sky_buf_t b;
    sky_buf_init(&b, 0);
    int rc = sky_buf_add_char(&b, '{');
    for (size_t i = 0; i < sky_flight_table_count(t) && !rc; i++) {
        const sky_vflight_t *f = sky_flight_table_at(t, i);
        rc |= sky_buf_add_str(&b, i ? ",\"" : "\"");
        for (size_t k = 0; k < f->id_len && !rc; k++) {
            if (f->id[k] == '"' || f->id[k] == '\\')
                rc |= sky_buf_add_char(&b, '\\');
            rc |= sky_buf_add_char(&b, f->id[k]);
        }
        rc |= sky_buf_add_char(&b, '"');
    }
    rc |= sky_buf_add_char(&b, '}');
    char *lit = rc ? NULL : PQescapeLiteral(conn, b.data, b.len);
    sky_buf_free(&b);
    return lit;
}

static char *build_query(PGconn *conn, sky_verify_ctx_t *ctx) {
    char *schema = PQescapeIdentifier(conn, ctx->schema, strlen(ctx->schema));
    char *ids = flight_array_literal(conn, ctx->table);
    sky_buf_t q;
    sky_buf_init(&q, 0);
    int rc = !schema || !ids;
    if (!rc)
        rc = sky_buf_addf(&q,
                          "COPY (SELECT flight_id, seq, (extract(epoch FROM (stored_at - "
                          "intended_at)) * 1000000)::bigint FROM %s.flight_positions WHERE "
                          "flight_id = ANY(%s::text[])",
                          schema, ids);
    if (!rc && ctx->m->window_set) /* integers only: no quoting needed */
        rc = sky_buf_addf(&q, " AND time BETWEEN to_timestamp(%lld / 1000.0) AND "
                              "to_timestamp(%lld / 1000.0)",
                          (long long)ctx->m->window_start_ms, (long long)ctx->m->window_end_ms);
    if (!rc)
        rc = sky_buf_add_str(&q, ") TO STDOUT");
    PQfreemem(schema);
    PQfreemem(ids);
    if (rc) {
        sky_buf_free(&q);
        return NULL;
    }
    return q.data;
}

static int parse_i64(const char *s, const char *end, int64_t *out) {
    int neg = s < end && *s == '-';
    const char *p = s + neg;
    int64_t x = 0;
    if (p == end)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        x = x * 10 + (*p - '0');
    }
    *out = neg ? -x : x;
    return 0;
}

static void on_row(pg_pass_t *pg, const char *row, int len) {
    const char *end = row + len, *t1 = memchr(row, '\t', (size_t)len);
    const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(end - t1 - 1)) : NULL;
    int64_t seq, lat_us;
    if (end > row && end[-1] == '\n')
        end--;
    if (!t1 || !t2 || parse_i64(t1 + 1, t2, &seq))
        return; /* NULL seq: not a skyload row */
    pg->rows++;
    sky_vflight_t *f = sky_flight_table_find(pg->ctx->table, row, (size_t)(t1 - row));
    if (!f)
        return;
    if (!parse_i64(t2 + 1, end, &lat_us))
        sky_hist_record(pg->latency, lat_us);
    const unsigned absent = SKY_FAULT_BIT(SKY_FAULT_DROP) | SKY_FAULT_BIT(SKY_FAULT_GAP) |
                            SKY_FAULT_BIT(SKY_FAULT_MALFORMED);
    int mark = sky_flight_mark(f, seq);
    if (mark < 0) {
        pg->extra++;
        sky_verify_check_problem(pg->complete, f->id, f->id_len, seq, -1, -1,
                                 "extra row: seq outside [%lld, %lld]", (long long)f->first_seq,
                                 (long long)f->last_seq);
    } else if (mark > 0) {
        pg->duplicates++;
        sky_verify_check_problem(pg->dups, f->id, f->id_len, seq, -1, -1, "stored twice");
    } else if (f->nfaults && (sky_flight_faults_at(pg->ctx->table, f, seq) & absent)) {
        pg->extra++;
        sky_verify_check_problem(pg->complete, f->id, f->id_len, seq, -1, -1,
                                 "extra row: seq was dropped or malformed and must not be stored");
    }
}

static int stream_rows(PGconn *conn, pg_pass_t *pg, const char *query, char *errstr,
                       size_t errsz) {
    PGresult *res = PQexec(conn, query);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0)) {
        /* no table (or schema): nothing ever ingested there */
        int rc = sky_err(errstr, errsz, SKY_EPG,
                         "PostgreSQL: no table %s.flight_positions in database \"%s\": no "
                         "ingest stored rows there ('skyload ingest --init-schema' creates it; "
                         "--schema NAME if ingest used another; --skip pg when no ingest "
                         "reads this topic)",
                         pg->ctx->schema, PQdb(conn));
        PQclear(res);
        return rc;
    }
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        int rc = sky_err(errstr, errsz, SKY_EPG, "PostgreSQL: reading %s.flight_positions: %s",
                         pg->ctx->schema, PQerrorMessage(conn));
        PQclear(res);
        return rc;
    }
    PQclear(res);
    char *row;
    int len;
    while ((len = PQgetCopyData(conn, &row, 0)) > 0) {
        on_row(pg, row, len);
        PQfreemem(row);
    }
    int rc = 0;
    while ((res = PQgetResult(conn))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !rc)
            rc = sky_err(errstr, errsz, SKY_EPG, "PostgreSQL: COPY failed: %s",
                         PQerrorMessage(conn));
        PQclear(res);
    }
    return rc;
}

static void summarize(pg_pass_t *pg) {
    const unsigned excused = SKY_FAULT_BIT(SKY_FAULT_DROP) | SKY_FAULT_BIT(SKY_FAULT_GAP) |
                             SKY_FAULT_BIT(SKY_FAULT_MALFORMED);
    uint64_t expected;
    uint64_t missing = sky_verify_report_missing(pg->ctx, pg->complete, excused, &expected);
    sky_verify_check_count(pg->complete, "rows", (int64_t)pg->rows);
    sky_verify_check_count(pg->complete, "expected", (int64_t)expected);
    sky_verify_check_count(pg->complete, "missing", (int64_t)missing);
    sky_verify_check_count(pg->complete, "extra", (int64_t)pg->extra);
    if (pg->complete->status == SKY_CHECK_FAIL && expected > 0 && missing == expected &&
        pg->extra == 0)
        sky_verify_check_set(pg->complete, SKY_CHECK_FAIL,
                             "none of the %llu expected rows is in %s.flight_positions: no "
                             "ingest stored this run (--skip pg when none reads the topic)",
                             (unsigned long long)expected, pg->ctx->schema);
    else if (pg->complete->status == SKY_CHECK_FAIL)
        sky_verify_check_set(pg->complete, SKY_CHECK_FAIL, "%llu missing, %llu extra rows",
                             (unsigned long long)missing, (unsigned long long)pg->extra);
    else
        sky_verify_check_set(pg->complete, SKY_CHECK_PASS, "all %llu expected rows stored",
                             (unsigned long long)expected);
    sky_verify_check_count(pg->dups, "duplicates", (int64_t)pg->duplicates);
    sky_verify_check_set(pg->dups, pg->dups->status, "%llu (flight, seq) stored more than once",
                         (unsigned long long)pg->duplicates);
}

/* The values of a one-row query with text parameters, NULL when it failed. */
static PGresult *one_row(PGconn *conn, const char *sql, int nparams, const char *const *params) {
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        return r;
    PQclear(r);
    return NULL;
}

static void describe_hypertable(PGconn *conn, const char *schema, const char *ts_version,
                                sky_verify_check_t *c) {
    const char *params[] = {schema};
    PGresult *r = one_row(
        conn,
        "SELECT h.num_chunks, (SELECT count(*) FROM timescaledb_information.chunks k WHERE "
        "k.hypertable_schema = $1 AND k.hypertable_name = 'flight_positions' AND "
        "k.is_compressed), (SELECT (extract(epoch FROM d.time_interval) * 1000)::bigint FROM "
        "timescaledb_information.dimensions d WHERE d.hypertable_schema = $1 AND "
        "d.hypertable_name = 'flight_positions' AND d.dimension_number = 1), "
        "coalesce((SELECT string_agg(attname, ', ' ORDER BY "
        "segmentby_column_index) FROM timescaledb_information.compression_settings s WHERE "
        "s.hypertable_schema = $1 AND s.hypertable_name = 'flight_positions' AND "
        "segmentby_column_index IS NOT NULL), ''), coalesce((SELECT string_agg(view_name, ', ' "
        "ORDER BY view_name) FROM timescaledb_information.continuous_aggregates a WHERE "
        "a.hypertable_schema = $1 AND a.hypertable_name = 'flight_positions'), '') FROM "
        "timescaledb_information.hypertables h WHERE h.hypertable_schema = $1 AND "
        "h.hypertable_name = 'flight_positions'",
        1, params);
    if (!r) {
        sky_verify_check_set(c, SKY_CHECK_PASS, "TimescaleDB %s hypertable \"%s\".flight_positions",
                             ts_version, schema);
        return;
    }
    long long chunks = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    long long compressed = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    char interval[48] = "?";
    if (!PQgetisnull(r, 0, 2))
        sky_schema_interval_text(strtoll(PQgetvalue(r, 0, 2), NULL, 10), interval,
                                 sizeof interval);
    const char *segment = PQgetvalue(r, 0, 3);
    sky_verify_check_count(c, "chunks", chunks);
    sky_verify_check_count(c, "compressed_chunks", compressed);
    sky_verify_check_set(c, SKY_CHECK_PASS,
                         "TimescaleDB %s hypertable \"%s\".flight_positions: %lld chunk%s of %s, "
                         "%lld in the columnstore%s%s%s%s",
                         ts_version, schema, chunks, chunks == 1 ? "" : "s", interval, compressed,
                         *segment ? " (by " : "", segment, *segment ? ")" : "",
                         *PQgetvalue(r, 0, 4) ? "; continuous aggregate " : "");
    /* the aggregate's name after the summary's fixed part, cut to what fits */
    size_t n = strlen(c->summary);
    if (*PQgetvalue(r, 0, 4) && n < sizeof c->summary - 1)
        snprintf(c->summary + n, sizeof c->summary - n, "%s", PQgetvalue(r, 0, 4));
    PQclear(r);
}

/* pg.storage: what flight_positions is (informational; it never fails a run). */
static void describe_storage(PGconn *conn, const char *schema, sky_verify_check_t *c) {
    const char *params[] = {schema};
    PGresult *r = one_row(conn,
                          "SELECT c.relkind::text, (SELECT count(*) FROM pg_inherits i WHERE "
                          "i.inhparent = c.oid), coalesce((SELECT extversion FROM pg_extension "
                          "WHERE extname = 'timescaledb'), '') FROM pg_class c JOIN "
                          "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
                          "c.relname = 'flight_positions'",
                          1, params);
    if (!r) {
        sky_verify_check_set(c, SKY_CHECK_SKIP, "could not read what \"%s\".flight_positions is",
                             schema);
        return;
    }
    char kind = PQgetvalue(r, 0, 0)[0], ts_version[32];
    long long parts = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    snprintf(ts_version, sizeof ts_version, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    bool hypertable = false;
    if (kind == 'r' && *ts_version) {
        r = one_row(conn,
                    "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_schema = "
                    "$1 AND hypertable_name = 'flight_positions'",
                    1, params);
        hypertable = r != NULL;
        PQclear(r);
    }
    if (hypertable) {
        describe_hypertable(conn, schema, ts_version, c);
    } else if (kind == 'p') {
        sky_verify_check_count(c, "partitions", parts);
        sky_verify_check_set(c, SKY_CHECK_PASS,
                             "natively partitioned table \"%s\".flight_positions: %lld "
                             "partitions (not TimescaleDB)",
                             schema, parts);
    } else {
        sky_verify_check_set(c, SKY_CHECK_PASS,
                             "plain table \"%s\".flight_positions (neither a hypertable nor "
                             "partitioned)",
                             schema);
    }
}

int sky_verify_check_pg(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size) {
    const char *conninfo = ctx->cfg->pg_conninfo ? ctx->cfg->pg_conninfo : "";
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        int rc = sky_err(errstr, errstr_size, SKY_EUNAVAIL,
                         "PostgreSQL unreachable (--pg \"%s\", then PG*): %s", conninfo,
                         PQerrorMessage(conn));
        PQfinish(conn);
        return rc;
    }
    sky_verify_report_t *r = ctx->report;
    pg_pass_t pg = {.ctx = ctx, .latency = sky_hist_new()};
    char *query = build_query(conn, ctx);
    int rc = 0;
    if (!pg.latency || !query || !sky_verify_report_add_check(r, "pg.complete") ||
        !sky_verify_report_add_check(r, "pg.duplicates") ||
        !sky_verify_report_add_check(r, "pg.storage"))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    if (!rc) {
        /* the checks array is not grown again below, so these stay valid */
        pg.complete = &r->checks[r->nchecks - 3];
        pg.dups = &r->checks[r->nchecks - 2];
        sky_flight_table_reset(ctx->table);
        rc = stream_rows(conn, &pg, query, errstr, errstr_size);
    }
    if (!rc)
        describe_storage(conn, ctx->schema, &r->checks[r->nchecks - 1]);
    free(query);
    PQfinish(conn);
    if (rc) {
        sky_hist_destroy(pg.latency);
        return rc;
    }
    summarize(&pg);
    if (!sky_verify_report_add_stage(r, "pg_commit_table", "postgresql", pg.latency))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    return 0;
}
