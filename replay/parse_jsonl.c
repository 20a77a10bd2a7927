/* JSON Lines as `skyload tail` prints them (docs/formats.md): the "value" object
 * becomes the FlightData; a line with "value_b64" (did not decode) is rejected with
 * its recorded error. Kafka metadata (topic, partition, offset, headers) is ignored:
 * replay attaches its own run headers. */
#include "fields.h"
#include "formats.h"

#include "error.h"
#include "timefmt.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static int get_text(json_t *obj, const char *name, char *dst, size_t dstsz, char *errstr,
                    size_t errsz) {
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) {
        dst[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return sky_err(errstr, errsz, SKY_EINVAL, "\"%s\" is not a string", name);
    size_t n = json_string_length(v);
    if (n >= dstsz || memchr(json_string_value(v), '\0', n))
        return sky_err(errstr, errsz, SKY_EINVAL, "\"%s\" longer than %zu bytes", name,
                       dstsz - 1);
    memcpy(dst, json_string_value(v), n + 1);
    return 0;
}

static int get_number(json_t *obj, const char *name, double *out, char *errstr, size_t errsz) {
    json_t *v = json_object_get(obj, name);
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_number(v))
        return sky_err(errstr, errsz, SKY_EINVAL, "\"%s\" is not a number", name);
    *out = json_number_value(v);
    return 0;
}

static int get_int32(json_t *obj, const char *name, int32_t *out, char *errstr, size_t errsz) {
    double d;
    if (get_number(obj, name, &d, errstr, errsz))
        return SKY_EINVAL;
    if (d != floor(d) || d < INT32_MIN || d > INT32_MAX)
        return sky_err(errstr, errsz, SKY_EINVAL, "\"%s\" %g is not a 32-bit integer", name, d);
    *out = (int32_t)d;
    return 0;
}

static int value_to_flight(json_t *v, sky_flight_t *f, char *errstr, size_t errsz) {
    memset(f, 0, sizeof *f);
    json_t *loc = json_object_get(v, "location"), *meta = json_object_get(v, "metadata");
    if (get_text(v, "flight_id", f->flight_id, sizeof f->flight_id, errstr, errsz) ||
        get_text(v, "timestamp", f->timestamp, sizeof f->timestamp, errstr, errsz) ||
        get_int32(v, "altitude", &f->altitude, errstr, errsz) ||
        get_int32(v, "airspeed", &f->airspeed, errstr, errsz))
        return SKY_EINVAL;
    if (loc && json_is_object(loc)) {
        f->has_location = true;
        if (get_number(loc, "latitude", &f->latitude, errstr, errsz) ||
            get_number(loc, "longitude", &f->longitude, errstr, errsz))
            return SKY_EINVAL;
    } else if (loc && !json_is_null(loc)) {
        return sky_err(errstr, errsz, SKY_EINVAL, "\"location\" is not an object");
    }
    if (meta && json_is_object(meta)) {
        f->has_metadata = true;
        if (get_text(meta, "airline", f->airline, SKY_META_MAX, errstr, errsz) ||
            get_text(meta, "flight_number", f->flight_number, SKY_META_MAX, errstr, errsz) ||
            get_text(meta, "departure_airport", f->departure_airport, SKY_META_MAX, errstr,
                     errsz) ||
            get_text(meta, "arrival_airport", f->arrival_airport, SKY_META_MAX, errstr, errsz))
            return SKY_EINVAL;
    } else if (meta && !json_is_null(meta)) {
        return sky_err(errstr, errsz, SKY_EINVAL, "\"metadata\" is not an object");
    }
    return 0;
}

static int record_from_json(json_t *root, sky_rrec_t *rec, char *errstr, size_t errsz) {
    if (!json_is_object(root))
        return sky_err(errstr, errsz, SKY_EINVAL, "not a JSON object");
    json_t *v = json_object_get(root, "value");
    if (!v || !json_is_object(v)) {
        const char *why = json_string_value(json_object_get(root, "error"));
        return sky_err(errstr, errsz, SKY_EINVAL, "no \"value\" object%s%s", why ? ": " : "",
                       why ? why : "");
    }
    if (value_to_flight(v, &rec->flight, errstr, errsz))
        return SKY_EINVAL;
    char why[160];
    if (sky_flight_validate(&rec->flight, &rec->ts_ms, why, sizeof why))
        return sky_err(errstr, errsz, SKY_EINVAL, "%s", why);
    rec->raw = false;
    rec->has_flight = true;
    rec->on_ground = false;
    return SKY_ROW_RECORD;
}

int parse_jsonl(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
                size_t errsz) {
    (void)p;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return SKY_ROW_NONE;
    json_error_t jerr;
    json_t *root = json_loadb(line + i, len - i, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return sky_err(errstr, errsz, SKY_EINVAL, "column %d: %s", jerr.column + (int)i,
                       jerr.text);
    int rc = record_from_json(root, rec, errstr, errsz);
    json_decref(root);
    return rc;
}

enum sky_sniff jsonl_sniff(const char *name, const char *head, size_t len) {
    (void)name;
    head = sky_sniff_skip_blanks(head, &len);
    return len > 0 && head[0] == '{' ? SKY_SNIFF_HEADER : SKY_SNIFF_NO;
}
