/* Tile38 1.37.0's geofence rules, ported from its sources (github.com/tidwall/geojson
 * v1.4.6: geometry/raycast.go, ring.go, circle.go, geo/geo.go; tile38 internal/server
 * fence.go, aof.go getQueueCandidates) so that expected events agree with the server
 * bit for bit on polygons, and up to libm's last bit on circles. */
#include "airspace.h"

#include "error.h"
#include "idmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go folds these constants exactly and rounds once; M_PI / 180 in C rounds twice. */
#define RADIANS 0.017453292519943295 /* pi / 180 */
#define DEGREES 57.295779513082323   /* 180 / pi */
#define PI_D 3.1415926535897931
#define TWO_PI 6.2831853071795862
#define THREE_PI 9.4247779607693793
#define EARTH_RADIUS_M 6371e3
#define TWO_PI_R 40030173.592041142
#define CIRCLE_STEPS 64 /* Tile38's defaultCircleSteps */
#define NEAR_MARGIN 1e-6 /* degrees: a record's coordinate vs the 7-decimal one Tile38 has */
#define BAND_MARGIN 0.01 /* degrees around a circle's latitude/longitude band */
#define MAX_FENCES 4096  /* a flight's state fits the stack: 64 words per bit set */
#define GRID_ROWS 180    /* one-degree cells listing the fences near them */
#define GRID_COLS 360
#define GRID_MAX_ENTRIES (8u << 20) /* beyond: no grid, every fence tested */

static const char *const kind_names[] = {"enter", "exit"};

const char *sky_fence_kind_name(sky_fence_kind_t kind) {
    return (unsigned)kind <= SKY_FENCE_EXIT ? kind_names[kind] : NULL;
}

int sky_fence_kind_parse(const char *name, sky_fence_kind_t *out) {
    for (int k = 0; k <= SKY_FENCE_EXIT; k++)
        if (name && strcmp(name, kind_names[k]) == 0) {
            *out = (sky_fence_kind_t)k;
            return 0;
        }
    return SKY_EINVAL;
}

double sky_tile38_coord(double v) {
    /* sky_fmt_fixed(v, 7): |v| * 1e7 + 0.5 truncated; the decimal text read back is
     * scaled / 1e7, and one IEEE division of two exact doubles rounds it the same way
     * strconv.ParseFloat does */
    double a = v < 0 ? -v : v;
    double r = (double)(int64_t)(a * 1e7 + 0.5) / 1e7;
    return v < 0 ? -r : r;
}

/* ---- airports ---- */


/* ---- geometry ---- */

typedef struct ring {
    double *x, *y; /* lon, lat of the closed ring Tile38 holds (first point repeated last) */
    size_t n;
    double minx, miny, maxx, maxy;
} ring_t;

typedef struct fence {
    bool circle;
    bool box; /* polygon: an axis-aligned rectangle without holes (the raycast gives
                 exactly its inclusive bounds: edges count as inside) */
    double clat, clon, hav; /* circle: centre and haversine of the radius */
    ring_t *rings;          /* polygon: exterior, then holes */
    size_t nrings;
    double rect[4]; /* hook rectangle: min lat, min lon, max lat, max lon */
    /* circle band for the cheap test (the rectangle may not hold the circle) */
    double blat0, blat1, blon0, blon1;
    bool ball_lon;
    bool has_floor, has_ceiling;
    double floor_ft, ceiling_ft;
} fence_t;

struct sky_fenceset {
    sky_airspace_t *as;
    fence_t *f;
    size_t n, words;
    double glat0, glat1, glon0, glon1; /* every fence's cheap region within this box */
    /* the fences whose cheap region touches each one-degree cell: cell c's are
     * grid_ids[grid_start[c] .. grid_start[c + 1]) (NULL: test every fence) */
    uint32_t *grid_start;
    uint16_t *grid_ids;
    uint64_t coarse[11]; /* bit (row / 10) * 36 + col / 10: some fence near that 10-degree
                            block (81 bytes, always in cache, unlike grid_start) */
};

