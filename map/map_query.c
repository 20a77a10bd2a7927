/* The map server's pure parts: query strings, WITHIN replies to columns,
 * fence commands to GeoJSON, hook messages to events. */
#include "map_query.h"

#include "error.h"
#include "parse.h"
#include "tile38.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sky_map_parse_bbox(const char *s, sky_bbox_t *out, char *errstr, size_t errstr_size) {
    static const char *const names[] = {"west", "south", "east", "north"};
    static const double limit[] = {180, 90, 180, 90};
    double v[4];
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        char part[64];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof part)
            return sky_err(errstr, errstr_size, SKY_EINVAL,
                           "bbox \"%.80s\": expected W,S,E,N (four numbers in degrees)", s);
        memcpy(part, p, len);
        part[len] = '\0';
        char why[128];
        if (sky_parse_double(part, -limit[i], limit[i], &v[i], names[i], why, sizeof why) ||
            !isfinite(v[i]))
            return sky_err(errstr, errstr_size, SKY_EINVAL, "bbox: %s \"%s\" is not a number in "
                           "[-%g, %g]", names[i], part, limit[i], limit[i]);
        p += len;
        if (i < 3 && *p++ != ',')
            return sky_err(errstr, errstr_size, SKY_EINVAL,
                           "bbox \"%.80s\": expected W,S,E,N (four numbers in degrees)", s);
    }
    if (*p)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "bbox \"%.80s\": more than four numbers", s);
    if (v[1] > v[3])
        return sky_err(errstr, errstr_size, SKY_EINVAL, "bbox: south %g is north of north %g",
                       v[1], v[3]);
    *out = (sky_bbox_t){v[0], v[1], v[2], v[3]};
    return 0;
}

int sky_map_parse_listen(const char *s, char *host, size_t hostsz, int *port, char *errstr,
                         size_t errstr_size) {
    const char *colon = strrchr(s, ':');
    int64_t p;
    char why[128];
    if (!colon || colon == s || (size_t)(colon - s) >= hostsz ||
        sky_parse_i64(colon + 1, 0, 65535, &p, "port", why, sizeof why))
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--listen \"%s\": expected HOST:PORT, e.g. 127.0.0.1:8080", s);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, hostsz, "127.0.0.1");
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--listen \"%s\": the host must be an IPv4 address such as 127.0.0.1", s);
    *port = (int)p;
    return 0;
}

void sky_map_columns_init(sky_map_columns_t *c) {
    memset(c, 0, sizeof *c);
    sky_buf_t *bufs[] = {&c->ids, &c->lat, &c->lon, &c->alt, &c->spd, &c->seq};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        sky_buf_init(bufs[i], 0);
}

void sky_map_columns_free(sky_map_columns_t *c) {
    sky_buf_t *bufs[] = {&c->ids, &c->lat, &c->lon, &c->alt, &c->spd, &c->seq};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        sky_buf_free(bufs[i]);
}

/* Five decimals: 1.1 m, finer than any transponder. */
static int add_coord(sky_buf_t *b, bool first, double v) {
    char num[32];
    size_t n = sky_fmt_fixed(num, v, 5);
    return (first ? 0 : sky_buf_add_char(b, ',')) || sky_buf_add(b, num, n);
}

static int add_int(sky_buf_t *b, bool first, json_t *v) {
    return (first ? 0 : sky_buf_add_char(b, ',')) ||
           sky_buf_add_i64(b, json_is_number(v) ? (int64_t)json_number_value(v) : 0);
}

