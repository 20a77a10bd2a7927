/* Streaming per-flight resampler: a window of the last SKY_RESAMPLE_WINDOW points per
 * flight in a bounded pool of tracks, found through the project's flight-id map
 * (lib/idmap), GSL Steffen (monotone) interpolation per variable. */
#include "resample.h"

#include "idmap.h"
#include "timefmt.h"

#include <gsl/gsl_interp.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { V_LAT, V_LON, V_ALT, V_SPEED, NVARS };

typedef struct point {
    int64_t t;
    double v[NVARS]; /* longitude unwrapped: continuous across the antimeridian */
} point_t;

typedef struct track {
    int64_t id; /* the flight's idmap index */
    int n;             /* points in pts, oldest first */
    int64_t next_tick; /* the next time to emit */
    double lon_raw;    /* last longitude as recorded, for unwrapping the next one */
    point_t pts[SKY_RESAMPLE_WINDOW];
    sky_flight_t last; /* identity and metadata of the latest point */
} track_t;

/* Active tracks are pool[0..count-1] (a removed one's place takes the last); the idmap
 * interns every flight id seen, and its value is the flight's track in the pool + 1
 * (0: none), so a flight evicted and seen again starts a new track under the same id. */
struct sky_resampler {
    int64_t cadence_ms, gap_ms;
    size_t max_flights, count;
    track_t *pool;
    sky_idmap_t *ids; /* values: uint32_t track + 1 */
    int64_t last_sweep_ms;
    bool swept_once;
    /* gsl_interp objects are sized at allocation: one set per window size in use */
    gsl_interp *steffen[SKY_RESAMPLE_WINDOW + 1][NVARS];
    gsl_interp *linear[NVARS];
    sky_resample_stats_t st;
};

sky_resampler_t *sky_resampler_new(int64_t cadence_ms, int64_t gap_ms, size_t max_flights) {
    if (cadence_ms <= 0 || gap_ms <= 0 || max_flights < 1 || max_flights > (SIZE_MAX >> 4))
        return NULL;
    sky_resampler_t *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    rs->cadence_ms = cadence_ms;
    rs->gap_ms = gap_ms;
    rs->max_flights = max_flights;
    bool ok = (rs->pool = calloc(max_flights, sizeof *rs->pool)) != NULL &&
              (rs->ids = sky_idmap_new_values(max_flights, sizeof(uint32_t))) != NULL;
    for (int v = 0; ok && v < NVARS; v++) {
        for (int n = 3; ok && n <= SKY_RESAMPLE_WINDOW; n++)
            ok = (rs->steffen[n][v] = gsl_interp_alloc(gsl_interp_steffen, (size_t)n)) != NULL;
        ok = ok && (rs->linear[v] = gsl_interp_alloc(gsl_interp_linear, 2)) != NULL;
    }
    if (!ok) {
        sky_resampler_destroy(rs);
        return NULL;
    }
    return rs;
}

void sky_resampler_destroy(sky_resampler_t *rs) {
    if (!rs)
        return;
    for (int v = 0; v < NVARS; v++) {
        for (int n = 0; n <= SKY_RESAMPLE_WINDOW; n++)
            if (rs->steffen[n][v])
                gsl_interp_free(rs->steffen[n][v]);
        if (rs->linear[v])
            gsl_interp_free(rs->linear[v]);
    }
    free(rs->pool);
    sky_idmap_destroy(rs->ids);
    free(rs);
}

const sky_resample_stats_t *sky_resampler_stats(const sky_resampler_t *rs) {
    return &rs->st;
}

static double wrap_lon(double lon) {
    if (lon >= -180.0 && lon < 180.0) /* most are: keep them bit for bit */
        return lon;
    double w = fmod(lon + 180.0, 360.0);
    if (w < 0)
        w += 360.0;
    return w - 180.0;
}

static int64_t first_tick_at_or_after(int64_t t, int64_t cadence) {
    int64_t q = t / cadence;
    if (q * cadence < t)
        q++;
    return q * cadence;
}

