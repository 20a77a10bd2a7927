/* The capacity ramp's judgement: one row per load step, the lag trend of a
 * step, whether a step held the SLO, the knee, and the step table as JSON.
 * Pure functions on recorded data, so the tests replay recorded ramps. */
#ifndef SKY_RAMP_H
#define SKY_RAMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One consumer-lag sample of a step's hold window. */
typedef struct sky_lag_sample {
    double t_s;  /* seconds since the hold window started */
    int64_t lag; /* records behind, summed over partitions */
} sky_lag_sample_t;

/* Least-squares slope of the lag samples and what it means. */
typedef struct sky_lag_trend {
    double slope_msgs_s; /* records per second the backlog grew (negative: shrank) */
    int64_t last;        /* the last sample */
    int64_t max;
    bool unbounded;      /* growing faster than the pipeline can ever catch up */
} sky_lag_trend_t;

/* A process's share of one step: CPU as a fraction of one core, peak RSS. */
typedef struct sky_ramp_proc {
    char name[32];
    double cpu_cores;
    int64_t rss_kib;
} sky_ramp_proc_t;

#define SKY_RAMP_MAX_PROCS 4

typedef enum sky_ramp_verdict {
    SKY_STEP_HELD = 0,
    SKY_STEP_SLO_BROKEN,     /* a latency percentile over its threshold */
    SKY_STEP_LAG_UNBOUNDED,  /* the backlog grew through the hold window */
    SKY_STEP_NOT_DRAINED,    /* the backlog did not clear after the step */
    SKY_STEP_VERIFY_FAILED,  /* records lost, duplicated or out of order */
    SKY_STEP_UNDERDELIVERED, /* the generator could not offer the load */
} sky_ramp_verdict_t;

/* Latency percentiles of one stage, microseconds (-1: no samples). */
typedef struct sky_ramp_lat {
    int64_t p50, p90, p99, p999, max;
} sky_ramp_lat_t;

/* Where a record's time goes, stage by stage (each from its own start, not from the
 * intended time), over a step's hold window: what `bench capacity` reports per step
 * and uses to name the stage that broke the SLO. */
typedef enum sky_stage {
    SKY_STAGE_KAFKA_ACK = 0, /* intended -> acknowledged by the broker (producer) */
    SKY_STAGE_CONSUME,       /* appended to the log -> polled by ingest */
    SKY_STAGE_BATCH,         /* polled -> its batch closed (adaptive batching) */
    SKY_STAGE_PG,            /* batch closed -> committed in PostgreSQL (queue + write) */
    SKY_STAGE_TILE38,        /* batch closed -> acknowledged by Tile38 (queue + write) */
    SKY_STAGE_PG_WRITE,      /* one batch's COPY + commit */
    SKY_STAGE_TILE38_WRITE,  /* one batch's pipelined SETs */
    SKY_STAGE_COMMIT,        /* both sinks done -> offsets committed */
    SKY_NSTAGES
} sky_stage_t;

/* "kafka_ack", "consume", "batch", "pg", "tile38", "pg_write", "tile38_write", "commit" */
extern const char *const sky_stage_names[SKY_NSTAGES];

typedef struct sky_ramp_step {
    uint64_t aircraft;
    size_t run;              /* the order it ran in: its directory is step-<run> */
    double offered_msgs_s;   /* aircraft / cadence */
    double achieved_msgs_s;  /* rows stored in the hold window / its length */
    double produced_msgs_s;  /* records the generator sent / its wall time */
    sky_ramp_lat_t kafka_ack;  /* whole step (verify's stage) */
    sky_ramp_lat_t pg_commit;  /* hold window only: stored_at - intended_at */
    sky_ramp_lat_t tile38;     /* intended -> Tile38 acknowledged (ingest's stats, from the
                                  hold on); all -1 without the Tile38 sink */
    sky_ramp_lat_t stages[SKY_NSTAGES]; /* microseconds; all -1 when not measured */
    sky_ramp_lat_t decode_ns;  /* decoding + validating one record, nanoseconds */
    double pg_busy;            /* share of the hold the PostgreSQL connections spent writing
                                  (1 = every connection all the time); -1 unknown */
    double tile38_busy;        /* the same for the Tile38 writers (one per lane) */
    double cpu_busy;           /* share of the machine's CPUs busy over the hold; -1 unknown */
    int pg_connections;
    sky_lag_trend_t lag;
    bool verify_passed, drained;
    double drain_s;
    sky_ramp_proc_t procs[SKY_RAMP_MAX_PROCS];
    size_t nprocs;
    sky_ramp_verdict_t verdict;
} sky_ramp_step_t;

