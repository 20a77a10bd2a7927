/* The loop's components measured alone, in the same run as `bench capacity`'s ramp,
 * so the knee can be put against the slowest of them: Kafka produce + consume,
 * an indexed COPY into the loop's own table, tile38-benchmark SET, and Kafka's
 * EndToEndLatency (the latency floor the loop's end-to-end p99 is judged against). */
#ifndef SKY_COMPONENTS_H
#define SKY_COMPONENTS_H

#include "kafka.h"

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sky_components_config {
    const sky_kconf_t *kafka;
    const char *pg_conninfo;      /* NULL or "": libpq defaults, PG* variables */
    const char *tile38;           /* HOST:PORT; NULL: 127.0.0.1:9851; "none": not measured */
    const char *tile38_benchmark; /* path; NULL: not measured */
    const char *stack_dir;        /* the Kafka jars (DIR/kafka/libs) for EndToEndLatency */
    const char *work_dir;         /* tool outputs go here */
    const char *name_prefix;      /* scratch topic and schema names start with it */
    int64_t records;              /* per component (default 300,000) */
    int pg_connections;           /* the COPY's connections: ingest's */
    const char *kafka_pidfile;    /* the servers' processes, for their CPU per record; */
    const char *pg_pidfile;       /* NULL: not measured */
    const char *tile38_pidfile;
    volatile sig_atomic_t *stop;
} sky_components_config_t;

typedef struct sky_component {
    double rate;      /* records (rows, SETs) per second; < 0: not measured */
    double wall_s;
    double server_us; /* the server's CPU per record (broker, postgres + backends,
                         tile38-server), microseconds; < 0: not measured */
    double client_us; /* this process's CPU per record (Kafka: producer + consumer; COPY:
                         building the rows is not counted); < 0: not measured */
    char note[200];   /* how it ran, or why it did not */
} sky_component_t;

typedef struct sky_components_result {
    sky_component_t kafka;  /* produce + consume, concurrently: first send -> last received */
    sky_component_t ingest; /* skyload ingest (in this process) draining the Kafka
                               component's topic: first stored row -> last; client_us is
                               ingest's CPU per record, server_us PostgreSQL's */
    double ingest_broker_us, ingest_tile38_us; /* the broker's and Tile38's CPU per record
                                                  while ingest drained; < 0 unknown */
    sky_component_t copy;   /* COPY (binary) of the rows into a fresh flight_positions */
    sky_component_t tile38; /* tile38-benchmark SET POINT, one connection, 100 per pipeline */
    double e2e_p50_ms, e2e_p99_ms; /* EndToEndLatency, 5,000 records; < 0: not measured */
    char e2e_note[200];
} sky_components_result_t;

/* Runs each component in turn (Kafka, ingest alone on Kafka's topic, COPY, Tile38,
 * EndToEndLatency (each failure is a note, not an error). 0, or a
 * negative SKY_E* code when nothing could run. */
int sky_components_run(const sky_components_config_t *cfg, sky_components_result_t *res,
                       char *errstr, size_t errstr_size);

/* The slowest measured rate among kafka, copy and (when measured) tile38, its name in
 * *which; < 0 when none was measured. */
double sky_components_slowest(const sky_components_result_t *res, const char **which);

json_t *sky_components_to_json(const sky_components_result_t *res);

#endif
