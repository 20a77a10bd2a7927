/* The traffic model: loads airports, airlines and aircraft types, picks each
 * flight's route, type and airline from (seed, index) alone, and evaluates positions. */
#include "traffic.h"

#include "dynbuf.h"
#include "error.h"
#include "geodesy.h"
#include "parse.h"
#include "performance.h"
#include "profile.h"
#include "wind.h"

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
#define ROUTE_ROUNDS 64
#define BOX_ROUNDS 1024      /* rounds of the whole network before a bbox region helps */
#define MIN_CRUISE_SHARE 0.15 /* short flights level off lower so >= 15% of the trip is cruise */
#define SHORT_ROUTE_FT_PER_NM 80.0 /* and no higher than 10000 ft + 80 ft per nm */
#define STEP_CLIMB_NM 1500.0  /* flights this long may step up to a higher level */
#define LEVEL_OFF_SHARE 0.6   /* descents with a level-off */
#define FT_PER_KM 3280.84
#define KT_PER_MS 1.943844
#define FPM_PER_MS 196.8504

typedef struct airport {
    char icao[5], iata[4], country[3];
    double lat, lon;
    sky_geo_vec_t unit;
    int32_t elev_ft;
    uint8_t large, continent, scheduled, military;
} airport_t;

/* Every airline's codes have these lengths (airline_row checks): ids are written
 * without measuring them. */
#define AIRLINE_ICAO_LEN 3
#define AIRLINE_IATA_LEN 2

enum airline_kind { KIND_MAINLINE, KIND_LOWCOST, KIND_REGIONAL };
enum category { CAT_TURBOPROP, CAT_REGIONAL, CAT_NARROWBODY, CAT_WIDEBODY };

typedef struct airline {
    char icao[4], iata[4], country[3];
    uint8_t continent, kind, has_widebody, has_narrow; /* narrow: anything but wide-bodies */
    double weight;
    size_t line;           /* in airlines.csv, for errors found once every file is read */
    char *hub_codes, *fleet_codes; /* as written; resolved into hubs and fleet */
    uint32_t *hubs;
    size_t nhubs;
    uint16_t *fleet;       /* type indices; none = every type */
    size_t nfleet;
} airline_t;

/* A performance model's quantile tables, in the simulator's units (kt, fpm, ft). */
typedef struct perf_model {
    char name[8];
    uint32_t have; /* bit per variable */
    float q[SKY_PV_COUNT][SKY_PERF_KNOTS];
} perf_model_t;

/* A weighted sample space: indices (airports or airlines) with cumulative weights. */
typedef struct pool {
    uint32_t *idx;
    uint64_t *cum;
    size_t n, idx_cap, cum_cap;
    uint32_t *guide; /* n buckets of the weight range: the first entry each can hold */
    double scale;    /* n / total weight, a little low */
} pool_t;

struct sky_traffic {
    uint64_t seed;
    airport_t *airports;
    size_t nairports;
    airline_t *airlines;
    size_t nairlines;
    sky_aircraft_type_t *types;
    size_t ntypes;
    perf_model_t *models;
    size_t nmodels;
    float (*type_q)[SKY_PV_COUNT][SKY_PERF_KNOTS]; /* per type: its model's tables */
    uint8_t *type_cat;               /* per type: enum category */
    size_t airports_cap, airlines_cap, types_cap, models_cap;
    double max_range_nm;
    sky_region_t region;             /* bbox only */
    pool_t listed;                   /* a region's airport list: routes among these */
    pool_t world;                    /* airports airliners use: scheduled, not military */
    pool_t by_continent[NCONTINENTS];
    pool_t box;                      /* of those, the ones in the region's bbox */
    pool_t carriers;                 /* airlines by size, those with a usable hub */
    uint8_t *usable;                 /* per airport: in the world pool */
    uint32_t (*routes)[2];           /* explicit routes, when given */
    size_t nroutes;
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
static const char *const airport_optional[] = {"continent", "country", "scheduled", "military",
                                               NULL};

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
    if (col[7] >= 0)
        snprintf(a.country, sizeof a.country, "%s", f[col[7]]);
    /* files without the columns: every field takes airliners */
    a.scheduled = col[8] < 0 || strcmp(f[col[8]], "yes") == 0;
    a.military = col[9] >= 0 && strcmp(f[col[9]], "1") == 0;
    if (t->nairports >= UINT16_MAX)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: too many airports (at most %d)",
                       where, UINT16_MAX - 1);
    if (sky_grow_array((void **)&t->airports, &t->airports_cap, t->nairports + 1, sizeof a))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", where);
    t->airports[t->nairports++] = a;
    return 0;
}

