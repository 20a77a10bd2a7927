/* The PostgreSQL sink: one transaction per batch. The rows are COPYed straight
 * into flight_positions under a savepoint; when that hits the unique
 * (flight_id, time) index (a re-delivered batch) they go through a temporary
 * staging table and INSERT ... ON CONFLICT DO NOTHING instead, so re-delivery
 * is idempotent and the common case runs at raw COPY speed. A flight this sink has
 * not stored yet is added to the flights metadata table (once per sink, ON CONFLICT
 * DO NOTHING across sinks). Reconnects after a server restart. One thread uses a
 * sink at a time; ingest runs one per PostgreSQL connection. */
#ifndef SKY_PGSINK_H
#define SKY_PGSINK_H

#include "codec.h"
#include "dynbuf.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_pgsink sky_pgsink_t;

/* One position to store; flight is borrowed for the duration of the call. */
typedef struct sky_pg_row {
    const sky_flight_t *flight;
    int64_t ts_ms;       /* the FlightData timestamp, parsed */
    int64_t seq;         /* skyload-seq, or -1 for records from other producers (NULL) */
    int64_t intended_ns; /* skyload-intended, or 0 (NULL) */
} sky_pg_row_t;

/* conninfo ("" = libpq defaults, PG* variables, ~/.pgpass) and schema are copied;
 * schema NULL = "public". Connects at once: NULL with errstr on failure. */
sky_pgsink_t *sky_pgsink_new(const char *conninfo, const char *schema, char *errstr,
                             size_t errstr_size);
void sky_pgsink_destroy(sky_pgsink_t *s); /* NULL is fine */
/* (Re)connects, sets search_path and creates the session's staging table. */
int sky_pgsink_reconnect(sky_pgsink_t *s, char *errstr, size_t errstr_size);
/* The live connection (NULL while disconnected); owned by the sink. */
PGconn *sky_pgsink_conn(sky_pgsink_t *s);

/* Stores rows in one transaction; *inserted gets the rows that were new (the
 * others were already there). SKY_EUNAVAIL when the server is unreachable (call
 * again later: it reconnects), SKY_EPG for an SQL error. Nothing is half-written. */
int sky_pgsink_write(sky_pgsink_t *s, const sky_pg_row_t *rows, size_t n, uint64_t *inserted,
                     char *errstr, size_t errstr_size);

/* Appends one line of COPY text for flight_positions' columns (exposed for tests). */
int sky_pg_copy_row(sky_buf_t *out, const sky_pg_row_t *row);
/* The same row as a tuple of COPY ... WITH (FORMAT binary), which the sink uses when
 * the table's columns have the types it knows (the server then parses no text). */
int sky_pg_copy_row_binary(sky_buf_t *out, const sky_pg_row_t *row);

#endif
