/* Reader dispatch: format names and detection from the format table (formats.h), the
 * line parser front, and the file reader that adds "file:line:" to every rejected row. */
#include "formats.h"

#include "error.h"
#include "line_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sky_replay_format_parse(const char *name, sky_replay_format_t *out, char *errstr,
                            size_t errsz) {
    if (strcmp(name, "auto") == 0) {
        *out = SKY_FMT_AUTO;
        return 0;
    }
    char names[160] = "auto";
    for (size_t i = 0; i < sky_formats_count; i++) {
        if (strcmp(name, sky_formats[i].name) == 0) {
            *out = sky_formats[i].id;
            return 0;
        }
        size_t n = strlen(names);
        snprintf(names + n, sizeof names - n, "%s%s", i + 1 < sky_formats_count ? ", " : " or ",
                 sky_formats[i].name);
    }
    return sky_err(errstr, errsz, SKY_EUSAGE, "--format: \"%s\" is not %s", name, names);
}

const char *sky_replay_format_name(sky_replay_format_t fmt) {
    const sky_format_t *f = sky_format_of(fmt);
    return fmt == SKY_FMT_AUTO ? "auto" : f ? f->name : "?";
}

sky_replay_format_t sky_replay_detect(const char *name, const char *head, size_t len) {
    sky_replay_format_t shaped = SKY_FMT_AUTO; /* unknown */
    for (size_t i = 0; i < sky_formats_count; i++) {
        enum sky_sniff how = sky_formats[i].sniff(name, head, len);
        if (how == SKY_SNIFF_HEADER)
            return sky_formats[i].id;
        if (how == SKY_SNIFF_SHAPE && shaped == SKY_FMT_AUTO)
            shaped = sky_formats[i].id;
    }
    return shaped;
}

sky_line_parser_t *sky_line_parser_new(sky_replay_format_t fmt) {
    const sky_format_t *f = sky_format_of(fmt);
    if (!f || !f->parse)
        return NULL;
    sky_line_parser_t *p = calloc(1, sizeof *p);
    if (p)
        p->format = f;
    return p;
}

void sky_line_parser_destroy(sky_line_parser_t *p) {
    if (!p)
        return;
    if (p->format->free_state)
        p->format->free_state(p);
    free(p);
}

int sky_line_parse(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
                   size_t errsz) {
    return p->format->parse(p, line, len, rec, errstr, errsz);
}

int sky_line_parser_released(sky_line_parser_t *p, sky_rrec_t *rec) {
    return p->format->released ? p->format->released(p, rec) : 0;
}

uint64_t sky_line_parser_dropped(const sky_line_parser_t *p) {
    return p->sbs_dropped + p->sbs_held;
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
