/* Readers for recorded traffic: OpenSky state vectors, skyload CSV, SBS-1
 * (BaseStation), JSON Lines (as `skyload tail` prints) and capture files. Each
 * streams with constant memory and turns a row into a replay record; a bad row
 * is reported as "file:line: reason" and the reader carries on.
 * The per-format line parsers are public so tests and fuzzers drive them directly. */
#ifndef SKY_READER_H
#define SKY_READER_H

#include "capture.h"
#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sky_replay_format {
    SKY_FMT_AUTO = 0,
    SKY_FMT_OPENSKY,
    SKY_FMT_CSV,
    SKY_FMT_SBS,
    SKY_FMT_JSONL,
    SKY_FMT_CAPTURE,
} sky_replay_format_t;

/* "auto", "opensky", "csv", "sbs", "jsonl", "capture". */
int sky_replay_format_parse(const char *name, sky_replay_format_t *out, char *errstr,
                            size_t errstr_size);
const char *sky_replay_format_name(sky_replay_format_t fmt);

/* One replayable record. Text formats fill flight (has_flight); capture files
 * fill cap (raw) and, when the value decodes as a FlightData, flight too.
 * Borrowed pointers in cap stay valid until the reader's next call. */
typedef struct sky_rrec {
    int64_t ts_ms;   /* position time (text formats) or Kafka timestamp (capture) */
    bool raw;        /* a captured Kafka record: key, headers and value replay as they are */
    bool has_flight; /* flight holds a decoded position */
    bool on_ground;  /* the source says the aircraft is on the ground */
    /* Worked out ahead by the read-ahead thread (readahead.h) when `checked`: */
    bool checked;
    bool valid;          /* has_flight and sky_flight_validate passes */
    int64_t valid_ts_ms; /* the timestamp it parsed */
    uint64_t key_hash;   /* sky_idmap_hash of the record's own key: cap.key, or flight_id */
    /* the reader's rows and skipped counts once this record was read: what a replay
     * stopped before the end has consumed (the read-ahead thread reads further) */
    uint64_t rows_at, skipped_at;
    sky_flight_t flight;
    sky_cap_record_t cap;
} sky_rrec_t;

/* What a line parser made of a line. A "row" is one unit of input: a data line of a
 * CSV (not its header, a comment or a blank line), one SBS message of any type, one
 * JSON line, one capture record. Every row read ends as exactly one of published,
 * rejected, without a position, or filtered (docs/replay.md, "Counts"). */
enum sky_parse_result {
    SKY_ROW_NONE = 0,    /* not a row: header, comment, blank line */
    SKY_ROW_RECORD = 1,  /* rec is filled */
    SKY_ROW_SKIPPED = 2, /* a well-formed row with no position to publish (counted, not an
                          * error): SBS identification/velocity/status messages, an empty
                          * lat/lon, altitude or velocity */
    SKY_ROW_HELD = 3     /* SBS: a position kept until its aircraft's altitude and velocity
                          * are known; it comes out of sky_line_parser_released later, or
                          * is counted in sky_line_parser_dropped */
};

/* ---- line parsers (text formats) ---- */

typedef struct sky_line_parser sky_line_parser_t;

/* fmt must be a text format (not AUTO or CAPTURE). NULL on allocation failure. */
sky_line_parser_t *sky_line_parser_new(sky_replay_format_t fmt);
void sky_line_parser_destroy(sky_line_parser_t *p); /* NULL is fine */
/* Parses one line (modified in place; no newline). Returns enum sky_parse_result
 * or SKY_EINVAL with the reason in errstr (no file:line prefix: the reader adds it).
 * SBS keeps per-aircraft state between calls (bounded table; idle aircraft evicted). */
int sky_line_parse(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
                   size_t errstr_size);
/* A held position completed by the line just parsed (SBS: the velocity arrived): 1 and
 * *rec filled (its time is the position's), or 0. Ask after every sky_line_parse. */
int sky_line_parser_released(sky_line_parser_t *p, sky_rrec_t *rec);
/* Held positions that will not be published (so far): superseded by a newer position of
 * the same aircraft before its velocity came, completed too late (> SKY_SBS_HOLD_MS), or
 * still waiting. Rows "without a position", like SKY_ROW_SKIPPED. */
uint64_t sky_line_parser_dropped(const sky_line_parser_t *p);
/* How long an SBS position waits for its aircraft's velocity (or altitude). */
#define SKY_SBS_HOLD_MS 10000

/* Fills flight_id and metadata from an ICAO 24-bit address, a callsign (may be
 * empty) and the time: flight_id "<icao24>-<YYYYMMDD>", flight_number = callsign,
 * airline = the callsign's 3-letter ICAO prefix when it has one. */
void sky_replay_identity(sky_flight_t *f, const char *icao24, size_t icao_len, const char *callsign,
                         size_t callsign_len, int64_t ts_ms);

/* ---- readers (files) ---- */

typedef struct sky_reader sky_reader_t;

/* Opens path ("-" stdin, .gz transparently, "sbs://HOST:PORT"); fmt AUTO looks at
 * the first bytes. Returns 0 and *out, or SKY_EIO / SKY_EINVAL / SKY_ENOMEM. */
int sky_reader_open(const char *path, sky_replay_format_t fmt, sky_reader_t **out, char *errstr,
                    size_t errstr_size);
void sky_reader_destroy(sky_reader_t *r); /* NULL is fine */
/* 1 = *rec filled, 0 = end of input, SKY_EINVAL = a rejected row ("file:line: reason";
 * call again to go on), SKY_EIO / SKY_ENOMEM = cannot go on. Rows skipped by design
 * (no position) are counted in sky_reader_skipped. */
int sky_reader_next(sky_reader_t *r, sky_rrec_t *rec, char *errstr, size_t errstr_size);
sky_replay_format_t sky_reader_format(const sky_reader_t *r);
/* decode false: capture values are not decoded (has_flight stays false); they are
 * published as they are. Text formats are parsed whatever this says. */
void sky_reader_set_decode(sky_reader_t *r, bool decode);
uint64_t sky_reader_rows(const sky_reader_t *r);    /* rows read (see sky_parse_result) */
uint64_t sky_reader_skipped(const sky_reader_t *r); /* rows without a position to publish */

/* Detects a format from the first bytes of an input (and its name for .cap). */
sky_replay_format_t sky_replay_detect(const char *name, const char *head, size_t len);

#endif