static const char *const airline_required[] = {"icao", "iata", NULL};
static const char *const airline_optional[] = {"region", "country", "kind", "weight", "hubs",
                                               "fleet", NULL};

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int airline_row(sky_traffic_t *t, char **f, const int *col, const char *where,
                       char *errstr, size_t errstr_size) {
    airline_t a = {0};
    if (check_code(f[col[0]], AIRLINE_ICAO_LEN, "icao", where, errstr, errstr_size) < 0 ||
        check_code(f[col[1]], AIRLINE_IATA_LEN, "iata", where, errstr, errstr_size) < 0)
        return SKY_EINVAL;
    memcpy(a.icao, f[col[0]], 4);
    memcpy(a.iata, f[col[1]], 3);
    a.continent = col[2] >= 0 ? continent_code(f[col[2]]) : 0;
    if (col[3] >= 0)
        snprintf(a.country, sizeof a.country, "%s", f[col[3]]);
    const char *kind = col[4] >= 0 ? f[col[4]] : "mainline";
    if (!strcmp(kind, "mainline") || !*kind)
        a.kind = KIND_MAINLINE;
    else if (!strcmp(kind, "lowcost"))
        a.kind = KIND_LOWCOST;
    else if (!strcmp(kind, "regional"))
        a.kind = KIND_REGIONAL;
    else
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "%s: kind \"%s\" is not mainline, lowcost or regional", where, kind);
    a.weight = 1;
    if (col[5] >= 0 && *f[col[5]] &&
        parse_num(f[col[5]], 0, 1e6, &a.weight, "weight", where, errstr, errstr_size) < 0)
        return SKY_EINVAL;
    const char *lineno = strrchr(where, ':');
    a.line = lineno ? strtoul(lineno + 1, NULL, 10) : 0;
    a.hub_codes = dup_str(col[6] >= 0 ? f[col[6]] : "");
    a.fleet_codes = dup_str(col[7] >= 0 ? f[col[7]] : "");
    if (!a.hub_codes || !a.fleet_codes) {
        free(a.hub_codes);
        free(a.fleet_codes);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", where);
    }
    if (t->nairlines >= UINT16_MAX ||
        sky_grow_array((void **)&t->airlines, &t->airlines_cap, t->nairlines + 1, sizeof a)) {
        free(a.hub_codes);
        free(a.fleet_codes);
        return t->nairlines >= UINT16_MAX
                   ? sky_err(errstr, errstr_size, SKY_EINVAL, "%s: too many airlines", where)
                   : sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", where);
    }
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
    if (col[14] >= 0 && sky_strlcpy(y.perf, f[col[14]], sizeof y.perf) < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: perf \"%s\" too long", where,
                       f[col[14]]);
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

static const char *const type_optional[] = {"perf", NULL};

/* ---- performance.csv: one row per model and variable ---- */

static const char *const perf_required[] = {"model", "variable", "statmodel", "p1", "p2", NULL};
static const char *const perf_optional[] = {"p3", "p4", NULL};

/* WRAP's units to the simulator's: m/s to kt, km to ft, and the (negative) descent
 * rates to positive fpm, which turns the quantile table round. */
static void to_sim_units(int var, float q[SKY_PERF_KNOTS]) {
    double scale = 1;
    switch (var) {
    case SKY_PV_TO_V_LOF: case SKY_PV_CL_V_CAS: case SKY_PV_DE_V_CAS: case SKY_PV_FA_VA:
    case SKY_PV_LD_V_APP: scale = KT_PER_MS; break;
    case SKY_PV_CL_H_CAS: case SKY_PV_CL_H_MACH: case SKY_PV_CR_H_INIT: case SKY_PV_CR_H_MAX:
    case SKY_PV_DE_H_MACH: case SKY_PV_DE_H_CAS: scale = FT_PER_KM; break;
    case SKY_PV_CL_VS_PRE: case SKY_PV_CL_VS_CAS: case SKY_PV_CL_VS_MACH: scale = FPM_PER_MS; break;
    case SKY_PV_DE_VS_MACH: case SKY_PV_DE_VS_CAS: case SKY_PV_DE_VS_AFTER: case SKY_PV_FA_VS:
        scale = -FPM_PER_MS;
        break;
    default: break;
    }
    float tmp[SKY_PERF_KNOTS];
    for (int i = 0; i < SKY_PERF_KNOTS; i++)
        tmp[i] = (float)(q[i] * scale);
    for (int i = 0; i < SKY_PERF_KNOTS; i++)
        q[i] = scale < 0 ? tmp[SKY_PERF_KNOTS - 1 - i] : tmp[i];
}

static int perf_row(sky_traffic_t *t, char **f, const int *col, const char *where,
                    char *errstr, size_t errstr_size) {
    int var = sky_perf_var(f[col[1]]);
    if (var < 0)
        return 0; /* a WRAP variable the profile does not use */
    if (!*f[col[0]] || strlen(f[col[0]]) >= sizeof t->models[0].name)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: model \"%s\" empty or too long",
                       where, f[col[0]]);
    double p[4] = {0, 0, 0, 0};
    static const char *const pname[4] = {"p1", "p2", "p3", "p4"};
    for (int i = 0; i < 4; i++) {
        int c = col[3 + i];
        if (c >= 0 && *f[c] && parse_num(f[c], -1e9, 1e9, &p[i], pname[i], where, errstr,
                                         errstr_size) < 0)
            return SKY_EINVAL;
    }
    size_t m = 0;
    while (m < t->nmodels && strcmp(t->models[m].name, f[col[0]]))
        m++;
    if (m == t->nmodels) {
        if (sky_grow_array((void **)&t->models, &t->models_cap, t->nmodels + 1,
                           sizeof *t->models))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", where);
        memset(&t->models[m], 0, sizeof t->models[m]);
        snprintf(t->models[m].name, sizeof t->models[m].name, "%s", f[col[0]]);
        t->nmodels++;
    }
    char why[200];
    if (sky_perf_quantiles(f[col[2]], p, t->models[m].q[var], why, sizeof why) < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: %s: %s", where, f[col[1]], why);
    to_sim_units(var, t->models[m].q[var]);
    t->models[m].have |= 1u << var;
    return 0;
}

