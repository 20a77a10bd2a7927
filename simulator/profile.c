/* Builds and evaluates the eight-segment climb / cruise / descent / approach
 * profile of one flight (see profile.h and docs/traffic-model.md). */
#include "profile.h"

#include <math.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdint.h>

#define MS_PER_HOUR 3600000.0
#define MS_PER_MIN 60000.0
#define SKY_PROFILE_SPEED_ROOM_FT 3000.0

/* a < b ? a : b and a > b ? a : b, which minsd and maxsd are exactly: written so, as
 * GCC would branch on them (on the integers they were converted from). */
static double min_d(double a, double b) {
#ifdef __SSE2__
    return _mm_cvtsd_f64(_mm_min_sd(_mm_set_sd(a), _mm_set_sd(b)));
#else
    return a < b ? a : b;
#endif
}

static double max_d(double a, double b) {
#ifdef __SSE2__
    return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(a), _mm_set_sd(b)));
#else
    return a > b ? a : b;
#endif
}

/* Altitude at each segment boundary k (0..8): the start of segment k, the end of
 * k - 1. Straight-line code: the generator asks for every record. */
static void boundary_alts(double cruise, double dep, double arr, double h[SKY_SEG_COUNT + 1]) {
    double glide = arr + SKY_PROFILE_GLIDE_FT;
    h[0] = dep;
    h[1] = max_d(dep, min_d(SKY_PROFILE_FL100_FT, cruise));
    h[2] = max_d(h[1], min_d(SKY_PROFILE_FL240_FT, cruise));
    h[3] = h[4] = cruise;
    h[5] = max_d(glide, min_d(SKY_PROFILE_FL100_FT, cruise));
    h[6] = glide;
    h[7] = arr + SKY_PROFILE_GLIDE_FT * (SKY_PROFILE_FINAL_NM / SKY_PROFILE_APPROACH_NM);
    h[8] = arr;
}

/* lrint without the libm call: SSE2's conversion rounds the same way (to nearest, ties
 * to even, the default mode). */
static int32_t rint_i32(double x) {
#ifdef __SSE2__
    return _mm_cvtsd_si32(_mm_set_sd(x));
#else
    return (int32_t)lrint(x);
#endif
}

int32_t sky_profile_min_cruise_ft(int32_t dep_elev_ft, int32_t arr_elev_ft) {
    int32_t top = dep_elev_ft > arr_elev_ft + SKY_PROFILE_GLIDE_FT ? dep_elev_ft
                                                                  : arr_elev_ft + SKY_PROFILE_GLIDE_FT;
    top += 1000;
    if (top < 4000)
        top = 4000;
    return (top + 999) / 1000 * 1000;
}

/* Speed at altitude h on a ramp from (h_lo, v_lo) to (h_hi, v_hi) through
 * (FL100, v_mid) when FL100 lies between them with room to change speed
 * (a high airport just below FL100 would otherwise see a step in speed). */
static double ramp_speed(double h, double h_lo, double v_lo, double v_mid, double h_hi,
                         double v_hi) {
    if (h_hi <= h_lo)
        return v_hi;
    if (h_lo <= SKY_PROFILE_FL100_FT - SKY_PROFILE_SPEED_ROOM_FT && SKY_PROFILE_FL100_FT < h_hi) {
        if (h <= SKY_PROFILE_FL100_FT)
            return v_lo + (v_mid - v_lo) * (h - h_lo) / (SKY_PROFILE_FL100_FT - h_lo);
        return v_mid + (v_hi - v_mid) * (h - SKY_PROFILE_FL100_FT) / (h_hi - SKY_PROFILE_FL100_FT);
    }
    return v_lo + (v_hi - v_lo) * (h - h_lo) / (h_hi - h_lo);
}

/* True airspeed at a cruise level: the type's cruise TAS at its usual level,
 * falling linearly to climb_kt at FL100 (lower levels fly slower). */
static double cruise_speed(const sky_aircraft_type_t *type, int32_t cruise_ft) {
    if (cruise_ft <= SKY_PROFILE_FL100_FT || type->cruise_ft <= SKY_PROFILE_FL100_FT)
        return type->climb_kt;
    double f = (double)(cruise_ft - SKY_PROFILE_FL100_FT) /
               (type->cruise_ft - SKY_PROFILE_FL100_FT);
    if (f > 1.0)
        f = 1.0;
    return type->climb_kt + (type->cruise_kt - type->climb_kt) * f;
}