/* github.com/tidwall/geojson/geometry/raycast.go, Segment.Raycast */
static void raycast(double ax, double ay, double bx, double by, double px, double py, bool *in,
                    bool *on) {
    *in = *on = false;
    if (ay < by && (py < ay || py > by))
        return;
    if (ay > by && (py < by || py > ay))
        return;
    if (ay == by) {
        if (ax == bx) {
            *on = px == ax && py == ay;
            return;
        }
        if (py == by) {
            if (ax < bx ? px >= ax && px <= bx : px >= bx && px <= ax) {
                *on = true;
                return;
            }
        }
    }
    if (ax == bx && px == bx) {
        if (ay < by ? py >= ay && py <= by : py >= by && py <= ay) {
            *on = true;
            return;
        }
    }
    if ((px - ax) / (bx - ax) == (py - ay) / (by - ay)) {
        *on = true;
        return;
    }
    while (py == ay || py == by)
        py = nextafter(py, INFINITY);
    if (ay < by ? py < ay || py > by : py < by || py > ay)
        return;
    if (ax > bx) {
        if (px >= ax)
            return;
        if (px <= bx) {
            *in = true;
            return;
        }
    } else {
        if (px >= bx)
            return;
        if (px <= ax) {
            *in = true;
            return;
        }
    }
    if (ay < by)
        *in = (py - ay) / (px - ax) >= (by - ay) / (bx - ax);
    else
        *in = (py - by) / (px - bx) >= (ay - by) / (ax - bx);
}

/* ring.go ringContainsPoint: the rectangle first, then the crossings of a ray. */
static bool ring_contains(const ring_t *r, double px, double py, bool allow_on_edge) {
    if (px < r->minx || px > r->maxx || py < r->miny || py > r->maxy)
        return false;
    bool in = false;
    size_t nseg = r->n - 1; /* closed: the last point repeats the first */
    for (size_t i = 0; i < nseg; i++) {
        double ay = r->y[i], by = r->y[i + 1];
        if ((ay < by ? ay : by) > py || (ay > by ? ay : by) < py)
            continue; /* the segment index's search rectangle [-inf, y] x [+inf, y] */
        bool hit, on;
        raycast(r->x[i], ay, r->x[i + 1], by, px, py, &hit, &on);
        if (on)
            return allow_on_edge;
        if (hit)
            in = !in;
    }
    return in;
}

/* geo.go Haversine */
static double haversine(double lat_a, double lon_a, double lat_b, double lon_b) {
    double p1 = lat_a * RADIANS, l1 = lon_a * RADIANS, p2 = lat_b * RADIANS, l2 = lon_b * RADIANS;
    double sp = sin((p2 - p1) / 2), sl = sin((l2 - l1) / 2);
    return sp * sp + cos(p1) * cos(p2) * sl * sl;
}

/* geo.go DestinationPoint */
static void destination(double lat, double lon, double meters, double bearing, double *dlat,
                        double *dlon) {
    double d = meters / EARTH_RADIUS_M, th = bearing * RADIANS;
    double p1 = lat * RADIANS, l1 = lon * RADIANS;
    double p2 = asin(sin(p1) * cos(d) + cos(p1) * sin(d) * cos(th));
    double l2 = l1 + atan2(sin(th) * sin(d) * cos(p1), cos(d) - sin(p1) * sin(p2));
    l2 = fmod(l2 + THREE_PI, TWO_PI) - PI_D;
    *dlat = p2 * DEGREES;
    *dlon = l2 * DEGREES;
}

static double minf(double a, double b) { return a < b ? a : b; }
static double maxf(double a, double b) { return a > b ? a : b; }

/* circle.go makeCircleObject's 64-gon, whose rectangle is the hook's. Its half widths
 * come from destination points east and west; across the antimeridian the west one
 * wraps and the "half width" turns negative and huge. */