/* A type without a performance model flies its own figures, without spread. */
static void constant_tables(const sky_aircraft_type_t *y, float q[SKY_PV_COUNT][SKY_PERF_KNOTS]) {
    double glide_fpm = y->approach_kt * (6076.12 / 60.0) * tan(3.0 * M_PI / 180.0);
    double v[SKY_PV_COUNT] = {
        [SKY_PV_TO_V_LOF] = y->touchdown_kt + 15,     [SKY_PV_CL_V_CAS] = y->climb_kt,
        [SKY_PV_CL_V_MACH] = y->cruise_mach,          [SKY_PV_CL_H_CAS] = SKY_PROFILE_FL100_FT,
        [SKY_PV_CL_H_MACH] = 24000,                   [SKY_PV_CL_VS_PRE] = y->climb_fpm[0],
        [SKY_PV_CL_VS_CAS] = y->climb_fpm[1],         [SKY_PV_CL_VS_MACH] = y->climb_fpm[2],
        [SKY_PV_CR_MACH] = y->cruise_mach,            [SKY_PV_CR_H_INIT] = y->cruise_ft,
        [SKY_PV_CR_H_MAX] = y->cruise_ft,             [SKY_PV_DE_V_MACH] = y->cruise_mach,
        [SKY_PV_DE_V_CAS] = y->climb_kt,              [SKY_PV_DE_H_MACH] = 24000,
        [SKY_PV_DE_H_CAS] = SKY_PROFILE_FL100_FT,     [SKY_PV_DE_VS_MACH] = y->descent_fpm,
        [SKY_PV_DE_VS_CAS] = y->descent_fpm,          [SKY_PV_DE_VS_AFTER] = y->descent_fpm * 0.6,
        [SKY_PV_FA_VA] = y->approach_kt,              [SKY_PV_FA_VS] = glide_fpm,
        [SKY_PV_LD_V_APP] = y->touchdown_kt};
    for (int var = 0; var < SKY_PV_COUNT; var++)
        for (int i = 0; i < SKY_PERF_KNOTS; i++)
            q[var][i] = (float)v[var];
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

/* The guide bucket of draw x, or one below it: scale is n / total rounded down, so a
 * search from there still finds the entry (a 128-bit division per draw cost more). */
static uint64_t guide_bucket(const pool_t *p, uint64_t x) {
    uint64_t g = (uint64_t)((double)x * p->scale);
    return g < p->n ? g : p->n - 1;
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
    p->scale = (double)p->n / (double)total * (1 - 1e-9);
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

static bool in_bbox(const sky_region_t *rg, double lat, double lon) {
    if (!rg->has_bbox)
        return true;
    if (lat < rg->south || lat > rg->north)
        return false;
    if (rg->west <= rg->east)
        return lon >= rg->west && lon <= rg->east;
    return lon >= rg->west || lon <= rg->east; /* box across the antimeridian */
}

static int mark_listed(const sky_traffic_t *t, const sky_region_t *rg, uint8_t *listed,
                       char *errstr, size_t errstr_size) {
    for (size_t i = 0; i < rg->nairports; i++) {
        long a = sky_traffic_find_airport(t, rg->airports[i]);
        if (a < 0)
            return sky_err(errstr, errstr_size, SKY_EUSAGE,
                           "region: airport \"%s\" is not in airports.csv (use ICAO codes)",
                           rg->airports[i]);
        listed[a] = 1;
    }
    return 0;
}

/* Hubs and fleets name airports and types: resolved once every file is read. */
static int resolve_airline(sky_traffic_t *t, airline_t *a, char *errstr, size_t errstr_size) {
    char *save = NULL, codes[1024];
    size_t n = 0;
    snprintf(codes, sizeof codes, "%s", a->hub_codes);
    for (char *c = codes; *c; c++)
        n += *c == ' ';
    a->hubs = calloc(n + 1, sizeof *a->hubs);
    a->fleet = calloc(t->ntypes + 1, sizeof *a->fleet);
    if (!a->hubs || !a->fleet)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "airlines.csv: out of memory");
    for (char *h = strtok_r(codes, " ", &save); h; h = strtok_r(NULL, " ", &save)) {
        long i = sky_traffic_find_airport(t, h);
        if (i < 0)
            return sky_err(errstr, errstr_size, SKY_EINVAL,
                           "airlines.csv:%zu: hub \"%s\" is not in airports.csv", a->line, h);
        a->hubs[a->nhubs++] = (uint32_t)i;
    }
    snprintf(codes, sizeof codes, "%s", a->fleet_codes);
    for (char *y = strtok_r(codes, " ", &save); y; y = strtok_r(NULL, " ", &save)) {
        size_t i = 0;
        while (i < t->ntypes && strcmp(t->types[i].icao, y))
            i++;
        if (i == t->ntypes)
            return sky_err(errstr, errstr_size, SKY_EINVAL,
                           "airlines.csv:%zu: fleet type \"%s\" is not in aircraft_types.csv",
                           a->line, y);
        if (a->nfleet < t->ntypes)
            a->fleet[a->nfleet++] = (uint16_t)i;
    }
    for (size_t i = 0; i < (a->nfleet ? a->nfleet : t->ntypes); i++) {
        bool wide = !strcmp(t->types[a->nfleet ? a->fleet[i] : i].category, "widebody");
        a->has_widebody |= wide;
        a->has_narrow |= !wide;
    }
    return 0;
}

static int build_pools(sky_traffic_t *t, const sky_region_t *rg, char *errstr,
                       size_t errstr_size) {
    uint8_t *listed = calloc(t->nairports ? t->nairports : 1, 1);
    t->usable = calloc(t->nairports ? t->nairports : 1, 1);
    if (!listed || !t->usable) {
        free(listed);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "region: out of memory");
    }
    int rc = mark_listed(t, rg, listed, errstr, errstr_size);
    bool list_mode = rg->airports && rg->nairports;
    for (uint32_t i = 0; rc == 0 && i < t->nairports; i++) {
        const airport_t *a = &t->airports[i];
        uint64_t w = a->large ? LARGE_WEIGHT : 1;
        if (listed[i] && pool_add(&t->listed, i, w) < 0)
            rc = SKY_ENOMEM;
        if (!a->scheduled || a->military)
            continue; /* airliners fly between fields with scheduled service */
        t->usable[i] = 1;
        if (pool_add(&t->world, i, w) < 0 || pool_add(&t->by_continent[a->continent], i, w) < 0 ||
            (rg->has_bbox && in_bbox(rg, a->lat, a->lon) && pool_add(&t->box, i, w) < 0))
            rc = SKY_ENOMEM;
    }
    free(listed);
    for (uint32_t i = 0; rc == 0 && i < t->nairlines; i++) {
        airline_t *a = &t->airlines[i];
        rc = resolve_airline(t, a, errstr, errstr_size);
        if (rc == 0 && a->nhubs == 0 && a->country[0]) {
            /* no hubs listed: every field of its country is one */
            uint32_t *all = realloc(a->hubs, t->nairports * sizeof *all + 1);
            if (!all)
                rc = SKY_ENOMEM;
            else
                a->hubs = all;
            for (uint32_t k = 0; rc == 0 && k < t->nairports; k++)
                if (t->usable[k] && !strcmp(t->airports[k].country, a->country))
                    a->hubs[a->nhubs++] = k;
        }
        size_t usable = 0;
        for (size_t h = 0; rc == 0 && h < a->nhubs; h++)
            if (t->usable[a->hubs[h]])
                a->hubs[usable++] = a->hubs[h];
        if (rc == 0)
            a->nhubs = usable;
        if (rc == 0 && a->nhubs && a->weight > 0 &&
            pool_add(&t->carriers, i, (uint64_t)llround(a->weight * 1000)) < 0)
            rc = SKY_ENOMEM;
    }
    if (rc == SKY_ENOMEM)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "region: out of memory");
    if (rc)
        return rc;
    pool_t *all[] = {&t->listed, &t->world, &t->box, &t->carriers};
    for (size_t i = 0; i < sizeof all / sizeof all[0] + NCONTINENTS; i++)
        if (pool_index(i < 4 ? all[i] : &t->by_continent[i - 4]) < 0)
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "region: out of memory");
    if (list_mode && t->listed.n < 2)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "region: %zu airport(s) in the airport list; at least 2 are needed",
                       t->listed.n);
    if (!list_mode && rg->has_bbox && t->box.n < 1)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "region: no airport with scheduled service in the bounding box; "
                       "at least 2 are needed");
    if (!list_mode && t->world.n < 2)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "airports.csv: %zu airport(s) with scheduled service; at least 2 are "
                       "needed",
                       t->world.n);
    return 0;
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

