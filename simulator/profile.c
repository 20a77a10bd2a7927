/* Builds and evaluates the eleven-segment profile of one flight (see profile.h and
 * docs/traffic-model.md). */
#include "profile.h"

#include "geodesy.h"
#include "performance.h"
#include "wind.h"

#include <math.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdint.h>

#define MS_PER_HOUR 3600000.0
#define NB (SKY_SEG_COUNT - 1) /* stored boundaries: the ends of segments 0 .. NB - 1 */
#define MAX_UNITS 65535

_Static_assert(NB == 10, "finished_segments compares ten segment ends");

static double min_d(double a, double b) { return a < b ? a : b; }
static double max_d(double a, double b) { return a > b ? a : b; }
static double clamp_d(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

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
    int32_t top = dep_elev_ft > arr_elev_ft + 3000 ? dep_elev_ft : arr_elev_ft + 3000;
    top += 1000;
    if (top < 4000)
        top = 4000;
    return (top + 999) / 1000 * 1000;
}

/* Altitude at each boundary 0 .. SKY_SEG_COUNT (the start of segment k is boundary k). */
static void boundary_alts(const sky_profile_params_t *p, double dep, double arr,
                          double h[SKY_SEG_COUNT + 1]) {
    double cr1 = p->cruise_ft, cr2 = max_d(p->cruise2_ft, cr1), gate = arr + SKY_PROFILE_GATE_FT;
    h[0] = dep;
    h[1] = clamp_d(p->climb_cas_ft, dep + 1000, cr1);
    h[2] = clamp_d(p->climb_mach_ft, h[1], cr1);
    h[3] = h[4] = cr1;
    h[5] = h[6] = cr2;
    /* the level-off is at a flight level, as ATC clears it */
    h[8] = h[9] = clamp_d(rint(p->descent_cas_ft / 1000.0) * 1000.0, gate, cr2);
    h[7] = clamp_d(p->descent_mach_ft, h[8], cr2);
    h[10] = gate;
    h[11] = arr;
}

/* True airspeed on the climb's schedule at h: lift-off speed rising to the constant CAS,
 * then the lower of that CAS and the climb Mach (their crossover is where the Mach
 * climb takes over, so the speed never steps). */
static double climb_tas(const sky_profile_params_t *p, double dep, double h_cas, double h) {
    double v_cas = sky_isa_tas_from_cas(p->climb_cas_kt, h);
    double v_sched = min_d(v_cas, sky_isa_tas_from_mach(p->climb_mach, h));
    if (h >= h_cas)
        return v_sched;
    double v_top = min_d(sky_isa_tas_from_cas(p->climb_cas_kt, h_cas),
                         sky_isa_tas_from_mach(p->climb_mach, h_cas));
    double v0 = sky_isa_tas_from_cas(p->liftoff_kt, dep);
    return h_cas > dep ? v0 + (v_top - v0) * (h - dep) / (h_cas - dep) : v_top;
}

static double descent_tas(const sky_profile_params_t *p, double h) {
    return min_d(sky_isa_tas_from_cas(p->descent_cas_kt, h),
                 sky_isa_tas_from_mach(p->descent_mach, h));
}

/* Ground speed from true airspeed at h: the wind along the track adds, the wind across
 * it takes the heading off the track. */
static double ground_speed(const sky_profile_params_t *p, double tas, double h) {
    double f = sky_wind_height_factor(h);
    double along = p->wind_along_kt * f, cross = p->wind_cross_kt * f;
    double s = tas * tas - cross * cross;
    return max_d((s > 0 ? sqrt(s) : 0) + along, 60.0);
}