int sky_map_columns_add_reply(sky_map_columns_t *c, const char *reply, size_t len,
                              int64_t *cursor, char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_loadb(reply, len, 0, &jerr);
    *cursor = 0;
    if (!root)
        return sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 WITHIN: bad JSON: %s",
                       jerr.text);
    int rc = 0;
    json_t *points = json_object_get(root, "points"), *fields = json_object_get(root, "fields");
    if (!json_is_true(json_object_get(root, "ok"))) {
        const char *e = json_string_value(json_object_get(root, "err"));
        /* a collection that does not exist yet is an empty sky, not an error */
        if (!e || !strstr(e, "not found"))
            rc = sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 WITHIN: %s",
                         e ? e : "failed");
        json_decref(root);
        return rc;
    }
    if (!json_is_array(points)) {
        json_decref(root);
        return sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 WITHIN: reply has no points");
    }
    /* which column of each object's "fields" array holds what */
    int ialt = -1, ispd = -1, iseq = -1;
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const char *f = json_string_value(json_array_get(fields, i));
        if (!f)
            continue;
        if (strcmp(f, "altitude") == 0)
            ialt = (int)i;
        else if (strcmp(f, "airspeed") == 0)
            ispd = (int)i;
        else if (strcmp(f, "seq") == 0)
            iseq = (int)i;
    }
    size_t n;
    json_t *o;
    json_array_foreach(points, n, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        json_t *pt = json_object_get(o, "point"), *fv = json_object_get(o, "fields");
        if (!id || !json_is_object(pt))
            continue; /* not a point (someone else's object in the collection) */
        bool first = c->count == 0;
        if ((first ? 0 : sky_buf_add_char(&c->ids, ',')) ||
            sky_buf_add_json_str(&c->ids, id, strlen(id)) ||
            add_coord(&c->lat, first, json_number_value(json_object_get(pt, "lat"))) ||
            add_coord(&c->lon, first, json_number_value(json_object_get(pt, "lon"))) ||
            add_int(&c->alt, first, ialt >= 0 ? json_array_get(fv, (size_t)ialt) : NULL) ||
            add_int(&c->spd, first, ispd >= 0 ? json_array_get(fv, (size_t)ispd) : NULL) ||
            add_int(&c->seq, first, iseq >= 0 ? json_array_get(fv, (size_t)iseq) : NULL)) {
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
            break;
        }
        c->count++;
    }
    json_t *cur = json_object_get(root, "cursor");
    *cursor = json_is_integer(cur) ? (int64_t)json_integer_value(cur) : 0;
    json_decref(root);
    return rc;
}

static int write_column(sky_buf_t *out, const char *name, const sky_buf_t *col, bool first) {
    return sky_buf_addf(out, "%s\"%s\":[", first ? "" : ",", name) ||
           (col->len ? sky_buf_add(out, col->data, col->len) : 0) || sky_buf_add_char(out, ']');
}

int sky_map_columns_write(const sky_map_columns_t *c, sky_buf_t *out) {
    return write_column(out, "ids", &c->ids, true) || write_column(out, "lat", &c->lat, false) ||
                   write_column(out, "lon", &c->lon, false) ||
                   write_column(out, "alt", &c->alt, false) ||
                   write_column(out, "spd", &c->spd, false) ||
                   write_column(out, "seq", &c->seq, false)
               ? SKY_ENOMEM
               : 0;
}

/* ---- airspaces ---------------------------------------------------------- */

static const char *arg_at(const json_t *cmd, size_t i) {
    return json_string_value(json_array_get(cmd, i));
}

