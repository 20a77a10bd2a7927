/* skyload tail's engine: consume a topic, print each record as a JSON line. */
#include "tail.h"

#include "dynbuf.h"
#include "error.h"
#include "log.h"
#include "record_json.h"

#include <string.h>

/* Starts the consumer; returns the number of partitions to wait for at EOF (0 if unknown). */
static int start_consumer(const sky_tail_config_t *o, sky_consumer_t **out, int *nparts,
                          char *err, size_t errsz) {
    if (o->exit_at_end && sky_kconf_add(o->kafka, "enable.partition.eof=true", err, errsz))
        return SKY_ENOMEM;
    sky_consumer_t *c = sky_consumer_new(o->kafka, o->group, err, errsz);
    if (!c)
        return SKY_EKAFKA;
    int rc;
    *nparts = 0;
    if (o->group) {
        rc = sky_consumer_subscribe(c, o->topic, err, errsz);
        if (!rc)
            rc = sky_kafka_partition_count(sky_consumer_handle(c), o->topic, 10000, nparts,
                                           err, errsz);
    } else {
        rc = sky_consumer_assign_all(c, o->topic, o->offset, nparts, err, errsz);
    }
    if (rc) {
        sky_consumer_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Marks m as processed for the group's next commit. */
static void store_offset(sky_consumer_t *c, const rd_kafka_message_t *m) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return;
    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset + 1;
    rd_kafka_offsets_store(sky_consumer_handle(c), l);
    rd_kafka_topic_partition_list_destroy(l);
}

static int tail_loop(const sky_tail_config_t *o, sky_consumer_t *c, int nparts, FILE *out,
                     volatile sig_atomic_t *stop, char *err, size_t errsz) {
    sky_buf_t line;
    sky_eof_tracker_t eof;
    int64_t printed = 0;
    int rc = 0;
    if (sky_eof_tracker_init(&eof, nparts))
        return sky_err(err, errsz, SKY_ENOMEM, "out of memory");
    sky_buf_init(&line, 0);
    while (!*stop && (!o->count || printed < o->count)) {
        rd_kafka_message_t *m = sky_consumer_poll(c, 200);
        if (!m)
            continue;
        bool all_at_end = sky_eof_tracker_note(&eof, m);
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                sky_log_warn("tail: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (o->exit_at_end && all_at_end)
                break;
            continue;
        }
        int valid;
        sky_buf_reset(&line);
        if (sky_record_to_json(m, &line, &valid) || sky_buf_add_char(&line, '\n')) {
            rd_kafka_message_destroy(m);
            rc = sky_err(err, errsz, SKY_ENOMEM, "out of memory");
            break;
        }
        if (valid || !o->valid_only) {
            fwrite(line.data, 1, line.len, out);
            printed++;
        }
        if (o->group)
            store_offset(c, m);
        rd_kafka_message_destroy(m);
    }
    if (o->group && !rc)
        rc = sky_consumer_commit(c, NULL, err, errsz);
    fflush(out);
    sky_eof_tracker_free(&eof);
    sky_buf_free(&line);
    return rc;
}

int sky_tail_run(const sky_tail_config_t *cfg, FILE *out, volatile sig_atomic_t *stop,
                 char *errstr, size_t errstr_size) {
    sky_consumer_t *c = NULL;
    int nparts;
    int rc = start_consumer(cfg, &c, &nparts, errstr, errstr_size);
    if (!rc)
        rc = tail_loop(cfg, c, nparts, out, stop, errstr, errstr_size);
    sky_consumer_destroy(c);
    return rc;
}
