/* verify's compact view of run manifests (docs/manifest.md): what the checks
 * need, converted from lib/manifest.h's sky_manifest_t, shards merged. */
#ifndef SKY_VERIFY_MANIFEST_H
#define SKY_VERIFY_MANIFEST_H

#include "histogram.h"
#include "manifest.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_vm_final {
    bool present;
    int64_t seq;
    double lat, lon, alt, speed;
    int64_t intended_ns;
} sky_vm_final_t;

typedef struct sky_vm_flight {
    char *id; /* owned by the manifest */
    int64_t first_seq, last_seq;
    int32_t partition; /* -1 when not recorded */
    bool landed;
    sky_vm_final_t final;
} sky_vm_flight_t;

typedef struct sky_vm_fault {
    sky_fault_kind_t kind;
    char *flight; /* owned by the manifest */
    int64_t seq;
    int64_t count; /* gap: how many seqs from seq; 1 otherwise */
} sky_vm_fault_t;

typedef struct sky_vm_partition {
    int32_t partition;
    int64_t first_offset, last_offset;
} sky_vm_partition_t;

typedef struct sky_verify_manifest {
    char *topic;    /* first manifest's topic (NULL when absent) */
    char **run_ids; /* distinct run ids */
    size_t nrun_ids;
    int64_t ttl_s;  /* 0 when absent */
    /* The FlightData time window the runs covered (ms since the epoch), when
     * window_set: rows of other runs of the same scenario share flight ids and
     * seqs, not this window. window_open: a manifest lacked it (no filter). */
    bool window_set, window_open;
    int64_t window_start_ms, window_end_ms;
    int64_t expected_unique; /* sum of totals.expected_unique (-1 when absent) */
    sky_vm_flight_t *flights;
    size_t nflights;
    sky_vm_fault_t *faults;
    size_t nfaults;
    sky_vm_partition_t *partitions; /* merged: min first, max last per partition */
    size_t npartitions;
    json_t *slo;         /* the first "slo" object, or NULL; owned */
    sky_hist_t *ack_hist; /* merged ack_latency_us (microseconds); NULL when absent */
    /* expected geofence events and the geofence sections, merged (lib/manifest.h);
     * NULL when no manifest has a geofence section */
    sky_manifest_t *geo;
} sky_verify_manifest_t;

/* Returns an empty manifest, or NULL on allocation failure. */
sky_verify_manifest_t *sky_verify_manifest_new(void);
void sky_verify_manifest_destroy(sky_verify_manifest_t *m); /* NULL is fine */
/* Loads path (sky_manifest_load) and merges it into m. Errors name the file. */
int sky_verify_manifest_load(sky_verify_manifest_t *m, const char *path, char *errstr,
                             size_t errstr_size);
/* Merges a loaded manifest (borrowed; strings are copied) into m. */
int sky_verify_manifest_add(sky_verify_manifest_t *m, const sky_manifest_t *src, char *errstr,
                            size_t errstr_size);

#endif
