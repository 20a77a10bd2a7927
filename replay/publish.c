/* A replay job from topic to manifest (publish.h). */
#include "publish.h"

#include "error.h"
#include "kafka_admin.h"
#include "log.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int open_sink(const sky_replay_job_t *job, sky_sink_t **sink, char *errstr,
                     size_t errstr_size) {
    int rc = 0;
    if (strcmp(job->sink, "kafka") == 0 && job->create_topic)
        rc = sky_kafka_ensure_topic(job->kafka, job->topic, job->partitions, NULL, errstr,
                                    errstr_size);
    return rc ? rc : sky_sink_open(job->sink, job->kafka, job->topic, sink, errstr, errstr_size);
}

int sky_replay_publish(const sky_replay_job_t *job, sky_replay_outcome_t *out, char *errstr,
                       size_t errstr_size) {
    memset(out, 0, sizeof *out);
    sky_sink_t *sink = NULL;
    int rc = open_sink(job, &sink, errstr, errstr_size);
    if (rc)
        return rc;
    sky_replay_t *r = sky_replay_new(job->opts, sink, errstr, errstr_size);
    if (!r) {
        sky_sink_close(sink, NULL, 0);
        return SKY_ENOMEM;
    }
    if (job->progress)
        sky_replay_set_progress(r, job->progress, job->progress_opaque);
    if (job->stop)
        sky_replay_set_stop_flag(r, job->stop);
    out->ran = true;
    int64_t started = sky_now_ns();
    rc = sky_replay_run(r, errstr, errstr_size);
    out->stopped = rc == SKY_EINTR; /* a clean end, as for simulate */
    if (out->stopped)
        rc = 0;
    char later[512];
    int frc = sky_sink_flush(sink, 60000, later, sizeof later);
    if (!rc && frc)
        rc = sky_err(errstr, errstr_size, frc, "%s", later);
    if (job->manifest_path) {
        int mrc = sky_replay_write_manifest(r, job->manifest_path, job->topic, started,
                                            sky_now_ns(), later, sizeof later);
        if (mrc && rc)
            sky_log_error("%s", later);
        else if (mrc)
            rc = sky_err(errstr, errstr_size, mrc, "%s", later);
    }
    out->stats = *sky_replay_stats(r);
    sky_replay_destroy(r);
    sky_sink_close(sink, NULL, 0);
    return rc;
}

void sky_replay_default_run_id(char *buf, size_t size) {
    char ts[SKY_TS_MAX], compact[24];
    size_t n = sky_ts_format(sky_now_ns() / 1000000, SKY_TS_ISO8601, ts);
    ts[n > 4 ? 19 : n] = '\0'; /* 2026-11-25T10:00:05 */
    size_t k = 0;
    for (size_t i = 0; ts[i] && k + 1 < sizeof compact; i++)
        if (ts[i] != '-' && ts[i] != ':')
            compact[k++] = ts[i];
    compact[k] = '\0';
    snprintf(buf, size, "r-%sZ-replay-%ld", compact, (long)getpid());
}