static int emit_point(sky_resampler_t *rs, track_t *tr, int64_t t, const double *v,
                      sky_resample_emit_fn *emit, void *opaque) {
    sky_flight_t out = tr->last;
    out.has_location = true;
    out.latitude = v[V_LAT];
    out.longitude = wrap_lon(v[V_LON]);
    out.altitude = (int32_t)lround(v[V_ALT]);
    out.airspeed = (int32_t)lround(v[V_SPEED]);
    sky_ts_format(t, SKY_TS_ISO8601, out.timestamp);
    rs->st.points_out++;
    return emit(opaque, &out, t);
}

/* Emits the track's ticks up to limit_ms (<= its last point) from its window. */
static int emit_until(sky_resampler_t *rs, track_t *tr, int64_t limit_ms,
                      sky_resample_emit_fn *emit, void *opaque) {
    int n = tr->n;
    if (tr->next_tick > limit_ms)
        return 0;
    /* x relative to the oldest point: epoch milliseconds would lose precision as doubles */
    double x[SKY_RESAMPLE_WINDOW], y[NVARS][SKY_RESAMPLE_WINDOW];
    for (int i = 0; i < n; i++) {
        x[i] = (double)(tr->pts[i].t - tr->pts[0].t);
        for (int v = 0; v < NVARS; v++)
            y[v][i] = tr->pts[i].v[v];
    }
    gsl_interp **interp = n >= 3 ? rs->steffen[n] : rs->linear;
    for (int v = 0; v < NVARS; v++)
        if (gsl_interp_init(interp[v], x, y[v], (size_t)n))
            return 0; /* cannot happen: times are strictly increasing */
    for (; tr->next_tick <= limit_ms; tr->next_tick += rs->cadence_ms) {
        double at = (double)(tr->next_tick - tr->pts[0].t), val[NVARS];
        for (int v = 0; v < NVARS; v++)
            if (gsl_interp_eval_e(interp[v], x, y[v], at, NULL, &val[v]))
                return 0; /* outside the window: cannot happen, ticks follow the points */
        int rc = emit_point(rs, tr, tr->next_tick, val, emit, opaque);
        if (rc) {
            tr->next_tick += rs->cadence_ms;
            return rc;
        }
    }
    return 0;
}

/* Emits what is left of the track's current segment and empties its window. */
static int flush_track(sky_resampler_t *rs, track_t *tr, sky_resample_emit_fn *emit,
                       void *opaque) {
    int rc = 0;
    if (tr->n == 1) /* nothing to interpolate with: the point as it is */
        rc = emit_point(rs, tr, tr->pts[0].t, tr->pts[0].v, emit, opaque);
    else if (tr->n > 1)
        rc = emit_until(rs, tr, tr->pts[tr->n - 1].t, emit, opaque);
    tr->n = 0;
    return rc;
}

static uint32_t *track_of(const sky_resampler_t *rs, int64_t id) {
    return sky_idmap_value(rs->ids, (size_t)id);
}

/* Forgets the track at pool[i]: the last active track moves into its place. */
static void remove_at(sky_resampler_t *rs, size_t i) {
    *track_of(rs, rs->pool[i].id) = 0;
    if (i != --rs->count) {
        rs->pool[i] = rs->pool[rs->count];
        *track_of(rs, rs->pool[i].id) = (uint32_t)i + 1;
    }
}

static int64_t track_last_t(const track_t *tr) {
    return tr->n ? tr->pts[tr->n - 1].t : INT64_MIN;
}

/* Flushes and forgets every flight idle for longer than the gap before now_ms. */
static int sweep_idle(sky_resampler_t *rs, int64_t now_ms, sky_resample_emit_fn *emit,
                      void *opaque) {
    rs->last_sweep_ms = now_ms;
    rs->swept_once = true;
    for (size_t i = 0; i < rs->count;) {
        track_t *tr = &rs->pool[i];
        if (now_ms - track_last_t(tr) > rs->gap_ms) {
            int rc = flush_track(rs, tr, emit, opaque);
            remove_at(rs, i); /* pool[i] now holds the last track: look again */
            if (rc)
                return rc;
            continue;
        }
        i++;
    }
    return 0;
}

