/* Reader dispatch: format names and detection, the line parser front, the
 * file reader that adds "file:line:" to every rejected row, and flight identity. */
#include "reader_impl.h"

#include "error.h"
#include "line_reader.h"
#include "timefmt.h"

#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {"auto", "opensky", "csv", "sbs", "jsonl", "capture"};

int sky_replay_format_parse(const char *name, sky_replay_format_t *out, char *errstr,
                            size_t errsz) {
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (sky_replay_format_t)i;
            return 0;
        }
    return sky_err(errstr, errsz, SKY_EUSAGE,
                   "--format: \"%s\" is not auto, opensky, csv, sbs, jsonl or capture", name);
}

const char *sky_replay_format_name(sky_replay_format_t fmt) {
    return (unsigned)fmt < sizeof format_names / sizeof format_names[0] ? format_names[fmt] : "?";
}

static int count_commas(const char *s, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len && s[i] != '\n'; i++)
        n += s[i] == ',';
    return n;
}

sky_replay_format_t sky_replay_detect(const char *name, const char *head, size_t len) {
    if (len >= 8 && memcmp(head, SKY_CAPTURE_MAGIC, 8) == 0)
        return SKY_FMT_CAPTURE;
    if (strncmp(name, "sbs://", 6) == 0)
        return SKY_FMT_SBS;
    size_t i = 0;
    while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    head += i;
    len -= i;
    if (len > 0 && head[0] == '{')
        return SKY_FMT_JSONL;
    static const char *const sbs_types[] = {"MSG,", "SEL,", "ID,", "AIR,", "STA,", "CLK,"};
    for (size_t k = 0; k < sizeof sbs_types / sizeof sbs_types[0]; k++)
        if (len >= strlen(sbs_types[k]) && memcmp(head, sbs_types[k], strlen(sbs_types[k])) == 0)
            return SKY_FMT_SBS;
    if (len >= 5 && memcmp(head, "time,", 5) == 0)
        return SKY_FMT_OPENSKY;
    if (len >= 10 && memcmp(head, "flight_id,", 10) == 0)
        return SKY_FMT_CSV;
    int commas = count_commas(head, len);
    if (commas == 15 || commas == 16)
        return SKY_FMT_OPENSKY;
    if (commas == CSV_NCOLS - 1)
        return SKY_FMT_CSV;
    return SKY_FMT_AUTO; /* unknown */
}

sky_line_parser_t *sky_line_parser_new(sky_replay_format_t fmt) {
    if (fmt != SKY_FMT_OPENSKY && fmt != SKY_FMT_CSV && fmt != SKY_FMT_SBS && fmt != SKY_FMT_JSONL)
        return NULL;
    sky_line_parser_t *p = calloc(1, sizeof *p);
    if (p)
        p->fmt = fmt;
    return p;
}

void sky_line_parser_destroy(sky_line_parser_t *p) {
    if (!p)
        return;
    sbs_free(p);
    free(p);
}

int sky_line_parse(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
                   size_t errsz) {
    switch (p->fmt) {
    case SKY_FMT_OPENSKY: return parse_opensky(p, line, len, rec, errstr, errsz);
    case SKY_FMT_CSV: return parse_csv(p, line, len, rec, errstr, errsz);
    case SKY_FMT_SBS: return parse_sbs(p, line, len, rec, errstr, errsz);
    case SKY_FMT_JSONL: return parse_jsonl(p, line, len, rec, errstr, errsz);
    default: return sky_err(errstr, errsz, SKY_EUSAGE, "not a text format");
    }
}

int sky_line_parser_released(sky_line_parser_t *p, sky_rrec_t *rec) {
    return p->fmt == SKY_FMT_SBS ? sbs_released(p, rec) : 0;
}

uint64_t sky_line_parser_dropped(const sky_line_parser_t *p) {
    return p->sbs_dropped + p->sbs_held;
}

/* s without its leading and trailing spaces, at most max bytes, copied to dst (lower
 * case when asked); returns the end of the copy. */
static char *put_trimmed(char *dst, const char *s, size_t len, size_t max, bool lower) {
    while (len && s[0] == ' ')
        s++, len--;
    while (len && s[len - 1] == ' ')
        len--;
    if (len > max)
        len = max;
    if (!lower) {
        memcpy(dst, s, len);
        return dst + len;
    }
    for (size_t i = 0; i < len; i++)
        dst[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    return dst + len;
}

static bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}

/* "YYYYMMDD" of the UTC day of ts_ms. Rows come in time order, so nearly all share the
 * day of the row before: kept per thread, the calendar arithmetic runs once a day. */
static const char *utc_day_digits(int64_t ts_ms) {
    static _Thread_local struct {
        int64_t day;
        bool valid;
        char digits[8];
    } last;
    int64_t day = ts_ms >= 0 ? ts_ms / 86400000 : (ts_ms - 86399999) / 86400000;
    if (last.valid && last.day == day)
        return last.digits;
    int64_t y;
    unsigned m, d;
    sky_civil_from_days(day, &y, &m, &d);
    unsigned ymd = (unsigned)(y % 10000) * 10000 + m * 100 + d;
    for (int i = 7; i >= 0; i--, ymd /= 10)
        last.digits[i] = (char)('0' + ymd % 10);
    last.day = day;
    last.valid = true;
    return last.digits;
}