static bool num_at(const json_t *cmd, size_t i, double *out) {
    const char *s = arg_at(cmd, i);
    char *end;
    if (!s || !*s)
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

static json_t *polygon_from_bounds(double s, double w, double n, double e) {
    return json_pack("{s:s, s:[[[f,f],[f,f],[f,f],[f,f],[f,f]]]}", "type", "Polygon",
                     "coordinates", w, s, e, s, e, n, w, n, w, s);
}

/* Web Mercator tile x, y at zoom z to its bounds. */
static json_t *polygon_from_tile(double x, double y, int z) {
    double n2 = ldexp(1.0, z);
    double w = x / n2 * 360.0 - 180.0, e = (x + 1) / n2 * 360.0 - 180.0;
    double north = atan(sinh(M_PI * (1 - 2 * y / n2))) * 180.0 / M_PI;
    double south = atan(sinh(M_PI * (1 - 2 * (y + 1) / n2))) * 180.0 / M_PI;
    return polygon_from_bounds(south, w, north, e);
}

static json_t *polygon_from_geohash(const char *hash) {
    static const char base32[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double lat[2] = {-90, 90}, lon[2] = {-180, 180};
    bool even = true;
    if (!*hash || strlen(hash) > 12)
        return NULL;
    for (const char *p = hash; *p; p++) {
        const char *at = strchr(base32, tolower((unsigned char)*p));
        if (!at)
            return NULL;
        int v = (int)(at - base32);
        for (int bit = 4; bit >= 0; bit--) {
            double *r = even ? lon : lat;
            double mid = (r[0] + r[1]) / 2;
            if ((v >> bit) & 1)
                r[0] = mid;
            else
                r[1] = mid;
            even = !even;
        }
    }
    return polygon_from_bounds(lat[0], lon[0], lat[1], lon[1]);
}

static json_t *polygon_from_quadkey(const char *qk) {
    size_t z = strlen(qk);
    double x = 0, y = 0;
    if (!z || z > 30)
        return NULL;
    for (size_t i = 0; i < z; i++) {
        int d = qk[i] - '0';
        if (d < 0 || d > 3)
            return NULL;
        x = x * 2 + (d & 1);
        y = y * 2 + (d >> 1);
    }
    return polygon_from_tile(x, y, (int)z);
}

/* How many arguments follow each search option of WITHIN/INTERSECTS/NEARBY
 * (-1: a count comes first, WHEREIN field count v...). */
static int option_args(const char *opt) {
    static const struct {
        const char *name;
        int args;
    } opts[] = {{"FENCE", 0},    {"NOFIELDS", 0}, {"CLIP", 0},     {"DISTANCE", 0},
                {"ASC", 0},      {"DESC", 0},     {"COUNT", 0},    {"IDS", 0},
                {"OBJECTS", 0},  {"POINTS", 0},   {"DETECT", 1},   {"COMMANDS", 1},
                {"MATCH", 1},    {"LIMIT", 1},    {"CURSOR", 1},   {"SPARSE", 1},
                {"BUFFER", 1},   {"HASHES", 1},   {"WHERE", 3},    {"ROAM", 3},
                {"WHEREEVAL", -2}, {"WHEREEVALSHA", -2}, {"WHEREIN", -1}};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcasecmp(opt, opts[i].name) == 0)
            return opts[i].args;
    return -100;
}

/* Index of the area keyword in command (after the key and the options), or 0. */
static size_t find_area(const json_t *cmd) {
    size_t n = json_array_size(cmd);
    for (size_t i = 2; i < n;) {
        const char *a = arg_at(cmd, i);
        double x;
        if (!a)
            return 0;
        /* BOUNDS is both an output format and an area: the area has four numbers */
        if (strcasecmp(a, "BOUNDS") == 0)
            if (num_at(cmd, i + 1, &x) && num_at(cmd, i + 4, &x))
                return i;
        int k = option_args(a);
        if (k == -100)
            return i; /* not an option: the area starts here */
        if (k == -1 || k == -2) { /* WHEREIN field count ... / WHEREEVAL script count ... */
            double cnt;
            if (!num_at(cmd, i + 2, &cnt) || cnt < 0 || cnt > 1000)
                return 0;
            i += 3 + (size_t)cnt;
        } else {
            i += 1 + (size_t)k;
        }
    }
    return 0;
}

json_t *sky_map_airspace_feature(const char *name, const char *kind, const json_t *command,
                                 sky_map_get_object_fn *get, void *opaque, char *why,
                                 size_t why_size) {
    const char *verb = arg_at(command, 0), *key = arg_at(command, 1);
    size_t at = verb && key ? find_area(command) : 0;
    const char *area = at ? arg_at(command, at) : NULL;
    json_t *geom = NULL;
    double a, b, c, d, radius = -1;
    if (!area) {
        sky_err(why, why_size, SKY_EINVAL, "%s %s: no area found in its command", kind, name);
        return NULL;
    }
    if ((strcasecmp(area, "CIRCLE") == 0 || strcasecmp(area, "POINT") == 0) &&
        num_at(command, at + 1, &a) && num_at(command, at + 2, &b) && num_at(command, at + 3, &c)) {
        geom = json_pack("{s:s, s:[f,f]}", "type", "Point", "coordinates", b, a);
        radius = c;
    } else if (strcasecmp(area, "BOUNDS") == 0 && num_at(command, at + 1, &a) &&
               num_at(command, at + 2, &b) && num_at(command, at + 3, &c) &&
               num_at(command, at + 4, &d)) {
        geom = polygon_from_bounds(a, b, c, d);
    } else if (strcasecmp(area, "OBJECT") == 0 && arg_at(command, at + 1)) {
        const char *text = arg_at(command, at + 1);
        geom = json_loads(text, 0, NULL);
    } else if (strcasecmp(area, "GET") == 0 && arg_at(command, at + 1) &&
               arg_at(command, at + 2) && get) {
        geom = get(opaque, arg_at(command, at + 1), arg_at(command, at + 2));
    } else if (strcasecmp(area, "HASH") == 0 && arg_at(command, at + 1)) {
        geom = polygon_from_geohash(arg_at(command, at + 1));
    } else if (strcasecmp(area, "QUADKEY") == 0 && arg_at(command, at + 1)) {
        geom = polygon_from_quadkey(arg_at(command, at + 1));
    } else if (strcasecmp(area, "TILE") == 0 && num_at(command, at + 1, &a) &&
               num_at(command, at + 2, &b) && num_at(command, at + 3, &c) && c >= 0 && c <= 30) {
        geom = polygon_from_tile(a, b, (int)c);
    }
    if (!json_is_object(geom)) {
        json_decref(geom);
        sky_err(why, why_size, SKY_EINVAL, "%s %s: area %s is not drawn (unsupported or "
                "malformed)", kind, name, area);
        return NULL;
    }
    /* an OBJECT may itself be a Feature: draw its geometry under our properties */
    if (json_is_object(json_object_get(geom, "geometry"))) {
        json_t *inner = json_incref(json_object_get(geom, "geometry"));
        json_decref(geom);
        geom = inner;
    }
    const char *detect = NULL;
    for (size_t i = 2; i + 1 < json_array_size(command) && i < at; i++)
        if (strcasecmp(arg_at(command, i), "DETECT") == 0)
            detect = arg_at(command, i + 1);
    json_t *props = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "kind", kind, "command",
                              verb, "key", key, "area", area);
    if (props && detect)
        json_object_set_new(props, "detect", json_string(detect));
    if (props && radius >= 0)
        json_object_set_new(props, "radius_m", json_real(radius));
    json_t *f = props ? json_pack("{s:s, s:o, s:o}", "type", "Feature", "geometry", geom,
                                  "properties", props)
                      : NULL;
    if (!props)
        json_decref(geom);
    if (!f)
        sky_err(why, why_size, SKY_ENOMEM, "out of memory");
    return f;
}