/* Every type's quantile tables: its model's from performance.csv, or its own figures. */
static int build_type_tables(sky_traffic_t *t, char *errstr, size_t errstr_size) {
    t->type_q = calloc(t->ntypes ? t->ntypes : 1, sizeof *t->type_q);
    t->type_cat = calloc(t->ntypes ? t->ntypes : 1, 1);
    if (!t->type_q || !t->type_cat)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "aircraft types: out of memory");
    for (size_t i = 0; i < t->ntypes; i++) {
        const sky_aircraft_type_t *y = &t->types[i];
        t->type_cat[i] = !strcmp(y->category, "turboprop")    ? CAT_TURBOPROP
                         : !strcmp(y->category, "regional")   ? CAT_REGIONAL
                         : !strcmp(y->category, "narrowbody") ? CAT_NARROWBODY
                                                              : CAT_WIDEBODY;
        if (!y->perf[0]) {
            constant_tables(y, t->type_q[i]);
            continue;
        }
        size_t m = 0;
        while (m < t->nmodels && strcmp(t->models[m].name, y->perf))
            m++;
        if (m == t->nmodels)
            return sky_err(errstr, errstr_size, SKY_EINVAL,
                           "aircraft_types.csv: %s: perf model \"%s\" is not in performance.csv",
                           y->icao, y->perf);
        for (int v = 0; v < SKY_PV_COUNT; v++)
            if (!(t->models[m].have & 1u << v))
                return sky_err(errstr, errstr_size, SKY_EINVAL,
                               "performance.csv: model \"%s\" has no %s row", y->perf,
                               sky_perf_var_name(v));
        memcpy(t->type_q[i], t->models[m].q, sizeof t->type_q[i]);
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
        {"aircraft_types.csv", type_required, type_optional, {0}, 0, 0, type_row},
        {"performance.csv", perf_required, perf_optional, {0}, 0, 0, perf_row},
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        bool need = true;
        if (i == 3) { /* only when a type names a model */
            need = false;
            for (size_t y = 0; y < t->ntypes; y++)
                need |= t->types[y].perf[0] != '\0';
        }
        int rc = need ? load_table(t, dir, &tables[i], errstr, errstr_size) : 0;
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < t->ntypes; i++)
        if (t->types[i].range_nm > t->max_range_nm)
            t->max_range_nm = t->types[i].range_nm;
    t->region = p->region;
    t->region.airports = NULL; /* the caller's arrays are not kept */
    t->region.routes = NULL;
    int rc = build_type_tables(t, errstr, errstr_size);
    if (rc == 0)
        rc = build_routes(t, &p->region, errstr, errstr_size);
    if (rc == 0)
        rc = build_pools(t, &p->region, errstr, errstr_size);
    if (rc == 0 && t->nroutes == 0 && !(p->region.airports && p->region.nairports) &&
        t->carriers.n == 0)
        rc = sky_err(errstr, errstr_size, SKY_EINVAL,
                     "airlines.csv: no airline has a hub with scheduled service (column hubs)");
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
    for (size_t i = 0; i < t->nairlines; i++) {
        free(t->airlines[i].hub_codes);
        free(t->airlines[i].fleet_codes);
        free(t->airlines[i].hubs);
        free(t->airlines[i].fleet);
    }
    free(t->airports);
    free(t->airlines);
    free(t->types);
    free(t->models);
    free(t->type_q);
    free(t->type_cat);
    free(t->routes);
    free(t->usable);
    pool_free(&t->listed);
    pool_free(&t->world);
    pool_free(&t->box);
    pool_free(&t->carriers);
    for (int c = 0; c < NCONTINENTS; c++)
        pool_free(&t->by_continent[c]);
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

