/* The replay engine: reads recorded traffic files (merged by time across files),
 * filters, shifts, loops and paces them, attaches run/seq/intended headers and
 * publishes to a sink, keeping per-flight state for the run manifest. */
#ifndef SKY_REPLAY_H
#define SKY_REPLAY_H

#include "reader.h"
#include "sink.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

enum sky_shift_mode { SKY_SHIFT_NONE = 0, SKY_SHIFT_NOW, SKY_SHIFT_BY };

typedef struct sky_replay_opts {
    const char *const *files; /* borrowed */
    size_t nfiles;
    sky_replay_format_t format;
    double speed;    /* pacing by recorded time / speed; 0 = as fast as possible */
    double rate;     /* records per second; > 0 overrides speed */
    int shift_mode;  /* enum sky_shift_mode */
    int64_t shift_ms; /* SKY_SHIFT_BY */
    int64_t loops;    /* >= 1; loop k > 0 uses flight_id "<id>~<k>" and later times */
    bool has_bbox;
    double south, west, north, east;
    int64_t from_ms, to_ms; /* on the recorded times; INT64_MIN / INT64_MAX = open */
    bool strict;            /* stop at the first rejected row */
    bool skip_ground;
    bool original_headers;  /* capture: keep the recorded skyload-* headers, add none */
    bool manifest;          /* a manifest will be written: track each flight's final position
                               and the malformed records (default true). Without it and
                               without a filter, new time, loop, resampling or JSON sink
                               that reads positions, capture values are not decoded. */
    const char *run_id;     /* borrowed */
    int errors_shown;       /* rejected rows logged one by one (then only counted) */
    int64_t resample_ms;    /* > 0: positions interpolated per flight to this cadence */
    int64_t resample_gap_ms; /* gaps longer than this are not interpolated across */
    size_t resample_flights; /* flights tracked at once by the resampler */
    /* Geofences: resolved airspaces (borrowed) whose enter/exit events the manifest
     * lists, computed from the positions published; events_topic is required with them.
     * Not with original_headers (the recorded seqs decide what Tile38 keeps). */
    const struct sky_airspace *airspaces;
    size_t nairspaces;
    const char *events_topic;
} sky_replay_opts_t;

typedef struct sky_replay_stats {
    uint64_t read;      /* rows or records read */
    uint64_t published; /* handed to the sink */
    uint64_t rejected;  /* bad rows (reported) */
    uint64_t skipped;   /* rows without a position */
    uint64_t filtered;  /* outside --bbox / --from / --to, or on the ground */
    uint64_t flights;
    int64_t first_ts_ms, last_ts_ms; /* recorded time span of the first loop */
    int64_t max_lag_ns; /* how far behind its schedule the replay fell */
    uint64_t resampled_in; /* --resample: positions that went into the resampler */
} sky_replay_stats_t;

typedef struct sky_replay sky_replay_t;

/* Called about every 4096 records and at the end (from the replay thread). */
typedef void(sky_replay_progress_fn)(void *opaque, const sky_replay_stats_t *st);

void sky_replay_opts_init(sky_replay_opts_t *o); /* speed 1, loops 1, open time range,
                                                  * no resampling (gap 60 s) */
/* sink is borrowed and must outlive the replay. */
sky_replay_t *sky_replay_new(const sky_replay_opts_t *o, sky_sink_t *sink, char *errstr,
                             size_t errstr_size);
void sky_replay_destroy(sky_replay_t *r); /* NULL is fine */
void sky_replay_set_progress(sky_replay_t *r, sky_replay_progress_fn *fn, void *opaque);
/* Stops between records when *flag becomes non-zero (returns SKY_EINTR). */
void sky_replay_set_stop_flag(sky_replay_t *r, volatile sig_atomic_t *flag);
/* Runs every file (every loop) to the end. 0, SKY_EINVAL (--strict and a bad row;
 * errstr "file:line: reason"), SKY_EIO, SKY_EKAFKA, SKY_EINTR. */
int sky_replay_run(sky_replay_t *r, char *errstr, size_t errstr_size);
const sky_replay_stats_t *sky_replay_stats(const sky_replay_t *r);

/* Writes the run manifest (docs/manifest.md, kind "replay") with the streaming
 * writer, plus a "replay" object counting read / published / rejected / skipped /
 * filtered rows. Call after the sink was flushed. */
int sky_replay_write_manifest(sky_replay_t *r, const char *path, const char *topic,
                              int64_t started_ns, int64_t ended_ns, char *errstr,
                              size_t errstr_size);

#endif
