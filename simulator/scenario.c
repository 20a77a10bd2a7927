/* Scenario YAML reader (libfyaml): a table of known keys per mapping, each value
 * checked strictly, every error reported as file:line:col. */
#include "scenario.h"

#include "error.h"
#include "parse.h"
#include "timefmt.h"

#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct yctx {
    const char *file;
    sky_scenario_t *s;
    char *errstr;
    size_t errstr_size;
} yctx_t;

typedef int(key_fn)(yctx_t *c, struct fy_node *key, struct fy_node *val);
typedef struct key_handler {
    const char *key;
    key_fn *fn;
} key_handler_t;

static const char *const profile_names[] = {"constant", "ramp", "step", "spike", "diurnal"};

const char *sky_profile_kind_name(sky_profile_kind_t kind) {
    return (unsigned)kind <= SKY_PROFILE_DIURNAL ? profile_names[kind] : "?";
}

/* ---- load profiles ---- */

uint64_t sky_profile_target(const sky_load_profile_t *p, int64_t t_ms, int64_t duration_ms) {
    const double from = (double)p->from, to = (double)p->to;
    switch (p->kind) {
    case SKY_PROFILE_RAMP: {
        int64_t len = p->length_ms > 0 ? p->length_ms : duration_ms - p->at_ms;
        if (t_ms <= p->at_ms)
            return p->from;
        if (len <= 0 || t_ms >= p->at_ms + len)
            return p->to;
        return (uint64_t)llround(from + (to - from) * (double)(t_ms - p->at_ms) / (double)len);
    }
    case SKY_PROFILE_STEP: return t_ms < p->at_ms ? p->from : p->to;
    case SKY_PROFILE_SPIKE:
        return t_ms >= p->at_ms && t_ms < p->at_ms + p->length_ms ? p->to : p->from;
    case SKY_PROFILE_DIURNAL: {
        double x = 2.0 * M_PI * (double)t_ms / (double)p->period_ms;
        return (uint64_t)llround(from + (to - from) * (1.0 - cos(x)) / 2.0);
    }
    case SKY_PROFILE_CONSTANT:
    default: return p->from;
    }
}

uint64_t sky_profile_peak(const sky_load_profile_t *p) {
    return p->kind == SKY_PROFILE_CONSTANT || p->to < p->from ? p->from : p->to;
}

/* ---- life cycle ---- */

sky_scenario_t *sky_scenario_new(void) {
    sky_scenario_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->seed = 1;
    s->duration_ms = 60000;
    s->cadence_ms = SKY_SCENARIO_DEFAULT_CADENCE_MS;
    s->speedup = 1.0;
    s->load.kind = SKY_PROFILE_CONSTANT;
    s->load.from = 100;
    s->load.period_ms = 86400000;
    s->faults.gap_length = 3;
    s->partitions = SKY_SCENARIO_DEFAULT_PARTITIONS;
    s->ttl_s = SKY_SCENARIO_DEFAULT_TTL_S;
    return s;
}

