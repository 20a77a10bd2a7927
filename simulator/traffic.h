/* The synthetic traffic model: airports, airlines, aircraft types, routes and
 * each flight's climb / cruise / descent / approach along the great circle.
 * Everything is a pure function of (seed, flight index), so runs are
 * deterministic and shards agree on every flight without talking. */
#ifndef SKY_TRAFFIC_H
#define SKY_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_traffic sky_traffic_t;

/* Where flights may fly. All zero = the whole world's network. */
typedef struct sky_region {
    bool has_bbox;
    double south, west, north, east; /* degrees; routes whose great circle crosses the box
                                        (domestic, in, out and overflights) */
    const char *const *airports;     /* ICAO codes; NULL or empty = the network's airports;
                                        else both ends are among these */
    size_t nairports;
    const char *const *routes;       /* "EGLL-LFPG" pairs; when set, only these routes fly */
    size_t nroutes;
} sky_region_t;

typedef struct sky_traffic_params {
    const char *data_dir; /* folder with airports.csv, airlines.csv, aircraft_types.csv and
                             performance.csv; NULL = <source tree>/scenarios/data */
    uint64_t seed;
    sky_region_t region;
} sky_traffic_params_t;

enum sky_phase { SKY_PHASE_CLIMB, SKY_PHASE_CRUISE, SKY_PHASE_DESCENT, SKY_PHASE_APPROACH,
                 SKY_PHASE_LANDED };

#define SKY_PLAN_SEGMENTS 11 /* profile.h's segments */

/* One flight, fully determined by (seed, index). Small and flat: the scheduler
 * keeps one per airborne aircraft, so every byte counts (target <= 200 B with the
 * simulator's slot state). The airports' unit vectors live once in the model's
 * airport table, so the great circle costs two doubles here, not six. */
typedef struct sky_flight_plan {
    uint64_t index;        /* flight index within the run (0, 1, 2, ...) */
    double geo[2];         /* central angle W of the route: cos W and 1 / sin W (0 when the
                              airports coincide); position = a (cos t - cos W sin t / sin W)
                              + b sin t / sin W, with a, b the airports' unit vectors */
    float seg_s[SKY_PLAN_SEGMENTS - 1]; /* along-track nm at the end of segments 0..9 */
    float rad_per_nm;      /* central angle per nm flown: the route's angle over the profile's
                              along-track length, which whole time units make differ from
                              the great-circle distance by up to ~0.3 nm; so the flight ends
                              on the field */
    int32_t duration_ms;   /* departure (wheels up) to touchdown */
    uint16_t profile[SKY_PLAN_SEGMENTS - 1]; /* end of segments 0..9 after departure, in
                              units of 2 s (profile.h); the last segment ends at duration_ms */
    uint16_t seg_h[SKY_PLAN_SEGMENTS - 1];   /* altitude in ft at the end of segments 0..9 */
    uint16_t seg_v[SKY_PLAN_SEGMENTS + 1];   /* ground speed in kt at each segment boundary
                                                (0 = wheels up, 11 = touchdown) */
    uint16_t dep, arr;     /* airport indices */
    uint16_t type;         /* aircraft type index */
    uint16_t airline;      /* airline index */
    uint16_t number;       /* flight number 1..9999, one per airline and route */
    int16_t dep_elev_ft, arr_elev_ft;
} sky_flight_plan_t;

typedef struct sky_position {
    double lat, lon;   /* degrees */
    int32_t alt_ft;    /* above mean sea level */
    int32_t speed_kt;  /* ground speed, as ADS-B reports it (true airspeed plus the wind) */
    int phase;         /* enum sky_phase */
} sky_position_t;

/* Loads the data files; returns NULL with errstr ("airports.csv:12: ...") on error. */
sky_traffic_t *sky_traffic_new(const sky_traffic_params_t *p, char *errstr, size_t errstr_size);
void sky_traffic_destroy(sky_traffic_t *t); /* NULL is fine */

/* Fills plan for flight `index` (route, type, airline, number, profile). Deterministic. */
int sky_traffic_plan(const sky_traffic_t *t, uint64_t index, sky_flight_plan_t *plan,
                     char *errstr, size_t errstr_size);