static void circle_rect(fence_t *f, double meters) {
    if (meters <= 0) {
        f->rect[0] = f->rect[2] = f->clat;
        f->rect[1] = f->rect[3] = f->clon;
        return;
    }
    meters = fmod(meters, TWO_PI_R);
    double max_y, min_y, max_x, min_x, ignore;
    destination(f->clat, f->clon, meters, 0, &max_y, &ignore);
    destination(f->clat, f->clon, meters, 90, &ignore, &max_x);
    destination(f->clat, f->clon, meters, 180, &min_y, &ignore);
    destination(f->clat, f->clon, meters, 270, &ignore, &min_x);
    double lons = (max_x - min_x) / 2, lats = (max_y - min_y) / 2;
    double r[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (double th = 0.0; th <= 360.0; th += 360.0 / CIRCLE_STEPS) {
        double rad = RADIANS * th;
        double x = f->clon + lons * cos(rad), y = f->clat + lats * sin(rad);
        r[0] = minf(r[0], y);
        r[1] = minf(r[1], x);
        r[2] = maxf(r[2], y);
        r[3] = maxf(r[3], x);
    }
    memcpy(f->rect, r, sizeof r);
}

/* A latitude band and a (possibly wrapping) longitude band that hold the circle. */
static void circle_band(fence_t *f, double meters) {
    double r = meters / EARTH_RADIUS_M, r_deg = r * DEGREES;
    f->blat0 = f->clat - r_deg - BAND_MARGIN;
    f->blat1 = f->clat + r_deg + BAND_MARGIN;
    double s = r >= PI_D / 2 ? 2 : sin(r) / cos(f->clat * RADIANS);
    if (f->blat1 >= 90 || f->blat0 <= -90 || s >= 1) {
        f->ball_lon = true;
        return;
    }
    double dlon = asin(s) * DEGREES + BAND_MARGIN;
    f->blon0 = f->clon - dlon;
    f->blon1 = f->clon + dlon;
    if (f->blon0 < -180)
        f->blon0 += 360; /* wraps: blon0 > blon1 */
    if (f->blon1 > 180)
        f->blon1 -= 360;
}

static int compile_polygon(fence_t *f, const sky_airspace_t *a) {
    size_t nr = sky_airspace_rings(a);
    if (!(f->rings = calloc(nr, sizeof *f->rings)))
        return SKY_ENOMEM;
    f->nrings = nr;
    for (size_t r = 0; r < nr; r++) {
        size_t first, end;
        sky_airspace_ring(a, r, &first, &end);
        size_t n = end - first;
        bool closed = a->points[2 * first] == a->points[2 * (end - 1)] &&
                      a->points[2 * first + 1] == a->points[2 * (end - 1) + 1];
        ring_t *g = &f->rings[r];
        g->n = n + !closed;
        g->x = malloc(g->n * sizeof *g->x);
        g->y = malloc(g->n * sizeof *g->y);
        if (!g->x || !g->y)
            return SKY_ENOMEM;
        g->minx = g->miny = INFINITY;
        g->maxx = g->maxy = -INFINITY;
        for (size_t i = 0; i < g->n; i++) {
            size_t k = first + (i < n ? i : 0);
            g->y[i] = a->points[2 * k];
            g->x[i] = a->points[2 * k + 1];
            g->minx = minf(g->minx, g->x[i]);
            g->maxx = maxf(g->maxx, g->x[i]);
            g->miny = minf(g->miny, g->y[i]);
            g->maxy = maxf(g->maxy, g->y[i]);
        }
    }
    f->rect[0] = f->rings[0].miny;
    f->rect[1] = f->rings[0].minx;
    f->rect[2] = f->rings[0].maxy;
    f->rect[3] = f->rings[0].maxx;
    const ring_t *g = &f->rings[0];
    f->box = nr == 1 && g->n == 5;
    for (size_t i = 0; f->box && i < 4; i++)
        f->box = (g->x[i] == g->x[i + 1]) != (g->y[i] == g->y[i + 1]) && /* axis-parallel */
                 (g->x[i] == g->minx || g->x[i] == g->maxx) &&
                 (g->y[i] == g->miny || g->y[i] == g->maxy);
    return 0;
}

static int cell_row(double lat) {
    int r = (int)floor(lat + 90);
    return r < 0 ? 0 : r >= GRID_ROWS ? GRID_ROWS - 1 : r;
}

static int cell_col(double lon) {
    int c = (int)floor(lon + 180);
    return c < 0 ? 0 : c >= GRID_COLS ? GRID_COLS - 1 : c;
}

typedef struct area {
    double lat0, lat1, lon0, lon1;
} area_t;

/* Calls add(fs, cell, fence) for every cell the fence's cheap region touches. */
static void fence_cells(const fence_t *f, void (*add)(sky_fenceset_t *, int, uint16_t),
                        sky_fenceset_t *fs, uint16_t id) {
    area_t areas[3];
    int n = 0;
    areas[n++] = (area_t){f->rect[0] - NEAR_MARGIN, f->rect[2] + NEAR_MARGIN,
                                    f->rect[1] - NEAR_MARGIN, f->rect[3] + NEAR_MARGIN};
    if (f->circle && f->ball_lon)
        areas[n++] = (area_t){f->blat0, f->blat1, -180, 180};
    else if (f->circle && f->blon0 <= f->blon1)
        areas[n++] = (area_t){f->blat0, f->blat1, f->blon0, f->blon1};
    else if (f->circle) {
        areas[n++] = (area_t){f->blat0, f->blat1, f->blon0, 180};
        areas[n++] = (area_t){f->blat0, f->blat1, -180, f->blon1};
    }
    /* a cell once per fence even when two areas overlap it: mark, then add */
    static _Thread_local uint8_t seen[GRID_ROWS * GRID_COLS];
    int cells[4096], ncells = 0;
    bool overflow = false;
    for (int a = 0; a < n; a++) {
        if (areas[a].lat0 > 90 || areas[a].lat1 < -90 || areas[a].lon0 > 180 ||
            areas[a].lon1 < -180)
            continue;
        for (int r = cell_row(areas[a].lat0); r <= cell_row(areas[a].lat1); r++)
            for (int c = cell_col(areas[a].lon0); c <= cell_col(areas[a].lon1); c++) {
                int cell = r * GRID_COLS + c;
                if (seen[cell])
                    continue;
                seen[cell] = 1;
                add(fs, cell, id);
                if (ncells < (int)(sizeof cells / sizeof cells[0]))
                    cells[ncells++] = cell;
                else
                    overflow = true;
            }
    }
    if (overflow)
        memset(seen, 0, sizeof seen);
    else
        for (int i = 0; i < ncells; i++)
            seen[cells[i]] = 0;
}

static void count_cell(sky_fenceset_t *fs, int cell, uint16_t id) {
    (void)id;
    fs->grid_start[cell + 1]++;
}

static void fill_cell(sky_fenceset_t *fs, int cell, uint16_t id) {
    fs->grid_ids[fs->grid_start[cell]++] = id;
    int block = (cell / GRID_COLS) / 10 * 36 + (cell % GRID_COLS) / 10;
    fs->coarse[block >> 6] |= (uint64_t)1 << (block & 63);
}

/* Two passes: count the entries per cell, then fill them (grid_start moves by one
 * cell as it fills, and is put back). */
static void build_grid(sky_fenceset_t *fs) {
    size_t ncell = GRID_ROWS * GRID_COLS;
    if (!fs->n || !(fs->grid_start = calloc(ncell + 1, sizeof *fs->grid_start)))
        return;
    for (size_t i = 0; i < fs->n; i++)
        fence_cells(&fs->f[i], count_cell, fs, (uint16_t)i);
    uint64_t total = 0;
    for (size_t c = 1; c <= ncell; c++) {
        total += fs->grid_start[c];
        fs->grid_start[c] = (uint32_t)(total > UINT32_MAX ? UINT32_MAX : total);
    }
    if (total > GRID_MAX_ENTRIES || !(fs->grid_ids = malloc((total ? total : 1) *
                                                              sizeof *fs->grid_ids))) {
        free(fs->grid_start);
        fs->grid_start = NULL;
        return;
    }
    for (size_t i = 0; i < fs->n; i++)
        fence_cells(&fs->f[i], fill_cell, fs, (uint16_t)i);
    for (size_t c = ncell; c > 0; c--) /* each start moved to the next cell's */
        fs->grid_start[c] = fs->grid_start[c - 1];
    fs->grid_start[0] = 0;
}

static void grow_box(sky_fenceset_t *fs, double lat0, double lon0, double lat1, double lon1) {
    fs->glat0 = minf(fs->glat0, lat0);
    fs->glon0 = minf(fs->glon0, lon0);
    fs->glat1 = maxf(fs->glat1, lat1);
    fs->glon1 = maxf(fs->glon1, lon1);
}

sky_fenceset_t *sky_fenceset_new(const sky_airspace_t *a, size_t n, char *errstr,
                                 size_t errstr_size) {
    sky_fenceset_t *fs = calloc(1, sizeof *fs);
    if (!fs || !(fs->as = calloc(n ? n : 1, sizeof *fs->as)) ||
        !(fs->f = calloc(n ? n : 1, sizeof *fs->f))) {
        sky_fenceset_destroy(fs);
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory compiling airspaces");
        return NULL;
    }
    fs->words = (n + 63) / 64;
    fs->glat0 = fs->glon0 = INFINITY;
    fs->glat1 = fs->glon1 = -INFINITY;
    for (size_t i = 0; i < n; i++, fs->n++) {
        fence_t *f = &fs->f[i];
        int rc = sky_airspace_copy(&fs->as[i], &a[i]);
        if (!rc && a[i].kind == SKY_AIRSPACE_POLYGON) {
            rc = compile_polygon(f, &a[i]);
        } else if (!rc) {
            if (a[i].kind == SKY_AIRSPACE_AIRPORT && a[i].lat == 0 && a[i].lon == 0) {
                fs->n++;
                sky_fenceset_destroy(fs);
                sky_err(errstr, errstr_size, SKY_EUSAGE,
                        "airspace \"%s\": airport %s not resolved (sky_airspaces_resolve)",
                        a[i].name, a[i].airport);
                return NULL;
            }
            double meters = a[i].radius_nm * 1852.0;
            f->circle = true;
            f->clat = a[i].lat;
            f->clon = a[i].lon;
            f->hav = meters > 0 ? sin(0.5 * fmod(meters, TWO_PI_R) / EARTH_RADIUS_M) : 0;
            f->hav *= f->hav;
            circle_rect(f, meters);
            circle_band(f, meters);
        }
        if (rc) {
            fs->n++;
            sky_fenceset_destroy(fs);
            sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory compiling airspaces");
            return NULL;
        }
        f->has_floor = a[i].has_floor;
        f->has_ceiling = a[i].has_ceiling;
        f->floor_ft = a[i].floor_ft;
        f->ceiling_ft = a[i].ceiling_ft;
        grow_box(fs, f->rect[0] - NEAR_MARGIN, f->rect[1] - NEAR_MARGIN,
                 f->rect[2] + NEAR_MARGIN, f->rect[3] + NEAR_MARGIN);
        if (f->circle && (f->ball_lon || f->blon0 > f->blon1))
            grow_box(fs, f->blat0, -180, f->blat1, 180);
        else if (f->circle)
            grow_box(fs, f->blat0, f->blon0, f->blat1, f->blon1);
    }
    if (n > MAX_FENCES) {
        sky_fenceset_destroy(fs);
        sky_err(errstr, errstr_size, SKY_EUSAGE, "%zu airspaces: at most %d", n, MAX_FENCES);
        return NULL;
    }
    build_grid(fs); /* without it (out of memory, too many cells) every fence is tested */
    return fs;
}

void sky_fenceset_destroy(sky_fenceset_t *fs) {
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++) {
        for (size_t r = 0; fs->f && r < fs->f[i].nrings; r++) {
            free(fs->f[i].rings[r].x);
            free(fs->f[i].rings[r].y);
        }
        if (fs->f)
            free(fs->f[i].rings);
        if (fs->as)
            sky_airspace_free(&fs->as[i]);
    }
    free(fs->f);
    free(fs->as);
    free(fs->grid_start);
    free(fs->grid_ids);
    free(fs);
}

