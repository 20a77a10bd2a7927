/* The traffic model: loads airports, airlines and aircraft types, picks each
 * flight's route, type and airline from (seed, index) alone, and evaluates positions. */
#include "traffic.h"

#include "dynbuf.h"
#include "error.h"
#include "geodesy.h"
#include "parse.h"
#include "profile.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 32
#define NCONTINENTS 8        /* 0 = unknown, then AF AN AS EU NA OC SA */
#define LARGE_WEIGHT 6       /* a large airport sees ~6x the flights of a medium one */
#define MIN_ROUTE_NM 100.0
#define MIN_EXPLICIT_ROUTE_NM 50.0
#define ROUTE_CANDIDATES 12
#define ROUTE_HALF_WEIGHT_NM 700.0
#define ROUTE_ROUNDS 32
#define SAME_CONTINENT_SHARE 0.75
#define HOME_AIRLINE_SHARE 0.85
#define MIN_CRUISE_SHARE 0.2 /* short flights level off lower so >= 20% of the trip is cruise */
#define SHORT_ROUTE_FT_PER_NM 80.0 /* and no higher than 10000 ft + 80 ft per nm */

typedef struct airport {
    char icao[5], iata[4];
    double lat, lon;
    sky_geo_vec_t unit;
    int32_t elev_ft;
    uint8_t large, continent;
} airport_t;

/* Every airline's codes have these lengths (airline_row checks): ids are written
 * without measuring them. */
#define AIRLINE_ICAO_LEN 3
#define AIRLINE_IATA_LEN 2

typedef struct airline {
    char icao[4], iata[4];
    uint8_t continent;
} airline_t;

/* A weighted sample space: airport indices with cumulative weights. */
typedef struct pool {
    uint32_t *idx;
    uint64_t *cum;
    size_t n, idx_cap, cum_cap;
    uint32_t *guide; /* n buckets of the weight range: the first entry each can hold */
} pool_t;

struct sky_traffic {
    uint64_t seed;
    airport_t *airports;
    size_t nairports;
    airline_t *airlines;
    size_t nairlines;
    sky_aircraft_type_t *types;
    size_t ntypes;
    size_t airports_cap, airlines_cap, types_cap;
    double max_range_nm;
    pool_t region;                   /* airports flights may use */
    pool_t by_continent[NCONTINENTS];
    uint32_t (*routes)[2];           /* explicit routes, when given */
    size_t nroutes;
    uint16_t *home_airlines[NCONTINENTS];
    size_t nhome_airlines[NCONTINENTS];
};

/* ---- counter-based random numbers: no state outside one plan call ---- */

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static rng_t rng_for(uint64_t seed, uint64_t index) {
    uint64_t s = seed;
    uint64_t k = splitmix64(&s) ^ (index * 0xD6E8FEB86659FD93ULL);
    rng_t r = {splitmix64(&k)};
    return r;
}

static double rng_unit(rng_t *r) { return (double)(splitmix64(&r->s) >> 11) * 0x1p-53; }

static uint64_t rng_below(rng_t *r, uint64_t n) { return (uint64_t)(rng_unit(r) * (double)n); }

/* ---- CSV: one record per line, RFC 4180 quoting, fields split in place ---- */

static int csv_split(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        if (*p == '"') {
            char *out = ++p;
            fields[n++] = out;
            for (;;) {
                if (!*p)
                    return -2; /* unterminated quote */
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            *out = '\0';
            if (*p && *p != ',')
                return -2;
        } else {
            fields[n++] = p;
            while (*p && *p != ',')
                p++;
        }
        if (!*p)
            return n;
        *p++ = '\0';
    }
}

/* A CSV file with named columns: required ones first, then optional ones (-1 when absent). */
typedef struct table {
    const char *file; /* "airports.csv", for messages */
    const char *const *required, *const *optional; /* NULL-terminated name lists */
    int col[MAX_FIELDS];
    int ncols, max_col;
    int (*row)(sky_traffic_t *t, char **f, const int *col, const char *where, char *errstr,
               size_t errstr_size);
} table_t;

