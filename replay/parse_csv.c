/* skyload CSV: one FlightData per row under the header
 * flight_id,timestamp,latitude,longitude,altitude,airspeed,airline,flight_number,
 * departure_airport,arrival_airport (docs/formats.md). */
#include "fields.h"
#include "formats.h"

#include "error.h"
#include "parse.h"
#include "timefmt.h"

#include <string.h>

static const char *const csv_names[CSV_NCOLS] = {
    "flight_id", "timestamp", "latitude",      "longitude",         "altitude",
    "airspeed",  "airline",   "flight_number", "departure_airport", "arrival_airport"};

static int read_header(sky_line_parser_t *p, field_t *f, int n, char *errstr, size_t errsz) {
    for (int i = 0; i < CSV_NCOLS; i++)
        p->col[i] = -1;
    for (int c = 0; c < n; c++)
        for (int i = 0; i < CSV_NCOLS; i++)
            if (f[c].len == strlen(csv_names[i]) && memcmp(f[c].p, csv_names[i], f[c].len) == 0)
                p->col[i] = c;
    p->ncols = n;
    if (p->col[CSV_FLIGHT_ID] < 0 || p->col[CSV_TIMESTAMP] < 0)
        return sky_err(errstr, errsz, SKY_EINVAL, "skyload CSV header lacks flight_id or timestamp");
    return 0;
}

/* Copies a text field into a fixed FlightData string, or fails when it does not fit. */
static int copy_text(const field_t *f, char *dst, size_t dstsz, const char *what, char *errstr,
                     size_t errsz) {
    if (f->len >= dstsz)
        return sky_err(errstr, errsz, SKY_EINVAL, "%s longer than %zu bytes", what, dstsz - 1);
    memcpy(dst, f->p, f->len);
    dst[f->len] = '\0';
    return 0;
}

static int number(const field_t *f, const char *what, double *out, char *errstr, size_t errsz) {
    char show[64];
    *out = 0;
    if (field_empty(f) || field_double(f, out))
        return 0;
    return sky_err(errstr, errsz, SKY_EINVAL, "%s %s is not a number", what,
                   field_show(f, show, sizeof show));
}

static const field_t *col(const sky_line_parser_t *p, field_t *f, int which) {
    static field_t empty = {"", 0};
    return p->col[which] >= 0 ? &f[p->col[which]] : &empty;
}

static int position(const sky_line_parser_t *p, field_t *f, sky_flight_t *fl, char *errstr,
                    size_t errsz) {
    const field_t *lat = col(p, f, CSV_LAT), *lon = col(p, f, CSV_LON);
    double alt, speed;
    fl->has_location = !field_empty(lat) || !field_empty(lon);
    if (number(lat, "latitude", &fl->latitude, errstr, errsz) ||
        number(lon, "longitude", &fl->longitude, errstr, errsz) ||
        number(col(p, f, CSV_ALT), "altitude", &alt, errstr, errsz) ||
        number(col(p, f, CSV_SPEED), "airspeed", &speed, errstr, errsz))
        return SKY_EINVAL;
    fl->altitude = round_i32(alt);
    fl->airspeed = round_i32(speed);
    return 0;
}

static int metadata(const sky_line_parser_t *p, field_t *f, sky_flight_t *fl, char *errstr,
                    size_t errsz) {
    static const int cols[4] = {CSV_AIRLINE, CSV_FLIGHT_NUMBER, CSV_DEPARTURE, CSV_ARRIVAL};
    char *dst[4] = {fl->airline, fl->flight_number, fl->departure_airport, fl->arrival_airport};
    for (int i = 0; i < 4; i++) {
        const field_t *m = col(p, f, cols[i]);
        if (copy_text(m, dst[i], SKY_META_MAX, csv_names[cols[i]], errstr, errsz))
            return SKY_EINVAL;
        fl->has_metadata |= m->len > 0;
    }
    return 0;
}

int parse_csv(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
              size_t errsz) {
    field_t f[FIELDS_MAX];
    if (len == 0 || line[0] == '#')
        return SKY_ROW_NONE;
    int n = csv_split_row(line, len, f, errstr, errsz);
    if (n < 0)
        return n;
    if (!p->header_done) {
        p->header_done = true;
        if (f[0].len == 9 && memcmp(f[0].p, "flight_id", 9) == 0)
            return read_header(p, f, n, errstr, errsz) ? SKY_EINVAL : SKY_ROW_NONE;
        for (int i = 0; i < CSV_NCOLS; i++)
            p->col[i] = i;
        p->ncols = CSV_NCOLS;
    }
    if (n != p->ncols)
        return sky_err(errstr, errsz, SKY_EINVAL, "%d fields, expected %d", n, p->ncols);
    sky_flight_t *fl = &rec->flight;
    memset(fl, 0, sizeof *fl);
    rec->raw = false;
    rec->has_flight = true;
    rec->on_ground = false;
    const field_t *ts = col(p, f, CSV_TIMESTAMP);
    if (copy_text(col(p, f, CSV_FLIGHT_ID), fl->flight_id, sizeof fl->flight_id, "flight_id",
                  errstr, errsz) ||
        copy_text(ts, fl->timestamp, sizeof fl->timestamp, "timestamp", errstr, errsz) ||
        position(p, f, fl, errstr, errsz) || metadata(p, f, fl, errstr, errsz))
        return SKY_EINVAL;
    char why[160];
    if (sky_ts_parse(ts->p, ts->len, &rec->ts_ms, why, sizeof why))
        return sky_err(errstr, errsz, SKY_EINVAL, "timestamp: %s", why);
    if (sky_flight_check_fields(fl, errstr, errsz))
        return SKY_EINVAL;
    return SKY_ROW_RECORD;
}

enum sky_sniff csv_sniff(const char *name, const char *head, size_t len) {
    (void)name;
    head = sky_sniff_skip_blanks(head, &len);
    if (len >= 10 && memcmp(head, "flight_id,", 10) == 0)
        return SKY_SNIFF_HEADER;
    return sky_sniff_commas(head, len) == CSV_NCOLS - 1 ? SKY_SNIFF_SHAPE : SKY_SNIFF_NO;
}