static void free_strv(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sky_scenario_destroy(sky_scenario_t *s) {
    if (!s)
        return;
    free(s->path);
    free(s->name);
    free(s->description);
    free_strv(s->airports, s->nairports);
    free_strv(s->routes, s->nroutes);
    free(s->data_dir);
    json_decref(s->slo);
    free(s->topic);
    free(s->timestamp_format);
    sky_airspaces_free(s->airspaces, s->nairspaces);
    free(s);
}

/* ---- node helpers ---- */

/* 1-based line and column of a node (its first scalar for collections). */
static void node_pos(struct fy_node *n, int *line, int *col) {
    *line = *col = 0;
    while (n && !fy_node_is_scalar(n)) {
        void *it = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else {
            n = fy_node_sequence_iterate(n, &it);
        }
    }
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (m) {
        *line = m->line + 1;
        *col = m->column + 1;
    }
}

static int node_err(yctx_t *c, struct fy_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int node_err(yctx_t *c, struct fy_node *n, const char *fmt, ...) {
    char msg[384];
    int line, col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    node_pos(n, &line, &col);
    return sky_err(c->errstr, c->errstr_size, SKY_EINVAL, "%s:%d:%d: %s", c->file, line, col, msg);
}

static const char *key_name(struct fy_node *key) {
    const char *k = fy_node_is_scalar(key) ? fy_node_get_scalar0(key) : NULL;
    return k ? k : "?";
}

/* The scalar text of val, or an error naming key. */
static int scalar(yctx_t *c, struct fy_node *key, struct fy_node *val, const char **out) {
    const char *s = val && fy_node_is_scalar(val) ? fy_node_get_scalar0(val) : NULL;
    if (!s || !*s)
        return node_err(c, val ? val : key, "%s: expected a value", key_name(key));
    *out = s;
    return 0;
}

/* Converts a parse.h error ("--x: reason") into file:line:col form. */
static int value_err(yctx_t *c, struct fy_node *val, const char *err) {
    return node_err(c, val, "%s", err);
}

static int get_i64(yctx_t *c, struct fy_node *key, struct fy_node *val, int64_t min, int64_t max,
                   int64_t *out) {
    const char *s;
    char err[256];
    if (scalar(c, key, val, &s))
        return SKY_EINVAL;
    if (sky_parse_i64(s, min, max, out, key_name(key), err, sizeof err))
        return value_err(c, val, err);
    return 0;
}

static int get_double(yctx_t *c, struct fy_node *key, struct fy_node *val, double min, double max,
                      double *out) {
    const char *s;
    char err[256];
    if (scalar(c, key, val, &s))
        return SKY_EINVAL;
    if (sky_parse_double(s, min, max, out, key_name(key), err, sizeof err))
        return value_err(c, val, err);
    return 0;
}

static int get_duration(yctx_t *c, struct fy_node *key, struct fy_node *val, int64_t *out) {
    const char *s;
    char err[256];
    if (scalar(c, key, val, &s))
        return SKY_EINVAL;
    if (sky_parse_duration_ms(s, out, key_name(key), err, sizeof err))
        return value_err(c, val, err);
    return 0;
}

static int get_str(yctx_t *c, struct fy_node *key, struct fy_node *val, char **out) {
    const char *s;
    if (scalar(c, key, val, &s))
        return SKY_EINVAL;
    char *d = strdup(s);
    if (!d)
        return sky_err(c->errstr, c->errstr_size, SKY_ENOMEM, "out of memory");
    free(*out);
    *out = d;
    return 0;
}

/* Reads a sequence of scalars into a new string array. */
static int get_strv(yctx_t *c, struct fy_node *key, struct fy_node *val, char ***out,
                    size_t *n) {
    if (!val || !fy_node_is_sequence(val))
        return node_err(c, val ? val : key, "%s: expected a list", key_name(key));
    size_t count = (size_t)fy_node_sequence_item_count(val);
    char **v = calloc(count ? count : 1, sizeof *v);
    if (!v)
        return sky_err(c->errstr, c->errstr_size, SKY_ENOMEM, "out of memory");
    void *it = NULL;
    struct fy_node *item;
    size_t i = 0;
    while ((item = fy_node_sequence_iterate(val, &it)) != NULL) {
        if (get_str(c, key, item, &v[i])) {
            free_strv(v, count);
            return SKY_EINVAL;
        }
        i++;
    }
    free_strv(*out, *n);
    *out = v;
    *n = count;
    return 0;
}

static int walk_mapping(yctx_t *c, struct fy_node *key, struct fy_node *map,
                        const key_handler_t *table, size_t ntable, const char *where) {
    if (!map || !fy_node_is_mapping(map))
        return node_err(c, map ? map : key, "%s: expected a mapping", where);
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        const char *name = key_name(k);
        size_t i;
        for (i = 0; i < ntable; i++)
            if (strcmp(table[i].key, name) == 0)
                break;
        if (i == ntable)
            return node_err(c, k, "unknown key \"%s\" in %s (see docs/scenarios.md)", name,
                            where);
        int rc = table[i].fn(c, k, v);
        if (rc)
            return rc;
    }
    return 0;
}

#define WALK(c, k, v, table, where)                                                                \
    walk_mapping(c, k, v, table, sizeof table / sizeof table[0], where)

/* ---- YAML -> JSON for slo: ---- */

static json_t *scalar_to_json(struct fy_node *n) {
    const char *s = fy_node_get_scalar0(n);
    char *end;
    if (!s)
        return json_null();
    if (fy_node_get_style(n) == FYNS_PLAIN) {
        if (!strcmp(s, "true") || !strcmp(s, "false"))
            return json_boolean(!strcmp(s, "true"));
        if (!strcmp(s, "null") || !strcmp(s, "~") || !*s)
            return json_null();
        long long ll = strtoll(s, &end, 10);
        if (*s && !*end)
            return json_integer(ll);
        double d = strtod(s, &end);
        if (*s && !*end && isfinite(d))
            return json_real(d);
    }
    return json_string(s);
}

static json_t *node_to_json(struct fy_node *n) {
    void *it = NULL;
    if (!n)
        return json_null();
    if (fy_node_is_scalar(n))
        return scalar_to_json(n);
    if (fy_node_is_sequence(n)) {
        json_t *a = json_array();
        struct fy_node *item;
        while (a && (item = fy_node_sequence_iterate(n, &it)) != NULL)
            if (json_array_append_new(a, node_to_json(item))) {
                json_decref(a);
                return NULL;
            }
        return a;
    }
    json_t *o = json_object();
    struct fy_node_pair *p;
    while (o && (p = fy_node_mapping_iterate(n, &it)) != NULL)
        if (json_object_set_new(o, key_name(fy_node_pair_key(p)),
                                node_to_json(fy_node_pair_value(p)))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

/* ---- top-level keys ---- */

static int k_name(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_str(c, k, v, &c->s->name);
}
static int k_description(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_str(c, k, v, &c->s->description);
}
static int k_seed(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    int64_t x;
    int rc = get_i64(c, k, v, 0, INT64_MAX, &x);
    c->s->seed = (uint64_t)x;
    return rc;
}
static int k_start_time(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    const char *s;
    char err[256];
    if (scalar(c, k, v, &s))
        return SKY_EINVAL;
    if (sky_ts_parse(s, strlen(s), &c->s->start_time_ms, err, sizeof err))
        return node_err(c, v, "start_time: %s", err);
    c->s->has_start_time = true;
    return 0;
}
static int k_duration(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_duration(c, k, v, &c->s->duration_ms);
}
static int k_cadence(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    if (get_duration(c, k, v, &c->s->cadence_ms))
        return SKY_EINVAL;
    if (c->s->cadence_ms < 100 || c->s->cadence_ms > 3600000)
        return node_err(c, v, "cadence: must be between 100ms and 1h");
    return 0;
}
static int k_speedup(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_double(c, k, v, 0.001, 1e6, &c->s->speedup);
}
static int k_rate(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    const char *s;
    if (scalar(c, k, v, &s))
        return SKY_EINVAL;
    if (strcmp(s, "max") == 0) {
        c->s->rate = -1;
        return 0;
    }
    return get_double(c, k, v, 1, 1e9, &c->s->rate);
}
static int k_aircraft(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    int64_t n;
    if (get_i64(c, k, v, 1, 100000000, &n))
        return SKY_EINVAL;
    c->s->load.kind = SKY_PROFILE_CONSTANT;
    c->s->load.from = (uint64_t)n;
    return 0;
}
static int k_topic(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_str(c, k, v, &c->s->topic);
}
static int k_partitions(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    int64_t n;
    int rc = get_i64(c, k, v, 1, 10000, &n);
    c->s->partitions = (int)n;
    return rc;
}
static int k_ttl(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    int64_t ms;
    if (get_duration(c, k, v, &ms))
        return SKY_EINVAL;
    if (ms < 1000)
        return node_err(c, v, "ttl: must be at least 1s");
    c->s->ttl_s = ms / 1000;
    return 0;
}
static int k_timestamp_format(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    sky_ts_format_t f;
    char err[256];
    const char *s;
    if (scalar(c, k, v, &s))
        return SKY_EINVAL;
    if (sky_ts_format_parse(s, &f, err, sizeof err))
        return node_err(c, v, "timestamp_format: %s", err);
    return get_str(c, k, v, &c->s->timestamp_format);
}
static int k_data_dir(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_str(c, k, v, &c->s->data_dir);
}
static int k_slo(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    if (!v || !fy_node_is_mapping(v))
        return node_err(c, v ? v : k, "slo: expected a mapping");
    json_t *j = node_to_json(v);
    if (!j)
        return sky_err(c->errstr, c->errstr_size, SKY_ENOMEM, "out of memory");
    json_decref(c->s->slo);
    c->s->slo = j;
    return 0;
}

/* load: */
static int k_profile(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    const char *s;
    if (scalar(c, k, v, &s))
        return SKY_EINVAL;
    for (int i = 0; i <= SKY_PROFILE_DIURNAL; i++)
        if (strcmp(s, profile_names[i]) == 0) {
            c->s->load.kind = (sky_profile_kind_t)i;
            return 0;
        }
    return node_err(c, v, "profile: \"%s\" is not constant, ramp, step, spike or diurnal", s);
}
static int k_from(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    int64_t n;
    int rc = get_i64(c, k, v, 0, 100000000, &n);
    c->s->load.from = (uint64_t)n;
    return rc;
}
static int k_to(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    int64_t n;
    int rc = get_i64(c, k, v, 0, 100000000, &n);
    c->s->load.to = (uint64_t)n;
    return rc;
}
static int k_at(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_duration(c, k, v, &c->s->load.at_ms);
}
static int k_length(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_duration(c, k, v, &c->s->load.length_ms);
}
static int k_period(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    if (get_duration(c, k, v, &c->s->load.period_ms))
        return SKY_EINVAL;
    return c->s->load.period_ms > 0 ? 0 : node_err(c, v, "period: must be positive");
}
static int k_load(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    static const key_handler_t t[] = {{"profile", k_profile}, {"aircraft", k_from},
                                      {"from", k_from},       {"to", k_to},
                                      {"at", k_at},           {"length", k_length},
                                      {"period", k_period}};
    return WALK(c, k, v, t, "load");
}

/* region: */
static int k_bbox(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    static const double lim[4][2] = {{-90, 90}, {-180, 180}, {-90, 90}, {-180, 180}};
    double b[4];
    if (!v || !fy_node_is_sequence(v) || fy_node_sequence_item_count(v) != 4)
        return node_err(c, v ? v : k, "bbox: expected [south, west, north, east]");
    void *it = NULL;
    for (int i = 0; i < 4; i++)
        if (get_double(c, k, fy_node_sequence_iterate(v, &it), lim[i][0], lim[i][1], &b[i]))
            return SKY_EINVAL;
    if (b[0] >= b[2])
        return node_err(c, v, "bbox: south %g must be below north %g", b[0], b[2]);
    c->s->has_bbox = true;
    c->s->south = b[0];
    c->s->west = b[1];
    c->s->north = b[2];
    c->s->east = b[3];
    return 0;
}
static int k_airports(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_strv(c, k, v, &c->s->airports, &c->s->nairports);
}
static int k_routes(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    if (get_strv(c, k, v, &c->s->routes, &c->s->nroutes))
        return SKY_EINVAL;
    void *it = NULL;
    for (size_t i = 0; i < c->s->nroutes; i++) {
        struct fy_node *item = fy_node_sequence_iterate(v, &it);
        const char *dash = strchr(c->s->routes[i], '-');
        if (!dash || dash == c->s->routes[i] || !dash[1])
            return node_err(c, item, "routes: \"%s\" is not DEP-ARR (e.g. EGLL-LFPG)",
                            c->s->routes[i]);
    }
    return 0;
}
static int k_region(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    static const key_handler_t t[] = {
        {"bbox", k_bbox}, {"airports", k_airports}, {"routes", k_routes}};
    return WALK(c, k, v, t, "region");
}

/* faults: */
#define FAULT_RATE(field)                                                                          \
    static int k_fault_##field(yctx_t *c, struct fy_node *k, struct fy_node *v) {                  \
        return get_double(c, k, v, 0, 1, &c->s->faults.field);                                     \
    }
FAULT_RATE(duplicate)
FAULT_RATE(reorder)
FAULT_RATE(drop)
FAULT_RATE(malformed)
FAULT_RATE(gap)
static int k_gap_length(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    int64_t n;
    int rc = get_i64(c, k, v, 1, 1000, &n);
    c->s->faults.gap_length = (int)n;
    return rc;
}
static int k_faults(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    static const key_handler_t t[] = {
        {"duplicate", k_fault_duplicate}, {"reorder", k_fault_reorder},
        {"drop", k_fault_drop},           {"malformed", k_fault_malformed},
        {"gap", k_fault_gap},             {"gap_length", k_gap_length}};
    if (WALK(c, k, v, t, "faults"))
        return SKY_EINVAL;
    const sky_fault_rates_t *f = &c->s->faults;
    if (f->duplicate + f->reorder + f->drop + f->malformed + f->gap > 1.0)
        return node_err(c, v, "faults: the rates add up to more than 1");
    return 0;
}

/* airspaces: (the geometry itself is simulator/airspace.c's; here only the input) */

static sky_airspace_t *append_airspace(sky_airspace_t **arr, size_t *n) {
    sky_airspace_t *a = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!a)
        return NULL;
    *arr = a;
    memset(&a[*n], 0, sizeof *a);
    a[*n].kind = (sky_airspace_kind_t)-1;
    return &a[(*n)++];
}

/* Hook and channel names, the events' "hook", the map's labels: kept to one token. */
static const char *check_airspace_name(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > 64)
        return "must be 1 to 64 characters";
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.' || *p == ':'))
            return "may only hold letters, digits, '_', '-', '.' and ':'";
    return NULL;
}

