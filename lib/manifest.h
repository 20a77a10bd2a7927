/* The run manifest of docs/manifest.md: what simulate/replay sent (per flight,
 * per partition, injected faults, totals), written as JSON, read back and merged by verify. */
#ifndef SKY_MANIFEST_H
#define SKY_MANIFEST_H

#include "histogram.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SKY_MANIFEST_VERSION 1

typedef struct sky_manifest sky_manifest_t;

/* Last valid position sent for a flight ("final" in the JSON). */
typedef struct sky_manifest_pos {
    int64_t seq;
    double lat, lon;
    int32_t alt_ft, speed_kt;
    int64_t ts_ms;       /* FlightData.timestamp, ms since the epoch */
    int64_t intended_ns; /* skyload-intended header */
} sky_manifest_pos_t;

/* One flight. Strings are owned by the manifest (or, for sky_manifest_add_flight
 * and the streaming writer, copied from the caller); NULL metadata = unknown. */
typedef struct sky_manifest_flight {
    const char *id;
    const char *airline, *flight_number, *departure, *arrival;
    int64_t first_seq, last_seq;
    int32_t partition; /* -1 when unknown */
    bool landed;
    bool has_final;
    sky_manifest_pos_t final;
} sky_manifest_flight_t;

typedef struct sky_manifest_partition {
    int32_t partition;
    int64_t first_offset, last_offset, count;
} sky_manifest_partition_t;

typedef enum sky_fault_kind {
    SKY_FAULT_DROP = 0,
    SKY_FAULT_GAP,
    SKY_FAULT_DUPLICATE,
    SKY_FAULT_REORDER,
    SKY_FAULT_MALFORMED,
    SKY_FAULT_KINDS
} sky_fault_kind_t;

typedef struct sky_manifest_fault {
    sky_fault_kind_t kind;
    const char *flight; /* owned by the manifest */
    int64_t seq;
    int64_t count;      /* gap: seqs skipped from seq; 1 otherwise */
    const char *reason; /* malformed: why it fails validation; NULL otherwise */
} sky_manifest_fault_t;

typedef struct sky_manifest_totals {
    uint64_t flights, produced, delivered, failed, expected_unique;
} sky_manifest_totals_t;

/* An enter/exit event the run expects from Tile38's geofences (docs/manifest.md). */
typedef struct sky_manifest_event {
    const char *flight;   /* owned by the manifest */
    const char *airspace; /* owned by the manifest; the hook/channel name */
    int kind;             /* 0 enter, 1 exit (simulator/airspace.h sky_fence_kind_t) */
    int64_t seq;          /* the position whose SET makes Tile38 send it */
    int64_t intended_ns;  /* that position's skyload-intended */
    double lat, lon;      /* as Tile38 holds them (7 decimals) */
    int32_t alt_ft;
} sky_manifest_event_t;

/* Where the events go and from which offsets this run's start ("geofence" in the
 * JSON). Strings and arrays are copied by sky_manifest_set_geofence. */
typedef struct sky_manifest_geofence {
    const char *events_topic; /* NULL: "<topic>.events" */
    const char *collection;   /* NULL: "flights" */
    const char *const *airspaces; /* names of the registered airspaces */
    size_t nairspaces;
    /* the events topic's high watermarks when the run started (first_offset holds the
     * offset; the rest unused); none = read it from the start */
    const sky_manifest_partition_t *from;
    size_t nfrom;
} sky_manifest_geofence_t;

/* "enter", "exit"; NULL for another kind. */
const char *sky_manifest_event_kind_name(int kind);

/* Header fields. Strings are owned by the manifest (copied by sky_manifest_set_info). */
typedef struct sky_manifest_info {
    const char *run_id;
    const char *kind;     /* "simulate", "replay" */
    const char *scenario; /* may be NULL */
    uint64_t seed;
    const char *topic;
    int shard_index, shard_count;
    const char *started_at, *ended_at; /* ISO 8601 */
    int64_t cadence_ms;
    int64_t ttl_s;
} sky_manifest_info_t;

/* "drop", "gap", ...; NULL for an out-of-range kind. */
const char *sky_fault_kind_name(sky_fault_kind_t kind);
/* Returns 0 and sets *out, or SKY_EINVAL for an unknown name. */
int sky_fault_kind_parse(const char *name, sky_fault_kind_t *out);

/* ---- building and reading ---- */

/* Empty manifest (shard 0/1, kind "simulate"); NULL on allocation failure. */
sky_manifest_t *sky_manifest_new(void);
void sky_manifest_destroy(sky_manifest_t *m); /* NULL is fine */

/* Copies every string of info. Returns 0 or SKY_ENOMEM. */
int sky_manifest_set_info(sky_manifest_t *m, const sky_manifest_info_t *info);
const sky_manifest_info_t *sky_manifest_info(const sky_manifest_t *m);
void sky_manifest_set_totals(sky_manifest_t *m, const sky_manifest_totals_t *t);
const sky_manifest_totals_t *sky_manifest_totals(const sky_manifest_t *m);

