/* Per-flight resampling of positions to a fixed cadence (`replay --resample 5s`):
 * monotone (GSL Steffen) interpolation of latitude, longitude, altitude and airspeed
 * over time, streaming with a bounded window per flight and a bounded pool of tracks
 * (flight ids interned in lib/idmap, ~40 bytes per flight seen). */
#ifndef SKY_RESAMPLE_H
#define SKY_RESAMPLE_H

#include "codec.h"

#include <stddef.h>
#include <stdint.h>

/* Points kept per flight: the interval being emitted plus one neighbour on each side,
 * which is all a Steffen slope looks at, so a window gives the same curve as the
 * whole track would. */
#define SKY_RESAMPLE_WINDOW 4

typedef struct sky_resampler sky_resampler_t;

typedef struct sky_resample_stats {
    uint64_t points_in;  /* positions pushed */
    uint64_t points_out; /* positions emitted */
    uint64_t dropped;    /* positions not after the flight's previous one (out of order) */
    uint64_t breaks;     /* gaps longer than the threshold: a new segment started */
    uint64_t evicted;    /* flights flushed early because the table was full */
} sky_resample_stats_t;

/* Receives one resampled position: f->timestamp is ts_ms in ISO 8601, the identity
 * and metadata come from the flight's latest point. f is borrowed for the call.
 * A non-zero return stops the push/flush and is returned by it. */
typedef int(sky_resample_emit_fn)(void *opaque, const sky_flight_t *f, int64_t ts_ms);

/* cadence_ms > 0: emitted times are the multiples of cadence_ms (epoch-aligned, so every
 * flight is sampled on the same ticks). gap_ms > 0: two points further apart than this
 * are not interpolated across. max_flights >= 1 caps the flights tracked at once.
 * NULL on allocation failure or bad arguments. */
sky_resampler_t *sky_resampler_new(int64_t cadence_ms, int64_t gap_ms, size_t max_flights);
void sky_resampler_destroy(sky_resampler_t *rs); /* NULL is fine */

/* Adds a position of f (has_location must be set) at ts_ms and emits, through emit,
 * every tick of that flight that is now final (up to its second-to-last point).
 * Flights idle for longer than the gap are flushed along the way. Returns 0 or the
 * first non-zero value emit returned. */
int sky_resampler_push(sky_resampler_t *rs, const sky_flight_t *f, int64_t ts_ms,
                       sky_resample_emit_fn *emit, void *opaque);
/* Emits every flight's remaining ticks up to its last point and forgets all flights
 * (end of input). A segment of a single point is emitted as it is (it has no
 * neighbour to interpolate with); two points are interpolated linearly. */
int sky_resampler_flush(sky_resampler_t *rs, sky_resample_emit_fn *emit, void *opaque);
const sky_resample_stats_t *sky_resampler_stats(const sky_resampler_t *rs);

#endif