/* What every airspace must satisfy, wherever it came from; NULL when fine. */
static const char *check_airspace(const sky_airspace_t *a, char *why, size_t whysz) {
    const char *e;
    if ((int)a->kind < 0)
        return "needs one of polygon, circle or airport";
    if (!a->name)
        return "needs a name";
    if ((e = check_airspace_name(a->name))) {
        snprintf(why, whysz, "name \"%s\" %s", a->name, e);
        return why;
    }
    if (a->kind != SKY_AIRSPACE_POLYGON && !(a->radius_nm > 0)) {
        snprintf(why, whysz, "\"%s\" needs radius_nm", a->name);
        return why;
    }
    if (a->has_floor && a->has_ceiling && a->floor_ft > a->ceiling_ft) {
        snprintf(why, whysz, "\"%s\": floor_ft %g is above ceiling_ft %g", a->name, a->floor_ft,
                 a->ceiling_ft);
        return why;
    }
    for (size_t r = 0; r < sky_airspace_rings(a); r++) {
        size_t first, end, distinct = 0;
        sky_airspace_ring(a, r, &first, &end);
        for (size_t i = first; i < end; i++) {
            bool seen = false;
            for (size_t j = first; j < i && !seen; j++)
                seen = a->points[2 * i] == a->points[2 * j] &&
                       a->points[2 * i + 1] == a->points[2 * j + 1];
            distinct += !seen;
        }
        if (distinct < 3) {
            snprintf(why, whysz, "\"%s\": %s %zu needs at least 3 distinct points", a->name,
                     r ? "hole" : "polygon", r);
            return why;
        }
    }
    return NULL;
}

