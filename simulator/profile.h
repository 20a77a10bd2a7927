/* A flight's vertical and speed profile: eight segments, each with a constant
 * vertical rate (or a 3-degree glide path) and a speed linear in time, so the
 * along-track distance at any instant is a closed-form quadratic. */
#ifndef SKY_PROFILE_H
#define SKY_PROFILE_H

#include "traffic.h"

#include <stdint.h>

enum sky_segment {
    SKY_SEG_CLIMB_LOW,     /* field to FL100, climb_fpm[0], lift-off speed to climb_kt */
    SKY_SEG_CLIMB_MID,     /* FL100 to FL240, climb_fpm[1] */
    SKY_SEG_CLIMB_HIGH,    /* FL240 to the cruise level, climb_fpm[2], up to cruise TAS */
    SKY_SEG_CRUISE,        /* level, constant TAS */
    SKY_SEG_DESCENT_HIGH,  /* cruise level to FL100, descent_fpm */
    SKY_SEG_DESCENT_LOW,   /* FL100 to 3000 ft above the field, 0.6 * descent_fpm */
    SKY_SEG_APPROACH,      /* 10 to 4 nm out on the glide path, slowing to approach_kt */
    SKY_SEG_FINAL,         /* last 4 nm, approach_kt to touchdown_kt */
    SKY_SEG_COUNT
};

#define SKY_PROFILE_FL100_FT 10000
#define SKY_PROFILE_FL240_FT 24000
#define SKY_PROFILE_GLIDE_FT 3000      /* height above the field where the approach starts */
#define SKY_PROFILE_APPROACH_NM 10.0   /* 3000 ft over 10 nm: a ~3 degree glide path */
#define SKY_PROFILE_FINAL_NM 4.0
#define SKY_PROFILE_LOW_DESCENT 0.6    /* share of descent_fpm used below FL100 */
#define SKY_PROFILE_LIFTOFF_EXTRA_KT 15 /* lift-off speed = touchdown_kt + this */

/* Lowest cruise level the profile accepts for these field elevations. */
int32_t sky_profile_min_cruise_ft(int32_t dep_elev_ft, int32_t arr_elev_ft);

/* Fills plan->profile, seg_s, seg_v, cruise_ft and duration_ms for a flight of
 * plan->dist_nm at cruise_ft, using plan->dep_elev_ft / arr_elev_ft. Returns 0,
 * or -1 (plan untouched beyond scratch fields) when the cruise segment would
 * be shorter than min_cruise_share of the distance (negative share: never) or
 * the flight would last longer than INT32_MAX ms. */
int sky_profile_build(sky_flight_plan_t *plan, const sky_aircraft_type_t *type, int32_t cruise_ft,
                      double min_cruise_share);

/* State t_ms after wheels up (clamped to [0, duration_ms]): along-track nm,
 * altitude, speed and phase. Closed form, no allocation, no loop over time. */
void sky_profile_eval(const sky_flight_plan_t *plan, int64_t t_ms, double *s_nm, int32_t *alt_ft,
                      int32_t *speed_kt, int *phase);

/* Vertical rate limit (fpm, positive) of the segment that holds altitude alt_ft
 * in climb, for the realism checks. */
int32_t sky_profile_climb_limit_fpm(const sky_aircraft_type_t *type, int32_t alt_ft);

#endif