static int read_file(const char *path, char **out, char *errstr, size_t errstr_size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return sky_err(errstr, errstr_size, SKY_EIO,
                       "%s: cannot open (check the data directory)", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", path);
    if (failed) {
        free(buf);
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: read error", path);
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

static int column_of(char **f, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return i;
    return -1;
}

static int map_header(table_t *tb, char **f, int n, char *errstr, size_t errstr_size) {
    tb->ncols = 0;
    tb->max_col = 0;
    for (const char *const *c = tb->required; *c; c++) {
        int i = column_of(f, n, *c);
        if (i < 0)
            return sky_err(errstr, errstr_size, SKY_EINVAL, "%s:1: missing column \"%s\"",
                           tb->file, *c);
        tb->col[tb->ncols++] = i;
        if (i > tb->max_col)
            tb->max_col = i;
    }
    for (const char *const *c = tb->optional; c && *c; c++) {
        int i = column_of(f, n, *c);
        tb->col[tb->ncols++] = i;
        if (i > tb->max_col)
            tb->max_col = i;
    }
    return 0;
}

static int parse_line(table_t *tb, sky_traffic_t *t, char *line, size_t lineno, char *errstr,
                      size_t errstr_size) {
    char *fields[MAX_FIELDS], where[300];
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    snprintf(where, sizeof where, "%s:%zu", tb->file, lineno);
    if (len == 0)
        return lineno == 1 ? sky_err(errstr, errstr_size, SKY_EINVAL, "%s: no header", where)
                           : 0;
    int n = csv_split(line, fields, MAX_FIELDS);
    if (n < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: %s", where,
                       n == -1 ? "too many fields" : "bad quoting");
    if (lineno == 1)
        return map_header(tb, fields, n, errstr, errstr_size);
    if (n <= tb->max_col)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "%s: %d fields, the header names more", where, n);
    return tb->row(t, fields, tb->col, where, errstr, errstr_size);
}

static int load_table(sky_traffic_t *t, const char *dir, table_t *tb, char *errstr,
                      size_t errstr_size) {
    char path[4096], *buf = NULL;
    if (snprintf(path, sizeof path, "%s/%s", dir, tb->file) >= (int)sizeof path)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "data directory path too long");
    int rc = read_file(path, &buf, errstr, errstr_size);
    if (rc < 0)
        return rc;
    size_t lineno = 0;
    for (char *line = buf; rc == 0 && line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        rc = parse_line(tb, t, line, ++lineno, errstr, errstr_size);
        line = next;
    }
    if (rc == 0 && lineno < 2)
        rc = sky_err(errstr, errstr_size, SKY_EINVAL, "%s:%zu: no data rows", tb->file,
                     lineno + 1);
    free(buf);
    return rc;
}

/* ---- row parsers ---- */

/* Prefixes the reason a parse.h function wrote into errstr with file:line. */
static int field_err(const char *where, char *errstr, size_t errstr_size) {
    char reason[256];
    snprintf(reason, sizeof reason, "%s", errstr);
    return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: %s", where, reason);
}

static int parse_num(const char *s, double min, double max, double *out, const char *what,
                     const char *where, char *errstr, size_t errstr_size) {
    if (sky_parse_double(s, min, max, out, what, errstr, errstr_size) < 0)
        return field_err(where, errstr, errstr_size);
    return 0;
}

static int parse_int(const char *s, int64_t min, int64_t max, int32_t *out, const char *what,
                     const char *where, char *errstr, size_t errstr_size) {
    int64_t v;
    if (sky_parse_i64(s, min, max, &v, what, errstr, errstr_size) < 0)
        return field_err(where, errstr, errstr_size);
    *out = (int32_t)v;
    return 0;
}

static int check_code(const char *s, size_t len, const char *what, const char *where,
                      char *errstr, size_t errstr_size) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            n = 0;
    if (n != len)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "%s: %s \"%s\" is not %zu capital letters or digits", where, what, s,
                       len);
    return 0;
}