static sky_airspace_t *cur_airspace(yctx_t *c) {
    return &c->s->airspaces[c->s->nairspaces - 1];
}
static int k_as_name(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_str(c, k, v, &cur_airspace(c)->name);
}
static int k_as_radius(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_double(c, k, v, 0.001, 10800, &cur_airspace(c)->radius_nm);
}
static int k_as_lat(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_double(c, k, v, -90, 90, &cur_airspace(c)->lat);
}
static int k_as_lon(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    return get_double(c, k, v, -180, 180, &cur_airspace(c)->lon);
}
static int k_as_floor(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    cur_airspace(c)->has_floor = true;
    return get_double(c, k, v, -2000, 100000, &cur_airspace(c)->floor_ft);
}
static int k_as_ceiling(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    cur_airspace(c)->has_ceiling = true;
    return get_double(c, k, v, -2000, 100000, &cur_airspace(c)->ceiling_ft);
}
static int k_as_airport(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    const char *s;
    if (scalar(c, k, v, &s))
        return SKY_EINVAL;
    if (strlen(s) != 4)
        return node_err(c, v, "airport: \"%s\" is not a 4-letter ICAO code", s);
    cur_airspace(c)->kind = SKY_AIRSPACE_AIRPORT;
    memcpy(cur_airspace(c)->airport, s, 5);
    return 0;
}
static int k_as_circle(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    static const key_handler_t t[] = {
        {"lat", k_as_lat}, {"lon", k_as_lon}, {"radius_nm", k_as_radius}};
    cur_airspace(c)->kind = SKY_AIRSPACE_CIRCLE;
    return WALK(c, k, v, t, "circle");
}
static int k_as_polygon(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    sky_airspace_t *a = cur_airspace(c);
    if (!v || !fy_node_is_sequence(v) || fy_node_sequence_item_count(v) < 3)
        return node_err(c, v ? v : k, "polygon: expected at least 3 [lat, lon] points");
    size_t n = (size_t)fy_node_sequence_item_count(v);
    a->kind = SKY_AIRSPACE_POLYGON;
    free(a->points);
    if (!(a->points = calloc(n * 2, sizeof *a->points)))
        return sky_err(c->errstr, c->errstr_size, SKY_ENOMEM, "out of memory");
    a->npoints = n;
    void *it = NULL;
    for (size_t i = 0; i < n; i++) {
        struct fy_node *pt = fy_node_sequence_iterate(v, &it);
        if (!fy_node_is_sequence(pt) || fy_node_sequence_item_count(pt) != 2)
            return node_err(c, pt, "polygon: point %zu: expected [lat, lon]", i + 1);
        void *it2 = NULL;
        if (get_double(c, k, fy_node_sequence_iterate(pt, &it2), -90, 90, &a->points[2 * i]) ||
            get_double(c, k, fy_node_sequence_iterate(pt, &it2), -180, 180,
                       &a->points[2 * i + 1]))
            return SKY_EINVAL;
    }
    return 0;
}