/* Makes room for one more flight: idle ones first, else the one idle the longest. */
static int make_room(sky_resampler_t *rs, int64_t now_ms, sky_resample_emit_fn *emit,
                     void *opaque) {
    int rc = sweep_idle(rs, now_ms, emit, opaque);
    if (rc || rs->count < rs->max_flights)
        return rc;
    size_t oldest = 0;
    int64_t oldest_t = INT64_MAX;
    for (size_t i = 0; i < rs->count; i++)
        if (track_last_t(&rs->pool[i]) < oldest_t) {
            oldest = i;
            oldest_t = track_last_t(&rs->pool[i]);
        }
    rs->st.evicted++;
    rc = flush_track(rs, &rs->pool[oldest], emit, opaque);
    remove_at(rs, oldest);
    return rc;
}

static void append_point(sky_resampler_t *rs, track_t *tr, const sky_flight_t *f, int64_t t) {
    point_t p = {.t = t, .v = {f->latitude, f->longitude, f->altitude, f->airspeed}};
    if (tr->n == 0) {
        tr->next_tick = first_tick_at_or_after(t, rs->cadence_ms);
    } else {
        double step = wrap_lon(f->longitude - tr->lon_raw); /* the short way round */
        p.v[V_LON] = tr->pts[tr->n - 1].v[V_LON] + step;
    }
    tr->lon_raw = f->longitude;
    if (tr->n == SKY_RESAMPLE_WINDOW) {
        memmove(tr->pts, tr->pts + 1, (SKY_RESAMPLE_WINDOW - 1) * sizeof tr->pts[0]);
        tr->n--;
    }
    tr->pts[tr->n++] = p;
    tr->last = *f;
}

static int lookup_track(sky_resampler_t *rs, const sky_flight_t *f, int64_t ts_ms,
                        sky_resample_emit_fn *emit, void *opaque, track_t **out) {
    int64_t id = sky_idmap_intern(rs->ids, f->flight_id, strlen(f->flight_id), NULL);
    if (id < 0)
        return (int)id;
    if (*track_of(rs, id)) {
        *out = &rs->pool[*track_of(rs, id) - 1];
        return 0;
    }
    if (rs->count >= rs->max_flights) {
        int rc = make_room(rs, ts_ms, emit, opaque);
        if (rc)
            return rc;
    }
    track_t *tr = &rs->pool[rs->count];
    memset(tr, 0, sizeof *tr);
    tr->id = id;
    *track_of(rs, id) = (uint32_t)++rs->count; /* the pool index + 1 */
    *out = tr;
    return 0;
}

int sky_resampler_push(sky_resampler_t *rs, const sky_flight_t *f, int64_t ts_ms,
                       sky_resample_emit_fn *emit, void *opaque) {
    rs->st.points_in++;
    int rc = 0;
    if (!rs->swept_once || ts_ms - rs->last_sweep_ms > rs->gap_ms)
        rc = sweep_idle(rs, ts_ms, emit, opaque);
    track_t *tr = NULL;
    if (rc || (rc = lookup_track(rs, f, ts_ms, emit, opaque, &tr)))
        return rc;
    if (tr->n > 0 && ts_ms <= track_last_t(tr)) {
        rs->st.dropped++;
        return 0;
    }
    if (tr->n > 0 && ts_ms - track_last_t(tr) > rs->gap_ms) {
        rs->st.breaks++;
        if ((rc = flush_track(rs, tr, emit, opaque)))
            return rc;
    }
    append_point(rs, tr, f, ts_ms);
    if (tr->n >= 3)
        return emit_until(rs, tr, tr->pts[tr->n - 2].t, emit, opaque);
    return 0;
}

int sky_resampler_flush(sky_resampler_t *rs, sky_resample_emit_fn *emit, void *opaque) {
    int rc = 0;
    for (size_t i = 0; i < rs->count; i++) {
        if (!rc)
            rc = flush_track(rs, &rs->pool[i], emit, opaque);
        *track_of(rs, rs->pool[i].id) = 0;
    }
    rs->count = 0;
    rs->swept_once = false;
    return rc;
}
