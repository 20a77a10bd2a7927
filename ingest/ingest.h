/* The pipeline behind the topic: a consumer-group member that batches
 * FlightData records into Tile38 (latest position per flight, never backwards)
 * and PostgreSQL (every position exactly once), committing Kafka offsets only
 * after both sinks acknowledged, sending bad records to a dead-letter topic. */
#ifndef SKY_INGEST_H
#define SKY_INGEST_H

#include "kafka.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define SKY_INGEST_DEFAULT_GROUP "skyload-ingest"
#define SKY_INGEST_DEFAULT_COLLECTION "flights"
/* A batch also closes after batch_ms (default 200): large batches only form
 * under load, where they bring ingest from 0.72x to 0.84x a raw COPY
 * (bench/RESULTS.md, ingest: 5,000 vs 20,000 rows). */
#define SKY_INGEST_DEFAULT_BATCH_ROWS 20000
#define SKY_INGEST_MAX_PG_CONNECTIONS 64

typedef struct sky_ingest_snapshot {
    uint64_t consumed;           /* records read from the topic (valid or not) */
    uint64_t stored_pg;          /* rows new in flight_positions */
    uint64_t duplicates_ignored; /* rows PostgreSQL already had (re-delivery, duplicates) */
    uint64_t stored_tile38;      /* valid records applied to Tile38 (not stale) */
    uint64_t stale_dropped;      /* older than or equal to Tile38's position of the flight */
    uint64_t dlq;                /* records sent to the dead-letter topic */
    uint64_t tile38_refused;     /* rows whose SET Tile38 refused for itself (sent to the DLQ) */
    uint64_t batches;            /* batches committed */
    uint64_t sink_retries;       /* failed sink attempts that were retried */
    uint64_t pauses;             /* times the partitions were paused for a sink */
    int64_t paused_ms;           /* time spent paused, the current pause included */
    int64_t lag;                 /* high watermark - position over the assignment, from the
                                    fetcher's cached watermarks (refreshed by every fetch
                                    response, i.e. within fetch.wait.max.ms); -1 unknown */
    int64_t pending;             /* rows consumed but not yet committed */
    int assigned;                /* partitions currently assigned */
    bool paused;                 /* partitions paused because a sink is down */
    int pg_connections;          /* PostgreSQL connections (lanes) writing in parallel */
} sky_ingest_snapshot_t;

typedef struct sky_ingest sky_ingest_t;
struct sky_geofence_config;

typedef void(sky_ingest_progress_fn)(void *opaque, const sky_ingest_snapshot_t *s);

typedef struct sky_ingest_config {
    const sky_kconf_t *kafka;   /* brokers and -X; borrowed, must outlive the ingest */
    const char *topic;          /* required */
    const char *group;          /* NULL: SKY_INGEST_DEFAULT_GROUP */
    const char *tile38_host;    /* NULL: 127.0.0.1 */
    int tile38_port;            /* 0: 9851 */
    const char *collection;     /* NULL: "flights" */
    bool disable_tile38;        /* PostgreSQL only: no Tile38 connection, no live map */
    const char *pg_conninfo;    /* NULL or "": libpq defaults, PG* variables, ~/.pgpass */
    const char *schema;         /* NULL: "public" */
    bool init_schema;           /* create the schema (idempotent) before consuming */
    int retention_days;         /* schema retention (default 30) */
    /* The rest of --init-schema's options (storage path, chunk interval, ...); NULL: the
     * defaults. Its schema and retention_days are taken from the two fields above. */
    const struct sky_schema_opts *schema_opts;
    int batch_rows;             /* most rows per batch; default SKY_INGEST_DEFAULT_BATCH_ROWS */
    int batch_ms;               /* longest a row waits for its batch to close; default 200 */
    int pg_connections;         /* lanes, each a PostgreSQL connection and a share of the
                                   partitions; 0: sky_ingest_default_pg_connections() */
    int ttl_s;                  /* Tile38 EX, default 120; 0 = no expiry */
    const char *dlq_topic;      /* NULL: "<topic>.dlq" */
    const char *metrics_addr;   /* "HOST:PORT" for the Prometheus endpoint, NULL: none */
    /* Airspaces (lib/geofence.h; borrowed): registered with init_schema, and relayed
     * to their events topic on the relay route (ingest/geofence_relay.h). NULL: none. */
    const struct sky_geofence_config *geofence;
    /* When *stats_request becomes non-zero the loop writes stats_path and clears it. */
    const char *stats_path;
    volatile sig_atomic_t *stats_request;
    /* Called from the run loop about 4 times a second (may be NULL). */
    sky_ingest_progress_fn *progress;
    void *progress_opaque;
} sky_ingest_config_t;

/* Fills the defaults above (topic "flights"). */
void sky_ingest_config_init(sky_ingest_config_t *c);
/* One PostgreSQL connection per CPU this process may use, at least 2, at most 8: a
 * COPY keeps about one server core busy. */
int sky_ingest_default_pg_connections(void);

/* Connects to Tile38 and PostgreSQL (and creates the schema when asked), starts
 * the consumer and the metrics endpoint. Strings in cfg are copied except kafka.
 * NULL with errstr filled on failure; the SKY_E* code is in *code when code != NULL. */
sky_ingest_t *sky_ingest_new(const sky_ingest_config_t *cfg, int *code, char *errstr,
                             size_t errstr_size);
void sky_ingest_destroy(sky_ingest_t *in); /* NULL is fine; closes the consumer */

/* Runs until *stop becomes non-zero, then stores every batch in hand in both sinks
 * (up to 30 s), commits and returns 0. While a sink is down the partitions are paused
 * and its batch retried with exponential backoff; when *stop >= 2 (a second signal)
 * it gives up on unfinished batches (not committed: re-delivered) and returns
 * SKY_EINTR. Other failures: a negative SKY_E* code. */
int sky_ingest_run(sky_ingest_t *in, volatile sig_atomic_t *stop, char *errstr,
                   size_t errstr_size);

/* Thread-safe. */
void sky_ingest_snapshot(sky_ingest_t *in, sky_ingest_snapshot_t *out);
/* Empties the latency and stage histograms (counters stay), so the stats describe
 * what follows: `bench capacity` calls it when a step's hold window starts.
 * Thread-safe. */
void sky_ingest_reset_latency(sky_ingest_t *in);
/* Writes docs/manifest.md's "Ingest stats" JSON to path (atomically: temp file +
 * rename). Thread-safe. */
int sky_ingest_write_stats(sky_ingest_t *in, const char *path, char *errstr, size_t errstr_size);
/* The port the metrics endpoint listens on (useful with port 0), or 0. */
int sky_ingest_metrics_port(const sky_ingest_t *in);

#endif
