/* The PostgreSQL schema ingest writes to (DESIGN.md "Storage"): PostGIS, the
 * flight_positions and flights tables, a skyload_schema version row, and either
 * a TimescaleDB hypertable with compression and retention policies or, without
 * the extension, native daily range partitions with BRIN/GiST indexes. */
#ifndef SKY_SCHEMA_H
#define SKY_SCHEMA_H

#include "dynbuf.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#define SKY_SCHEMA_VERSION 1
#define SKY_SCHEMA_NAME_MAX 64

typedef struct sky_schema_opts {
    const char *schema;        /* NULL or "": "public"; [A-Za-z_][A-Za-z0-9_]* only */
    int retention_days;        /* 0: keep forever; default 30 */
    int partitions_ahead;      /* native path: daily partitions created ahead (default 7) */
    int compress_after_days;   /* TimescaleDB path: compression policy (default 1) */
    bool no_timescaledb;       /* use the native path even when timescaledb is available */
} sky_schema_opts_t;

typedef struct sky_schema_info {
    int version;      /* 0 when the schema is not initialised */
    bool timescaledb; /* the TimescaleDB path was taken */
} sky_schema_info_t;

void sky_schema_opts_init(sky_schema_opts_t *o); /* the defaults above */

/* Checks a schema name (see opts.schema); 0 or SKY_EUSAGE. */
int sky_schema_check_name(const char *schema, char *errstr, size_t errstr_size);

/* (NOTICEs go to conn's notice processor: install one, as pgsink does, to keep them
 * off stderr.) Creates everything, idempotently (a second call changes nothing and returns 0),
 * then runs sky_schema_maintain. Detects TimescaleDB with pg_available_extensions.
 * info may be NULL. conn stays owned by the caller. */
int sky_schema_init(PGconn *conn, const sky_schema_opts_t *o, sky_schema_info_t *info,
                    char *errstr, size_t errstr_size);
/* Reads skyload_schema; info->version is 0 when absent. */
int sky_schema_read(PGconn *conn, const char *schema, sky_schema_info_t *info, char *errstr,
                    size_t errstr_size);
/* Native path: creates the daily partitions from yesterday to partitions_ahead
 * days ahead and drops those older than retention_days. Nothing for TimescaleDB
 * (its policies do it). now_ms: the clock (tests pass a fixed one). */
int sky_schema_maintain(PGconn *conn, const sky_schema_opts_t *o, int64_t now_ms, char *errstr,
                        size_t errstr_size);

/* ---- SQL text (exposed so tests can check it without a server) ---- */

/* Tables shared by both paths: schema, skyload_schema, flights. */
int sky_schema_sql_common(const sky_schema_opts_t *o, sky_buf_t *out);
/* flight_positions as a TimescaleDB 2.x hypertable. ts_version is major*100+minor
 * of the installed extension: >= 213 uses create_hypertable(by_range(...)),
 * older 2.x the classic (relation, time_column, chunk_time_interval) form. */
int sky_schema_sql_timescaledb(const sky_schema_opts_t *o, int ts_version, sky_buf_t *out);
/* flight_positions as a natively range-partitioned table (plus its DEFAULT partition). */
int sky_schema_sql_native(const sky_schema_opts_t *o, sky_buf_t *out);
/* CREATE TABLE IF NOT EXISTS for the day partition starting at `day` (days since epoch). */
int sky_schema_sql_partition(const sky_schema_opts_t *o, int64_t day, sky_buf_t *out);
/* "2.14.2" -> 214; -1 when unparsable. */
int sky_schema_ts_version(const char *text);

#endif
