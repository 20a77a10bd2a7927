/* `skyload bench capacity`: the full loop (run/loop.h) run at stepped load until
 * the SLO breaks or the backlog grows without bound; one sky_ramp_step_t per step. */
#ifndef SKY_CAPACITY_H
#define SKY_CAPACITY_H

#include "components.h"
#include "kafka.h"
#include "loop.h"
#include "ramp.h"

#include <signal.h>
#include <stdint.h>

typedef void(sky_capacity_step_fn)(void *opaque, size_t index, const sky_ramp_step_t *step);

typedef struct sky_capacity_config {
    const char *scenario_path;  /* required: read once per step (load and duration replaced) */
    const sky_kconf_t *kafka;   /* NULL = defaults */
    const char *pg_conninfo;    /* NULL or "": libpq defaults and PG* variables */
    const char *tile38;         /* HOST:PORT or "none"; NULL: 127.0.0.1:9851 */
    const char *report_dir;     /* required: step-NN/ directories go under it */
    const char *name_prefix;    /* topic, group and schema are <prefix>_sNN; required */
    uint64_t start_aircraft;    /* 0: the scenario's aircraft */
    double factor;              /* aircraft multiplier per step (> 1) */
    int64_t max_steps;
    int64_t refine;             /* after the first failure, steps between the knee and it */
    int64_t warmup_ms, hold_ms; /* each step runs warmup + hold; figures from hold only */
    int64_t budget_ms;          /* no new step starts after this much wall time */
    const char *kafka_pidfile;  /* NULL: no broker row */
    const char *pg_pidfile;     /* NULL: no PostgreSQL row (postmaster.pid; backends summed) */
    const char *tile38_pidfile; /* NULL: no Tile38 row */
    bool components;            /* first measure each component alone (components.h) */
    int64_t components_records; /* per component; 0: 300,000 */
    const char *tile38_benchmark; /* for the components; NULL: no Tile38 component */
    const char *stack_dir;      /* the Kafka jars for EndToEndLatency */
    bool half_knee;             /* after the ramp, one step at half the knee's aircraft */
    sky_capacity_step_fn *on_step; /* called after each step; may be NULL */
    sky_loop_status_fn *status;    /* progress lines; may be NULL */
    void *opaque;                  /* passed to both */
} sky_capacity_config_t;

typedef struct sky_capacity_result {
    sky_ramp_step_t *steps; /* owned: sky_capacity_result_free */
    size_t nsteps;
    int knee;               /* index into steps, -1 when no step held */
    sky_ramp_slo_t slo;
    int64_t cadence_ms;
    char stop_reason[160];
    bool has_components;
    sky_components_result_t components;
    bool has_half;
    sky_ramp_step_t half; /* the half-knee step */
} sky_capacity_result_t;

/* Runs steps until one fails its verdict, max_steps, the budget, or *stop, then up
 * to refine steps between the last held and the first failed one (bisection on a log
 * scale); steps come back sorted by aircraft, each with its run order. Returns 0 when
 * at least one step ran to its verdict (the knee may be -1), else a negative SKY_E*
 * code. Each step's topic and schema are removed after it. */
int sky_capacity_run(const sky_capacity_config_t *cfg, volatile sig_atomic_t *stop,
                     sky_capacity_result_t *res, char *errstr, size_t errstr_size);
void sky_capacity_result_free(sky_capacity_result_t *res);

/* {"scenario":..,"cadence_ms":..,"slo":{..},"knee":i|null,"knee_aircraft":..,
 * "knee_msgs_s":..,"stop_reason":..,"steps":[...],"components":{..},"half_knee":{..}} */
json_t *sky_capacity_result_to_json(const sky_capacity_result_t *res, const char *scenario);

#endif