static uint8_t continent_code(const char *s) {
    static const char *const names[NCONTINENTS] = {"", "AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    for (uint8_t i = 1; i < NCONTINENTS; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return 0;
}

static const char *const airport_required[] = {"icao", "iata", "type", "lat", "lon",
                                               "elevation_ft", NULL};
static const char *const airport_optional[] = {"continent", NULL};

static int airport_row(sky_traffic_t *t, char **f, const int *col, const char *where,
                       char *errstr, size_t errstr_size) {
    airport_t a = {0};
    double elev;
    if (check_code(f[col[0]], 4, "icao", where, errstr, errstr_size) < 0 ||
        check_code(f[col[1]], 3, "iata", where, errstr, errstr_size) < 0)
        return SKY_EINVAL;
    if (strcmp(f[col[2]], "large") != 0 && strcmp(f[col[2]], "medium") != 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "%s: type \"%s\" is not large or medium", where, f[col[2]]);
    if (parse_num(f[col[3]], -90, 90, &a.lat, "lat", where, errstr, errstr_size) < 0 ||
        parse_num(f[col[4]], -180, 180, &a.lon, "lon", where, errstr, errstr_size) < 0 ||
        parse_num(f[col[5]], -2000, 20000, &elev, "elevation_ft", where, errstr, errstr_size) < 0)
        return SKY_EINVAL;
    memcpy(a.icao, f[col[0]], 5);
    memcpy(a.iata, f[col[1]], 4);
    a.elev_ft = (int32_t)lrint(elev);
    a.large = f[col[2]][0] == 'l';
    a.unit = sky_geo_unit(a.lat, a.lon);
    a.continent = col[6] >= 0 ? continent_code(f[col[6]]) : 0;
    if (t->nairports >= UINT32_MAX / 2 ||
        sky_grow_array((void **)&t->airports, &t->airports_cap, t->nairports + 1, sizeof a))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", where);
    t->airports[t->nairports++] = a;
    return 0;
}

static const char *const airline_required[] = {"icao", "iata", NULL};
static const char *const airline_optional[] = {"region", NULL};

static int airline_row(sky_traffic_t *t, char **f, const int *col, const char *where,
                       char *errstr, size_t errstr_size) {
    airline_t a = {0};
    if (check_code(f[col[0]], AIRLINE_ICAO_LEN, "icao", where, errstr, errstr_size) < 0 ||
        check_code(f[col[1]], AIRLINE_IATA_LEN, "iata", where, errstr, errstr_size) < 0)
        return SKY_EINVAL;
    memcpy(a.icao, f[col[0]], 4);
    memcpy(a.iata, f[col[1]], 3);
    a.continent = col[2] >= 0 ? continent_code(f[col[2]]) : 0;
    if (t->nairlines >= UINT16_MAX)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: too many airlines", where);
    if (sky_grow_array((void **)&t->airlines, &t->airlines_cap, t->nairlines + 1, sizeof a))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", where);
    t->airlines[t->nairlines++] = a;
    return 0;
}

static const char *const type_required[] = {
    "icao", "category", "cruise_ft", "ceiling_ft", "cruise_mach", "cruise_kt",
    "climb_fpm_below_fl100", "climb_fpm_fl100_fl240", "climb_fpm_above_fl240", "descent_fpm",
    "climb_kt", "approach_kt", "touchdown_kt", "range_nm", NULL};

/* The integer columns of aircraft_types.csv (index into type_required) and their sane range. */
typedef struct int_field {
    int column;
    size_t offset;
    int64_t min, max;
} int_field_t;

static const int_field_t type_ints[] = {
    {2, offsetof(sky_aircraft_type_t, cruise_ft), 4000, 60000},
    {3, offsetof(sky_aircraft_type_t, ceiling_ft), 4000, 60000},
    {5, offsetof(sky_aircraft_type_t, cruise_kt), 80, 700},
    {6, offsetof(sky_aircraft_type_t, climb_fpm[0]), 100, 8000},
    {7, offsetof(sky_aircraft_type_t, climb_fpm[1]), 100, 8000},
    {8, offsetof(sky_aircraft_type_t, climb_fpm[2]), 100, 8000},
    {9, offsetof(sky_aircraft_type_t, descent_fpm), 100, 8000},
    {10, offsetof(sky_aircraft_type_t, climb_kt), 80, 400},
    {11, offsetof(sky_aircraft_type_t, approach_kt), 60, 250},
    {12, offsetof(sky_aircraft_type_t, touchdown_kt), 50, 250},
    {13, offsetof(sky_aircraft_type_t, range_nm), 100, 12000},
};

static int type_row(sky_traffic_t *t, char **f, const int *col, const char *where, char *errstr,
                    size_t errstr_size) {
    sky_aircraft_type_t y = {0};
    const char *cat = f[col[1]];
    if (!*f[col[0]] || sky_strlcpy(y.icao, f[col[0]], sizeof y.icao) < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: icao \"%s\" empty or too long",
                       where, f[col[0]]);
    if (strcmp(cat, "turboprop") && strcmp(cat, "regional") && strcmp(cat, "narrowbody") &&
        strcmp(cat, "widebody"))
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "%s: category \"%s\" is not turboprop, regional, narrowbody or widebody",
                       where, cat);
    sky_strlcpy(y.category, cat, sizeof y.category);
    for (size_t i = 0; i < sizeof type_ints / sizeof type_ints[0]; i++) {
        const int_field_t *fd = &type_ints[i];
        int32_t *dst = (int32_t *)((char *)&y + fd->offset);
        if (parse_int(f[col[fd->column]], fd->min, fd->max, dst, type_required[fd->column], where,
                      errstr, errstr_size) < 0)
            return SKY_EINVAL;
    }
    if (parse_num(f[col[4]], 0.1, 1.2, &y.cruise_mach, "cruise_mach", where, errstr,
                  errstr_size) < 0)
        return SKY_EINVAL;
    if (y.cruise_ft > y.ceiling_ft || y.touchdown_kt > y.approach_kt ||
        y.approach_kt > y.climb_kt || y.climb_kt > y.cruise_kt)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "%s: figures out of order (need cruise_ft <= ceiling_ft and "
                       "touchdown_kt <= approach_kt <= climb_kt <= cruise_kt)",
                       where);
    if (t->ntypes >= UINT16_MAX)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: too many aircraft types", where);
    if (sky_grow_array((void **)&t->types, &t->types_cap, t->ntypes + 1, sizeof y))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", where);
    t->types[t->ntypes++] = y;
    return 0;
}

