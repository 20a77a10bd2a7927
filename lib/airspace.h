/* Airspaces as Tile38 1.37.0 sees them: which position is inside a fence (its
 * polygon raycast, its haversine circle, the altitude WHERE), which fences a SET is
 * even tested against (the hook's bounding rectangle), and the enter/exit events a
 * flight's stored positions then produce. simulate and replay compute the events they
 * expect with it; lib/geofence registers the fences. docs/geofence.md says where
 * Tile38's rules surprise. The airspace type is here, on the ground floor, as all
 * three use it; resolving airports needs the traffic model (simulator/airspace_resolve.h). */
#ifndef SKY_AIRSPACE_H
#define SKY_AIRSPACE_H


#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sky_airspace_kind {
    SKY_AIRSPACE_POLYGON = 0,
    SKY_AIRSPACE_CIRCLE,
    SKY_AIRSPACE_AIRPORT, /* circle around an airport: sky_airspaces_resolve fills lat/lon */
} sky_airspace_kind_t;

/* One airspace (docs/scenarios.md, docs/geofence.md). Tile38 has no altitude: floor and
 * ceiling become `WHERE altitude floor ceiling` on the airspace's hook or channel. */
typedef struct sky_airspace {
    char *name;
    sky_airspace_kind_t kind;
    double *points; /* polygon: lat0, lon0, lat1, lon1, ... (npoints pairs), every ring */
    size_t npoints;
    size_t *ring_end; /* polygon with holes: ring i ends before point ring_end[i] (ring 0
                         is the exterior); NULL = one ring of npoints points */
    size_t nrings;    /* 0 or 1 when ring_end is NULL */
    double lat, lon;  /* circle centre (airport: once resolved) */
    double radius_nm; /* circle and airport */
    char airport[8];  /* airport: ICAO code */
    bool has_floor, has_ceiling;
    double floor_ft, ceiling_ft; /* inclusive, feet above mean sea level */
} sky_airspace_t;

/* Frees what an airspace owns (not the struct itself). */
void sky_airspace_free(sky_airspace_t *a);
/* Deep copy of src into dst; 0 or SKY_ENOMEM (dst then holds nothing to free). */
int sky_airspace_copy(sky_airspace_t *dst, const sky_airspace_t *src);
/* Number of rings of a polygon (1 without holes) and the point range of ring r. */
size_t sky_airspace_rings(const sky_airspace_t *a);
void sky_airspace_ring(const sky_airspace_t *a, size_t r, size_t *first, size_t *end);

/* Frees n airspaces and the array. */
void sky_airspaces_free(sky_airspace_t *arr, size_t n);

/* ingest writes coordinates to Tile38 with this many decimals (sky_fmt_fixed). */
#define SKY_TILE38_COORD_DECIMALS 7

typedef enum sky_fence_kind { SKY_FENCE_ENTER = 0, SKY_FENCE_EXIT = 1 } sky_fence_kind_t;

/* "enter", "exit"; NULL for an unknown kind. */
const char *sky_fence_kind_name(sky_fence_kind_t kind);
/* 0 and *out, or SKY_EINVAL. */
int sky_fence_kind_parse(const char *name, sky_fence_kind_t *out);

/* The coordinate Tile38 holds after ingest's SET: v written with 7 decimals, read
 * back as the nearest double (what Go's strconv.ParseFloat gives). */
double sky_tile38_coord(double v);


/* ---- fences: resolved airspaces compiled for point tests ---- */

typedef struct sky_fenceset sky_fenceset_t;

/* Compiles n resolved airspaces (copied; a may go away). NULL with errstr when an
 * airport is unresolved or out of memory. */
sky_fenceset_t *sky_fenceset_new(const sky_airspace_t *a, size_t n, char *errstr,
                                 size_t errstr_size);
void sky_fenceset_destroy(sky_fenceset_t *fs); /* NULL is fine */
size_t sky_fenceset_count(const sky_fenceset_t *fs);
const sky_airspace_t *sky_fenceset_airspace(const sky_fenceset_t *fs, size_t i);

/* Tile38's match of a stored point (coordinates as Tile38 holds them) against fence i:
 * inside the polygon (edges and vertices count, holes' edges too) or circle
 * (haversine <= the radius's), with the altitude field within [floor, ceiling]. */
bool sky_fence_contains(const sky_fenceset_t *fs, size_t i, double lat, double lon,
                        double alt_ft);
/* Is the point inside fence i's bounding rectangle, the hook index Tile38 looks a SET
 * up in? A fence is only tested when the old or the new position is. For a circle
 * this is the rectangle of Tile38's 64-gon, which a circle across the antimeridian
 * turns inside out. */
bool sky_fence_candidate(const sky_fenceset_t *fs, size_t i, double lat, double lon);
/* The rectangle itself: [min lat, min lon, max lat, max lon]. */
void sky_fence_rect(const sky_fenceset_t *fs, size_t i, double rect[4]);

/* Could the point be near some fence? A rectangle and a bit of a 10-degree block map:
 * false for most of the world. */
bool sky_fenceset_near(const sky_fenceset_t *fs, double lat, double lon);

/* uint64_t words of one flight's state (sky_fenceset_step); zeroed = no object yet. */
size_t sky_fenceset_state_words(const sky_fenceset_t *fs);

typedef void(sky_fence_event_fn)(void *opaque, size_t fence, sky_fence_kind_t kind);

/* A flight's next stored position (the record's coordinates; rounded here as ingest
 * writes them) against the previous one, held in state: calls fn for every enter and
 * exit Tile38 sends for this SET, in fence order, and updates state. Returns whether
 * the state is non-zero (in or near some fence): with false and a next position that
 * is not sky_fenceset_near, the step can be skipped without reading the state. */
bool sky_fenceset_step(const sky_fenceset_t *fs, uint64_t *state, double lat, double lon,
                       int32_t alt_ft, sky_fence_event_fn *fn, void *opaque);

/* ---- per-flight states, by dense index or by flight id ---- */

typedef struct sky_fence_tracker sky_fence_tracker_t;

/* States for `slots` flights to start with (grown on demand); NULL when out of memory.
 * fs must outlive the tracker. */
sky_fence_tracker_t *sky_fence_tracker_new(const sky_fenceset_t *fs, size_t slots);
void sky_fence_tracker_destroy(sky_fence_tracker_t *t); /* NULL is fine */
/* The state of slot i (grows the tracker; NULL when out of memory). */
uint64_t *sky_fence_tracker_slot(sky_fence_tracker_t *t, size_t i);
/* Brings slot i's state into the cache ahead of its step (slots are visited in a
 * scattered order: a miss per record otherwise). */
void sky_fence_tracker_prefetch(const sky_fence_tracker_t *t, size_t i);
/* Forgets slot i's object (a new flight in the slot). */
void sky_fence_tracker_reset(sky_fence_tracker_t *t, size_t i);
/* The state of a flight by id (interned on first use); NULL when out of memory. */
uint64_t *sky_fence_tracker_flight(sky_fence_tracker_t *t, const char *id, size_t len);

#endif