static void boundary_speeds(const sky_aircraft_type_t *type, int32_t cruise, const double h[],
                            uint16_t v[SKY_SEG_COUNT + 1]) {
    double v_lift = type->touchdown_kt + SKY_PROFILE_LIFTOFF_EXTRA_KT;
    double v_mid = type->climb_kt;
    double v_cr = cruise_speed(type, cruise);
    double v_app = min_d(type->approach_kt + 45.0, v_mid);
    v[0] = (uint16_t)lrint(v_lift);
    v[1] = (uint16_t)lrint(ramp_speed(h[1], h[0], v_lift, v_mid, cruise, v_cr));
    v[2] = (uint16_t)lrint(ramp_speed(h[2], h[0], v_lift, v_mid, cruise, v_cr));
    v[3] = v[4] = (uint16_t)lrint(v_cr);
    v[5] = (uint16_t)lrint(ramp_speed(h[5], h[6], v_app, v_mid, cruise, v_cr));
    v[6] = (uint16_t)lrint(v_app);
    v[7] = (uint16_t)type->approach_kt;
    v[8] = (uint16_t)type->touchdown_kt;
}

/* Segment durations in ms for everything but the cruise. */
static void segment_times(const sky_aircraft_type_t *type, const double h[], const uint16_t v[],
                          int64_t ms[SKY_SEG_COUNT]) {
    double rate[SKY_SEG_COUNT] = {type->climb_fpm[0], type->climb_fpm[1], type->climb_fpm[2], 0,
                                  type->descent_fpm,
                                  type->descent_fpm * SKY_PROFILE_LOW_DESCENT, 0, 0};
    for (int k = 0; k < SKY_SEG_COUNT; k++) {
        if (rate[k] > 0)
            ms[k] = llrint(fabs(h[k + 1] - h[k]) / rate[k] * MS_PER_MIN);
    }
    double app_nm = SKY_PROFILE_APPROACH_NM - SKY_PROFILE_FINAL_NM;
    ms[SKY_SEG_APPROACH] = llrint(app_nm / ((v[6] + v[7]) * 0.5) * MS_PER_HOUR);
    ms[SKY_SEG_FINAL] = llrint(SKY_PROFILE_FINAL_NM / ((v[7] + v[8]) * 0.5) * MS_PER_HOUR);
    ms[SKY_SEG_CRUISE] = 0;
}

int sky_profile_build(sky_flight_plan_t *plan, const sky_aircraft_type_t *type, int32_t cruise_ft,
                      double min_cruise_share) {
    double h[SKY_SEG_COUNT + 1];
    uint16_t v[SKY_SEG_COUNT + 1];
    int64_t ms[SKY_SEG_COUNT];
    double nm[SKY_SEG_COUNT], used = 0;

    boundary_alts(cruise_ft, plan->dep_elev_ft, plan->arr_elev_ft, h);
    boundary_speeds(type, cruise_ft, h, v);
    segment_times(type, h, v, ms);
    for (int k = 0; k < SKY_SEG_COUNT; k++) {
        nm[k] = (v[k] + v[k + 1]) * 0.5 * ms[k] / MS_PER_HOUR;
        used += nm[k];
    }
    double cruise_nm = plan->dist_nm - used;
    if (cruise_nm < 0 || cruise_nm < min_cruise_share * plan->dist_nm)
        return -1;
    ms[SKY_SEG_CRUISE] = llrint(cruise_nm / v[3] * MS_PER_HOUR);
    nm[SKY_SEG_CRUISE] = v[3] * (double)ms[SKY_SEG_CRUISE] / MS_PER_HOUR;

    int64_t t = 0;
    for (int k = 0; k < SKY_SEG_COUNT; k++)
        t += ms[k];
    if (t > INT32_MAX)
        return -1;
    t = 0;
    double s = 0;
    for (int k = 0; k < SKY_SEG_COUNT - 1; k++) {
        t += ms[k];
        s += nm[k];
        plan->profile[k] = (int32_t)t;
        plan->seg_s[k] = (float)s;
    }
    t += ms[SKY_SEG_COUNT - 1];
    for (int k = 0; k <= SKY_SEG_COUNT; k++)
        plan->seg_v[k] = v[k];
    plan->cruise_ft = cruise_ft;
    plan->duration_ms = (int32_t)t;
    return 0;
}