void sky_replay_identity(sky_flight_t *f, const char *icao24, size_t icao_len, const char *callsign,
                         size_t callsign_len, int64_t ts_ms) {
    char *p = put_trimmed(f->flight_id, icao24, icao_len, 16, true);
    *p++ = '-';
    memcpy(p, utc_day_digits(ts_ms), 8);
    p[8] = '\0';
    char *end = put_trimmed(f->flight_number, callsign, callsign_len, SKY_META_MAX - 1, false);
    *end = '\0';
    f->has_metadata = end != f->flight_number;
    f->airline[0] = '\0';
    if (end - f->flight_number >= 4 && is_upper(f->flight_number[0]) &&
        is_upper(f->flight_number[1]) && is_upper(f->flight_number[2]) &&
        f->flight_number[3] >= '0' && f->flight_number[3] <= '9') {
        memcpy(f->airline, f->flight_number, 3);
        f->airline[3] = '\0';
    }
}

/* ---- the file reader ---- */

struct sky_reader {
    sky_replay_format_t fmt;
    sky_lines_t *lines;
    sky_line_parser_t *parser;
    sky_capture_reader_t *cap;
    uint64_t rows, skipped;
    bool no_decode;
};

int sky_reader_open(const char *path, sky_replay_format_t fmt, sky_reader_t **out, char *errstr,
                    size_t errsz) {
    sky_reader_t *r = calloc(1, sizeof *r);
    if (!r)
        return sky_err(errstr, errsz, SKY_ENOMEM, "%s: out of memory", path);
    int rc = sky_lines_open(path, &r->lines, errstr, errsz);
    if (rc) {
        free(r);
        return rc;
    }
    if (fmt == SKY_FMT_AUTO) {
        const char *head;
        size_t n = sky_lines_peek(r->lines, &head, 4096);
        fmt = sky_replay_detect(path, head, n);
        if (fmt == SKY_FMT_AUTO) {
            sky_reader_destroy(r);
            return sky_err(errstr, errsz, SKY_EINVAL,
                           "%s: format not recognised; name it with --format", path);
        }
    }
    r->fmt = fmt;
    if (fmt == SKY_FMT_CAPTURE) {
        sky_lines_t *in = r->lines;
        r->lines = NULL;
        rc = sky_capture_reader_from_lines(in, &r->cap, errstr, errsz);
    } else if (!(r->parser = sky_line_parser_new(fmt))) {
        rc = sky_err(errstr, errsz, SKY_ENOMEM, "%s: out of memory", path);
    }
    if (rc) {
        sky_reader_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

void sky_reader_destroy(sky_reader_t *r) {
    if (!r)
        return;
    sky_lines_destroy(r->lines);
    sky_line_parser_destroy(r->parser);
    sky_capture_reader_destroy(r->cap);
    free(r);
}

static int next_capture(sky_reader_t *r, sky_rrec_t *rec, char *errstr, size_t errsz) {
    int rc = sky_capture_read(r->cap, &rec->cap, errstr, errsz);
    if (rc <= 0)
        return rc;
    r->rows++;
    rec->rows_at = r->rows;
    rec->skipped_at = r->skipped;
    rec->raw = true;
    rec->on_ground = false;
    rec->ts_ms = rec->cap.timestamp_ms;
    char why[160];
    rec->has_flight = !r->no_decode && rec->cap.value &&
                      sky_flight_decode(rec->cap.value, rec->cap.value_len, &rec->flight, why,
                                        sizeof why) == 0;
    return 1;
}

void sky_reader_set_decode(sky_reader_t *r, bool decode) {
    r->no_decode = !decode;
}

static int text_record(sky_reader_t *r, sky_rrec_t *rec) {
    rec->rows_at = r->rows;
    rec->skipped_at = sky_reader_skipped(r);
    return 1;
}

int sky_reader_next(sky_reader_t *r, sky_rrec_t *rec, char *errstr, size_t errsz) {
    if (r->cap)
        return next_capture(r, rec, errstr, errsz);
    for (;;) {
        if (sky_line_parser_released(r->parser, rec))
            return text_record(r, rec);
        char *line;
        size_t len;
        int rc = sky_lines_next(r->lines, &line, &len, errstr, errsz);
        if (rc <= 0) /* end, I/O error, or an over-long line (already "file:line:") */
            return rc;
        char why[256];
        rc = sky_line_parse(r->parser, line, len, rec, why, sizeof why);
        if (rc == SKY_ROW_NONE)
            continue;
        r->rows++;
        if (rc == SKY_ROW_SKIPPED) {
            r->skipped++;
            continue;
        }
        if (rc == SKY_ROW_HELD) /* published when released, else counted as dropped */
            continue;
        if (rc < 0)
            return sky_err(errstr, errsz, rc == SKY_ENOMEM ? SKY_ENOMEM : SKY_EINVAL, "%s:%ld: %s",
                           sky_lines_name(r->lines), sky_lines_lineno(r->lines), why);
        return text_record(r, rec);
    }
}

sky_replay_format_t sky_reader_format(const sky_reader_t *r) {
    return r->fmt;
}

uint64_t sky_reader_rows(const sky_reader_t *r) {
    return r->rows;
}

uint64_t sky_reader_skipped(const sky_reader_t *r) {
    return r->skipped + (r->parser ? sky_line_parser_dropped(r->parser) : 0);
}
