/* The PostgreSQL schema ingest writes to (DESIGN.md "Storage", docs/ingest.md): PostGIS,
 * the flight_positions and flights tables, a skyload_schema version row, and either a
 * TimescaleDB hypertable (columnstore, compression and retention policies, a per-minute
 * continuous aggregate) or, where TimescaleDB is not usable, native daily range partitions
 * with BRIN/GiST indexes. TimescaleDB is used only when it is usable: installed AND
 * preloaded by the server (or already created in the database, which implies both). */
#ifndef SKY_SCHEMA_H
#define SKY_SCHEMA_H

#include "dynbuf.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* 2: the hypertable gained 1 h chunks by default, columnstore ordered by time and the
 * flight_minutes continuous aggregate. A version-1 schema is brought up to 2 by
 * --init-schema (every statement is idempotent); nothing is dropped. */
#define SKY_SCHEMA_VERSION 2
#define SKY_SCHEMA_NAME_MAX 64
/* What --print-schema assumes without a server: the version the local stack builds. */
#define SKY_SCHEMA_TS_ASSUMED "2.28.3"
/* The continuous aggregate of the TimescaleDB path (per flight, per minute). */
#define SKY_SCHEMA_AGGREGATE "flight_minutes"

typedef enum sky_storage {
    SKY_STORAGE_AUTO = 0,    /* TimescaleDB when usable, else native partitions (one line why) */
    SKY_STORAGE_TIMESCALEDB, /* TimescaleDB or an error saying what to fix */
    SKY_STORAGE_NATIVE,      /* native partitions even where TimescaleDB is usable */
} sky_storage_t;

typedef struct sky_schema_opts {
    const char *schema;        /* NULL or "": "public"; [A-Za-z_][A-Za-z0-9_]* only */
    int retention_days;        /* 0: keep forever; default 30 */
    int partitions_ahead;      /* native path: daily partitions created ahead (default 7) */
    int64_t chunk_interval_ms; /* TimescaleDB chunk interval (default 1 h, docs/ingest.md) */
    int64_t compress_after_ms; /* TimescaleDB: chunks older than this go to the columnstore
                                  (default 2 h) */
    sky_storage_t storage;     /* default SKY_STORAGE_AUTO */
} sky_schema_opts_t;

/* What flight_positions is. */
typedef enum sky_schema_kind {
    SKY_SCHEMA_NONE = 0,    /* does not exist */
    SKY_SCHEMA_TIMESCALEDB, /* a hypertable */
    SKY_SCHEMA_NATIVE,      /* natively range-partitioned */
    SKY_SCHEMA_PLAIN,       /* another kind of table (made by someone else): used as is */
} sky_schema_kind_t;

typedef struct sky_schema_info {
    int version;            /* 0 when the schema is not initialised */
    bool timescaledb;       /* the TimescaleDB path was taken (skyload_schema) */
    sky_schema_kind_t kind; /* what flight_positions is now */
} sky_schema_info_t;

/* What the server offers, read by sky_schema_probe (read-only queries). */
typedef struct sky_schema_probe {
    char ts_created[32];                  /* pg_extension.extversion, "" when not created */
    char ts_schema[SKY_SCHEMA_NAME_MAX];  /* the extension's schema when created */
    char ts_available[32];                /* pg_available_extensions.default_version or "" */
    bool ts_preloaded;                    /* the server preloads TimescaleDB's loader */
    sky_schema_kind_t positions;          /* flight_positions in the schema */
    int version;                          /* skyload_schema's version, 0 = none */
} sky_schema_probe_t;

/* The decision sky_schema_decide takes from a probe and the options. */
typedef struct sky_schema_plan {
    sky_schema_kind_t kind;              /* TIMESCALEDB, NATIVE or PLAIN (kept as found) */
    int ts_version;                      /* major*100+minor used for the SQL (TIMESCALEDB) */
    char ts_version_text[32];
    char ts_schema[SKY_SCHEMA_NAME_MAX]; /* schema of TimescaleDB's functions */
    bool create_extension;               /* CREATE EXTENSION timescaledb first */
    bool up_to_date;                     /* schema at SKY_SCHEMA_VERSION: nothing to run */
    bool note_is_warning;                /* the note reports a misconfiguration */
    char note[512];                      /* one line for the log (why and the fix), or "" */
} sky_schema_plan_t;

