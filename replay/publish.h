/* One replay job as `skyload replay` runs it: the topic made first (so its creation
 * is not counted in any latency), the sink opened, every file replayed, the sink
 * flushed, the manifest written. */
#ifndef SKY_REPLAY_PUBLISH_H
#define SKY_REPLAY_PUBLISH_H

#include "replay.h"

#include <signal.h>
#include <stdbool.h>

typedef struct sky_replay_job {
    const sky_replay_opts_t *opts; /* borrowed */
    const sky_kconf_t *kafka;      /* brokers and -X; borrowed */
    const char *topic;
    const char *sink;          /* "kafka", "file:PATH", "stdout" or "null" (sink.h) */
    bool create_topic;         /* kafka sink: create the topic (partitions) when missing */
    int partitions;
    const char *manifest_path; /* NULL: no manifest */
    volatile sig_atomic_t *stop; /* a clean end when it becomes non-zero; may be NULL */
    sky_replay_progress_fn *progress; /* may be NULL */
    void *progress_opaque;
} sky_replay_job_t;

typedef struct sky_replay_outcome {
    sky_replay_stats_t stats; /* what was read and published (zero when nothing ran) */
    bool ran;                 /* the replay started (the counts mean something) */
    bool stopped;             /* ended by *stop: the counts and manifest cover what was
                                 published before it */
} sky_replay_outcome_t;

/* Runs the job. 0 (also when stopped), or a negative SKY_E* code with errstr filled:
 * the replay's own error first, else the sink's flush, else the manifest's. */
int sky_replay_publish(const sky_replay_job_t *job, sky_replay_outcome_t *out, char *errstr,
                       size_t errstr_size);

/* "r-<YYYYMMDDTHHMMSS>Z-replay-<pid>": a run id for the skyload-run header. */
void sky_replay_default_run_id(char *buf, size_t size);

#endif
