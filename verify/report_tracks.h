/* The tracks on the run report's map: the positions a sample of the run's
 * flights really sent, read back from the topic (the manifest keeps only each
 * flight's last position). To stay cheap on big runs it reads only the
 * partitions holding the sample, only the run's offset range (from the
 * manifest), decodes only the sampled keys, and stops at a time budget. */
#ifndef SKY_REPORT_TRACKS_H
#define SKY_REPORT_TRACKS_H

#include "dynbuf.h"
#include "kafka.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_report_tracks sky_report_tracks_t;

typedef struct sky_report_tracks_config {
    const sky_kconf_t *kafka;            /* NULL: defaults */
    const char *topic;                   /* NULL: the manifest's */
    const char *const *manifest_paths;   /* merged, as verify does */
    size_t nmanifests;
    int max_flights;                     /* 0: 200 */
    int64_t budget_ms;                   /* 0: 5000; what was read by then is kept */
    int timeout_ms;                      /* Kafka idle bound; 0: 10000 */
} sky_report_tracks_config_t;

/* 0 and *out (owned by the caller), or a negative SKY_E* code. A run whose topic
 * has gone gives an error; a budget that ran out gives partial tracks (said in
 * the JSON). */
int sky_report_tracks_read(const sky_report_tracks_config_t *cfg, sky_report_tracks_t **out,
                           char *errstr, size_t errstr_size);
void sky_report_tracks_destroy(sky_report_tracks_t *t); /* NULL is fine */

/* Adds one position (exposed for tests); seq orders the track. */
int sky_report_tracks_add(sky_report_tracks_t *t, size_t flight, int64_t seq, double lat,
                          double lon, int32_t alt, int32_t speed, int64_t ts_ms);
/* A sample of the given flight ids, without reading (for tests). */
sky_report_tracks_t *sky_report_tracks_new(const char *const *ids, size_t n);

/* {"source":"topic T, partitions [..]","flights":N,"complete":bool,"tracks":[{"id":..,
 *  "pts":[[lat,lon,alt_ft,speed_kt,t_s],...]},...]} with each track in seq order,
 * duplicates (same seq) dropped, t_s seconds from the track's first point. */
int sky_report_tracks_write_json(const sky_report_tracks_t *t, sky_buf_t *out);

#endif