void sky_schema_opts_init(sky_schema_opts_t *o); /* the defaults above */

/* Checks a schema name (see opts.schema); 0 or SKY_EUSAGE. */
int sky_schema_check_name(const char *schema, char *errstr, size_t errstr_size);
/* "auto", "timescaledb" or "native"; 0 or SKY_EUSAGE. */
int sky_storage_parse(const char *text, sky_storage_t *out, char *errstr, size_t errstr_size);

/* (NOTICEs go to conn's notice processor: install one, as pgsink does, to keep them
 * off stderr.) Probes the server, decides (sky_schema_decide: its note is logged, one
 * line), creates what is missing in one transaction -- idempotently: a second call changes
 * nothing -- then runs sky_schema_maintain. An existing flight_positions is never dropped.
 * info may be NULL. conn stays owned by the caller. */
int sky_schema_init(PGconn *conn, const sky_schema_opts_t *o, sky_schema_info_t *info,
                    char *errstr, size_t errstr_size);
/* Reads skyload_schema and what flight_positions is; info->version is 0 when absent. */
int sky_schema_read(PGconn *conn, const char *schema, sky_schema_info_t *info, char *errstr,
                    size_t errstr_size);
/* Native path: creates the daily partitions from yesterday to partitions_ahead
 * days ahead and drops those older than retention_days. Nothing for other kinds
 * (TimescaleDB's policies do it). now_ms: the clock (tests pass a fixed one). */
int sky_schema_maintain(PGconn *conn, const sky_schema_opts_t *o, int64_t now_ms, char *errstr,
                        size_t errstr_size);

/* What the server offers for the schema o->schema (read-only). */
int sky_schema_probe(PGconn *conn, const char *schema, sky_schema_probe_t *p, char *errstr,
                     size_t errstr_size);
/* Decides the path (no I/O). SKY_EUSAGE with errstr when o->storage cannot be had, or
 * when the existing table cannot be used (a hypertable while TimescaleDB is unusable). */
int sky_schema_decide(const sky_schema_probe_t *p, const sky_schema_opts_t *o,
                      sky_schema_plan_t *plan, char *errstr, size_t errstr_size);
/* What --init-schema would run, as a psql script with comments: the decision, then
 * the transaction, then the native path's partition maintenance. conn NULL: no server
 * (o->storage must not be AUTO); TimescaleDB SKY_SCHEMA_TS_ASSUMED is assumed. */
int sky_schema_print(PGconn *conn, const sky_schema_opts_t *o, int64_t now_ms, sky_buf_t *out,
                     char *errstr, size_t errstr_size);

/* ---- SQL text (exposed so tests can check it without a server) ---- */

/* Tables shared by both paths: schema, skyload_schema, flights. */
int sky_schema_sql_common(const sky_schema_opts_t *o, sky_buf_t *out);
/* flight_positions as a TimescaleDB 2.x hypertable, its policies and the continuous
 * aggregate. ts_version is major*100+minor of the extension: >= 213 uses
 * create_hypertable(by_range(...)), older 2.x the classic signature; >= 218 the
 * columnstore names (enable_columnstore, add_columnstore_policy), older the compression
 * ones. ts_schema: where its functions are (NULL: public); create_extension: begin with
 * CREATE EXTENSION ... WITH SCHEMA public. */
int sky_schema_sql_timescaledb(const sky_schema_opts_t *o, int ts_version, const char *ts_schema,
                               bool create_extension, sky_buf_t *out);
/* flight_positions as a natively range-partitioned table (plus its DEFAULT partition). */
int sky_schema_sql_native(const sky_schema_opts_t *o, sky_buf_t *out);
/* CREATE TABLE IF NOT EXISTS for the day partition starting at `day` (days since epoch). */
int sky_schema_sql_partition(const sky_schema_opts_t *o, int64_t day, sky_buf_t *out);
/* The row that records the schema version and path. */
int sky_schema_sql_version(const sky_schema_opts_t *o, bool timescaledb, sky_buf_t *out);
/* "2.14.2" -> 214; -1 when unparsable. */
int sky_schema_ts_version(const char *text);
/* An interval in PostgreSQL's words, in the largest exact unit: 3600000 -> "1 hour". */
void sky_schema_interval_text(int64_t ms, char *out, size_t outsz);

#endif
