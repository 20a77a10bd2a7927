/* The simulation run behind `skyload simulate` (and `skyload run`): scenario +
 * traffic model + scheduler + faults -> paced records to a sink, and the manifest. */
#ifndef SKY_SIM_H
#define SKY_SIM_H

#include "dynbuf.h"
#include "kafka.h"
#include "scenario.h"
#include "timefmt.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum sky_sink_kind {
    SKY_SINK_KAFKA = 0,
    SKY_SINK_FILE,   /* JSON Lines (`skyload tail` form without topic/partition/offset) */
    SKY_SINK_STDOUT, /* the same on stdout */
    SKY_SINK_NULL,   /* encode and discard: generator throughput */
} sky_sink_kind_t;

/* Parses "kafka", "file:PATH", "stdout", "null"; *path points into s for file:. */
int sky_sink_parse(const char *s, sky_sink_kind_t *kind, const char **path, char *errstr,
                   size_t errstr_size);

/* Progress, delivered to the caller's callback about 4 times a second. */
typedef struct sky_sim_progress {
    uint64_t airborne;     /* flights currently flying in this shard */
    uint64_t sent;         /* records handed to the sink */
    double msgs_per_s;     /* since the previous report */
    int64_t lag_us;        /* schedule lag of the latest record */
    uint64_t failed;       /* delivery errors so far */
    int64_t sim_offset_ms; /* simulated time since the start */
} sky_sim_progress_t;
typedef void(sky_sim_progress_fn)(void *opaque, const sky_sim_progress_t *p);

/* Everything a run needs. The scenario is read, not modified; flags are applied
 * to the scenario by the caller before the run. */
typedef struct sky_sim_config {
    const sky_scenario_t *scenario; /* required */
    sky_sink_kind_t sink;
    const char *sink_path;     /* SKY_SINK_FILE */
    const sky_kconf_t *kafka;  /* brokers and -X (NULL = defaults) */
    const char *topic;         /* NULL: scenario's topic, else "flights" */
    bool create_topic;         /* ensure the topic with scenario->partitions first */
    const char *manifest_path; /* NULL: no manifest */
    int shard_index, shard_count; /* 0/1 when unsharded */
    sky_ts_format_t ts_format;
    const char *data_dir;      /* NULL: scenario's data_dir, else <source>/scenarios/data */
    int flush_timeout_ms;      /* waiting for the last acks (default 30000) */
    /* Added to every flight index (0 = the deterministic ids). A run against a
     * pipeline that keeps earlier runs' rows gives each run its own flight ids. */
    uint64_t flight_index_base;
    /* The topic the scenario's airspaces send their events to (its offsets at the start
     * go into the manifest); NULL: "<topic>.events". */
    const char *events_topic;
    sky_sim_progress_fn *progress;
    void *progress_opaque;
} sky_sim_config_t;

typedef struct sky_sim_result {
    char run_id[64];
    uint64_t flights;   /* flights that emitted at least one record */
    uint64_t landed;
    uint64_t airborne;  /* at the end */
    uint64_t produced;  /* records handed to the sink (duplicates included) */
    uint64_t delivered; /* acknowledged (= produced for non-Kafka sinks) */
    uint64_t failed;    /* undelivered */
    uint64_t expected_unique;
    uint64_t faults;
    uint64_t geofence_events; /* enter/exit events expected from the scenario's airspaces */
    int64_t sim_ms;     /* simulated time covered */
    double planning_s;  /* paced runs: planning the initial population, before the clock */
    double elapsed_s;   /* wall time of the emission loop */
    double msgs_per_s;
    bool paced;         /* false for --rate max: no lag figures */
    int64_t lag_p50_us, lag_p99_us, lag_max_us;
    int64_t ack_p50_us, ack_p99_us, ack_max_us;
    size_t bytes_per_aircraft; /* simulator state per slot (plan, seq, times, order) */
    bool stopped;       /* a signal ended the run early */
} sky_sim_result_t;

/* Runs the simulation until the scenario's duration or *stop (may be NULL)
 * becomes non-zero, flushes the sink, writes the manifest, fills *res.
 * Returns 0 (also when stopped by *stop); SKY_EUSAGE for a bad configuration;
 * SKY_EKAFKA / SKY_EUNAVAIL / SKY_EIO at run time. Undelivered records return
 * SKY_EKAFKA with the count in errstr; the manifest is written anyway. */
int sky_sim_run(const sky_sim_config_t *cfg, volatile sig_atomic_t *stop, sky_sim_result_t *res,
                char *errstr, size_t errstr_size);

/* Writes the result as one JSON object (the `--json` summary). */
int sky_sim_result_to_json(const sky_sim_result_t *res, sky_buf_t *out);

#endif