/* ---- the region flights may use ---- */

static int pool_add(pool_t *p, uint32_t airport, uint64_t weight) {
    if (sky_grow_array((void **)&p->idx, &p->idx_cap, p->n + 1, sizeof *p->idx) ||
        sky_grow_array((void **)&p->cum, &p->cum_cap, p->n + 1, sizeof *p->cum))
        return -1;
    p->idx[p->n] = airport;
    p->cum[p->n] = (p->n ? p->cum[p->n - 1] : 0) + weight;
    p->n++;
    return 0;
}

static void pool_free(pool_t *p) {
    free(p->idx);
    free(p->cum);
    free(p->guide);
}

static uint64_t guide_bucket(const pool_t *p, uint64_t x) {
    return (uint64_t)(((unsigned __int128)x * p->n) / p->cum[p->n - 1]);
}

/* Guide table for pool_sample: bucket g starts its search at the first entry whose
 * sum exceeds the smallest draw in the bucket (a route is ~13 draws: the plan's
 * hot spot was the binary search). Empty pools need none. */
static int pool_index(pool_t *p) {
    if (p->n == 0)
        return 0;
    if (!(p->guide = malloc(p->n * sizeof *p->guide)))
        return -1;
    uint64_t total = p->cum[p->n - 1];
    size_t i = 0;
    for (size_t g = 0; g < p->n; g++) {
        uint64_t xmin = (uint64_t)(((unsigned __int128)g * total + p->n - 1) / p->n);
        while (p->cum[i] <= xmin)
            i++;
        p->guide[g] = (uint32_t)i;
    }
    return 0;
}

/* Airport drawn with probability proportional to its weight: the first entry whose
 * running sum exceeds the draw. */
static uint32_t pool_sample(const pool_t *p, rng_t *r) {
    uint64_t x = rng_below(r, p->cum[p->n - 1]);
    size_t i = p->guide[guide_bucket(p, x)];
    while (p->cum[i] <= x)
        i++;
    return p->idx[i];
}

static bool in_bbox(const sky_region_t *rg, const airport_t *a) {
    if (!rg->has_bbox)
        return true;
    if (a->lat < rg->south || a->lat > rg->north)
        return false;
    if (rg->west <= rg->east)
        return a->lon >= rg->west && a->lon <= rg->east;
    return a->lon >= rg->west || a->lon <= rg->east; /* box across the antimeridian */
}

static int mark_listed(const sky_traffic_t *t, const sky_region_t *rg, uint8_t *allowed,
                       char *errstr, size_t errstr_size) {
    if (!rg->airports || rg->nairports == 0) {
        memset(allowed, 1, t->nairports);
        return 0;
    }
    for (size_t i = 0; i < rg->nairports; i++) {
        long a = sky_traffic_find_airport(t, rg->airports[i]);
        if (a < 0)
            return sky_err(errstr, errstr_size, SKY_EUSAGE,
                           "region: airport \"%s\" is not in airports.csv (use ICAO codes)",
                           rg->airports[i]);
        allowed[a] = 1;
    }
    return 0;
}

static int build_pools(sky_traffic_t *t, const sky_region_t *rg, char *errstr,
                       size_t errstr_size) {
    uint8_t *allowed = calloc(t->nairports ? t->nairports : 1, 1);
    if (!allowed)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "region: out of memory");
    int rc = mark_listed(t, rg, allowed, errstr, errstr_size);
    for (uint32_t i = 0; rc == 0 && i < t->nairports; i++) {
        const airport_t *a = &t->airports[i];
        if (!allowed[i] || !in_bbox(rg, a))
            continue;
        uint64_t w = a->large ? LARGE_WEIGHT : 1;
        if (pool_add(&t->region, i, w) < 0 || pool_add(&t->by_continent[a->continent], i, w) < 0)
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "region: out of memory");
    }
    free(allowed);
    for (int c = 0; rc == 0 && c <= NCONTINENTS; c++)
        if (pool_index(c < NCONTINENTS ? &t->by_continent[c] : &t->region) < 0)
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "region: out of memory");
    if (rc == 0 && t->region.n < 2)
        rc = sky_err(errstr, errstr_size, SKY_EUSAGE,
                     "region: %zu airport(s) match the bounding box and airport list; "
                     "at least 2 are needed",
                     t->region.n);
    return rc;
}

