/* Internal to the readers: the line parser's state, CSV field splitting and
 * the fast number parsers of the hot path. Not for use outside replay/. */
#ifndef SKY_READER_IMPL_H
#define SKY_READER_IMPL_H

#include "reader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIELDS_MAX 32

typedef struct field {
    char *p;
    size_t len;
} field_t;

enum { OS_TIME, OS_ICAO24, OS_LAT, OS_LON, OS_VELOCITY, OS_HEADING, OS_VERTRATE, OS_CALLSIGN,
       OS_ONGROUND, OS_ALERT, OS_SPI, OS_SQUAWK, OS_BAROALT, OS_GEOALT, OS_LASTPOS,
       OS_LASTCONTACT, OS_HOUR, OS_NCOLS };

enum { CSV_FLIGHT_ID, CSV_TIMESTAMP, CSV_LAT, CSV_LON, CSV_ALT, CSV_SPEED, CSV_AIRLINE,
       CSV_FLIGHT_NUMBER, CSV_DEPARTURE, CSV_ARRIVAL, CSV_NCOLS };

typedef struct sbs_aircraft sbs_aircraft_t;

struct sky_line_parser {
    sky_replay_format_t fmt;
    bool header_done;    /* the first non-blank line has been looked at */
    int ncols;           /* columns the rows must have (header or default layout) */
    int col[OS_NCOLS];   /* column index of each known column, -1 when absent */
    sbs_aircraft_t *sbs; /* SBS: open-addressing table of aircraft state */
    size_t sbs_cap, sbs_used;
    uint32_t sbs_released; /* key of the aircraft whose held position is ready; 0 = none */
    uint64_t sbs_held, sbs_dropped;
};

/* Splits a CSV line in place (RFC 4180 quotes within one line; "" unescaped).
 * Returns the number of fields, or -1 for an unterminated quote, -2 for more than max. */
int csv_split(char *line, size_t len, field_t *fields, int max);
/* csv_split into FIELDS_MAX fields; a bad line returns SKY_EINVAL with the reason. */
int csv_split_row(char *line, size_t len, field_t *fields, char *errstr, size_t errsz);

/* Strict decimal parsers for a field ([-+]digits[.digits][e±N]); false when not a number. */
bool field_double(const field_t *f, double *out);
bool field_i64(const field_t *f, int64_t *out);
static inline bool field_empty(const field_t *f) {
    return f->len == 0;
}
/* Nearest int32, halves away from zero as lround; INT32_MIN (out of every range) for NaN
 * or huge values. Inline, as it runs for several fields of every row: v - trunc(v) is
 * exact, so no rounding call is needed. */
static inline int32_t round_i32(double v) {
    if (!(v > -2e9 && v < 2e9))
        return INT32_MIN;
    int32_t whole = (int32_t)v;
    double rest = v - whole;
    return whole + (rest >= 0.5) - (rest <= -0.5);
}
/* Field text as a short quoted excerpt for error messages. */
const char *field_show(const field_t *f, char *buf, size_t bufsz);

int parse_opensky(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
                  size_t errsz);
int parse_csv(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
              size_t errsz);
int parse_sbs(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
              size_t errsz);
void sbs_free(sky_line_parser_t *p);
int sbs_released(sky_line_parser_t *p, sky_rrec_t *rec);
int parse_jsonl(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
                size_t errsz);

/* Range checks of DESIGN.md's validation on a record whose time is already known
 * (cheaper than sky_flight_validate, which re-parses the timestamp text). */

#define M_TO_FT (1.0 / 0.3048)
#define MS_TO_KT (3600.0 / 1852.0)

#endif
