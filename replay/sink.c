/* The replay sinks. The JSON writer reuses one buffer: no allocation per record. */
#include "sink.h"

#include "dynbuf.h"
#include "error.h"
#include "kafka_admin.h"
#include "record_json.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sink_kind { SINK_KAFKA, SINK_NULL, SINK_FILE };

struct sky_sink {
    enum sink_kind kind;
    sky_producer_t *producer;
    rd_kafka_topic_t *rkt;     /* the producer's topic, for produce calls made here */
    int64_t last_poll_ns;      /* intended time of the send that last served reports */
    int partitions;            /* the topic's, when murmur2 places keys; 0 = not known */
    volatile sig_atomic_t *stop;
    FILE *out;
    bool close_out;
    char *path;
    sky_buf_t line;
};

int sky_sink_open(const char *spec, const sky_kconf_t *kc, const char *topic, sky_sink_t **out,
                  char *errstr, size_t errsz) {
    sky_sink_t *s = calloc(1, sizeof *s);
    if (!s)
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    sky_buf_init(&s->line, 0);
    if (strcmp(spec, "kafka") == 0) {
        s->kind = SINK_KAFKA;
        s->producer = sky_producer_new(kc, topic, errstr, errsz);
        if (!s->producer) {
            free(s);
            return SKY_EKAFKA;
        }
        s->rkt = rd_kafka_topic_new(sky_producer_handle(s->producer), topic, NULL);
        if (!s->rkt) {
            sky_producer_destroy(s->producer);
            free(s);
            return sky_err(errstr, errsz, SKY_EKAFKA, "cannot create topic handle \"%s\": %s",
                           topic, rd_kafka_err2str(rd_kafka_last_error()));
        }
        char ignored[256]; /* unknown (no topic yet): the partitioner places each record */
        if (!sky_producer_has_user_partitioner(s->producer))
            (void)sky_kafka_partition_count(sky_producer_handle(s->producer), topic, 5000,
                                            &s->partitions, ignored, sizeof ignored);
    } else if (strcmp(spec, "null") == 0) {
        s->kind = SINK_NULL;
    } else if (strcmp(spec, "stdout") == 0) {
        s->kind = SINK_FILE;
        s->out = stdout;
    } else if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
        s->kind = SINK_FILE;
        s->out = fopen(spec + 5, "w");
        s->close_out = true;
        if (!s->out) {
            int e = errno;
            free(s);
            return sky_err(errstr, errsz, SKY_EIO, "%s: cannot create: %s", spec + 5, strerror(e));
        }
    } else {
        free(s);
        return sky_err(errstr, errsz, SKY_EUSAGE,
                       "--sink: \"%s\" is not kafka, file:PATH, stdout or null", spec);
    }
    *out = s;
    return 0;
}

static int add_header(sky_buf_t *b, const char *name, const void *v, size_t len, bool comma) {
    int rc = comma ? sky_buf_add_char(b, ',') : 0;
    rc |= sky_buf_add_json_str(b, name, strlen(name));
    rc |= sky_buf_add_char(b, ':');
    rc |= v ? sky_buf_add_json_str(b, v, len) : sky_buf_add_str(b, "null");
    return rc;
}

static int json_line(sky_sink_t *s, const sky_sink_msg_t *m) {
    sky_buf_t *b = &s->line;
    sky_buf_reset(b);
    int rc = sky_buf_add_str(b, "{\"key\":");
    rc |= m->key ? sky_buf_add_json_str(b, m->key, m->key_len) : sky_buf_add_str(b, "null");
    rc |= sky_buf_add_str(b, ",\"headers\":{");
    bool comma = false;
    for (size_t i = 0; i < m->nheaders; i++, comma = true)
        rc |= add_header(b, m->headers[i].name, m->headers[i].value, m->headers[i].value_len,
                         comma);
    if (m->run_id) {
        char num[24];
        rc |= add_header(b, SKY_HDR_RUN, m->run_id, strlen(m->run_id), comma);
        rc |= add_header(b, SKY_HDR_SEQ, num, sky_fmt_i64(num, m->seq), true);
        rc |= add_header(b, SKY_HDR_INTENDED, num, sky_fmt_i64(num, m->intended_ns), true);
    }
    rc |= sky_buf_add_char(b, '}');
    if (m->flight) {
        rc |= sky_buf_add_str(b, ",\"value\":");
        rc |= sky_flight_to_json(m->flight, b);
    } else if (m->value) {
        rc |= sky_buf_add_str(b, ",\"value_b64\":");
        rc |= sky_buf_add_base64(b, m->value, m->value_len);
    }
    rc |= sky_buf_add_str(b, "}\n");
    return rc;
}

static void add_vu_header(rd_kafka_vu_t *vu, const char *name, const void *val, ssize_t size) {
    vu->vtype = RD_KAFKA_VTYPE_HEADER;
    vu->u.header.name = name;
    vu->u.header.val = val;
    vu->u.header.size = size;
}

/* Serves delivery reports about every millisecond of sends (the ack latency is timed when
 * they are served), using the intended time the caller already read instead of a clock. */