static int parse_route(const sky_traffic_t *t, const char *route, uint32_t out[2], char *errstr,
                       size_t errstr_size) {
    char dep[5], arr[5];
    if (strlen(route) != 9 || route[4] != '-')
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "route \"%s\": expected ICAO-ICAO, e.g. EGLL-LFPG", route);
    memcpy(dep, route, 4);
    dep[4] = '\0';
    memcpy(arr, route + 5, 5);
    long d = sky_traffic_find_airport(t, dep), a = sky_traffic_find_airport(t, arr);
    if (d < 0 || a < 0)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "route \"%s\": airport %s not in "
                       "airports.csv", route, d < 0 ? dep : arr);
    const airport_t *x = &t->airports[d], *y = &t->airports[a];
    double nm = sky_geo_distance_nm(x->lat, x->lon, y->lat, y->lon);
    if (nm < MIN_EXPLICIT_ROUTE_NM || nm > 10000)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "route \"%s\": %.0f nm; routes must be %.0f to 10000 nm", route, nm,
                       MIN_EXPLICIT_ROUTE_NM);
    out[0] = (uint32_t)d;
    out[1] = (uint32_t)a;
    return 0;
}

static int build_routes(sky_traffic_t *t, const sky_region_t *rg, char *errstr,
                        size_t errstr_size) {
    if (!rg->routes || rg->nroutes == 0)
        return 0;
    t->routes = calloc(rg->nroutes, sizeof *t->routes);
    if (!t->routes)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "routes: out of memory");
    for (size_t i = 0; i < rg->nroutes; i++) {
        int rc = parse_route(t, rg->routes[i], t->routes[i], errstr, errstr_size);
        if (rc < 0)
            return rc;
    }
    t->nroutes = rg->nroutes;
    return 0;
}

static int build_home_airlines(sky_traffic_t *t, char *errstr, size_t errstr_size) {
    for (int c = 0; c < NCONTINENTS; c++) {
        t->home_airlines[c] = calloc(t->nairlines, sizeof(uint16_t));
        if (!t->home_airlines[c])
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "airlines: out of memory");
        for (size_t i = 0; i < t->nairlines; i++)
            if (c != 0 && t->airlines[i].continent == c)
                t->home_airlines[c][t->nhome_airlines[c]++] = (uint16_t)i;
    }
    return 0;
}

/* ---- construction ---- */

static int load_all(sky_traffic_t *t, const sky_traffic_params_t *p, char *errstr,
                    size_t errstr_size) {
    const char *dir = p->data_dir ? p->data_dir : SKY_SOURCE_DIR "/scenarios/data";
    table_t tables[] = {
        {"airports.csv", airport_required, airport_optional, {0}, 0, 0, airport_row},
        {"airlines.csv", airline_required, airline_optional, {0}, 0, 0, airline_row},
        {"aircraft_types.csv", type_required, NULL, {0}, 0, 0, type_row},
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        int rc = load_table(t, dir, &tables[i], errstr, errstr_size);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < t->ntypes; i++)
        if (t->types[i].range_nm > t->max_range_nm)
            t->max_range_nm = t->types[i].range_nm;
    int rc = build_home_airlines(t, errstr, errstr_size);
    if (rc == 0)
        rc = build_routes(t, &p->region, errstr, errstr_size);
    if (rc == 0 && t->nroutes == 0)
        rc = build_pools(t, &p->region, errstr, errstr_size);
    return rc;
}

sky_traffic_t *sky_traffic_new(const sky_traffic_params_t *p, char *errstr, size_t errstr_size) {
    sky_traffic_t *t = calloc(1, sizeof *t);
    if (!t) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "traffic model: out of memory");
        return NULL;
    }
    t->seed = p->seed;
    if (load_all(t, p, errstr, errstr_size) < 0) {
        sky_traffic_destroy(t);
        return NULL;
    }
    return t;
}

void sky_traffic_destroy(sky_traffic_t *t) {
    if (!t)
        return;
    free(t->airports);
    free(t->airlines);
    free(t->types);
    free(t->routes);
    pool_free(&t->region);
    for (int c = 0; c < NCONTINENTS; c++) {
        pool_free(&t->by_continent[c]);
        free(t->home_airlines[c]);
    }
    free(t);
}

/* ---- planning: every choice is a draw from the flight's own counter-based RNG ---- */

static double unit_distance_nm(const airport_t *a, const airport_t *b) {
    double c = a->unit.x * b->unit.x + a->unit.y * b->unit.y + a->unit.z * b->unit.z;
    return acos(c > 1 ? 1 : c < -1 ? -1 : c) * SKY_EARTH_RADIUS_NM;
}

/* Longer routes are rarer: most airline flights are short- and medium-haul
 * (falls to half at ROUTE_HALF_WEIGHT_NM, to ~1/40 at 6x that). */
static double distance_weight(const sky_traffic_t *t, double nm) {
    if (nm < MIN_ROUTE_NM || nm > t->max_range_nm * 0.95)
        return 0;
    double x = nm / ROUTE_HALF_WEIGHT_NM;
    return 1.0 / (1.0 + x * x);
}