/* A destination's weight: a large airport's LARGE_WEIGHT; a medium one's 1 nearby, less
 * the further it is (long routes link large airports). */
static double size_weight(const airport_t *a, double nm) {
    if (a->large)
        return LARGE_WEIGHT;
    double x = nm / 600.0;
    return 1.0 / (1.0 + x * x);
}

/* How often an airline of this kind flies a route of nm from its hub: low-cost and
 * regional carriers stay short, mainline carriers add long-haul where they have the
 * wide-bodies. */
static double kind_weight(const airline_t *a, double nm) {
    if (nm < MIN_ROUTE_NM)
        return 0;
    double half = a->kind == KIND_REGIONAL ? 300 : a->kind == KIND_LOWCOST ? 750 : 700;
    double x = nm / half, w = 1.0 / (1.0 + x * x);
    if (a->kind == KIND_REGIONAL && nm > 1300)
        return 0;
    if (a->kind == KIND_LOWCOST && nm > 2500)
        w = 0;
    if (a->has_widebody && nm >= 1800)
        w += a->kind == KIND_LOWCOST ? 0.04 : 0.12;
    if (!a->has_narrow && nm < 1200) /* an all wide-body fleet flies long-haul */
        w = 0;
    return w;
}

static double category_weight(int category, double nm) {
    switch (category) {
    case CAT_TURBOPROP: return nm <= 300 ? 3 : nm <= 500 ? 1 : 0;
    case CAT_REGIONAL: return nm <= 800 ? 2 : nm <= 1500 ? 0.7 : 0;
    case CAT_NARROWBODY: return nm <= 300 ? 2 : nm <= 2500 ? 5 : nm <= 3300 ? 1 : 0;
    default: return nm < 800 ? 0 : nm < 1500 ? 0.3 : nm < 3000 ? 1.5 : 5;
    }
}

/* Weight of type i for a route of nm: its category's for the length, when it has the
 * range (and wide-bodies only between large airports). */
static double type_weight(const sky_traffic_t *t, size_t i, double nm, bool large_ends,
                          const airline_t *a) {
    const sky_aircraft_type_t *y = &t->types[i];
    if (y->range_nm < nm * 1.05)
        return 0;
    if (a && a->kind == KIND_LOWCOST && nm > 2500 && t->type_cat[i] != CAT_WIDEBODY)
        return 0; /* a low-cost carrier's long flights are its wide-bodies' */
    if (!large_ends && t->type_cat[i] == CAT_WIDEBODY)
        return 0;
    return category_weight(t->type_cat[i], nm);
}

/* The airline's type for the route: from its fleet by length; a fleet with nothing
 * that fits flies its longest-range type that can, then the longest of all. */
static int draw_type(const sky_traffic_t *t, const airline_t *a, rng_t *r, double nm,
                     bool large_ends, bool any) {
    double w[64], total = 0;
    size_t n = a && a->nfleet ? a->nfleet : t->ntypes;
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        size_t ty = a && a->nfleet ? a->fleet[i] : i;
        w[i] = type_weight(t, ty, nm, large_ends, a);
        total += w[i];
    }
    double x = rng_unit(r) * total;
    if (total > 0) {
        for (size_t i = 0; i < n; i++)
            if (w[i] > 0 && (x -= w[i]) < 0)
                return a && a->nfleet ? a->fleet[i] : (int)i;
        for (size_t i = n; i-- > 0;)
            if (w[i] > 0)
                return a && a->nfleet ? a->fleet[i] : (int)i;
    }
    if (!any)
        return -1;
    size_t best = 0;
    for (size_t i = 0; i < t->ntypes; i++)
        if (t->types[i].range_nm > t->types[best].range_nm)
            best = i;
    return (int)best;
}