/* `file:` paths are relative to the scenario file's folder, then to the built-in
 * scenarios/ (so a copy of a shipped scenario elsewhere still finds its airspaces). */
static void resolve_path(const char *base_file, const char *path, char *out, size_t outsz) {
    const char *slash = strrchr(base_file, '/');
    struct stat st;
    if (path[0] == '/' || !slash)
        snprintf(out, outsz, "%s", path);
    else
        snprintf(out, outsz, "%.*s/%s", (int)(slash - base_file), base_file, path);
    if (path[0] != '/' && stat(out, &st) != 0) {
        char builtin[1024];
        snprintf(builtin, sizeof builtin, "%s/scenarios/%s", SKY_SOURCE_DIR, path);
        if (stat(builtin, &st) == 0)
            snprintf(out, outsz, "%s", builtin);
    }
}

/* Airspaces [from, n) checked against every one before them: names become Tile38
 * hook names, which must be unique. */
static int check_unique_names(yctx_t *c, struct fy_node *at, size_t from) {
    const sky_airspace_t *a = c->s->airspaces;
    for (size_t i = from; i < c->s->nairspaces; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(a[i].name, a[j].name) == 0)
                return node_err(c, at, "airspaces: \"%s\" is named twice (names become Tile38 "
                                       "hook names: they must be unique)", a[i].name);
    return 0;
}

static int add_airspace_file(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    const char *path;
    char full[1024], err[768];
    if (scalar(c, k, v, &path))
        return SKY_EINVAL;
    resolve_path(c->file, path, full, sizeof full);
    size_t before = c->s->nairspaces;
    if (sky_airspaces_load(full, &c->s->airspaces, &c->s->nairspaces, err, sizeof err))
        return node_err(c, v, "file: %s", err);
    return check_unique_names(c, v, before);
}

/* A list item: an airspace, or {file: PATH} with more of them. */
static int add_airspace(yctx_t *c, struct fy_node *k, struct fy_node *item) {
    static const key_handler_t t[] = {{"name", k_as_name},         {"polygon", k_as_polygon},
                                      {"circle", k_as_circle},     {"airport", k_as_airport},
                                      {"radius_nm", k_as_radius},  {"floor_ft", k_as_floor},
                                      {"ceiling_ft", k_as_ceiling}};
    struct fy_node *file = item && fy_node_is_mapping(item)
                               ? fy_node_mapping_lookup_by_string(item, "file", FY_NT)
                               : NULL;
    if (file) {
        if (fy_node_mapping_item_count(item) != 1)
            return node_err(c, item, "airspace: `file:` stands alone in its item");
        return add_airspace_file(c, k, file);
    }
    if (!append_airspace(&c->s->airspaces, &c->s->nairspaces))
        return sky_err(c->errstr, c->errstr_size, SKY_ENOMEM, "out of memory");
    if (WALK(c, k, item, t, "airspace"))
        return SKY_EINVAL;
    char why[256];
    const char *bad = check_airspace(cur_airspace(c), why, sizeof why);
    if (bad)
        return node_err(c, item, "airspace: %s", bad);
    return check_unique_names(c, item, c->s->nairspaces - 1);
}

