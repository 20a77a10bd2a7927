/* The recorded-traffic formats as one table, as git's command table: a row per format
 * with its name, how it is recognised and how a line of it is parsed. Adding a format
 * is one new parse_<name>.c (its sniff and parse functions), one row in formats.c and
 * its name in reader.h's enum. reader.c finds everything here; the parsers reach back
 * into nothing but fields.h and identity (reader.h's sky_replay_identity). */
#ifndef SKY_REPLAY_FORMATS_H
#define SKY_REPLAY_FORMATS_H

#include "reader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How well the first bytes of an input look like a format: a header or magic number
 * (strong) wins over a row's shape (weak), whatever the table's order. */
enum sky_sniff { SKY_SNIFF_NO = 0, SKY_SNIFF_SHAPE = 1, SKY_SNIFF_HEADER = 2 };

/* The state a text format's parser keeps between lines. */
typedef struct sbs_aircraft sbs_aircraft_t;

enum { OS_TIME, OS_ICAO24, OS_LAT, OS_LON, OS_VELOCITY, OS_HEADING, OS_VERTRATE, OS_CALLSIGN,
       OS_ONGROUND, OS_ALERT, OS_SPI, OS_SQUAWK, OS_BAROALT, OS_GEOALT, OS_LASTPOS,
       OS_LASTCONTACT, OS_HOUR, OS_NCOLS };

enum { CSV_FLIGHT_ID, CSV_TIMESTAMP, CSV_LAT, CSV_LON, CSV_ALT, CSV_SPEED, CSV_AIRLINE,
       CSV_FLIGHT_NUMBER, CSV_DEPARTURE, CSV_ARRIVAL, CSV_NCOLS };

struct sky_line_parser {
    const struct sky_format *format;
    bool header_done;    /* the first non-blank line has been looked at */
    int ncols;           /* columns the rows must have (header or default layout) */
    int col[OS_NCOLS];   /* column index of each known column, -1 when absent */
    sbs_aircraft_t *sbs; /* SBS: open-addressing table of aircraft state */
    size_t sbs_cap, sbs_used;
    uint32_t sbs_released; /* key of the aircraft whose held position is ready; 0 = none */
    uint64_t sbs_held, sbs_dropped;
};

typedef int(sky_format_parse_fn)(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec,
                                 char *errstr, size_t errsz);

typedef struct sky_format {
    sky_replay_format_t id;
    const char *name;
    /* name: the input's path or address; head: its first bytes, as read */
    enum sky_sniff (*sniff)(const char *name, const char *head, size_t len);
    sky_format_parse_fn *parse;                              /* NULL: not a text format */
    int (*released)(sky_line_parser_t *p, sky_rrec_t *rec); /* NULL: never holds a row */
    void (*free_state)(sky_line_parser_t *p);               /* NULL: keeps none */
} sky_format_t;

/* Every format (not "auto"), in the order their names are listed. */
extern const sky_format_t sky_formats[];
extern const size_t sky_formats_count;
/* The row of a format, or NULL (AUTO, or out of range). */
const sky_format_t *sky_format_of(sky_replay_format_t id);

/* head without its leading blanks (spaces, tabs, line ends); *len shortened to match. */
static inline const char *sky_sniff_skip_blanks(const char *head, size_t *len) {
    while (*len && (*head == ' ' || *head == '\t' || *head == '\r' || *head == '\n'))
        head++, (*len)--;
    return head;
}
/* Commas in the first line of head. */
int sky_sniff_commas(const char *head, size_t len);

/* ---- each format's functions (parse_<name>.c) ---- */
enum sky_sniff capture_sniff(const char *name, const char *head, size_t len);
enum sky_sniff opensky_sniff(const char *name, const char *head, size_t len);
sky_format_parse_fn parse_opensky;
enum sky_sniff csv_sniff(const char *name, const char *head, size_t len);
sky_format_parse_fn parse_csv;
enum sky_sniff sbs_sniff(const char *name, const char *head, size_t len);
sky_format_parse_fn parse_sbs;
int sbs_released(sky_line_parser_t *p, sky_rrec_t *rec);
void sbs_free(sky_line_parser_t *p);
enum sky_sniff jsonl_sniff(const char *name, const char *head, size_t len);
sky_format_parse_fn parse_jsonl;

#endif
