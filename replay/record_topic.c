/* skyload record's engine: consume every partition, write capture records. */
#include "record_topic.h"

#include "capture.h"
#include "capture_kafka.h"
#include "error.h"
#include "log.h"
#include "timefmt.h"

#include <stdio.h>

static int record_loop(const sky_record_config_t *cfg, sky_consumer_t *c,
                       sky_capture_writer_t *w, sky_eof_tracker_t *eof,
                       volatile sig_atomic_t *stop, sky_record_result_t *res, char *err,
                       size_t errsz) {
    int64_t end_ns =
        cfg->duration_ms ? sky_monotonic_ns() + cfg->duration_ms * 1000000 : INT64_MAX;
    int64_t last_flush = sky_monotonic_ns();
    int rc = 0;
    while (!*stop && (!cfg->count || res->written < cfg->count) && sky_monotonic_ns() < end_ns) {
        rd_kafka_message_t *m = sky_consumer_poll(c, 100);
        int64_t now = sky_monotonic_ns();
        if (now - last_flush > 1000000000LL) { /* whole records on disk at least every second */
            last_flush = now;
            if ((rc = sky_capture_flush(w, err, errsz)))
                break;
        }
        if (!m)
            continue;
        bool at_eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        if (m->err && !at_eof)
            sky_log_warn("record: %s", rd_kafka_message_errstr(m));
        if (!m->err) {
            sky_cap_record_t r;
            res->dropped_headers += (int64_t)sky_capture_from_message(m, &r);
            rc = sky_capture_write(w, &r, err, errsz);
            res->written++;
            if (cfg->progress)
                cfg->progress(cfg->progress_opaque, res->written);
        }
        bool done = sky_eof_tracker_note(eof, m) && cfg->exit_at_end;
        rd_kafka_message_destroy(m);
        if (rc || done)
            break;
    }
    return rc;
}

int sky_record_run(const sky_record_config_t *cfg, volatile sig_atomic_t *stop,
                   sky_record_result_t *res, char *errstr, size_t errstr_size) {
    res->written = res->dropped_headers = 0;
    if (cfg->exit_at_end &&
        sky_kconf_add(cfg->kafka, "enable.partition.eof=true", errstr, errstr_size))
        return SKY_ENOMEM;
    sky_consumer_t *c = sky_consumer_new(cfg->kafka, NULL, errstr, errstr_size);
    if (!c)
        return SKY_EKAFKA;
    sky_eof_tracker_t eof = {0};
    int nparts = 0;
    int rc = sky_consumer_assign_all(c, cfg->topic, cfg->offset, &nparts, errstr, errstr_size);
    sky_capture_writer_t *w = NULL;
    if (!rc && sky_eof_tracker_init(&eof, nparts))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    if (!rc)
        rc = sky_capture_writer_open(cfg->output, &w, errstr, errstr_size);
    if (!rc)
        rc = record_loop(cfg, c, w, &eof, stop, res, errstr, errstr_size);
    char cerr[512];
    int crc = sky_capture_writer_close(w, cerr, sizeof cerr);
    if (!rc && crc)
        rc = sky_err(errstr, errstr_size, crc, "%s", cerr);
    sky_eof_tracker_free(&eof);
    sky_consumer_destroy(c);
    return rc;
}