static int k_airspaces(yctx_t *c, struct fy_node *k, struct fy_node *v) {
    if (v && fy_node_is_mapping(v)) { /* airspaces: {file: x.geojson} */
        struct fy_node *file = fy_node_mapping_lookup_by_string(v, "file", FY_NT);
        if (!file || fy_node_mapping_item_count(v) != 1)
            return node_err(c, v, "airspaces: expected a list, or {file: PATH}");
        return add_airspace_file(c, k, file);
    }
    if (!v || !fy_node_is_sequence(v))
        return node_err(c, v ? v : k, "airspaces: expected a list, or {file: PATH}");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL)
        if (add_airspace(c, k, item))
            return SKY_EINVAL;
    return 0;
}

/* ---- GeoJSON airspaces ---- */

typedef struct gj_ctx {
    const char *name;
    sky_airspace_t **arr;
    size_t *n;
    char *errstr;
    size_t errstr_size;
} gj_ctx_t;

static int gj_err(gj_ctx_t *g, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int gj_err(gj_ctx_t *g, const char *where, const char *fmt, ...) {
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sky_err(g->errstr, g->errstr_size, SKY_EINVAL, "%s: %s: %s", g->name, where, msg);
}

static int gj_number(json_t *v, double min, double max, double *out) {
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return *out >= min && *out <= max ? 0 : -1;
}

/* One ring, GeoJSON [lon, lat] positions, appended to a's points as lat, lon. */
static int gj_ring(gj_ctx_t *g, const char *where, json_t *ring, sky_airspace_t *a, size_t r) {
    if (!json_is_array(ring) || json_array_size(ring) < 3)
        return gj_err(g, where, "ring %zu: expected at least 3 [lon, lat] positions", r);
    size_t n = json_array_size(ring);
    double *p = realloc(a->points, (a->npoints + n) * 2 * sizeof *p);
    size_t *ends = realloc(a->ring_end, (r + 1) * sizeof *ends);
    if (p)
        a->points = p;
    if (ends)
        a->ring_end = ends;
    if (!p || !ends)
        return sky_err(g->errstr, g->errstr_size, SKY_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *pos = json_array_get(ring, i);
        double lon, lat;
        if (!json_is_array(pos) || json_array_size(pos) < 2 ||
            gj_number(json_array_get(pos, 0), -180, 180, &lon) ||
            gj_number(json_array_get(pos, 1), -90, 90, &lat))
            return gj_err(g, where, "ring %zu, position %zu: expected [lon, lat] within "
                                    "[-180, 180] x [-90, 90]", r, i);
        a->points[2 * (a->npoints + i)] = lat;
        a->points[2 * (a->npoints + i) + 1] = lon;
    }
    a->npoints += n;
    a->ring_end[r] = a->npoints;
    a->nrings = r + 1;
    return 0;
}

static int gj_prop_ft(gj_ctx_t *g, const char *where, json_t *props, const char *key,
                      bool *has, double *out) {
    json_t *v = json_object_get(props, key);
    if (!v || json_is_null(v))
        return 0;
    if (gj_number(v, -2000, 100000, out))
        return gj_err(g, where, "properties.%s: expected feet in [-2000, 100000]", key);
    *has = true;
    return 0;
}

static int gj_feature(gj_ctx_t *g, const char *where, json_t *props, json_t *geom, json_t *id) {
    json_t *type = json_object_get(geom, "type");
    const char *t = json_is_string(type) ? json_string_value(type) : "";
    const char *name = json_string_value(json_object_get(props, "name"));
    if (!name)
        name = json_string_value(id);
    if (!name)
        return gj_err(g, where, "needs properties.name (or a string id): it names the hook");
    sky_airspace_t *a = append_airspace(g->arr, g->n);
    if (!a || !(a->name = strdup(name)))
        return sky_err(g->errstr, g->errstr_size, SKY_ENOMEM, "out of memory");
    if (gj_prop_ft(g, where, props, "floor_ft", &a->has_floor, &a->floor_ft) ||
        gj_prop_ft(g, where, props, "ceiling_ft", &a->has_ceiling, &a->ceiling_ft))
        return SKY_EINVAL;
    json_t *coords = json_object_get(geom, "coordinates");
    if (strcmp(t, "Polygon") == 0) {
        a->kind = SKY_AIRSPACE_POLYGON;
        if (!json_is_array(coords) || json_array_size(coords) == 0)
            return gj_err(g, where, "Polygon: expected coordinates [[[lon, lat], ...], ...]");
        for (size_t r = 0; r < json_array_size(coords); r++)
            if (gj_ring(g, where, json_array_get(coords, r), a, r))
                return SKY_EINVAL;
    } else if (strcmp(t, "Point") == 0) {
        /* a circle: radius_nm, or Tile38's own {"type": "Circle", "radius": m} */
        double lon, lat, r;
        if (!json_is_array(coords) || json_array_size(coords) < 2 ||
            gj_number(json_array_get(coords, 0), -180, 180, &lon) ||
            gj_number(json_array_get(coords, 1), -90, 90, &lat))
            return gj_err(g, where, "Point: expected coordinates [lon, lat]");
        a->kind = SKY_AIRSPACE_CIRCLE;
        a->lat = lat;
        a->lon = lon;
        if (!gj_number(json_object_get(props, "radius_nm"), 0.001, 10800, &r))
            a->radius_nm = r;
        else if (!gj_number(json_object_get(props, "radius"), 1, 20e6, &r))
            a->radius_nm = r / 1852.0;
        else
            return gj_err(g, where, "Point \"%s\": needs properties.radius_nm (a circle)", name);
    } else {
        return gj_err(g, where, "geometry type \"%s\" is not Polygon or Point (split a "
                                "MultiPolygon into Polygons)", t);
    }
    char why[256];
    const char *bad = check_airspace(a, why, sizeof why);
    return bad ? gj_err(g, where, "%s", bad) : 0;
}

int sky_airspaces_parse_geojson(const char *text, size_t len, const char *name,
                                sky_airspace_t **arr, size_t *n, char *errstr,
                                size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s:%d:%d: %s", name, jerr.line,
                       jerr.column, jerr.text);
    gj_ctx_t g = {name, arr, n, errstr, errstr_size};
    const char *type = json_string_value(json_object_get(root, "type"));
    int rc = 0;
    char where[48];
    if (type && strcmp(type, "FeatureCollection") == 0) {
        json_t *features = json_object_get(root, "features");
        if (!json_is_array(features))
            rc = gj_err(&g, "features", "expected an array");
        for (size_t i = 0; !rc && i < json_array_size(features); i++) {
            json_t *f = json_array_get(features, i);
            snprintf(where, sizeof where, "features[%zu]", i);
            rc = gj_feature(&g, where, json_object_get(f, "properties"),
                            json_object_get(f, "geometry"), json_object_get(f, "id"));
        }
    } else if (type && strcmp(type, "Feature") == 0) {
        rc = gj_feature(&g, "feature", json_object_get(root, "properties"),
                        json_object_get(root, "geometry"), json_object_get(root, "id"));
    } else {
        rc = gj_err(&g, "root", "expected a FeatureCollection or a Feature with "
                                "properties.name");
    }
    for (size_t i = 0; !rc && i < *n; i++)
        for (size_t j = 0; !rc && j < i; j++)
            if (strcmp((*arr)[i].name, (*arr)[j].name) == 0)
                rc = gj_err(&g, "airspaces", "\"%s\" is named twice", (*arr)[i].name);
    json_decref(root);
    return rc;
}

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int read_file(const char *path, char **text, size_t *len, char *errstr,
                     size_t errstr_size);

