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

/* ---- fast trigonometry (Cephes: sin.c, atan.c; S. L. Moshier, public domain) ---- */

static const double sin_coef[] = {1.58962301576546568060E-10, -2.50507477628578072866E-8,
                                  2.75573136213857245213E-6,  -1.98412698295895385996E-4,
                                  8.33333333332211858878E-3,  -1.66666666666666307295E-1};
static const double cos_coef[] = {-1.13585365213876817300E-11, 2.08757008419747316778E-9,
                                  -2.75573141792967388112E-7,  2.48015872888517045348E-5,
                                  -1.38888888888730564116E-3,  4.16666666666665929218E-2};

static double poly5(double x, const double c[6]) {
    return ((((c[0] * x + c[1]) * x + c[2]) * x + c[3]) * x + c[4]) * x + c[5];
}

void sky_geo_sincos(double x, double *sin_x, double *cos_x) {
    /* x = j * pi/4 + z, |z| <= pi/4, j even; pi/4 split in three for an exact product */
    long j = (long)(x * (4.0 / M_PI));
    j += j & 1;
    double y = (double)j;
    double z = ((x - y * 7.85398125648498535156E-1) - y * 3.77489470793079817668E-8) -
               y * 2.69515142907905952645E-15;
    double zz = z * z;
    double s = z + z * zz * poly5(zz, sin_coef);
    double c = 1.0 - 0.5 * zz + zz * zz * poly5(zz, cos_coef);
    switch (j & 7) {
    case 0: *sin_x = s, *cos_x = c; break;
    case 2: *sin_x = c, *cos_x = -s; break;
    case 4: *sin_x = -s, *cos_x = -c; break;
    default: *sin_x = -c, *cos_x = s; break;
    }
}

/* atan(num / den) for 0 <= num <= 0.66 den, den > 0: one division for the ratio, one
 * for the rational function. */
static double atan_small(double num, double den) {
    static const double p[] = {-8.750608600031904122785E-1, -1.615753718733365076637E1,
                               -7.500855792314704667340E1, -1.228866684490136173410E2,
                               -6.485021904942025371773E1};
    static const double q[] = {2.485846490142306297962E1, 1.650270098316988542046E2,
                               4.328810604912902668951E2, 4.853903996359136964868E2,
                               1.945506571482613964425E2};
    double x = num / den, z = x * x;
    double pz = (((p[0] * z + p[1]) * z + p[2]) * z + p[3]) * z + p[4];
    double qz = ((((z + q[0]) * z + q[1]) * z + q[2]) * z + q[3]) * z + q[4];
    return x * (z * pz / qz) + x;
}

#define PI_4_TAIL (0.5 * 6.123233995736765886130E-17) /* the bits of pi/4 a double drops */

double sky_geo_atan2(double y, double x) {
    double ax = fabs(x), ay = fabs(y), r;
    if (ax == 0.0 && ay == 0.0)
        r = 0.0;
    else if (ay <= 0.66 * ax)
        r = atan_small(ay, ax);
    else if (ax <= 0.66 * ay)
        r = M_PI / 2 - atan_small(ax, ay);
    else /* atan(a / b) = pi/4 + atan((a - b) / (a + b)); a - b is exact here (Sterbenz) */
        r = M_PI / 4 + (PI_4_TAIL + (ay >= ax ? atan_small(ay - ax, ay + ax)
                                             : -atan_small(ax - ay, ay + ax)));
    if (x < 0)
        r = M_PI - r;
    return y < 0 ? -r : r;
}
