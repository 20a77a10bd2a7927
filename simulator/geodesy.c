/* Spherical-earth geodesy for the traffic model (see geodesy.h). */
#include "geodesy.h"

#include <math.h>

#ifdef __SSE2__
#include <emmintrin.h>
/* Marks a pointer to a table of constant pairs as unknown to the compiler, which would
 * otherwise rebuild each pair from a scalar load and a shuffle: two instructions
 * instead of one memory operand. */
#define OPAQUE(ptr) __asm__("" : "+r"(ptr))
#endif

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

/* Cephes' sin and cos polynomial coefficients, as pairs for the two-lane evaluation. */
static _Alignas(16) const double sincos_coef[6][2] = {
    {1.58962301576546568060E-10, -1.13585365213876817300E-11},
    {-2.50507477628578072866E-8, 2.08757008419747316778E-9},
    {2.75573136213857245213E-6, -2.75573141792967388112E-7},
    {-1.98412698295895385996E-4, 2.48015872888517045348E-5},
    {8.33333333332211858878E-3, -1.38888888888730564116E-3},
    {-1.66666666666666307295E-1, 4.16666666666665929218E-2}};

/* The sin and the cos polynomial at zz by Horner's rule, under SSE2 in two lanes at
 * once: the same operations either way, so the same bits. */
static void sincos_polys(double zz, double *ps, double *pc) {
#ifdef __SSE2__
    const double(*c)[2] = sincos_coef;
    OPAQUE(c);
    __m128d x = _mm_set1_pd(zz), p = _mm_load_pd(c[0]);
    p = _mm_add_pd(_mm_mul_pd(p, x), _mm_load_pd(c[1]));
    p = _mm_add_pd(_mm_mul_pd(p, x), _mm_load_pd(c[2]));
    p = _mm_add_pd(_mm_mul_pd(p, x), _mm_load_pd(c[3]));
    p = _mm_add_pd(_mm_mul_pd(p, x), _mm_load_pd(c[4]));
    p = _mm_add_pd(_mm_mul_pd(p, x), _mm_load_pd(c[5]));
    *ps = _mm_cvtsd_f64(p);
    *pc = _mm_cvtsd_f64(_mm_unpackhi_pd(p, p));
#else
    double s = sincos_coef[0][0], c = sincos_coef[0][1];
    for (int i = 1; i < 6; i++) {
        s = s * zz + sincos_coef[i][0];
        c = c * zz + sincos_coef[i][1];
    }
    *ps = s;
    *pc = c;
#endif
}

void sky_geo_sincos(double x, double *sin_x, double *cos_x) {
    /* x = j * pi/4 + z, |z| <= pi/4, j even; pi/4 split in three for an exact product */
    long j = (long)(x * (4.0 / M_PI));
    j += j & 1;
    double y = (double)j;
    double z = ((x - y * 7.85398125648498535156E-1) - y * 3.77489470793079817668E-8) -
               y * 2.69515142907905952645E-15;
    double zz = z * z, ps, pc;
    sincos_polys(zz, &ps, &pc);
    double s = z + z * zz * ps;
    double c = 1.0 - 0.5 * zz + zz * zz * pc;
    switch (j & 7) {
    case 0: *sin_x = s, *cos_x = c; break;
    case 2: *sin_x = c, *cos_x = -s; break;
    case 4: *sin_x = -s, *cos_x = -c; break;
    default: *sin_x = -c, *cos_x = s; break;
    }
}

/* atan(x) = x + x z P(z) / Q(z), z = x^2 (Cephes atan.c): literals, so that the
 * two-lane form loads each as one constant. */
#define ATAN_P0 -8.750608600031904122785E-1
#define ATAN_P1 -1.615753718733365076637E1
#define ATAN_P2 -7.500855792314704667340E1
#define ATAN_P3 -1.228866684490136173410E2
#define ATAN_P4 -6.485021904942025371773E1
#define ATAN_Q0 2.485846490142306297962E1
#define ATAN_Q1 1.650270098316988542046E2
#define ATAN_Q2 4.328810604912902668951E2
#define ATAN_Q3 4.853903996359136964868E2
#define ATAN_Q4 1.945506571482613964425E2

/* atan(num / den) for 0 <= num <= 0.66 den, den > 0: one division for the ratio, one
 * for the rational function. */
