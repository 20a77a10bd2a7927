/* `skyload bench peers`: running a peer tool as a child process and timing it
 * (fork/exec, wait4 rusage, CLOCK_MONOTONIC), the peers' own output parsers,
 * and median/min/max over repeated runs. */
#ifndef SKY_PEERS_H
#define SKY_PEERS_H

#include "kafka.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* skyload's three headers as the peers send them: names + values, bytes. */
#define SKY_PEER_HEADER_BYTES (11 + 35 + 11 + 3 + 16 + 19)

typedef struct sky_peers_config {
    const sky_kconf_t *kafka;     /* brokers and -X */
    const char *pg_conninfo;      /* NULL or "": libpq defaults and PG* variables */
    const char *tile38;           /* HOST:PORT; NULL: 127.0.0.1:9851; "none": no Tile38 rows */
    const char *tile38_benchmark; /* path of tile38-benchmark; NULL: that row is skipped */
    const char *report_dir;       /* DIR/peers.txt, DIR/peers.json, DIR/peers/ */
    const char *stack_dir;        /* the Kafka jars in DIR/kafka/libs */
    const char *tools_dir;        /* rdkafka_performance */
    int64_t count, size, runs;    /* records per run, bytes per record, timed runs per tool */
    volatile sig_atomic_t *stop;  /* non-zero: no further run starts */
} sky_peers_config_t;

/* Runs every peer (one warm-up run, then cfg->runs timed ones), prints the table on
 * table (may be NULL) and writes the report files. 0 or a negative SKY_E* code; a
 * peer that cannot run is a row saying why, not a failure. */
int sky_peers_run(const sky_peers_config_t *cfg, FILE *table, char *errstr, size_t errstr_size);

typedef struct sky_exec_result {
    int status;        /* exit status, 128 + signal when killed, -1 when not started */
    double wall_s;     /* fork to exit, CLOCK_MONOTONIC */
    double cpu_s;      /* user + system of the child (and its waited-for children) */
    int64_t maxrss_kib;
    int timed_out;
} sky_exec_result_t;

/* Runs argv[0] (PATH searched) with stdin from stdin_path (NULL: /dev/null) and
 * stdout + stderr into out_path (NULL: /dev/null); kills it with SIGKILL after
 * timeout_ms. Returns 0 when the child ran (whatever its status), SKY_EIO when
 * it could not be started. */
int sky_bench_exec(const char *const *argv, const char *stdin_path, const char *out_path,
                   int64_t timeout_ms, sky_exec_result_t *out, char *errstr, size_t errstr_size);

/* What a peer said about its own run; fields it does not print stay -1. */
typedef struct sky_peer_report {
    double msgs_s;
    double mb_s;
    int64_t messages;
    double avg_ms, p50_ms, p95_ms, p99_ms, p999_ms, max_ms;
} sky_peer_report_t;

/* Each returns 0, or SKY_EINVAL with "what: reason" in errstr when the summary
 * line is missing (the tool failed or changed its format). */
/* "% N messages produced (B bytes), N delivered (...) in Tms: R msgs/s and M MB/s, ..." */
int sky_peer_parse_rdkafka_performance(const char *text, sky_peer_report_t *out, char *errstr,
                                       size_t errstr_size);
/* "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
 *  P ms 50th, P ms 95th, P ms 99th, P ms 99.9th." */
int sky_peer_parse_producer_performance(const char *text, sky_peer_report_t *out, char *errstr,
                                        size_t errstr_size);
/* "Avg latency: A ms" and "Percentiles: 50th = P, 99th = P, 99.9th = P" */
int sky_peer_parse_end_to_end_latency(const char *text, sky_peer_report_t *out, char *errstr,
                                      size_t errstr_size);
/* tile38-benchmark -q: "SET (point): R requests per second" (after \r progress). */
int sky_peer_parse_tile38_benchmark(const char *text, sky_peer_report_t *out, char *errstr,
                                    size_t errstr_size);
/* psql's "COPY N" command tag. */
int sky_peer_parse_copy(const char *text, sky_peer_report_t *out, char *errstr,
                        size_t errstr_size);

/* Median (mean of the middle two for even n), min and max of v[0..n); sorts v. */
typedef struct sky_spread {
    double median, min, max;
} sky_spread_t;
sky_spread_t sky_spread_of(double *v, size_t n);

#endif
