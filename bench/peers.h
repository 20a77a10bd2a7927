/* `skyload bench peers`: running a peer tool as a child process and timing it
 * (fork/exec, wait4 rusage, CLOCK_MONOTONIC), the peers' own output parsers,
 * and median/min/max over repeated runs. */
#ifndef SKY_PEERS_H
#define SKY_PEERS_H

#include <stddef.h>
#include <stdint.h>

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
/* psql's "COPY N" command tag. */
int sky_peer_parse_copy(const char *text, sky_peer_report_t *out, char *errstr,
                        size_t errstr_size);

/* Median (mean of the middle two for even n), min and max of v[0..n); sorts v. */
typedef struct sky_spread {
    double median, min, max;
} sky_spread_t;
sky_spread_t sky_spread_of(double *v, size_t n);

#endif