static double atan_small(double num, double den) {
    double x = num / den, z = x * x;
    double pz = (((ATAN_P0 * z + ATAN_P1) * z + ATAN_P2) * z + ATAN_P3) * z + ATAN_P4;
    double qz = ((((z + ATAN_Q0) * z + ATAN_Q1) * z + ATAN_Q2) * z + ATAN_Q3) * z + ATAN_Q4;
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

#ifdef __SSE2__
/* The constants of the two-lane code as 16-byte pairs, each one load (GCC builds an
 * _mm_set1_pd from a scalar load and a shuffle). */
enum { K_P0, K_P1, K_P2, K_P3, K_P4, K_Q0, K_Q1, K_Q2, K_Q3, K_Q4, K_MID, K_ONE, K_PI_4,
       K_PI_4_TAIL, K_PI_2, K_PI, K_COUNT };
#define PAIR(v) {v, v}
static _Alignas(16) const double pd[K_COUNT][2] = {
    PAIR(ATAN_P0), PAIR(ATAN_P1), PAIR(ATAN_P2), PAIR(ATAN_P3),     PAIR(ATAN_P4),
    PAIR(ATAN_Q0), PAIR(ATAN_Q1), PAIR(ATAN_Q2), PAIR(ATAN_Q3),     PAIR(ATAN_Q4),
    PAIR(0.66),    PAIR(1.0),     PAIR(M_PI / 4), PAIR(PI_4_TAIL), PAIR(M_PI / 2),
    PAIR(M_PI)};
#undef PAIR
#define K(name) _mm_load_pd(k[K_##name])
#define CONSTANTS                                                                          \
    const double(*k)[2] = pd;                                                              \
    OPAQUE(k)

/* mask ? a : b, lane by lane (SSE2 has no blend). */
static __m128d select_pd(__m128d mask, __m128d a, __m128d b) {
    return _mm_or_pd(_mm_and_pd(mask, a), _mm_andnot_pd(mask, b));
}

/* atan_small on two lanes: the same operations in the same order, so the same bits. */
static __m128d atan_small_pd(__m128d num, __m128d den) {
    CONSTANTS;
    __m128d x = _mm_div_pd(num, den), z = _mm_mul_pd(x, x);
    __m128d pz = _mm_add_pd(_mm_mul_pd(K(P0), z), K(P1));
    pz = _mm_add_pd(_mm_mul_pd(pz, z), K(P2));
    pz = _mm_add_pd(_mm_mul_pd(pz, z), K(P3));
    pz = _mm_add_pd(_mm_mul_pd(pz, z), K(P4));
    __m128d qz = _mm_add_pd(z, K(Q0));
    qz = _mm_add_pd(_mm_mul_pd(qz, z), K(Q1));
    qz = _mm_add_pd(_mm_mul_pd(qz, z), K(Q2));
    qz = _mm_add_pd(_mm_mul_pd(qz, z), K(Q3));
    qz = _mm_add_pd(_mm_mul_pd(qz, z), K(Q4));
    return _mm_add_pd(_mm_mul_pd(x, _mm_div_pd(_mm_mul_pd(z, pz), qz)), x);
}

/* sky_geo_atan2's three ranges become a choice of numerator, denominator, base angle
 * and sign per lane: r = base + (tail + sign * atan_small(num, den)), which is what
 * each branch of sky_geo_atan2 computes, so the bits are the same. */
void sky_geo_atan2_2(const double y[2], const double x[2], double r[2]) {
    CONSTANTS;
    const __m128d sign = _mm_set1_pd(-0.0), zero = _mm_setzero_pd();
    __m128d vy = _mm_loadu_pd(y), vx = _mm_loadu_pd(x);
    __m128d ax = _mm_andnot_pd(sign, vx), ay = _mm_andnot_pd(sign, vy);
    __m128d lo = _mm_min_pd(ax, ay), hi = _mm_max_pd(ax, ay);
    __m128d mid = _mm_cmpgt_pd(lo, _mm_mul_pd(K(MID), hi)); /* the pi/4 range */
    __m128d steep = _mm_cmpgt_pd(ay, ax);                  /* pi/2 - atan(x/y) */
    __m128d num = select_pd(mid, _mm_sub_pd(hi, lo), lo);
    __m128d den = select_pd(mid, _mm_add_pd(hi, lo), hi);
    den = select_pd(_mm_cmpeq_pd(den, zero), K(ONE), den); /* (0, 0): atan(0/1) */
    __m128d t = atan_small_pd(num, den);
    /* negated: in the pi/4 range when ay < ax, outside it when ay > ax */
    t = _mm_xor_pd(t, _mm_and_pd(_mm_xor_pd(mid, steep), sign));
    __m128d base = select_pd(mid, K(PI_4), _mm_and_pd(steep, K(PI_2)));
    __m128d res = _mm_add_pd(base, _mm_add_pd(_mm_and_pd(mid, K(PI_4_TAIL)), t));
    res = select_pd(_mm_cmplt_pd(vx, zero), _mm_sub_pd(K(PI), res), res);
    res = _mm_xor_pd(res, _mm_and_pd(_mm_cmplt_pd(vy, zero), sign));
    _mm_storeu_pd(r, res);
}
#undef K
#undef CONSTANTS
#else
void sky_geo_atan2_2(const double y[2], const double x[2], double r[2]) {
    r[0] = sky_geo_atan2(y[0], x[0]);
    r[1] = sky_geo_atan2(y[1], x[1]);
}
#endif