size_t sky_fenceset_count(const sky_fenceset_t *fs) { return fs->n; }

const sky_airspace_t *sky_fenceset_airspace(const sky_fenceset_t *fs, size_t i) {
    return i < fs->n ? &fs->as[i] : NULL;
}

size_t sky_fenceset_state_words(const sky_fenceset_t *fs) { return fs->words ? 2 * fs->words : 1; }

static bool altitude_ok(const fence_t *f, double alt) {
    return (!f->has_floor || alt >= f->floor_ft) && (!f->has_ceiling || alt <= f->ceiling_ft);
}

static bool fence_contains(const fence_t *f, double lat, double lon, double alt) {
    if (!altitude_ok(f, alt))
        return false;
    if (f->circle) /* circle.go containsPoint */
        return haversine(lat, lon, f->clat, f->clon) <= f->hav;
    if (f->box)
        return lat >= f->rect[0] && lat <= f->rect[2] && lon >= f->rect[1] && lon <= f->rect[3];
    /* geometry/poly.go ContainsPoint: on the exterior's edge is in, on a hole's edge too */
    if (!ring_contains(&f->rings[0], lon, lat, true))
        return false;
    for (size_t r = 1; r < f->nrings; r++)
        if (ring_contains(&f->rings[r], lon, lat, false))
            return false;
    return true;
}