/* Position t_ms after departure (0 <= t_ms <= duration_ms; clamps). Hot path: no allocation. */
void sky_traffic_position(const sky_traffic_t *t, const sky_flight_plan_t *plan, int64_t t_ms,
                          sky_position_t *pos);
/* "BAW123" style flight_id stem and metadata, written into caller buffers. The
 * unique flight_id of a run is "<airline ICAO><number>-<index in hex, 6+ digits>".
 * sky_traffic_flight_id writes that unique id ("BAW123-00002a"), NUL-terminated
 * (truncated to outsz), and returns its length (snprintf semantics). */
size_t sky_traffic_flight_id(const sky_traffic_t *t, const sky_flight_plan_t *plan, char *out,
                             size_t outsz);
const char *sky_traffic_airline_icao(const sky_traffic_t *t, const sky_flight_plan_t *plan);
const char *sky_traffic_airline_iata(const sky_traffic_t *t, const sky_flight_plan_t *plan);
size_t sky_traffic_flight_number(const sky_traffic_t *t, const sky_flight_plan_t *plan, char *out,
                                 size_t outsz); /* "BA123" (IATA airline code + number) */
/* The generator's per-record forms: the same text at out, not NUL-terminated, written
 * in fixed-size moves, so out needs SKY_TRAFFIC_PUT_ROOM bytes; return its length. */
#define SKY_TRAFFIC_PUT_ROOM 48
size_t sky_traffic_put_flight_id(const sky_traffic_t *t, const sky_flight_plan_t *plan,
                                 char *out);
size_t sky_traffic_put_flight_number(const sky_traffic_t *t, const sky_flight_plan_t *plan,
                                     char *out);
/* The same number, its digits copied from the flight's id (id_len bytes of
 * sky_traffic_put_flight_id's, with 16 readable bytes at id) rather than computed. */
size_t sky_traffic_put_flight_number_from_id(const sky_traffic_t *t, const sky_flight_plan_t *plan,
                                             const char *id, size_t id_len, char *out);
const char *sky_traffic_airport_icao(const sky_traffic_t *t, uint32_t airport);
/* Airport lookup for scenarios and tests; returns the index or -1. */
long sky_traffic_find_airport(const sky_traffic_t *t, const char *icao);
void sky_traffic_airport_pos(const sky_traffic_t *t, uint32_t airport, double *lat, double *lon,
                             int32_t *elev_ft);
size_t sky_traffic_airport_count(const sky_traffic_t *t);
size_t sky_traffic_airline_count(const sky_traffic_t *t); /* plan->airline is below it */

/* Great-circle distance of the plan's route, nm. */
double sky_traffic_distance_nm(const sky_flight_plan_t *plan);
/* Initial and highest cruise level of a plan (they differ when it steps up). */
int32_t sky_traffic_cruise_ft(const sky_flight_plan_t *plan);
int32_t sky_traffic_top_ft(const sky_flight_plan_t *plan);

/* Aircraft type figures, for the realism tests. */
typedef struct sky_aircraft_type {
    char icao[8];           /* "A320" */
    char category[16];      /* narrowbody, widebody, regional, turboprop */
    int32_t cruise_ft;      /* typical cruise level */
    int32_t ceiling_ft;
    double cruise_mach;
    int32_t cruise_kt;      /* true airspeed at cruise */
    int32_t climb_fpm[3];   /* below FL100, FL100-FL240, above FL240 */
    int32_t descent_fpm;
    int32_t climb_kt;       /* typical climb speed (IAS-ish, as reported) */
    int32_t approach_kt;
    int32_t touchdown_kt;
    int32_t range_nm;
    char perf[8];           /* its performance model in performance.csv ("a320"); "" = the
                               figures above, without spread */
} sky_aircraft_type_t;
const sky_aircraft_type_t *sky_traffic_type(const sky_traffic_t *t, uint16_t type);
size_t sky_traffic_type_count(const sky_traffic_t *t);

#endif
