/* OpenSky state vectors CSV (time,icao24,lat,lon,velocity,heading,vertrate,callsign,
 * onground,alert,spi,squawk,baroaltitude,geoaltitude,lastposupdate,lastcontact[,hour]):
 * metres and m/s become feet and knots; rows without a position are skipped. */
#include "fields.h"
#include "formats.h"

#include "error.h"
#include "timefmt.h"

#include <string.h>

static const char *const opensky_names[OS_NCOLS] = {
    "time",     "icao24", "lat",          "lon",         "velocity",      "heading",
    "vertrate", "callsign", "onground",   "alert",       "spi",           "squawk",
    "baroaltitude", "geoaltitude", "lastposupdate", "lastcontact", "hour"};

static void default_layout(sky_line_parser_t *p, int ncols) {
    for (int i = 0; i < OS_NCOLS; i++)
        p->col[i] = i < ncols ? i : -1;
    p->ncols = ncols;
}

/* A header names its columns; any order is accepted, unknown columns are ignored. */
static int read_header(sky_line_parser_t *p, field_t *f, int n, char *errstr, size_t errsz) {
    for (int i = 0; i < OS_NCOLS; i++)
        p->col[i] = -1;
    for (int c = 0; c < n; c++)
        for (int i = 0; i < OS_NCOLS; i++)
            if (f[c].len == strlen(opensky_names[i]) &&
                memcmp(f[c].p, opensky_names[i], f[c].len) == 0)
                p->col[i] = c;
    p->ncols = n;
    if (p->col[OS_TIME] < 0 || p->col[OS_ICAO24] < 0 || p->col[OS_LAT] < 0 || p->col[OS_LON] < 0)
        return sky_err(errstr, errsz, SKY_EINVAL,
                       "OpenSky header lacks one of time, icao24, lat, lon");
    return 0;
}

static const field_t *col(const sky_line_parser_t *p, const field_t *f, int which) {
    static const field_t empty = {"", 0};
    return p->col[which] >= 0 ? &f[p->col[which]] : &empty;
}

static bool is_true(const field_t *f) {
    return (f->len == 4 && (memcmp(f->p, "true", 4) == 0 || memcmp(f->p, "True", 4) == 0 ||
                            memcmp(f->p, "TRUE", 4) == 0)) ||
           (f->len == 1 && f->p[0] == '1');
}

static int bad(const field_t *f, const char *what, char *errstr, size_t errsz) {
    char show[64];
    return sky_err(errstr, errsz, SKY_EINVAL, "%s %s is not a number", what,
                   field_show(f, show, sizeof show));
}

/* Altitude: barometric, else geometric; metres to feet. */
static int row_altitude(const sky_line_parser_t *p, const field_t *f, sky_flight_t *fl,
                        char *errstr, size_t errsz) {
    const field_t *a = col(p, f, OS_BAROALT);
    if (field_empty(a))
        a = col(p, f, OS_GEOALT);
    double m = 0;
    if (!field_empty(a) && !field_double(a, &m))
        return bad(a, "altitude", errstr, errsz);
    fl->altitude = round_i32(m * M_TO_FT);
    return field_empty(a) ? SKY_ROW_SKIPPED : 0;
}

static int row_values(const sky_line_parser_t *p, const field_t *f, sky_rrec_t *rec, char *errstr,
                      size_t errsz) {
    sky_flight_t *fl = &rec->flight;
    int64_t t;
    double lat, lon, v;
    const field_t *ft = col(p, f, OS_TIME), *fv = col(p, f, OS_VELOCITY);
    if (!field_i64(ft, &t)) {
        double d;
        if (!field_double(ft, &d) || !(d > 0 && d < 1e11))
            return bad(ft, "time", errstr, errsz);
        t = (int64_t)d;
    }
    if (t <= 0 || t >= 100000000000LL)
        return sky_err(errstr, errsz, SKY_EINVAL, "time %lld is not epoch seconds",
                       (long long)t);
    const field_t *flat = col(p, f, OS_LAT), *flon = col(p, f, OS_LON);
    if (field_empty(flat) || field_empty(flon))
        return SKY_ROW_SKIPPED;
    if (!field_double(flat, &lat))
        return bad(flat, "lat", errstr, errsz);
    if (!field_double(flon, &lon))
        return bad(flon, "lon", errstr, errsz);
    if (field_empty(fv)) /* unknown, not 0 kt: never invent a stopped aircraft */
        return SKY_ROW_SKIPPED;
    if (!field_double(fv, &v))
        return bad(fv, "velocity", errstr, errsz);
    rec->ts_ms = t * 1000;
    fl->has_location = true;
    fl->latitude = lat;
    fl->longitude = lon;
    fl->airspeed = round_i32(v * MS_TO_KT);
    rec->on_ground = is_true(col(p, f, OS_ONGROUND));
    return row_altitude(p, f, fl, errstr, errsz);
}

int parse_opensky(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
                  size_t errsz) {
    field_t f[FIELDS_MAX];
    if (len == 0)
        return SKY_ROW_NONE;
    int n = csv_split_row(line, len, f, errstr, errsz);
    if (n < 0)
        return n;
    if (!p->header_done) {
        p->header_done = true;
        if (f[0].len == 4 && memcmp(f[0].p, "time", 4) == 0)
            return read_header(p, f, n, errstr, errsz) ? SKY_EINVAL : SKY_ROW_NONE;
        default_layout(p, n == 17 ? 17 : 16);
    }
    if (n != p->ncols)
        return sky_err(errstr, errsz, SKY_EINVAL, "%d fields, expected %d", n, p->ncols);
    memset(&rec->flight, 0, sizeof rec->flight);
    rec->raw = false;
    rec->has_flight = true;
    int rc = row_values(p, f, rec, errstr, errsz);
    if (rc)
        return rc;
    const field_t *icao = col(p, f, OS_ICAO24), *cs = col(p, f, OS_CALLSIGN);
    if (icao->len == 0)
        return sky_err(errstr, errsz, SKY_EINVAL, "empty icao24");
    sky_replay_identity(&rec->flight, icao->p, icao->len, cs->p, cs->len, rec->ts_ms);
    sky_ts_format(rec->ts_ms, SKY_TS_ISO8601, rec->flight.timestamp);
    if (sky_flight_check_fields(&rec->flight, errstr, errsz))
        return SKY_EINVAL;
    return SKY_ROW_RECORD;
}

enum sky_sniff opensky_sniff(const char *name, const char *head, size_t len) {
    (void)name;
    head = sky_sniff_skip_blanks(head, &len);
    if (len >= 5 && memcmp(head, "time,", 5) == 0)
        return SKY_SNIFF_HEADER;
    int commas = sky_sniff_commas(head, len); /* 16 columns, 17 with the hour */
    return commas == 15 || commas == 16 ? SKY_SNIFF_SHAPE : SKY_SNIFF_NO;
}
