/* Spherical-earth geodesy for the traffic model (see geodesy.h). */
#include "geodesy.h"

#include <math.h>

#define DEG2RAD (M_PI / 180.0)
#define RAD2DEG (180.0 / M_PI)

static double dot(sky_geo_vec_t a, sky_geo_vec_t b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

static sky_geo_vec_t cross(sky_geo_vec_t a, sky_geo_vec_t b) {
    sky_geo_vec_t c = {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
    return c;
}

static double norm(sky_geo_vec_t a) { return sqrt(dot(a, a)); }

sky_geo_vec_t sky_geo_unit(double lat_deg, double lon_deg) {
    double lat = lat_deg * DEG2RAD, lon = lon_deg * DEG2RAD;
    sky_geo_vec_t v = {cos(lat) * cos(lon), cos(lat) * sin(lon), sin(lat)};
    return v;
}

void sky_geo_latlon(sky_geo_vec_t v, double *lat_deg, double *lon_deg) {
    *lat_deg = atan2(v.z, sqrt(v.x * v.x + v.y * v.y)) * RAD2DEG;
    *lon_deg = atan2(v.y, v.x) * RAD2DEG;
}

/* Angle between unit vectors via atan2(|a x b|, a.b): no loss near 0 or pi, unlike acos. */
static double angle(sky_geo_vec_t a, sky_geo_vec_t b) { return atan2(norm(cross(a, b)), dot(a, b)); }

double sky_geo_distance_nm(double lat1, double lon1, double lat2, double lon2) {
    return angle(sky_geo_unit(lat1, lon1), sky_geo_unit(lat2, lon2)) * SKY_EARTH_RADIUS_NM;
}

double sky_geo_bearing_deg(double lat1, double lon1, double lat2, double lon2) {
    double p1 = lat1 * DEG2RAD, p2 = lat2 * DEG2RAD, dl = (lon2 - lon1) * DEG2RAD;
    double y = sin(dl) * cos(p2);
    double x = cos(p1) * sin(p2) - sin(p1) * cos(p2) * cos(dl);
    double b = atan2(y, x) * RAD2DEG;
    return b < 0 ? b + 360.0 : b;
}

double sky_geo_cross_track_nm(double lat, double lon, double lat1, double lon1, double lat2,
                              double lon2) {
    sky_geo_vec_t n = cross(sky_geo_unit(lat1, lon1), sky_geo_unit(lat2, lon2));
    double len = norm(n);
    if (len == 0.0)
        return sky_geo_distance_nm(lat, lon, lat1, lon1);
    double s = dot(sky_geo_unit(lat, lon), n) / len;
    if (s > 1.0)
        s = 1.0;
    if (s < -1.0)
        s = -1.0;
    return fabs(asin(s)) * SKY_EARTH_RADIUS_NM;
}

int sky_geo_arc_init(sky_geo_arc_t *arc, double lat1, double lon1, double lat2, double lon2) {
    sky_geo_vec_t a = sky_geo_unit(lat1, lon1), b = sky_geo_unit(lat2, lon2);
    double c = dot(a, b);
    /* u = normalised component of b at right angles to a */
    sky_geo_vec_t u = {b.x - c * a.x, b.y - c * a.y, b.z - c * a.z};
    double len = norm(u);
    arc->a = a;
    arc->length_nm = angle(a, b) * SKY_EARTH_RADIUS_NM;
    if (len < 1e-12) {
        arc->u.x = 0, arc->u.y = 0, arc->u.z = 0; /* same point: s stays 0 */
        return c > 0 ? 0 : -1;
    }
    arc->u.x = u.x / len, arc->u.y = u.y / len, arc->u.z = u.z / len;
    return 0;
}

void sky_geo_arc_point(const sky_geo_arc_t *arc, double s_nm, double *lat_deg, double *lon_deg) {
    double th = s_nm * (1.0 / SKY_EARTH_RADIUS_NM);
    double c = cos(th), s = sin(th);
    sky_geo_vec_t p = {arc->a.x * c + arc->u.x * s, arc->a.y * c + arc->u.y * s,
                       arc->a.z * c + arc->u.z * s};
    sky_geo_latlon(p, lat_deg, lon_deg);
}