int sky_profile_build(sky_flight_plan_t *plan, const sky_profile_params_t *p, double dist_nm,
                      double min_cruise_share) {
    double h[SKY_SEG_COUNT + 1], tas[SKY_SEG_COUNT + 1], gs[SKY_SEG_COUNT + 1];
    double sec[SKY_SEG_COUNT], nm[SKY_SEG_COUNT];
    double dep = plan->dep_elev_ft, arr = plan->arr_elev_ft;
    if (p->cruise_ft > MAX_UNITS || p->cruise2_ft > MAX_UNITS)
        return -1;
    boundary_alts(p, dep, arr, h);

    double v_cr1 = sky_isa_tas_from_mach(p->cruise_mach, h[3]);
    double v_cr2 = sky_isa_tas_from_mach(p->cruise_mach, h[5]);
    tas[0] = sky_isa_tas_from_cas(p->liftoff_kt, dep);
    tas[1] = climb_tas(p, dep, h[1], h[1]);
    tas[2] = climb_tas(p, dep, h[1], h[2]);
    tas[3] = tas[4] = v_cr1;
    tas[5] = tas[6] = v_cr2;
    tas[7] = descent_tas(p, h[7]);
    tas[8] = descent_tas(p, h[8]);
    tas[9] = min_d(tas[8], sky_isa_tas_from_cas(p->level_cas_kt, h[9]));
    /* WRAP's final approach speed is the mean over the final: it slows down to the
     * touchdown speed, so it starts as far above the mean as it ends below */
    double v_fa = sky_isa_tas_from_cas(p->final_cas_kt, 0.5 * (h[10] + arr));
    tas[11] = min_d(v_fa, sky_isa_tas_from_cas(p->touchdown_kt, arr));
    tas[10] = 2 * v_fa - tas[11];
    tas[9] = max_d(tas[9], tas[10]);

    static const int8_t rate_of[SKY_SEG_COUNT] = {0, 1, 2, -1, 2, -1, 3, 4, -1, 5, 6};
    double rate[7] = {p->climb_fpm[0], p->climb_fpm[1], p->climb_fpm[2], p->descent_fpm[0],
                      p->descent_fpm[1], p->descent_fpm[2], p->final_fpm};
    for (int k = 0; k < SKY_SEG_COUNT; k++)
        sec[k] = rate_of[k] >= 0 ? fabs(h[k + 1] - h[k]) / max_d(rate[rate_of[k]], 50.0) * 60.0
                                 : 0;
    sec[SKY_SEG_LEVEL] = h[8] > h[10] ? p->level_s : 0;
    /* whole time units for every segment but the cruise, whose length takes the rest,
     * and the final approach, which ends the flight */
    for (int k = 0; k < SKY_SEG_FINAL; k++)
        sec[k] = rint(sec[k] * 1000.0 / SKY_PROFILE_TIME_MS) * SKY_PROFILE_TIME_MS / 1000.0;
    /* segments that do not happen (a run of them, between two that do) pass in one
     * instant: one speed at all their boundaries, so the speed never steps. It is the
     * next segment's start, or the cruise's end when they follow the cruise. */
    for (int k = 0; k < SKY_SEG_COUNT; k++) {
        if (sec[k] > 0 || k == SKY_SEG_CRUISE || k == SKY_SEG_CRUISE2)
            continue;
        int m = k;
        while (m < SKY_SEG_COUNT && sec[m] <= 0 && m != SKY_SEG_CRUISE && m != SKY_SEG_CRUISE2)
            m++;
        double v = k - 1 == SKY_SEG_CRUISE || k - 1 == SKY_SEG_CRUISE2 ? tas[k] : tas[m];
        for (int i = k; i <= m; i++)
            tas[i] = v;
        k = m - 1;
    }
    bool step = h[5] > h[3];
    if (!step)
        tas[4] = tas[5] = tas[6] = tas[3];
    for (int k = 0; k <= SKY_SEG_COUNT; k++) {
        int32_t v = rint_i32(ground_speed(p, tas[k], h[k]));
        gs[k] = v;
    }

    double used = 0;
    for (int k = 0; k < SKY_SEG_COUNT; k++) {
        if (k == SKY_SEG_CRUISE || k == SKY_SEG_CRUISE2)
            continue;
        nm[k] = (gs[k] + gs[k + 1]) * 0.5 * sec[k] / 3600.0;
        used += nm[k];
    }
    double cruise_nm = dist_nm - used;
    if (cruise_nm < 0 || cruise_nm < min_cruise_share * dist_nm)
        return -1;
    double share = step ? clamp_d(p->step_share, 0.0, 1.0) : 1.0;
    double unit_s = SKY_PROFILE_TIME_MS / 1000.0;
    sec[SKY_SEG_CRUISE] = rint(cruise_nm * share / gs[3] * 3600.0 / unit_s) * unit_s;
    sec[SKY_SEG_CRUISE2] = rint(cruise_nm * (1 - share) / gs[5] * 3600.0 / unit_s) * unit_s;
    nm[SKY_SEG_CRUISE] = gs[3] * sec[SKY_SEG_CRUISE] / 3600.0;
    nm[SKY_SEG_CRUISE2] = gs[5] * sec[SKY_SEG_CRUISE2] / 3600.0;

    double t = 0, s = 0;
    for (int k = 0; k < NB; k++) {
        t += sec[k];
        s += nm[k];
        double units = rint(t / unit_s);
        if (units > MAX_UNITS)
            return -1;
        plan->profile[k] = (uint16_t)units;
        plan->seg_s[k] = (float)s;
        plan->seg_h[k] = (uint16_t)rint_i32(h[k + 1]);
    }
    double total_ms = (double)plan->profile[NB - 1] * SKY_PROFILE_TIME_MS +
                      rint(sec[SKY_SEG_FINAL] * 1000.0);
    if (total_ms > INT32_MAX)
        return -1;
    for (int k = 0; k <= SKY_SEG_COUNT; k++)
        plan->seg_v[k] = (uint16_t)gs[k];
    plan->duration_ms = (int32_t)total_ms;
    s += nm[SKY_SEG_FINAL];
    plan->rad_per_nm = (float)(s > 0 ? dist_nm / SKY_EARTH_RADIUS_NM / s : 0);
    return 0;
}