static int draw_random_route(const sky_traffic_t *t, rng_t *r, uint32_t *dep, uint32_t *arr) {
    for (int round = 0; round < ROUTE_ROUNDS; round++) {
        uint32_t d = pool_sample(&t->region, r), cand[ROUTE_CANDIDATES];
        const pool_t *home = &t->by_continent[t->airports[d].continent];
        double w[ROUTE_CANDIDATES], total = 0;
        for (int i = 0; i < ROUTE_CANDIDATES; i++) {
            bool local = home->n >= 2 && rng_unit(r) < SAME_CONTINENT_SHARE;
            cand[i] = pool_sample(local ? home : &t->region, r);
            const airport_t *a = &t->airports[cand[i]];
            w[i] = cand[i] == d ? 0
                                : (a->large ? LARGE_WEIGHT : 1) *
                                      distance_weight(t, unit_distance_nm(&t->airports[d], a));
            total += w[i];
        }
        if (total <= 0)
            continue;
        double x = rng_unit(r) * total;
        int pick = 0;
        while (pick < ROUTE_CANDIDATES - 1 && (x -= w[pick]) >= 0)
            pick++;
        while (w[pick] <= 0) /* x landed past the last positive weight by rounding */
            pick--;
        *dep = d;
        *arr = cand[pick];
        return 0;
    }
    return -1;
}

static double category_weight(const char *category, double nm) {
    if (strcmp(category, "turboprop") == 0)
        return nm <= 300 ? 3 : nm <= 500 ? 1 : 0;
    if (strcmp(category, "regional") == 0)
        return nm <= 800 ? 2 : nm <= 1500 ? 0.7 : 0;
    if (strcmp(category, "narrowbody") == 0)
        return nm <= 300 ? 2 : nm <= 2500 ? 5 : nm <= 3200 ? 1 : 0.2;
    return nm < 1500 ? 0 : nm < 3000 ? 1 : 5; /* widebody */
}

/* A type that has the range, favouring the category that usually flies this length. */
static uint16_t draw_type(const sky_traffic_t *t, rng_t *r, double nm) {
    double w[64], total = 0;
    size_t n = t->ntypes < 64 ? t->ntypes : 64, longest = 0;
    for (size_t i = 0; i < n; i++) {
        const sky_aircraft_type_t *y = &t->types[i];
        w[i] = y->range_nm >= nm * 1.05 ? category_weight(y->category, nm) : 0;
        total += w[i];
        if (y->range_nm > t->types[longest].range_nm)
            longest = i;
    }
    double x = rng_unit(r) * total;
    if (total <= 0)
        return (uint16_t)longest;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0 && (x -= w[i]) < 0)
            return (uint16_t)i;
    return (uint16_t)longest;
}

static uint16_t draw_airline(const sky_traffic_t *t, rng_t *r, uint8_t continent) {
    size_t nhome = t->nhome_airlines[continent];
    bool home = nhome > 0 && rng_unit(r) < HOME_AIRLINE_SHARE;
    if (home)
        return t->home_airlines[continent][rng_below(r, nhome)];
    return (uint16_t)rng_below(r, t->nairlines);
}

/* cos and 1 / sin of the central angle a-b (the plan's geo), from the same unit
 * vectors sky_traffic_position combines; -1 for antipodal points. */
static int route_geo(const airport_t *a, const airport_t *b, double geo[2]) {
    const sky_geo_vec_t *u = &a->unit, *v = &b->unit;
    double cx = u->y * v->z - u->z * v->y, cy = u->z * v->x - u->x * v->z,
           cz = u->x * v->y - u->y * v->x;
    double c = u->x * v->x + u->y * v->y + u->z * v->z, sw = sqrt(cx * cx + cy * cy + cz * cz);
    geo[0] = c;
    geo[1] = sw > 1e-12 ? 1.0 / sw : 0.0; /* same point: the position stays at a */
    return sw > 1e-12 || c > 0 ? 0 : -1;
}

static int16_t clamp_i16(int32_t v) { return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }

/* Highest level from the type's usual cruise (+-2000 ft) down that leaves enough cruise. */
static int fit_profile(sky_flight_plan_t *plan, const sky_aircraft_type_t *y, rng_t *r) {
    int32_t lowest = sky_profile_min_cruise_ft(plan->dep_elev_ft, plan->arr_elev_ft);
    int32_t level = y->cruise_ft + 1000 * (int32_t)rng_below(r, 5) - 2000;
    int32_t short_route_cap = (int32_t)(10000 + plan->dist_nm * SHORT_ROUTE_FT_PER_NM);
    if (level > short_route_cap)
        level = short_route_cap;
    if (level > y->ceiling_ft)
        level = y->ceiling_ft;
    level = level / 1000 * 1000;
    if (level < lowest)
        level = lowest;
    for (int32_t c = level; c >= lowest; c -= 1000)
        if (sky_profile_build(plan, y, c, MIN_CRUISE_SHARE) == 0)
            return 0;
    for (int32_t c = level; c >= lowest; c -= 1000)
        if (sky_profile_build(plan, y, c, -1.0) == 0)
            return 0;
    return -1;
}

