/* Scenarios: the YAML files of scenarios/ (docs/scenarios.md) read into a plain
 * struct that simulate, run, ingest and verify share. Errors name file:line:col. */
#ifndef SKY_SCENARIO_H
#define SKY_SCENARIO_H

#include <jansson.h>
#include "airspace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SKY_SCENARIO_DEFAULT_CADENCE_MS 5000
#define SKY_SCENARIO_DEFAULT_PARTITIONS 6
#define SKY_SCENARIO_DEFAULT_TTL_S 120

typedef enum sky_profile_kind {
    SKY_PROFILE_CONSTANT = 0, /* aircraft */
    SKY_PROFILE_RAMP,         /* from -> to, linearly over [at, at + length] */
    SKY_PROFILE_STEP,         /* from, then to from `at` on */
    SKY_PROFILE_SPIKE,        /* from, to during [at, at + length], then from again */
    SKY_PROFILE_DIURNAL,      /* from (night) .. to (peak) on a cosine of `period` */
} sky_profile_kind_t;

typedef struct sky_load_profile {
    sky_profile_kind_t kind;
    uint64_t from, to;  /* airborne aircraft; constant uses `from` */
    int64_t at_ms;      /* ramp/step/spike start (simulated ms from the start) */
    int64_t length_ms;  /* ramp/spike length; 0 for a ramp = the whole duration */
    int64_t period_ms;  /* diurnal period (default 24 h); peak at period / 2 */
} sky_load_profile_t;

/* Target airborne population at simulated offset t_ms of a run of duration_ms. */
uint64_t sky_profile_target(const sky_load_profile_t *p, int64_t t_ms, int64_t duration_ms);
/* Highest target over the run (the slot count the scheduler needs). */
uint64_t sky_profile_peak(const sky_load_profile_t *p);
const char *sky_profile_kind_name(sky_profile_kind_t kind);

/* Per-message fault rates in [0, 1] (docs/manifest.md's table). */
typedef struct sky_fault_rates {
    double duplicate, reorder, drop, malformed, gap;
    int gap_length; /* messages skipped by one gap (default 3) */
} sky_fault_rates_t;

/* Reads airspaces from a file: GeoJSON (.geojson / .json: a FeatureCollection, a
 * Feature, or a geometry; Polygon with holes, or Point with properties.radius_nm) or
 * YAML (a scenario file's `airspaces:`, or a bare list of airspaces). Appends to
 * *arr / *n (grown with realloc). Errors name file:line or file: features[i]. */
int sky_airspaces_load(const char *path, sky_airspace_t **arr, size_t *n, char *errstr,
                       size_t errstr_size);
/* Reads GeoJSON text; `name` stands for the file in errors. */
int sky_airspaces_parse_geojson(const char *text, size_t len, const char *name,
                                sky_airspace_t **arr, size_t *n, char *errstr,
                                size_t errstr_size);

/* Everything a scenario file says. Owned strings and arrays are freed by
 * sky_scenario_destroy. Fields a file leaves out hold the defaults below. */
typedef struct sky_scenario {
    char *path;        /* the file it came from (NULL when built in code) */
    char *name;        /* `name:`, default: the file name without .yaml */
    char *description;
    uint64_t seed;             /* default 1 */
    bool has_start_time;
    int64_t start_time_ms;     /* default: now, at run time */
    int64_t duration_ms;       /* default 60 s; 0 = until stopped */
    int64_t cadence_ms;        /* default 5 s */
    double speedup;            /* default 1 */
    double rate;               /* messages/s; 0 = paced by time; < 0 = as fast as possible */
    sky_load_profile_t load;   /* default constant 100 */
    /* region */
    bool has_bbox;
    double south, west, north, east;
    char **airports;
    size_t nairports;
    char **routes; /* "EGLL-LFPG" */
    size_t nroutes;
    char *data_dir; /* NULL = the built-in scenarios/data */
    sky_fault_rates_t faults;
    json_t *slo;    /* a JSON object (owned; NULL when absent) */
    char *topic;    /* NULL = the command's default */
    int partitions; /* default 6 */
    int64_t ttl_s;  /* Tile38 expiry the run expects (default 120) */
    char *timestamp_format; /* NULL = iso8601 */
    sky_airspace_t *airspaces;
    size_t nairspaces;
} sky_scenario_t;

/* A scenario with every default set; NULL on allocation failure. */
sky_scenario_t *sky_scenario_new(void);
void sky_scenario_destroy(sky_scenario_t *s); /* NULL is fine */

/* Reads a scenario file. Returns 0 and *out (free with sky_scenario_destroy),
 * or SKY_EIO (cannot read) / SKY_EINVAL ("file:line:col: message" for a YAML
 * error, an unknown key, or a bad value). */
int sky_scenario_load(const char *path, sky_scenario_t **out, char *errstr, size_t errstr_size);
/* Same from a string; `name` stands for the file name in errors. */
int sky_scenario_parse(const char *yaml, size_t len, const char *name, sky_scenario_t **out,
                       char *errstr, size_t errstr_size);

/* Resolves a --scenario argument: an existing path, or a name in scenarios/
 * ("smoke" -> <source dir>/scenarios/smoke.yaml). Writes the path into out. */
int sky_scenario_find(const char *name_or_path, char *out, size_t outsz, char *errstr,
                      size_t errstr_size);

#endif