static bool is_hub(const airline_t *a, uint32_t airport) {
    for (size_t i = 0; i < a->nhubs; i++)
        if (a->hubs[i] == airport)
            return true;
    return false;
}

/* Does the great circle a-b pass through the region's box? Its ends, then points
 * every ~25 nm (at most 64). */
static bool crosses_box(const sky_traffic_t *t, uint32_t dep, uint32_t arr, double nm) {
    const airport_t *a = &t->airports[dep], *b = &t->airports[arr];
    if (in_bbox(&t->region, a->lat, a->lon) || in_bbox(&t->region, b->lat, b->lon))
        return true;
    int n = (int)(nm / 25.0) + 2;
    if (n > 64)
        n = 64;
    for (int i = 1; i < n; i++) {
        double f = (double)i / n;
        double x = a->unit.x * (1 - f) + b->unit.x * f, y = a->unit.y * (1 - f) + b->unit.y * f,
               z = a->unit.z * (1 - f) + b->unit.z * f;
        double lat = atan2(z, sqrt(x * x + y * y)) * (180.0 / M_PI);
        double lon = atan2(y, x) * (180.0 / M_PI);
        if (in_bbox(&t->region, lat, lon))
            return true;
    }
    return false;
}

/* The network: an airline by size, one of its hubs (a mainline carrier's first hub
 * most), the other end among candidates weighted by size and by how often the
 * airline's kind and fleet fly that length; out of or into the hub. */