/* Thresholds in microseconds; <= 0 means no threshold. */
typedef struct sky_ramp_slo {
    int64_t kafka_ack_p99_us;
    int64_t pg_commit_p50_us, pg_commit_p99_us;
    int64_t tile38_p99_us;
} sky_ramp_slo_t;

/* Reads slo.latency_ms.{kafka_ack.p99, pg_commit.p50, pg_commit.p99, tile38.p99}
 * (numbers or numeric strings) from a scenario's slo object; missing ones stay 0. */
void sky_ramp_slo_from_json(const json_t *slo, sky_ramp_slo_t *out);

/* Lag over the hold window. Unbounded when the slope exceeds max(2 % of the
 * offered rate, 1 record/s) and the last sample holds more than one second of
 * offered load: a backlog that grows at a steady fraction of the input never
 * clears while the load lasts. Fewer than 3 samples: never unbounded. */
void sky_ramp_lag_trend(const sky_lag_sample_t *samples, size_t n, double offered_msgs_s,
                        sky_lag_trend_t *out);

/* Judges a filled step (the first failure in the enum's order wins after
 * VERIFY: underdelivery, lag, drain, SLO). */
sky_ramp_verdict_t sky_ramp_judge(const sky_ramp_step_t *step, const sky_ramp_slo_t *slo);
const char *sky_ramp_verdict_name(sky_ramp_verdict_t v);

/* Names what broke a step, for the table's last line: the SLO key over its threshold
 * ("pg_commit p99 1135.0 ms > 1000 ms"), the stage with the longest p99 among those a
 * record passes through before it is stored (consume, batch, pg, tile38), and a sink
 * busy more than 90% of the time. Writes "" for a step that held. */
void sky_ramp_explain(const sky_ramp_step_t *step, const sky_ramp_slo_t *slo, char *out,
                      size_t outsz);

/* Index of the knee: the highest load step that held, with every lower step
 * held as well (a ramp is judged up to its first failure); -1 if none held. */
int sky_ramp_knee(const sky_ramp_step_t *steps, size_t n);

/* After a ramp's first failure, where the knee lies is known only to within one
 * factor: the next step to run between the highest step that held below every failed
 * one and the lowest failed one, at their geometric mean. 0 when there is no such
 * pair or no whole aircraft count strictly between them. Steps in any order. */
uint64_t sky_ramp_refine_aircraft(const sky_ramp_step_t *steps, size_t n);

/* Sorts steps by aircraft (refinement steps run out of order); run keeps the order. */
void sky_ramp_sort(sky_ramp_step_t *steps, size_t n);

/* The next step's aircraft: ceil(current * factor), at least current + 1. */
uint64_t sky_ramp_next_aircraft(uint64_t current, double factor);

/* One step as a JSON object, and back (the bench/results/ and tests/data/bench
 * form). from_json returns 0 or SKY_EINVAL with "what: reason" in errstr. */
json_t *sky_ramp_step_to_json(const sky_ramp_step_t *step);
int sky_ramp_step_from_json(const json_t *obj, sky_ramp_step_t *out, char *errstr,
                            size_t errstr_size);

/* Reads {"steps": [...]} from a file into a new array (*out, free()). */
int sky_ramp_steps_load(const char *path, sky_ramp_step_t **out, size_t *n, char *errstr,
                        size_t errstr_size);

#endif