static bool fence_candidate(const fence_t *f, double lat, double lon) {
    return lat >= f->rect[0] && lat <= f->rect[2] && lon >= f->rect[1] && lon <= f->rect[3];
}

bool sky_fence_contains(const sky_fenceset_t *fs, size_t i, double lat, double lon,
                        double alt_ft) {
    return i < fs->n && fence_contains(&fs->f[i], lat, lon, alt_ft);
}

bool sky_fence_candidate(const sky_fenceset_t *fs, size_t i, double lat, double lon) {
    return i < fs->n && fence_candidate(&fs->f[i], lat, lon);
}

void sky_fence_rect(const sky_fenceset_t *fs, size_t i, double rect[4]) {
    memcpy(rect, fs->f[i].rect, sizeof fs->f[i].rect);
}

/* Could the (unrounded) point be in the fence's rectangle or inside it? */
static bool near_fence(const fence_t *f, double lat, double lon) {
    if (lat >= f->rect[0] - NEAR_MARGIN && lat <= f->rect[2] + NEAR_MARGIN &&
        lon >= f->rect[1] - NEAR_MARGIN && lon <= f->rect[3] + NEAR_MARGIN)
        return true;
    if (!f->circle || lat < f->blat0 || lat > f->blat1)
        return false;
    if (f->ball_lon)
        return true;
    return f->blon0 <= f->blon1 ? lon >= f->blon0 && lon <= f->blon1
                                : lon >= f->blon0 || lon <= f->blon1;
}