int sky_airspaces_load(const char *path, sky_airspace_t **arr, size_t *n, char *errstr,
                       size_t errstr_size) {
    static _Thread_local int depth; /* a file that names itself with `file:` */
    if (depth >= 8)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: `file:` nested more than 8 deep",
                       path);
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len, errstr, errstr_size);
    if (rc)
        return rc;
    if (has_suffix(path, ".geojson") || has_suffix(path, ".json")) {
        rc = sky_airspaces_parse_geojson(text, len, path, arr, n, errstr, errstr_size);
        free(text);
        return rc;
    }
    /* YAML: a scenario's airspaces:, or a bare list; read as a scenario holding them */
    size_t hlen = len + 16;
    char *doc = malloc(hlen);
    const char *body = text;
    bool bare = false;
    for (const char *p = text; p < text + len; p++) { /* first significant character */
        if (*p == '#') {
            while (p < text + len && *p != '\n')
                p++;
            continue;
        }
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            bare = (*p == '-' && p + 1 < text + len && p[1] != '-') || *p == '[';
            break;
        }
    }
    sky_scenario_t *s = NULL;
    if (!doc) {
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    } else if (bare) {
        depth++;
        /* errors in a bare list then name a line one below the file's */
        snprintf(doc, hlen, "airspaces:\n%.*s", (int)len, body);
        rc = sky_scenario_parse(doc, strlen(doc), path, &s, errstr, errstr_size);
        depth--;
    } else {
        depth++;
        rc = sky_scenario_parse(text, len, path, &s, errstr, errstr_size);
        depth--;
    }
    if (!rc) {
        for (size_t i = 0; !rc && i < s->nairspaces; i++) {
            sky_airspace_t *a = append_airspace(arr, n);
            if (!a) {
                rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
                break;
            }
            *a = s->airspaces[i]; /* moved */
            memset(&s->airspaces[i], 0, sizeof s->airspaces[i]);
        }
        if (!rc && s->nairspaces == 0)
            rc = sky_err(errstr, errstr_size, SKY_EINVAL, "%s: no airspaces in it", path);
    }
    sky_scenario_destroy(s);
    free(doc);
    free(text);
    return rc;
}

