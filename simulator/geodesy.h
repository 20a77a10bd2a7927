/* Spherical-earth geodesy for the traffic model: unit vectors, great-circle
 * distance, and closed-form points along a great circle (no iteration). */
#ifndef SKY_GEODESY_H
#define SKY_GEODESY_H

/* Mean earth radius in nautical miles (6371.0088 km / 1.852). The spherical
 * model is within ~0.5% of WGS84 geodesic distances (see docs/traffic-model.md). */
#define SKY_EARTH_RADIUS_NM 3440.065

typedef struct sky_geo_vec {
    double x, y, z;
} sky_geo_vec_t;

/* Degrees to the unit vector from the earth's centre (x to 0N 0E, z to the north pole). */
sky_geo_vec_t sky_geo_unit(double lat_deg, double lon_deg);
/* Unit vector back to degrees (lon in [-180, 180]). */
void sky_geo_latlon(sky_geo_vec_t v, double *lat_deg, double *lon_deg);

/* Great-circle distance in nautical miles (atan2 form: accurate at every distance). */
double sky_geo_distance_nm(double lat1, double lon1, double lat2, double lon2);
/* Initial true course from point 1 towards point 2, degrees in [0, 360). */
double sky_geo_bearing_deg(double lat1, double lon1, double lat2, double lon2);
/* Distance in nm of point p from the great circle through a and b (absolute). */
double sky_geo_cross_track_nm(double lat, double lon, double lat1, double lon1, double lat2,
                              double lon2);

/* A great circle from a to b in a form that gives any point with one sincos:
 * p(s) = a cos(s/R) + u sin(s/R), with u the unit vector at right angles to a
 * in the plane of a and b. */
typedef struct sky_geo_arc {
    sky_geo_vec_t a, u;
    double length_nm;
} sky_geo_arc_t;

/* Fails (returns -1) only for antipodal points, whose great circle is not unique. */
int sky_geo_arc_init(sky_geo_arc_t *arc, double lat1, double lon1, double lat2, double lon2);
/* Point s nm along the arc from a (s is not clamped). */
void sky_geo_arc_point(const sky_geo_arc_t *arc, double s_nm, double *lat_deg, double *lon_deg);

/* Fast, libm-free trigonometry for the generator's hot path (one call per record).
 * Cephes' rational and polynomial approximations: within 4e-16 rad of libm, i.e.
 * far below the 1e-7 degree the records carry, at a third of glibc's cost, and the
 * same bits on every run. sky_geo_sincos takes 0 <= x <= 1e6 (a route's central
 * angle is at most pi). */
void sky_geo_sincos(double x, double *sin_x, double *cos_x);
double sky_geo_atan2(double y, double x);
/* r[i] = sky_geo_atan2(y[i], x[i]), the same bits, both at once and without branches
 * (a position's latitude and longitude). */
void sky_geo_atan2_2(const double y[2], const double x[2], double r[2]);

#endif