/* The point as Tile38 holds it, rounded once, only when some fence is near. */
typedef struct point {
    double lat, lon, tlat, tlon;
    bool rounded;
    int32_t alt_ft;
} point_t;

/* Sets fence i's bits in new_in/new_rect for the point. */
static void test_fence(const fence_t *f, size_t i, point_t *p, uint64_t *new_in,
                       uint64_t *new_rect) {
    if (!near_fence(f, p->lat, p->lon))
        return;
    if (!p->rounded) {
        p->tlat = sky_tile38_coord(p->lat);
        p->tlon = sky_tile38_coord(p->lon);
        p->rounded = true;
    }
    if (fence_candidate(f, p->tlat, p->tlon))
        new_rect[i >> 6] |= (uint64_t)1 << (i & 63);
    if (fence_contains(f, p->tlat, p->tlon, (double)p->alt_ft))
        new_in[i >> 6] |= (uint64_t)1 << (i & 63);
}

bool sky_fenceset_near(const sky_fenceset_t *fs, double lat, double lon) {
    if (!(lat >= fs->glat0 && lat <= fs->glat1 && lon >= fs->glon0 && lon <= fs->glon1))
        return false;
    if (!fs->grid_start)
        return true;
    int block = cell_row(lat) / 10 * 36 + cell_col(lon) / 10;
    return (fs->coarse[block >> 6] >> (block & 63)) & 1;
}

bool sky_fenceset_step(const sky_fenceset_t *fs, uint64_t *state, double lat, double lon,
                       int32_t alt_ft, sky_fence_event_fn *fn, void *opaque) {
    size_t words = fs->words;
    uint64_t *inside = state, *rect = state + words, any = 0;
    for (size_t w = 0; w < 2 * words; w++)
        any |= state[w];
    bool near = sky_fenceset_near(fs, lat, lon);
    if (!any && !near)
        return false; /* far from every fence and no fence's object before: nothing changes */
    uint64_t new_in[MAX_FENCES / 64], new_rect[MAX_FENCES / 64];
    memset(new_in, 0, words * sizeof *new_in);
    memset(new_rect, 0, words * sizeof *new_rect);
    point_t p = {lat, lon, 0, 0, false, alt_ft};
    if (near && fs->grid_start) {
        size_t cell = (size_t)(cell_row(lat) * GRID_COLS + cell_col(lon));
        for (uint32_t k = fs->grid_start[cell]; k < fs->grid_start[cell + 1]; k++)
            test_fence(&fs->f[fs->grid_ids[k]], fs->grid_ids[k], &p, new_in, new_rect);
    } else if (near) {
        for (size_t i = 0; i < fs->n; i++)
            test_fence(&fs->f[i], i, &p, new_in, new_rect);
    }
    any = 0;
    for (size_t w = 0; w < words; w++) {
        /* fence.go: enter/exit when the match changed and the hook was a candidate
         * (aof.go looks hooks up by the old and the new position's rectangle) */
        uint64_t changed = (inside[w] ^ new_in[w]) & (rect[w] | new_rect[w]);
        while (changed && fn) {
            int b = __builtin_ctzll(changed);
            changed &= changed - 1;
            fn(opaque, w * 64 + (size_t)b,
               (new_in[w] >> b) & 1 ? SKY_FENCE_ENTER : SKY_FENCE_EXIT);
        }
        inside[w] = new_in[w];
        rect[w] = new_rect[w];
        any |= new_in[w] | new_rect[w];
    }
    return any != 0;
}