int sky_traffic_plan(const sky_traffic_t *t, uint64_t index, sky_flight_plan_t *plan,
                     char *errstr, size_t errstr_size) {
    rng_t r = rng_for(t->seed, index);
    uint32_t dep, arr;
    memset(plan, 0, sizeof *plan);
    plan->index = index;
    if (t->nroutes) {
        const uint32_t *route = t->routes[rng_below(&r, t->nroutes)];
        dep = route[0];
        arr = route[1];
    } else if (draw_random_route(t, &r, &dep, &arr) < 0) {
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "flight %llu: no route of %.0f nm or more within range found in the "
                       "region; widen the region",
                       (unsigned long long)index, MIN_ROUTE_NM);
    }
    const airport_t *a = &t->airports[dep], *b = &t->airports[arr];
    plan->dep = dep;
    plan->arr = arr;
    double dist_nm = sky_geo_distance_nm(a->lat, a->lon, b->lat, b->lon);
    plan->dist_nm = (float)dist_nm;
    plan->type = draw_type(t, &r, dist_nm);
    plan->airline = draw_airline(t, &r, a->continent);
    plan->number = (uint16_t)(1 + rng_below(&r, dist_nm > 2500 ? 999 : 9999));
    plan->dep_elev_ft = clamp_i16(a->elev_ft);
    plan->arr_elev_ft = clamp_i16(b->elev_ft);
    if (route_geo(a, b, plan->geo) < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "flight %llu: %s-%s are antipodal",
                       (unsigned long long)index, a->icao, b->icao);
    if (fit_profile(plan, &t->types[plan->type], &r) < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "flight %llu: route %s-%s (%.0f nm) is too short for a climb, descent "
                       "and %.0f nm approach",
                       (unsigned long long)index, a->icao, b->icao, dist_nm,
                       SKY_PROFILE_APPROACH_NM);
    return 0;
}

void sky_traffic_position(const sky_traffic_t *t, const sky_flight_plan_t *plan, int64_t t_ms,
                          sky_position_t *pos) {
    double s;
    sky_profile_eval(plan, t_ms, &s, &pos->alt_ft, &pos->speed_kt, &pos->phase);
    const airport_t *dep = &t->airports[plan->dep], *arr = &t->airports[plan->arr];
    if (pos->phase == SKY_PHASE_LANDED) {
        pos->lat = arr->lat;
        pos->lon = arr->lon;
        return;
    }
    double sn, c;
    sky_geo_sincos(s * (1.0 / SKY_EARTH_RADIUS_NM), &sn, &c);
    double kb = sn * plan->geo[1], ka = c - plan->geo[0] * kb;
    const sky_geo_vec_t *a = &dep->unit, *b = &arr->unit;
    double x = a->x * ka + b->x * kb, y = a->y * ka + b->y * kb, z = a->z * ka + b->z * kb;
    double ys[2] = {z, y}, xs[2] = {sqrt(x * x + y * y), x}, r[2];
    sky_geo_atan2_2(ys, xs, r);
    pos->lat = r[0] * (180.0 / M_PI);
    pos->lon = r[1] * (180.0 / M_PI);
}

/* ---- names and lookups ---- */

/* The decimal digits of number at out, written as one 8-byte word: the four low digits
 * are computed in two 16-bit lanes at once, then the leading zeros shifted out (numbers
 * of 1 to 4 digits interleave, so no branch on the length). Returns the length. */