int32_t sky_profile_boundary_ft(const sky_flight_plan_t *plan, int k) {
    if (k < 0)
        return plan->dep_elev_ft;
    return k < NB ? plan->seg_h[k] : plan->arr_elev_ft;
}

/* How many of the first NB segments have ended by time unit u (< the last one's end).
 * Every record asks: ten unsigned compares in two vector ones. */
static int finished_segments(const sky_flight_plan_t *plan, uint32_t u) {
#ifdef __SSE2__
    const __m128i bias = _mm_set1_epi16((short)0x8000); /* unsigned order as signed */
    __m128i t = _mm_xor_si128(_mm_set1_epi16((short)u), bias);
    __m128i lo = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)plan->profile),
                               bias); /* 0..7 */
    __m128i hi = _mm_xor_si128(
        _mm_loadu_si128((const __m128i *)(const void *)(plan->profile + 2)), bias); /* 2..9 */
    /* a lane is set where the segment is still running: profile[i] > u */
    __m128i packed = _mm_packs_epi16(_mm_cmpgt_epi16(lo, t), _mm_cmpgt_epi16(hi, t));
    unsigned m = (unsigned)_mm_movemask_epi8(packed);
    unsigned running = (m & 0xFFu) | ((m >> 14) & 3u) << 8; /* hi's lanes 6, 7: ends 8, 9 */
    /* segment ends never decrease, so the running ones are a run of high bits: the
     * lowest set bit is the count of finished ones */
    return running ? __builtin_ctz(running) : NB;
#else
    int k = 0;
    for (int i = 0; i < NB; i++)
        k += plan->profile[i] <= u;
    return k;
#endif
}

void sky_profile_eval(const sky_flight_plan_t *plan, int64_t t_ms, double *s_nm, int32_t *alt_ft,
                      int32_t *speed_kt, int *phase) {
    if (t_ms >= plan->duration_ms) {
        *s_nm = plan->seg_s[NB - 1] + (plan->seg_v[NB] + plan->seg_v[NB + 1]) * 0.5 *
                                          (plan->duration_ms - plan->profile[NB - 1] *
                                                                   SKY_PROFILE_TIME_MS) /
                                          MS_PER_HOUR;
        *alt_ft = plan->arr_elev_ft;
        *speed_kt = plan->seg_v[SKY_SEG_COUNT];
        *phase = SKY_PHASE_LANDED;
        return;
    }
    if (t_ms < 0)
        t_ms = 0;
    int32_t tm = (int32_t)t_ms;
    int k = finished_segments(plan, (uint32_t)tm / SKY_PROFILE_TIME_MS);
    int32_t t0 = k ? plan->profile[k - 1] * SKY_PROFILE_TIME_MS : 0;
    int32_t t1 = k < NB ? plan->profile[k] * SKY_PROFILE_TIME_MS : plan->duration_ms;
    double dt = (double)(tm - t0), span = (double)(t1 - t0);
    double f = dt / span;
    double v0 = plan->seg_v[k], dv = plan->seg_v[k + 1] - v0, v = v0 + dv * f;
    /* along-track distance: the mean of v0 and v over dt, (v0 + v) / 2 * dt, with v's
     * division folded into the one division, which the position waits for */
    double s = (k ? plan->seg_s[k - 1] : 0.0) +
               dt * (2.0 * v0 * span + dv * dt) / (span * (2.0 * MS_PER_HOUR));
    static const int8_t phase_of[SKY_SEG_COUNT] = {
        SKY_PHASE_CLIMB,   SKY_PHASE_CLIMB,   SKY_PHASE_CLIMB,   SKY_PHASE_CRUISE,
        SKY_PHASE_CRUISE,  SKY_PHASE_CRUISE,  SKY_PHASE_DESCENT, SKY_PHASE_DESCENT,
        SKY_PHASE_DESCENT, SKY_PHASE_DESCENT, SKY_PHASE_APPROACH};
    double h0 = k ? plan->seg_h[k - 1] : plan->dep_elev_ft;
    double h1 = k < NB ? plan->seg_h[k] : plan->arr_elev_ft;
    *phase = phase_of[k];
    *s_nm = s;
    *alt_ft = rint_i32(h0 + (h1 - h0) * f);
    *speed_kt = rint_i32(v);
}
