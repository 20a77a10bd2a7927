/* The format table (formats.h): one row per recorded-traffic format. */
#include "formats.h"

#include "capture.h"

#include <string.h>

const sky_format_t sky_formats[] = {
    {SKY_FMT_OPENSKY, "opensky", opensky_sniff, parse_opensky, NULL, NULL},
    {SKY_FMT_CSV, "csv", csv_sniff, parse_csv, NULL, NULL},
    {SKY_FMT_SBS, "sbs", sbs_sniff, parse_sbs, sbs_released, sbs_free},
    {SKY_FMT_JSONL, "jsonl", jsonl_sniff, parse_jsonl, NULL, NULL},
    {SKY_FMT_CAPTURE, "capture", capture_sniff, NULL, NULL, NULL},
};
const size_t sky_formats_count = sizeof sky_formats / sizeof sky_formats[0];

const sky_format_t *sky_format_of(sky_replay_format_t id) {
    for (size_t i = 0; i < sky_formats_count; i++)
        if (sky_formats[i].id == id)
            return &sky_formats[i];
    return NULL;
}

int sky_sniff_commas(const char *head, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len && head[i] != '\n'; i++)
        n += head[i] == ',';
    return n;
}

/* Capture files are read by capture.c, not line by line: only their magic is here. */
enum sky_sniff capture_sniff(const char *name, const char *head, size_t len) {
    (void)name;
    return len >= 8 && memcmp(head, SKY_CAPTURE_MAGIC, 8) == 0 ? SKY_SNIFF_HEADER : SKY_SNIFF_NO;
}