static int check_scenario(yctx_t *c, struct fy_node *root) {
    const sky_load_profile_t *l = &c->s->load;
    if (l->kind != SKY_PROFILE_CONSTANT && sky_profile_peak(l) == 0)
        return node_err(c, root, "load: a %s profile needs `to` above 0",
                        sky_profile_kind_name(l->kind));
    if (l->kind == SKY_PROFILE_CONSTANT && l->from == 0)
        return node_err(c, root, "aircraft: must be at least 1");
    if (l->kind == SKY_PROFILE_SPIKE && l->length_ms <= 0)
        return node_err(c, root, "load: a spike needs a positive `length`");
    return 0;
}

static int parse_root(yctx_t *c, struct fy_node *root) {
    static const key_handler_t t[] = {
        {"name", k_name},         {"description", k_description},
        {"seed", k_seed},         {"start_time", k_start_time},
        {"duration", k_duration}, {"cadence", k_cadence},
        {"speedup", k_speedup},   {"rate", k_rate},
        {"aircraft", k_aircraft}, {"load", k_load},
        {"region", k_region},     {"data_dir", k_data_dir},
        {"faults", k_faults},     {"slo", k_slo},
        {"topic", k_topic},       {"partitions", k_partitions},
        {"ttl", k_ttl},           {"timestamp_format", k_timestamp_format},
        {"airspaces", k_airspaces}};
    if (!root)
        return sky_err(c->errstr, c->errstr_size, SKY_EINVAL, "%s:1:1: empty scenario", c->file);
    if (WALK(c, NULL, root, t, "the scenario"))
        return SKY_EINVAL;
    return check_scenario(c, root);
}

static void ignore_diag(struct fy_diag *diag, void *user, const char *buf, size_t len) {
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

static int yaml_error(struct fy_diag *diag, const char *file, char *errstr, size_t errstr_size) {
    void *it = NULL;
    struct fy_diag_error *e;
    while ((e = fy_diag_errors_iterate(diag, &it)) != NULL)
        if (e->type >= FYET_ERROR) /* libfyaml's line and column count from 1 */
            return sky_err(errstr, errstr_size, SKY_EINVAL, "%s:%d:%d: %s", file, e->line,
                           e->column, e->msg);
    return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: not valid YAML", file);
}

static char *default_name(const char *file) {
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
        len -= 5;
    else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
        len -= 4;
    return strndup(base, len);
}

int sky_scenario_parse(const char *yaml, size_t len, const char *name, sky_scenario_t **out,
                       char *errstr, size_t errstr_size) {
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = ignore_diag;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (diag) /* keep the errors (with line and column) for yaml_error */
        fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {NULL, FYPCF_QUIET | FYPCF_COLLECT_DIAG, NULL, diag};
    yctx_t c = {name, sky_scenario_new(), errstr, errstr_size};
    if (!diag || !c.s) {
        fy_diag_destroy(diag);
        sky_scenario_destroy(c.s);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory reading %s", name);
    }
    struct fy_document *doc = fy_document_build_from_string(&cfg, yaml, len);
    int rc = doc ? parse_root(&c, fy_document_root(doc)) : yaml_error(diag, name, errstr, errstr_size);
    if (!rc && !c.s->name && !(c.s->name = default_name(name)))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    fy_document_destroy(doc);
    fy_diag_destroy(diag);
    if (rc) {
        sky_scenario_destroy(c.s);
        return rc;
    }
    *out = c.s;
    return 0;
}

static int read_file(const char *path, char **out, size_t *out_len, char *errstr,
                     size_t errstr_size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: cannot open: %m", path);
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[8192];
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            char *t = realloc(text, cap = (len + n + 1) * 2);
            if (!t) {
                rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", path);
                break;
            }
            text = t;
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    if (!rc && ferror(f))
        rc = sky_err(errstr, errstr_size, SKY_EIO, "%s: read error", path);
    fclose(f);
    if (!rc && !text && !(text = calloc(1, 1)))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", path);
    if (rc) {
        free(text);
        return rc;
    }
    text[len] = '\0';
    *out = text;
    *out_len = len;
    return 0;
}

int sky_scenario_load(const char *path, sky_scenario_t **out, char *errstr, size_t errstr_size) {
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len, errstr, errstr_size);
    if (!rc)
        rc = sky_scenario_parse(text, len, path, out, errstr, errstr_size);
    if (!rc && !((*out)->path = strdup(path))) {
        sky_scenario_destroy(*out);
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    free(text);
    return rc;
}

int sky_scenario_find(const char *name_or_path, char *out, size_t outsz, char *errstr,
                      size_t errstr_size) {
    struct stat st;
    if (stat(name_or_path, &st) == 0 || strchr(name_or_path, '/'))
        return sky_strlcpy(out, name_or_path, outsz)
                   ? sky_err(errstr, errstr_size, SKY_EUSAGE, "--scenario: path too long")
                   : 0;
    snprintf(out, outsz, "%s/scenarios/%s.yaml", SKY_SOURCE_DIR, name_or_path);
    if (stat(out, &st) == 0)
        return 0;
    return sky_err(errstr, errstr_size, SKY_EUSAGE,
                   "--scenario: \"%s\" is neither a file nor a scenario in %s/scenarios/",
                   name_or_path, SKY_SOURCE_DIR);
}
