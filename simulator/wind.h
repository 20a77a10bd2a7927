/* The wind the simulated flights fly in: a smooth field of position and altitude,
 * westerly jets near 40-45 degrees north and south that meander with longitude
 * (planetary waves, their phase and strength set by the run's seed: the weather of the
 * day), weak easterlies in the tropics, growing linearly with altitude up to the jet
 * level. Each flight takes the field at its route's great-circle midpoint, split into
 * the components along and across its track there (docs/traffic-model.md "Wind"):
 * tests/realism/wind_model.py is the same formula. */
#ifndef SKY_WIND_H
#define SKY_WIND_H

#include "geodesy.h"

#include <stdint.h>

#define SKY_WIND_JET_FT 34000.0 /* wind grows linearly up to here, then eases off */

/* The field at the jet level: eastward u and northward v, kt. */
void sky_wind_jet(uint64_t seed, double lat_deg, double lon_deg, double *u_kt, double *v_kt);

/* The share of the jet-level wind at altitude h_ft (0 at sea level, 1 at the jet level). */
double sky_wind_height_factor(double h_ft);

/* A route's wind at the jet level, along its track (positive: tailwind) and across it
 * (absolute), at the midpoint of the great circle a-b (unit vectors). */
void sky_wind_route(uint64_t seed, sky_geo_vec_t a, sky_geo_vec_t b, double *along_kt,
                    double *cross_kt);

#endif
