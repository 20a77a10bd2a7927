/* skyload verify: check a finished run end to end against its manifest(s) --
 * Kafka, PostgreSQL, Tile38, the dead-letter topic and latency SLOs -- and
 * report the result as a text table, JSON, JUnit XML and .hgrm files. */
#ifndef SKY_VERIFY_H
#define SKY_VERIFY_H

#include "histogram.h"
#include "kafka.h"
#include "verify_manifest.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Which checks to run (sky_verify_config_t.checks). */
enum sky_verify_check_set {
    SKY_VERIFY_KAFKA = 1 << 0,
    SKY_VERIFY_PG = 1 << 1,
    SKY_VERIFY_TILE38 = 1 << 2,
    SKY_VERIFY_DLQ = 1 << 3,
    SKY_VERIFY_GEOFENCE = 1 << 4, /* only runs when a manifest has airspaces */
    SKY_VERIFY_ALL = 0x1f,
};

#define SKY_VERIFY_MAX_THREADS 16

typedef struct sky_verify_config {
    /* Paths to load (merged, as shards), and/or an already loaded (or merged)
     * lib/manifest.h manifest (borrowed, e.g. from skyload run); both are merged. */
    const char *const *manifest_paths;
    size_t nmanifests;
    const sky_manifest_t *manifest;

    const sky_kconf_t *kafka; /* brokers and -X; NULL = defaults */
    const char *topic;        /* NULL: the manifest's topic */
    const char *dlq_topic;    /* NULL: "<topic>.dlq" */
    const char *pg_conninfo;  /* NULL or "": libpq defaults and PG* variables */
    const char *schema;       /* NULL: "public" */
    const char *tile38;       /* "host:port"; NULL: 127.0.0.1:9851 */
    const char *tile38_collection; /* NULL: "flights" */
    const char *events_topic; /* geofence events; NULL: the manifest's, else "<topic>.events" */
    const char *ingest_stats_path; /* NULL: no consumed/tile38/pg_commit stages from ingest */
    const char *slo_path;     /* YAML or JSON {"latency_ms": {...}}; NULL: the manifest's "slo" */
    unsigned checks;          /* SKY_VERIFY_* bits; 0 = SKY_VERIFY_ALL */
    int timeout_ms;           /* per server round trip / Kafka idle bound; 0 = 30000 */
    int threads;              /* Kafka check: reading threads, each a share of the partitions
                                 (at most SKY_VERIFY_MAX_THREADS and one per partition); 0 = one
                                 per online CPU; 1 = the calling thread alone */
    volatile sig_atomic_t *stop; /* optional: non-zero stops reading early (report says so) */
} sky_verify_config_t;

typedef enum sky_verify_format {
    SKY_VERIFY_FORMAT_TEXT = 0,
    SKY_VERIFY_FORMAT_JSON,
    SKY_VERIFY_FORMAT_JUNIT,
} sky_verify_format_t;

typedef struct sky_verify_report sky_verify_report_t;

/* Runs the selected checks. Returns 0 when every check ran (whether or not it
 * passed: ask sky_verify_report_passed), SKY_EUSAGE/SKY_EINVAL for a bad
 * configuration or manifest, SKY_EUNAVAIL when a server cannot be reached,
 * SKY_EKAFKA/SKY_EPG/SKY_ETILE38 for other server errors. On success *out is
 * owned by the caller (sky_verify_report_destroy). */
int sky_verify_run(const sky_verify_config_t *cfg, sky_verify_report_t **out, char *errstr,
                   size_t errstr_size);

bool sky_verify_report_passed(const sky_verify_report_t *r);
/* "text", "json", "junit"; returns 0 or SKY_EUSAGE. */
int sky_verify_format_parse(const char *name, sky_verify_format_t *out, char *errstr,
                            size_t errstr_size);
/* Writes the report; returns 0 or SKY_EIO/SKY_ENOMEM. */
int sky_verify_report_write(const sky_verify_report_t *r, sky_verify_format_t fmt, FILE *out);
/* Writes <dir>/<stage>.hgrm (milliseconds) for every latency stage with samples. */
int sky_verify_report_write_hgrm(const sky_verify_report_t *r, const char *dir, char *errstr,
                                 size_t errstr_size);
void sky_verify_report_destroy(sky_verify_report_t *r); /* NULL is fine */

/* Read access for callers that compose reports (skyload run). */
size_t sky_verify_report_check_count(const sky_verify_report_t *r);
/* Name ("kafka.complete", ...) and status of check i; NULL past the end. */
const char *sky_verify_report_check_name(const sky_verify_report_t *r, size_t i);
/* The stage's histogram in microseconds ("kafka_ack", "kafka", "consumed", "tile38",
 * "pg_commit", "pg_commit_table", "geofence"); NULL when absent. Owned by the report. */
const sky_hist_t *sky_verify_report_stage(const sky_verify_report_t *r, const char *stage);

#endif