/* ---- trackers ---- */

struct sky_fence_tracker {
    const sky_fenceset_t *fs;
    size_t words;
    uint64_t *state;
    size_t cap;
    sky_idmap_t *ids; /* by flight id (created on first use) */
};

static int tracker_grow(sky_fence_tracker_t *t, size_t need) {
    if (need <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < need)
        cap *= 2;
    uint64_t *s = realloc(t->state, cap * t->words * sizeof *s);
    if (!s)
        return SKY_ENOMEM;
    memset(s + t->cap * t->words, 0, (cap - t->cap) * t->words * sizeof *s);
    t->state = s;
    t->cap = cap;
    return 0;
}

sky_fence_tracker_t *sky_fence_tracker_new(const sky_fenceset_t *fs, size_t slots) {
    sky_fence_tracker_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->fs = fs;
    t->words = sky_fenceset_state_words(fs);
    if (tracker_grow(t, slots ? slots : 1)) {
        free(t);
        return NULL;
    }
    return t;
}

void sky_fence_tracker_destroy(sky_fence_tracker_t *t) {
    if (!t)
        return;
    free(t->state);
    sky_idmap_destroy(t->ids);
    free(t);
}

uint64_t *sky_fence_tracker_slot(sky_fence_tracker_t *t, size_t i) {
    if (tracker_grow(t, i + 1))
        return NULL;
    return t->state + i * t->words;
}

void sky_fence_tracker_prefetch(const sky_fence_tracker_t *t, size_t i) {
    if (i < t->cap)
        __builtin_prefetch(t->state + i * t->words, 1);
}

void sky_fence_tracker_reset(sky_fence_tracker_t *t, size_t i) {
    if (i < t->cap)
        memset(t->state + i * t->words, 0, t->words * sizeof *t->state);
}

uint64_t *sky_fence_tracker_flight(sky_fence_tracker_t *t, const char *id, size_t len) {
    if (!t->ids && !(t->ids = sky_idmap_new(1024)))
        return NULL;
    int64_t i = sky_idmap_intern(t->ids, id, len, NULL);
    return i < 0 ? NULL : sky_fence_tracker_slot(t, (size_t)i);
}

/* ---- the airspace type ---- */

void sky_airspace_free(sky_airspace_t *a) {
    if (!a)
        return;
    free(a->name);
    free(a->points);
    free(a->ring_end);
    memset(a, 0, sizeof *a);
}

void sky_airspaces_free(sky_airspace_t *arr, size_t n) {
    for (size_t i = 0; arr && i < n; i++)
        sky_airspace_free(&arr[i]);
    free(arr);
}

int sky_airspace_copy(sky_airspace_t *dst, const sky_airspace_t *src) {
    *dst = *src;
    dst->name = NULL;
    dst->points = NULL;
    dst->ring_end = NULL;
    if ((src->name && !(dst->name = strdup(src->name))) ||
        (src->npoints && !(dst->points = malloc(src->npoints * 2 * sizeof *dst->points))) ||
        (src->ring_end && !(dst->ring_end = malloc(src->nrings * sizeof *dst->ring_end)))) {
        sky_airspace_free(dst);
        return SKY_ENOMEM;
    }
    if (src->npoints)
        memcpy(dst->points, src->points, src->npoints * 2 * sizeof *dst->points);
    if (src->ring_end)
        memcpy(dst->ring_end, src->ring_end, src->nrings * sizeof *dst->ring_end);
    return 0;
}

size_t sky_airspace_rings(const sky_airspace_t *a) {
    if (a->kind != SKY_AIRSPACE_POLYGON)
        return 0;
    return a->ring_end ? a->nrings : 1;
}

void sky_airspace_ring(const sky_airspace_t *a, size_t r, size_t *first, size_t *end) {
    if (!a->ring_end) {
        *first = 0;
        *end = a->npoints;
        return;
    }
    *first = r ? a->ring_end[r - 1] : 0;
    *end = a->ring_end[r];
}

/* A new zeroed airspace at the end of *arr; NULL when out of memory. */
