/* Shared body of the line-parser fuzz targets (fuzz_csv, fuzz_opensky,
 * fuzz_sbs, fuzz_jsonl): split the input into lines, parse each with the
 * format's line parser; it must never crash, and every record it returns (or
 * releases later: SBS held positions) must pass FlightData validation and encode. */
#ifndef SKY_FUZZ_LINES_H
#define SKY_FUZZ_LINES_H

#include "codec.h"
#include "reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int fuzz_lines(sky_replay_format_t format, const uint8_t *data, size_t size) {
    sky_line_parser_t *p = sky_line_parser_new(format);
    char *buf = malloc(size + 1), err[256];
    if (!p || !buf)
        abort();
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (char *line = buf, *end = buf + size; line <= end;) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        line[len] = '\0';
        sky_rrec_t rec;
        int rc = sky_line_parse(p, line, len, &rec, err, sizeof err);
        /* the line's own record, then a held one it completed (SBS) */
        for (int k = 0; k < 2; k++, rc = sky_line_parser_released(p, &rec)) {
            uint8_t out[SKY_FLIGHT_ENCODED_MAX];
            if (rc == SKY_ROW_RECORD &&
                (sky_flight_validate(&rec.flight, NULL, err, sizeof err) != 0 ||
                 sky_flight_encode(&rec.flight, out, sizeof out) == 0))
                abort();
        }
        line += len + 1;
    }
    free(buf);
    sky_line_parser_destroy(p);
    return 0;
}

#endif
