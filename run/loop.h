/* The whole loop behind `skyload run` (and each step of `bench capacity`):
 * ingest in a thread, simulate, wait until the pipeline drained, verify, and
 * a report directory with everything a CI system or a person needs. */
#ifndef SKY_LOOP_H
#define SKY_LOOP_H

#include "ingest.h"
#include "kafka.h"
#include "scenario.h"
#include "sim.h"
#include "verify.h"

#include <signal.h>
#include <stdbool.h>

#define SKY_LOOP_DEFAULT_SCHEMA "skyload_run"

/* One status line's worth of progress ("simulate: 120 airborne, 24 msgs/s"). */
typedef void(sky_loop_status_fn)(void *opaque, const char *line);

typedef struct sky_loop_config {
    const sky_scenario_t *scenario; /* required; borrowed */
    const sky_kconf_t *kafka;       /* brokers and -X; NULL = defaults */
    const char *topic;              /* NULL: the scenario's, else "flights" */
    const char *tile38;             /* HOST:PORT; NULL: 127.0.0.1:9851 */
    const char *pg_conninfo;        /* NULL or "": libpq defaults and PG* variables */
    const char *schema;             /* NULL: SKY_LOOP_DEFAULT_SCHEMA; dropped and recreated
                                       at the start unless external_ingest */
    const char *group;              /* ingest's consumer group; NULL: skyload-ingest */
    bool external_ingest;           /* someone else ingests: only watch that group's lag */
    const char *report_dir;         /* required: created if missing */
    int64_t drain_timeout_ms;       /* bound on waiting for lag 0 (default 120 s) */
    /* geofences, when the scenario has airspaces (docs/geofence.md) */
    int geofence_route;             /* sky_geofence_route_t; 0 = the default (relay) */
    const char *events_topic;       /* NULL: "<topic>.events" */
    sky_loop_status_fn *status;     /* may be NULL */
    void *status_opaque;
    /* Called with the in-process ingest once it runs (not with external_ingest), so a
       caller can read or reset its figures while the loop runs; may be NULL. */
    void (*ingest_started)(void *opaque, sky_ingest_t *in);
} sky_loop_config_t;

typedef struct sky_loop_result {
    sky_sim_result_t sim;
    sky_ingest_snapshot_t ingest; /* at the end (zero with external_ingest) */
    double drain_s;               /* from the end of simulate to lag 0 */
    bool drained;                 /* false: drain_timeout_ms ran out */
    sky_verify_report_t *report;  /* owned by the caller (sky_verify_report_destroy) */
} sky_loop_result_t;

/* Runs the loop and writes <report_dir>/{manifest.json, ingest-stats.json,
 * verify.txt, verify.json, verify.xml, <stage>.hgrm}. Returns 0 when verify
 * ran (res->report says whether it passed; an undrained pipeline is a failed
 * check, not an error); a negative SKY_E* code when a step could not run. */
/* false when cfg->tile38 is "none": no Tile38 sink, no Tile38 check. */
bool sky_loop_tile38_enabled(const sky_loop_config_t *cfg);

int sky_loop_run(const sky_loop_config_t *cfg, volatile sig_atomic_t *stop, sky_loop_result_t *res,
                 char *errstr, size_t errstr_size);

#endif
