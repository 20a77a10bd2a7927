/* A flight's vertical and speed profile: eleven segments in WRAP's structure (climb
 * before constant CAS, at constant CAS, at constant Mach; cruise, step climb, cruise;
 * descent at constant Mach, at constant CAS, a level-off, the descent to the final
 * approach gate and the final approach), each with a constant vertical rate and a ground
 * speed linear in time, so the along-track distance at any instant is a closed-form
 * quadratic. */
#ifndef SKY_PROFILE_H
#define SKY_PROFILE_H

#include "traffic.h"

#include <stdint.h>

enum sky_segment {
    SKY_SEG_CLIMB_PRE,     /* field to the constant-CAS altitude, accelerating */
    SKY_SEG_CLIMB_CAS,     /* constant CAS up to where the constant-Mach climb starts */
    SKY_SEG_CLIMB_MACH,    /* constant Mach to the initial cruise level */
    SKY_SEG_CRUISE,        /* level at the initial cruise level */
    SKY_SEG_STEP,          /* step climb to the final cruise level (none: zero length) */
    SKY_SEG_CRUISE2,       /* level at the final cruise level (none: zero length) */
    SKY_SEG_DESCENT_MACH,  /* constant Mach down to where the constant-CAS descent starts */
    SKY_SEG_DESCENT_CAS,   /* constant CAS */
    SKY_SEG_LEVEL,         /* a level-off, slowing down (none: zero length) */
    SKY_SEG_DESCENT_LOW,   /* down to the final approach gate */
    SKY_SEG_FINAL,         /* final approach: the glide path to the runway */
    SKY_SEG_COUNT
};
_Static_assert(SKY_SEG_COUNT == SKY_PLAN_SEGMENTS, "traffic.h sizes the plan's arrays");

#define SKY_PROFILE_GATE_FT 1500     /* final approach gate above the field */
#define SKY_PROFILE_TIME_MS 2000     /* unit of plan->profile */
#define SKY_PROFILE_FL100_FT 10000

/* One flight's performance, drawn by the traffic model (sim units: kt, fpm, ft; the
 * vertical rates positive). Speeds are calibrated airspeeds or Mach numbers as WRAP
 * gives them; the profile turns them into true airspeed (ISA) and then, with the
 * route's wind, into ground speed. */
typedef struct sky_profile_params {
    double liftoff_kt, climb_cas_kt, climb_mach, climb_cas_ft, climb_mach_ft;
    double climb_fpm[3];           /* before constant CAS, constant CAS, constant Mach */
    double cruise_mach;
    int32_t cruise_ft, cruise2_ft; /* initial and final cruise level */
    double step_share;             /* share of the cruise distance flown before the step */
    double descent_mach, descent_cas_kt, descent_mach_ft, descent_cas_ft;
    double descent_fpm[3];         /* constant Mach, constant CAS, after */
    double level_s, level_cas_kt;  /* level-off: how long, and the CAS it slows to */
    double final_cas_kt, final_fpm, touchdown_kt;
    double wind_along_kt, wind_cross_kt; /* the route's wind at the jet level */
} sky_profile_params_t;

/* Lowest cruise level the profile accepts for these field elevations. */
int32_t sky_profile_min_cruise_ft(int32_t dep_elev_ft, int32_t arr_elev_ft);

/* Fills plan->profile, seg_s, seg_h, seg_v, rad_per_nm and duration_ms for a flight of
 * dist_nm, using plan->dep_elev_ft / arr_elev_ft. Returns 0, or -1 (plan
 * untouched beyond scratch fields) when the cruise would be shorter than
 * min_cruise_share of the distance (negative share: only when it does not fit at all)
 * or the flight would last longer than the plan can hold (36 h). */
int sky_profile_build(sky_flight_plan_t *plan, const sky_profile_params_t *p, double dist_nm,
                      double min_cruise_share);

/* State t_ms after wheels up (clamped to [0, duration_ms]): along-track nm (times
 * rad_per_nm: the central angle from the departure),
 * altitude, ground speed and phase. Closed form, no allocation, no loop over time. */
void sky_profile_eval(const sky_flight_plan_t *plan, int64_t t_ms, double *s_nm, int32_t *alt_ft,
                      int32_t *speed_kt, int *phase);

/* Altitude at the end of segment k (0 .. SKY_SEG_COUNT - 1; the last is the field). */
int32_t sky_profile_boundary_ft(const sky_flight_plan_t *plan, int k);

#endif