/* How many of the first SKY_SEG_COUNT - 1 segments have ended by t_ms (< duration_ms).
 * Every record asks: seven compares in two vector ones. */
static int finished_segments(const sky_flight_plan_t *plan, int32_t t_ms) {
#ifdef __SSE2__
    _Static_assert(SKY_SEG_COUNT - 1 == 7, "two 4-lane compares cover profile[0..6]");
    __m128i t = _mm_set1_epi32(t_ms);
    __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)plan->profile);     /* 0..3 */
    __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(plan->profile + 3)); /* 3..6 */
    /* a lane is set where the segment is still running: profile[i] > t */
    unsigned running = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(lo, t))) |
                       ((unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(hi, t))) & 14u)
                           << 3; /* hi's lanes 1..3: profile[4..6] */
    /* segment ends never decrease, so the running ones are a run of high bits: the
     * lowest set bit is the count of finished ones (and no popcnt needed) */
    return running ? __builtin_ctz(running) : SKY_SEG_COUNT - 1;
#else
    int k = 0;
    for (int i = 0; i < SKY_SEG_COUNT - 1; i++)
        k += plan->profile[i] <= t_ms;
    return k;
#endif
}

void sky_profile_eval(const sky_flight_plan_t *plan, int64_t t_ms, double *s_nm, int32_t *alt_ft,
                      int32_t *speed_kt, int *phase) {
    if (t_ms >= plan->duration_ms) {
        *s_nm = plan->dist_nm;
        *alt_ft = plan->arr_elev_ft;
        *speed_kt = plan->seg_v[SKY_SEG_COUNT];
        *phase = SKY_PHASE_LANDED;
        return;
    }
    if (t_ms < 0)
        t_ms = 0;
    int k = finished_segments(plan, (int32_t)t_ms);
    int32_t t0 = k ? plan->profile[k - 1] : 0;
    int32_t t1 = k < SKY_SEG_COUNT - 1 ? plan->profile[k] : plan->duration_ms;
    double dt = (double)(t_ms - t0), span = (double)(t1 - t0);
    double f = dt / span;
    double v0 = plan->seg_v[k], dv = plan->seg_v[k + 1] - v0, v = v0 + dv * f;
    /* along-track distance: the mean of v0 and v over dt, (v0 + v) / 2 * dt, with v's
     * division folded into the one division, which the position waits for */
    double s = (k ? plan->seg_s[k - 1] : 0.0) +
               dt * (2.0 * v0 * span + dv * dt) / (span * (2.0 * MS_PER_HOUR));
    /* every segment's altitude without a branch on the segment (records of thousands
     * of flights interleave, so it would mispredict): the boundaries interpolated
     * (the cruise's are both the level), and on the approach the glide path */
    static const int8_t phase_of[SKY_SEG_COUNT] = {
        SKY_PHASE_CLIMB,   SKY_PHASE_CLIMB,   SKY_PHASE_CLIMB,    SKY_PHASE_CRUISE,
        SKY_PHASE_DESCENT, SKY_PHASE_DESCENT, SKY_PHASE_APPROACH, SKY_PHASE_APPROACH};
    double h[SKY_SEG_COUNT + 1];
    boundary_alts(plan->cruise_ft, plan->dep_elev_ft, plan->arr_elev_ft, h);
    double interpolated = h[k] + (h[k + 1] - h[k]) * f;
    double glide_path = plan->arr_elev_ft + SKY_PROFILE_GLIDE_FT / SKY_PROFILE_APPROACH_NM *
                                                max_d(plan->dist_nm - s, 0);
    double alt = k >= SKY_SEG_APPROACH ? glide_path : interpolated;
    *phase = phase_of[k];
    *s_nm = s;
    *alt_ft = rint_i32(alt);
    *speed_kt = rint_i32(v);
}

int32_t sky_profile_climb_limit_fpm(const sky_aircraft_type_t *type, int32_t alt_ft) {
    if (alt_ft < SKY_PROFILE_FL100_FT)
        return type->climb_fpm[0];
    if (alt_ft < SKY_PROFILE_FL240_FT)
        return type->climb_fpm[1];
    return type->climb_fpm[2];
}