static int draw_network_route(const sky_traffic_t *t, rng_t *r, uint32_t *dep, uint32_t *arr,
                              uint16_t *airline) {
    bool boxed = t->region.has_bbox;
    /* a region sees the network's routes that cross it, in their proportions: drawn
     * from the whole network until one does (a small box takes many rounds; past
     * BOX_ROUNDS the other end is drawn from the box, which finds one) */
    int rounds = boxed ? BOX_ROUNDS + ROUTE_ROUNDS : ROUTE_ROUNDS;
    for (int round = 0; round < rounds; round++) {
        bool into_box = boxed && round >= BOX_ROUNDS;
        uint32_t al = pool_sample(&t->carriers, r);
        const airline_t *a = &t->airlines[al];
        size_t pick_hub = (size_t)rng_below(r, a->nhubs + (a->kind == KIND_MAINLINE ? 2 : 0));
        uint32_t hub = a->hubs[a->kind == KIND_MAINLINE ? (pick_hub < 3 ? 0 : pick_hub - 2)
                                                        : pick_hub];
        const airport_t *h = &t->airports[hub];
        double home = a->kind == KIND_REGIONAL ? 0.99
                      : a->kind == KIND_LOWCOST  ? 0.97
                      : a->has_narrow            ? 0.75
                                                 : 0.2;
        const pool_t *local = &t->by_continent[h->continent];
        uint32_t cand[ROUTE_CANDIDATES];
        double w[ROUTE_CANDIDATES], total = 0;
        for (int i = 0; i < ROUTE_CANDIDATES; i++) {
            double u = rng_unit(r);
            const pool_t *from = into_box && t->box.n && u < 0.5 ? &t->box
                                 : local->n >= 2 && rng_unit(r) < home ? local
                                                                       : &t->world;
            cand[i] = pool_sample(from, r);
            const airport_t *c = &t->airports[cand[i]];
            double nm = unit_distance_nm(h, c);
            w[i] = 0;
            if (cand[i] == hub || nm > t->max_range_nm * 0.95)
                continue;
            double kw = kind_weight(a, nm);
            if (kw <= 0)
                continue;
            double fit = 0;
            for (size_t f = 0; f < (a->nfleet ? a->nfleet : t->ntypes) && fit <= 0; f++)
                fit = type_weight(t, a->nfleet ? a->fleet[f] : f, nm, h->large && c->large, a);
            w[i] = fit > 0 ? size_weight(c, nm) * kw : 0;
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
        bool out = rng_unit(r) < 0.5;
        *dep = out ? hub : cand[pick];
        *arr = out ? cand[pick] : hub;
        *airline = (uint16_t)al;
        if (boxed && !crosses_box(t, *dep, *arr, unit_distance_nm(h, &t->airports[cand[pick]])))
            continue;
        return 0;
    }
    return -1;
}

/* A route among a region's listed airports: departure by size, the arrival among
 * candidates weighted by size and length. */
static int draw_listed_route(const sky_traffic_t *t, rng_t *r, uint32_t *dep, uint32_t *arr) {
    for (int round = 0; round < ROUTE_ROUNDS; round++) {
        uint32_t d = pool_sample(&t->listed, r), cand[ROUTE_CANDIDATES];
        double w[ROUTE_CANDIDATES], total = 0;
        for (int i = 0; i < ROUTE_CANDIDATES; i++) {
            cand[i] = pool_sample(&t->listed, r);
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
        while (w[pick] <= 0)
            pick--;
        *dep = d;
        *arr = cand[pick];
        return 0;
    }
    return -1;
}

/* Who flies a given route: an airline with a hub at one end, else one of either end's
 * country, else of the departure's continent, else any; by size. */
static uint16_t route_airline(const sky_traffic_t *t, rng_t *r, uint32_t dep, uint32_t arr) {
    const airport_t *a = &t->airports[dep], *b = &t->airports[arr];
    int best = 0;
    double total = 0;
    for (int pass = 0; pass < 2; pass++) {
        double x = pass ? rng_unit(r) * total : 0;
        for (size_t i = 0; i < t->nairlines; i++) {
            const airline_t *al = &t->airlines[i];
            int tier = is_hub(al, dep) || is_hub(al, arr)                                ? 4
                       : al->country[0] && (!strcmp(al->country, a->country) ||
                                            !strcmp(al->country, b->country))           ? 3
                       : al->continent && al->continent == a->continent                  ? 2
                                                                                         : 1;
            double w = al->weight > 0 ? al->weight : 1;
            if (!pass) {
                if (tier > best)
                    best = tier, total = 0;
                if (tier == best)
                    total += w;
            } else if (tier == best && (x -= w) < 0) {
                return (uint16_t)i;
            }
        }
    }
    for (size_t i = t->nairlines; i-- > 0;) /* rounding: the last of the best tier */
        if ((is_hub(&t->airlines[i], dep) || is_hub(&t->airlines[i], arr)) == (best == 4))
            return (uint16_t)i;
    return 0;
}

/* One number per airline and route, the same for every flight on it: odd out of the
 * airline's hub (or westwards of the code order), even back; long-haul below 1000. */
static uint16_t route_number(const airline_t *a, uint16_t airline, uint32_t dep, uint32_t arr,
                             double nm) {
    uint32_t lo = dep < arr ? dep : arr, hi = dep < arr ? arr : dep;
    uint64_t k = (uint64_t)airline << 40 ^ (uint64_t)lo << 20 ^ hi;
    uint64_t h = splitmix64(&k);
    bool outbound = is_hub(a, dep) != is_hub(a, arr) ? is_hub(a, dep) : dep < arr;
    uint32_t base = 1 + (uint32_t)(h % (nm > 2500 ? 499 : 4999));
    return (uint16_t)(2 * base - (outbound ? 1 : 0));
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

/* The flight level nearest h with the semicircular rule's parity: odd thousands
 * eastbound (true course 0-179), even westbound; at most cap. */
static int32_t level_of(double h, bool east, int32_t cap) {
    int32_t l = (int32_t)lrint(h / 1000.0);
    if ((l & 1) != east)
        l += h / 1000.0 >= l ? 1 : -1;
    while (l * 1000 > cap)
        l -= 2;
    return l * 1000;
}

/* Every performance figure of the flight, drawn in a fixed order. */
static void draw_performance(const sky_traffic_t *t, uint16_t type, rng_t *r,
                             sky_profile_params_t *p, double *init_ft, double *top_ft) {
    const float(*q)[SKY_PERF_KNOTS] = t->type_q[type];
    double d[SKY_PV_COUNT];
    for (int v = 0; v < SKY_PV_COUNT; v++)
        d[v] = sky_perf_draw(q[v], rng_unit(r));
    p->liftoff_kt = d[SKY_PV_TO_V_LOF];
    p->climb_cas_kt = d[SKY_PV_CL_V_CAS];
    p->climb_mach = d[SKY_PV_CL_V_MACH];
    p->climb_cas_ft = d[SKY_PV_CL_H_CAS];
    p->climb_mach_ft = d[SKY_PV_CL_H_MACH];
    p->climb_fpm[0] = d[SKY_PV_CL_VS_PRE];
    p->climb_fpm[1] = d[SKY_PV_CL_VS_CAS];
    p->climb_fpm[2] = d[SKY_PV_CL_VS_MACH];
    p->cruise_mach = d[SKY_PV_CR_MACH];
    *init_ft = d[SKY_PV_CR_H_INIT];
    *top_ft = d[SKY_PV_CR_H_MAX];
    p->descent_mach = d[SKY_PV_DE_V_MACH];
    p->descent_cas_kt = d[SKY_PV_DE_V_CAS];
    p->descent_mach_ft = d[SKY_PV_DE_H_MACH];
    p->descent_cas_ft = d[SKY_PV_DE_H_CAS];
    p->descent_fpm[0] = d[SKY_PV_DE_VS_MACH];
    p->descent_fpm[1] = d[SKY_PV_DE_VS_CAS];
    p->descent_fpm[2] = d[SKY_PV_DE_VS_AFTER];
    p->final_cas_kt = d[SKY_PV_FA_VA];
    p->final_fpm = d[SKY_PV_FA_VS];
    p->touchdown_kt = d[SKY_PV_LD_V_APP] < p->final_cas_kt ? d[SKY_PV_LD_V_APP] : p->final_cas_kt;
    p->step_share = 0.25 + 0.35 * rng_unit(r);
    double lv = rng_unit(r), ls = rng_unit(r);
    p->level_s = lv < LEVEL_OFF_SHARE ? 30.0 + 120.0 * ls : 0;
    p->level_cas_kt = p->descent_cas_kt < 250 ? p->descent_cas_kt : 250;
    if (p->level_cas_kt < p->final_cas_kt)
        p->level_cas_kt = p->final_cas_kt;
}

/* The drawn initial level, capped by the route's length and the type's ceiling, then
 * lower in steps of 2000 ft (the parity stays) until enough of the trip is cruise. */
static int fit_profile(sky_flight_plan_t *plan, const sky_aircraft_type_t *y,
                       sky_profile_params_t *p, double dist_nm, double init_ft, double top_ft,
                       bool east) {
    int32_t lowest = sky_profile_min_cruise_ft(plan->dep_elev_ft, plan->arr_elev_ft);
    int32_t cap = (int32_t)(10000 + dist_nm * SHORT_ROUTE_FT_PER_NM);
    if (cap > y->ceiling_ft)
        cap = y->ceiling_ft;
    int32_t level = level_of(init_ft < cap ? init_ft : cap, east, cap);
    int32_t top = level_of(top_ft > init_ft ? top_ft : init_ft, east, cap);
    if (top < level || dist_nm < STEP_CLIMB_NM)
        top = level;
    for (int pass = 0; pass < 2; pass++) {
        double share = pass ? -1.0 : MIN_CRUISE_SHARE;
        for (int32_t c = level; c >= lowest; c -= 2000) {
            p->cruise_ft = c;
            p->cruise2_ft = c == level ? top : c;
            if (sky_profile_build(plan, p, dist_nm, share) == 0)
                return 0;
        }
        p->cruise_ft = p->cruise2_ft = lowest;
        if (sky_profile_build(plan, p, dist_nm, share) == 0)
            return 0;
    }
    return -1;
}

int sky_traffic_plan(const sky_traffic_t *t, uint64_t index, sky_flight_plan_t *plan,
                     char *errstr, size_t errstr_size) {
    rng_t r = rng_for(t->seed, index);
    uint32_t dep, arr;
    uint16_t airline = 0;
    bool network = false;
    memset(plan, 0, sizeof *plan);
    plan->index = index;
    if (t->nroutes) {
        const uint32_t *route = t->routes[rng_below(&r, t->nroutes)];
        dep = route[0];
        arr = route[1];
    } else if (t->listed.n) {
        if (draw_listed_route(t, &r, &dep, &arr) < 0)
            return sky_err(errstr, errstr_size, SKY_EUSAGE,
                           "flight %llu: no route of %.0f nm or more within range among the "
                           "region's airports; list more",
                           (unsigned long long)index, MIN_ROUTE_NM);
    } else if (draw_network_route(t, &r, &dep, &arr, &airline) == 0) {
        network = true;
    } else {
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "flight %llu: no route of the airlines' network crosses the region "
                       "in %d tries; widen the bounding box",
                       (unsigned long long)index,
                       t->region.has_bbox ? BOX_ROUNDS + ROUTE_ROUNDS : ROUTE_ROUNDS);
    }
    if (!network)
        airline = route_airline(t, &r, dep, arr);
    const airport_t *a = &t->airports[dep], *b = &t->airports[arr];
    const airline_t *al = &t->airlines[airline];
    plan->dep = (uint16_t)dep;
    plan->arr = (uint16_t)arr;
    double dist_nm = sky_geo_distance_nm(a->lat, a->lon, b->lat, b->lon);
    int type = draw_type(t, al, &r, dist_nm, a->large && b->large, false);
    if (type < 0) /* a route the airline's fleet cannot fly: given routes, listed airports */
        type = draw_type(t, NULL, &r, dist_nm, true, true);
    plan->type = (uint16_t)type;
    plan->airline = airline;
    plan->number = route_number(al, airline, dep, arr, dist_nm);
    plan->dep_elev_ft = clamp_i16(a->elev_ft);
    plan->arr_elev_ft = clamp_i16(b->elev_ft);
    if (route_geo(a, b, plan->geo) < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "flight %llu: %s-%s are antipodal",
                       (unsigned long long)index, a->icao, b->icao);
    sky_profile_params_t p;
    double init_ft, top_ft;
    draw_performance(t, plan->type, &r, &p, &init_ft, &top_ft);
    sky_wind_route(t->seed, a->unit, b->unit, &p.wind_along_kt, &p.wind_cross_kt);
    bool east = sky_geo_bearing_deg(a->lat, a->lon, b->lat, b->lon) < 180.0;
    if (fit_profile(plan, &t->types[plan->type], &p, dist_nm, init_ft, top_ft, east) < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "flight %llu: route %s-%s (%.0f nm) is too short for a climb, descent "
                       "and final approach",
                       (unsigned long long)index, a->icao, b->icao, dist_nm);
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
    sky_geo_sincos(s * plan->rad_per_nm, &sn, &c);
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

double sky_traffic_distance_nm(const sky_flight_plan_t *plan) {
    double c = plan->geo[0];
    return acos(c > 1 ? 1 : c < -1 ? -1 : c) * SKY_EARTH_RADIUS_NM;
}

int32_t sky_traffic_cruise_ft(const sky_flight_plan_t *plan) {
    return sky_profile_boundary_ft(plan, SKY_SEG_CLIMB_MACH);
}

int32_t sky_traffic_top_ft(const sky_flight_plan_t *plan) {
    return sky_profile_boundary_ft(plan, SKY_SEG_STEP);
}