/* ---- events ------------------------------------------------------------- */

static void copy_str(char *dst, size_t dstsz, json_t *v) {
    const char *s = json_string_value(v);
    snprintf(dst, dstsz, "%s", s ? s : "");
}

int sky_map_event_parse(const char *json, size_t len, sky_map_event_t *out, char *errstr,
                        size_t errstr_size) {
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return sky_err(errstr, errstr_size, SKY_EINVAL, "event is not a JSON object: %s",
                       root ? "wrong type" : jerr.text);
    }
    json_t *detect = json_object_get(root, "detect"), *id = json_object_get(root, "id");
    json_t *hook = json_object_get(root, "hook");
    int rc = 0;
    if (!json_is_string(detect) || !json_is_string(id) || !json_is_string(hook)) {
        rc = sky_err(errstr, errstr_size, SKY_EINVAL,
                     "event has no \"detect\", \"hook\" or \"id\" string: not a Tile38 "
                     "geofence message");
    } else {
        copy_str(out->detect, sizeof out->detect, detect);
        copy_str(out->hook, sizeof out->hook, hook);
        copy_str(out->id, sizeof out->id, id);
        copy_str(out->time, sizeof out->time, json_object_get(root, "time"));
        json_t *obj = json_object_get(root, "object");
        json_t *coords = json_object_get(obj, "coordinates");
        const char *type = json_string_value(json_object_get(obj, "type"));
        if (type && strcmp(type, "Point") == 0 && json_array_size(coords) >= 2 &&
            json_is_number(json_array_get(coords, 0)) && json_is_number(json_array_get(coords, 1))) {
            out->lon = json_number_value(json_array_get(coords, 0));
            out->lat = json_number_value(json_array_get(coords, 1));
            out->has_point = true;
        }
    }
    json_decref(root);
    return rc;
}