/* Appends copies (strings included). Return 0 or SKY_ENOMEM. */
int sky_manifest_add_flight(sky_manifest_t *m, const sky_manifest_flight_t *f);
int sky_manifest_add_partition(sky_manifest_t *m, const sky_manifest_partition_t *p);
int sky_manifest_add_fault(sky_manifest_t *m, const sky_manifest_fault_t *f);

size_t sky_manifest_flight_count(const sky_manifest_t *m);
/* Pointers stay valid until the next add/merge/destroy on m. */
const sky_manifest_flight_t *sky_manifest_flight(const sky_manifest_t *m, size_t i);
/* Lookup by flight_id (hash index built on first use); NULL when absent. */
const sky_manifest_flight_t *sky_manifest_find_flight(sky_manifest_t *m, const char *id);
size_t sky_manifest_partition_count(const sky_manifest_t *m);
const sky_manifest_partition_t *sky_manifest_partition(const sky_manifest_t *m, size_t i);
/* Appends a copy (strings included); 0 or SKY_ENOMEM. */
int sky_manifest_add_event(sky_manifest_t *m, const sky_manifest_event_t *e);
size_t sky_manifest_event_count(const sky_manifest_t *m);
const sky_manifest_event_t *sky_manifest_event(const sky_manifest_t *m, size_t i);
/* Sets the geofence section (copied); 0 or SKY_ENOMEM. The getter returns NULL for a
 * manifest without one (a run without airspaces). */
int sky_manifest_set_geofence(sky_manifest_t *m, const sky_manifest_geofence_t *g);
const sky_manifest_geofence_t *sky_manifest_geofence(const sky_manifest_t *m);
size_t sky_manifest_fault_count(const sky_manifest_t *m);
const sky_manifest_fault_t *sky_manifest_fault(const sky_manifest_t *m, size_t i);

/* SLO thresholds from the scenario (any JSON object). set_slo takes a new
 * reference (json_incref); the getter returns a borrowed reference or NULL. */
void sky_manifest_set_slo(sky_manifest_t *m, json_t *slo);
json_t *sky_manifest_slo(const sky_manifest_t *m);
/* A top-level member of the command's own (the manifest schema ignores unknown
 * members), written last: e.g. replay's row counts. Takes a new reference to value;
 * the same name again replaces it. Returns 0 or SKY_ENOMEM. */
int sky_manifest_set_member(sky_manifest_t *m, const char *name, json_t *value);

/* Ack latency histogram (µs). set copies h; the getter returns NULL when none. */
int sky_manifest_set_ack_hist(sky_manifest_t *m, const sky_hist_t *h);
const sky_hist_t *sky_manifest_ack_hist(const sky_manifest_t *m);

/* Reads a manifest file. Returns 0 and *out (free with sky_manifest_destroy),
 * or SKY_EIO / SKY_EINVAL with "path:line:col: reason" / "path: flights[3]: reason". */
int sky_manifest_load(const char *path, sky_manifest_t **out, char *errstr, size_t errstr_size);

/* Merges shard src into dst: concatenates flights, partitions, faults and events,
 * adds totals, merges the ack histograms and the geofence sections (airspaces
 * united, the lowest start offset per partition); keeps dst's header except that
 * started_at/ended_at widen and shard count becomes the sum. src is unchanged. */
int sky_manifest_merge(sky_manifest_t *dst, const sky_manifest_t *src, char *errstr,
                       size_t errstr_size);

/* Merges only src's events and geofence section into dst (verify keeps these beside
 * its own compact view of flights). 0 or SKY_ENOMEM. */
int sky_manifest_merge_events(sky_manifest_t *dst, const sky_manifest_t *src);

/* Writes m as docs/manifest.md's JSON to path (via path.tmp + rename, so a
 * reader never sees half a file). Returns 0 or SKY_EIO / SKY_ENOMEM. */
int sky_manifest_write(const sky_manifest_t *m, const char *path, char *errstr,
                       size_t errstr_size);

/* ---- streaming writer (constant memory for a million flights) ----
 * open -> any number of write_flight -> close(m): close writes the flights held
 * in m after the streamed ones, then m's partitions, faults, totals, slo and ack
 * histogram, and renames path.tmp to path. The header comes from m's info. */
typedef struct sky_manifest_writer sky_manifest_writer_t;

int sky_manifest_writer_open(const sky_manifest_t *header, const char *path,
                             sky_manifest_writer_t **out, char *errstr, size_t errstr_size);
int sky_manifest_writer_flight(sky_manifest_writer_t *w, const sky_manifest_flight_t *f);
/* Finishes the file and frees w (also on error). */
int sky_manifest_writer_close(sky_manifest_writer_t *w, const sky_manifest_t *m, char *errstr,
                              size_t errstr_size);
/* Abandons the file (removes path.tmp) and frees w; NULL is fine. */
void sky_manifest_writer_abort(sky_manifest_writer_t *w);

#endif
