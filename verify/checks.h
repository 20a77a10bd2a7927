/* The individual verify checks, run in turn by sky_verify_run (verify.c). Each
 * adds its named checks and latency stages to the report; a negative return
 * means it could not run (server unreachable, bad configuration). */
#ifndef SKY_VERIFY_CHECKS_H
#define SKY_VERIFY_CHECKS_H

#include "flight_table.h"
#include "report.h"
#include "verify.h"

typedef struct sky_verify_ctx {
    const sky_verify_config_t *cfg;
    const sky_verify_manifest_t *m;
    sky_flight_table_t *table; /* reset by each check before use */
    sky_verify_report_t *report;
    const char *topic;
    const char *dlq_topic;
    const char *schema;
    const char *collection;
    int timeout_ms;
} sky_verify_ctx_t;

int sky_verify_check_kafka(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size);
int sky_verify_check_pg(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size);
int sky_verify_check_tile38(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size);
int sky_verify_check_dlq(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size);
/* verify/check_geofence.c: adds no check when no manifest has airspaces. */
int sky_verify_check_geofence(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size);

/* Walks every expected seq of every flight that is not seen and not excused by
 * a fault in `excused` (SKY_FAULT_BIT mask): records a "missing" problem for each. */
uint64_t sky_verify_report_missing(sky_verify_ctx_t *ctx, sky_verify_check_t *c,
                                   unsigned excused, uint64_t *expected);

#endif
