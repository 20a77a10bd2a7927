/* The wind field (see wind.h). Evaluated once per flight, when it is planned. */
#include "wind.h"

#include <math.h>

#define DEG (M_PI / 180.0)
#define JET_KT 55.0       /* core speed of the mean jet at its level */
#define JET_WIDTH_DEG 13.0

static uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t z) { return (double)(z >> 11) * 0x1p-53; }

void sky_wind_jet(uint64_t seed, double lat, double lon, double *u_kt, double *v_kt) {
    uint64_t s = mix(seed ^ 0x57494E44ULL); /* "WIND" */
    double psi_n = 2 * M_PI * unit(s), psi_s = 2 * M_PI * unit(mix(s + 1));
    double strength = 0.7 + 0.6 * unit(mix(s + 2));
    double l = lon * DEG;
    /* the jets' axes meander: 4 waves round the north, 3 round the south */
    double axis_n = 42.0 + 9.0 * sin(4 * l + psi_n), axis_s = -(46.0 + 6.0 * sin(3 * l + psi_s));
    double gn = exp(-((lat - axis_n) / JET_WIDTH_DEG) * ((lat - axis_n) / JET_WIDTH_DEG));
    double gs = exp(-((lat - axis_s) / JET_WIDTH_DEG) * ((lat - axis_s) / JET_WIDTH_DEG));
    double un = JET_KT * strength * (1.0 + 0.35 * cos(4 * l + psi_n + 1.0)) * gn;
    double us = JET_KT * strength * (1.0 + 0.35 * cos(3 * l + psi_s + 2.0)) * gs;
    double tropics = -12.0 * exp(-(lat / 15.0) * (lat / 15.0));
    /* the flow follows the axis: northward where the axis climbs towards the east */
    *u_kt = un + us + tropics;
    *v_kt = un * 0.6 * cos(4 * l + psi_n) - us * 0.4 * cos(3 * l + psi_s);
}

double sky_wind_height_factor(double h_ft) {
    if (h_ft <= 0)
        return 0;
    if (h_ft <= SKY_WIND_JET_FT)
        return h_ft / SKY_WIND_JET_FT;
    double f = 1.0 - (h_ft - SKY_WIND_JET_FT) / 40000.0;
    return f > 0.5 ? f : 0.5;
}

void sky_wind_route(uint64_t seed, sky_geo_vec_t a, sky_geo_vec_t b, double *along_kt,
                    double *cross_kt) {
    double mx = a.x + b.x, my = a.y + b.y, mz = a.z + b.z;
    double mn = sqrt(mx * mx + my * my + mz * mz);
    *along_kt = *cross_kt = 0;
    if (mn < 1e-9)
        return;
    mx /= mn, my /= mn, mz /= mn;
    /* the track at the midpoint: b - a in the tangent plane there */
    double dx = b.x - a.x, dy = b.y - a.y, dz = b.z - a.z;
    double dm = dx * mx + dy * my + dz * mz;
    dx -= dm * mx, dy -= dm * my, dz -= dm * mz;
    double dn = sqrt(dx * dx + dy * dy + dz * dz);
    if (dn < 1e-12)
        return;
    dx /= dn, dy /= dn, dz /= dn;
    double lat = asin(mz > 1 ? 1 : mz < -1 ? -1 : mz), lon = atan2(my, mx);
    double u, v;
    sky_wind_jet(seed, lat / DEG, lon / DEG, &u, &v);
    /* east and north unit vectors at the midpoint */
    double ex = -sin(lon), ey = cos(lon), ez = 0;
    double nx = -sin(lat) * cos(lon), ny = -sin(lat) * sin(lon), nz = cos(lat);
    double wx = u * ex + v * nx, wy = u * ey + v * ny, wz = u * ez + v * nz;
    double al = wx * dx + wy * dy + wz * dz;
    double cx = wx - al * dx, cy = wy - al * dy, cz = wz - al * dz;
    *along_kt = al;
    *cross_kt = sqrt(cx * cx + cy * cy + cz * cz);
}