static void poll_now_and_then(sky_sink_t *s, int64_t now_ns) {
    if (now_ns - s->last_poll_ns >= 1000000 || now_ns < s->last_poll_ns) {
        s->last_poll_ns = now_ns;
        rd_kafka_poll(sky_producer_handle(s->producer), 0);
    }
}

/* One produce call with every header in it: librdkafka builds the header list once. Going
 * through sky_producer_send_with cost a header list built here plus a copy of it per record
 * (a fifth of a capture replay's CPU). Retries while the local queue is full. */
static int kafka_send(sky_sink_t *s, const sky_sink_msg_t *m, char *errstr, size_t errsz) {
    rd_kafka_vu_t vu[6 + SKY_CAPTURE_HEADERS_MAX + 3];
    size_t n = 0;
    vu[n].vtype = RD_KAFKA_VTYPE_RKT;
    vu[n++].u.rkt = s->rkt;
    vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vu[n].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[n++].u.i32 = m->partition;
    vu[n].vtype = RD_KAFKA_VTYPE_KEY;
    vu[n].u.mem.ptr = (void *)m->key;
    vu[n++].u.mem.size = m->key_len;
    vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[n].u.mem.ptr = (void *)m->value;
    vu[n++].u.mem.size = m->value_len;
    vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE; /* the producer's ack histogram reads it */
    vu[n++].u.ptr = (void *)(intptr_t)m->intended_ns;
    for (size_t i = 0; i < m->nheaders && i < SKY_CAPTURE_HEADERS_MAX; i++)
        add_vu_header(&vu[n++], m->headers[i].name, m->headers[i].value,
                      m->headers[i].value ? (ssize_t)m->headers[i].value_len : -1);
    char seq[24], intended[24];
    if (m->run_id) {
        add_vu_header(&vu[n++], SKY_HDR_RUN, m->run_id, -1);
        add_vu_header(&vu[n++], SKY_HDR_SEQ, seq, (ssize_t)sky_fmt_i64(seq, m->seq));
        add_vu_header(&vu[n++], SKY_HDR_INTENDED, intended,
                      (ssize_t)sky_fmt_i64(intended, m->intended_ns));
    }
    rd_kafka_t *rk = sky_producer_handle(s->producer);
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_produceva(rk, vu, n);
        if (!e)
            break;
        rd_kafka_resp_err_t code = rd_kafka_error_code(e);
        rd_kafka_error_destroy(e);
        if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return sky_err(errstr, errsz, SKY_EKAFKA, "produce to \"%s\": %s",
                           rd_kafka_topic_name(s->rkt), rd_kafka_err2str(code));
        if (s->stop && *s->stop)
            return sky_err(errstr, errsz, SKY_EINTR, "stopped while the queue was full");
        rd_kafka_poll(rk, 10);
    }
    poll_now_and_then(s, m->intended_ns);
    return 0;
}

int32_t sky_sink_partition(const sky_sink_t *s, const void *key, size_t len) {
    return s->partitions > 0 && key ? sky_kafka_murmur2_partition(key, len, s->partitions)
                                    : RD_KAFKA_PARTITION_UA;
}

int sky_sink_send(sky_sink_t *s, const sky_sink_msg_t *m, char *errstr, size_t errsz) {
    switch (s->kind) {
    case SINK_KAFKA: return kafka_send(s, m, errstr, errsz);
    case SINK_NULL: return 0;
    case SINK_FILE:
        if (json_line(s, m))
            return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
        if (fwrite(s->line.data, 1, s->line.len, s->out) != s->line.len)
            return sky_err(errstr, errsz, SKY_EIO, "write failed: %s", strerror(errno));
        return 0;
    }
    return 0;
}

void sky_sink_poll(sky_sink_t *s, int timeout_ms) {
    if (s->producer)
        sky_producer_poll(s->producer, timeout_ms);
}

sky_producer_t *sky_sink_producer(sky_sink_t *s) {
    return s->producer;
}

void sky_sink_set_stop_flag(sky_sink_t *s, volatile sig_atomic_t *flag) {
    s->stop = flag;
    if (s->producer)
        sky_producer_set_stop_flag(s->producer, flag);
}

bool sky_sink_is_kafka(const sky_sink_t *s) {
    return s->kind == SINK_KAFKA;
}

bool sky_sink_is_null(const sky_sink_t *s) {
    return s->kind == SINK_NULL;
}

int sky_sink_flush(sky_sink_t *s, int timeout_ms, char *errstr, size_t errsz) {
    if (s->producer)
        return sky_producer_flush(s->producer, timeout_ms, errstr, errsz);
    if (s->out && fflush(s->out))
        return sky_err(errstr, errsz, SKY_EIO, "write failed: %s", strerror(errno));
    return 0;
}

int sky_sink_close(sky_sink_t *s, char *errstr, size_t errsz) {
    if (!s)
        return 0;
    int rc = 0;
    if (s->rkt)
        rd_kafka_topic_destroy(s->rkt);
    sky_producer_destroy(s->producer);
    if (s->close_out && fclose(s->out) && !rc)
        rc = sky_err(errstr, errsz, SKY_EIO, "close failed: %s", strerror(errno));
    sky_buf_free(&s->line);
    free(s->path);
    free(s);
    return rc;
}