static size_t put_number(char *out, uint16_t number) {
    unsigned v = number;
    size_t n = 0, low;
    if (v >= 10000) { /* five digits: the model draws 1..9999 */
        out[n++] = (char)('0' + v / 10000);
        v %= 10000;
        low = 4;
    } else {
        low = 1 + (size_t)(v >= 10) + (v >= 100) + (v >= 1000);
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t hi = v * 5243 >> 19, x = hi | (v - hi * 100) << 16; /* v / 100, v % 100 */
    uint32_t tens = (x * 103 >> 10) & 0x000F000Fu;                 /* each lane / 10 */
    uint32_t digits = (tens | (x - tens * 10) << 8) | 0x30303030u;
    uint64_t text = digits >> (8 * (4 - low));
    memcpy(out + n, &text, 8);
#else
    for (size_t i = low; i-- > 0; v /= 10)
        out[n + i] = (char)('0' + v % 10);
#endif
    return n + low;
}

/* "%06llx" of v. The first 16 million flights (six digits) in a few word operations:
 * each nibble spread to a byte, '0' or 'a' - 10 added to all at once. */
static size_t put_hex_min6(char *out, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (v < 1u << 24) {
        uint64_t x = v;
        x = (x | x << 16) & 0x0000FFFF0000FFFFull;
        x = (x | x << 8) & 0x00FF00FF00FF00FFull;
        x = (x | x << 4) & 0x0F0F0F0F0F0F0F0Full; /* nibble k in byte k */
        uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
        x += 0x3030303030303030ull + letters * ('a' - '0' - 10);
        x = __builtin_bswap64(x); /* the top nibble first; bytes 0-1 are the unused two */
        memcpy(out, (const char *)&x + 2, 6);
        return 6;
    }
#endif
    size_t len = 6;
    while (len < 16 && v >> (4 * len))
        len++;
    for (size_t i = len; i-- > 0; v >>= 4)
        out[i] = digits[v & 15];
    return len;
}

/* A code of code_len letters (NUL-padded to 4) and then the number, in fixed-size
 * moves each overwritten past its length by the next part. */
static size_t put_code_number(char *out, const char code[4], size_t code_len, uint16_t number) {
    memcpy(out, code, 4);
    return code_len + put_number(out + code_len, number);
}

size_t sky_traffic_put_flight_id(const sky_traffic_t *t, const sky_flight_plan_t *plan,
                                 char *out) {
    size_t n = put_code_number(out, t->airlines[plan->airline].icao, AIRLINE_ICAO_LEN,
                               plan->number);
    out[n++] = '-';
    return n + put_hex_min6(out + n, plan->index);
}

size_t sky_traffic_put_flight_number(const sky_traffic_t *t, const sky_flight_plan_t *plan,
                                     char *out) {
    return put_code_number(out, t->airlines[plan->airline].iata, AIRLINE_IATA_LEN, plan->number);
}

size_t sky_traffic_put_flight_number_from_id(const sky_traffic_t *t, const sky_flight_plan_t *plan,
                                             const char *id, size_t id_len, char *out) {
    /* the id is "<ICAO><digits>-<hex>", the hex six digits below 2^24 flights */
    if (plan->index >= 1u << 24 || id_len < AIRLINE_ICAO_LEN + 1 + 1 + 6)
        return sky_traffic_put_flight_number(t, plan, out);
    size_t digits = id_len - AIRLINE_ICAO_LEN - 1 - 6;
    memcpy(out, t->airlines[plan->airline].iata, 4);
    memcpy(out + AIRLINE_IATA_LEN, id + AIRLINE_ICAO_LEN, 8);
    return AIRLINE_IATA_LEN + digits;
}

/* A put_ function's text as a bounded C string (snprintf semantics). */
static size_t bounded(const char *text, size_t len, char *out, size_t outsz) {
    if (outsz) {
        size_t copy = len < outsz ? len : outsz - 1;
        memcpy(out, text, copy);
        out[copy] = '\0';
    }
    return len;
}

size_t sky_traffic_flight_id(const sky_traffic_t *t, const sky_flight_plan_t *plan, char *out,
                             size_t outsz) {
    char buf[SKY_TRAFFIC_PUT_ROOM];
    return bounded(buf, sky_traffic_put_flight_id(t, plan, buf), out, outsz);
}

const char *sky_traffic_airline_icao(const sky_traffic_t *t, const sky_flight_plan_t *plan) {
    return t->airlines[plan->airline].icao;
}

const char *sky_traffic_airline_iata(const sky_traffic_t *t, const sky_flight_plan_t *plan) {
    return t->airlines[plan->airline].iata;
}

size_t sky_traffic_flight_number(const sky_traffic_t *t, const sky_flight_plan_t *plan, char *out,
                                 size_t outsz) {
    char buf[SKY_TRAFFIC_PUT_ROOM];
    return bounded(buf, sky_traffic_put_flight_number(t, plan, buf), out, outsz);
}

const char *sky_traffic_airport_icao(const sky_traffic_t *t, uint32_t airport) {
    return airport < t->nairports ? t->airports[airport].icao : "????";
}

long sky_traffic_find_airport(const sky_traffic_t *t, const char *icao) {
    for (size_t i = 0; i < t->nairports; i++)
        if (strcmp(t->airports[i].icao, icao) == 0)
            return (long)i;
    return -1;
}

void sky_traffic_airport_pos(const sky_traffic_t *t, uint32_t airport, double *lat, double *lon,
                             int32_t *elev_ft) {
    const airport_t *a = &t->airports[airport < t->nairports ? airport : 0];
    *lat = a->lat;
    *lon = a->lon;
    *elev_ft = a->elev_ft;
}

size_t sky_traffic_airport_count(const sky_traffic_t *t) { return t->nairports; }

size_t sky_traffic_airline_count(const sky_traffic_t *t) { return t->nairlines; }

const sky_aircraft_type_t *sky_traffic_type(const sky_traffic_t *t, uint16_t type) {
    return type < t->ntypes ? &t->types[type] : NULL;
}

size_t sky_traffic_type_count(const sky_traffic_t *t) { return t->ntypes; }
