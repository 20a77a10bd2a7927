/* The replay sinks. The JSON writer reuses one buffer: no allocation per record. */
#include "sink.h"

#include "dynbuf.h"
#include "error.h"
#include "record_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sink_kind { SINK_KAFKA, SINK_NULL, SINK_FILE };

struct sky_sink {
    enum sink_kind kind;
    sky_producer_t *producer;
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

/* Capture headers minus the skyload ones, which the replay writes afresh. */
static rd_kafka_headers_t *kafka_headers(const sky_sink_msg_t *m) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(m->nheaders + 3);
    if (!h)
        return NULL;
    for (size_t i = 0; i < m->nheaders; i++)
        rd_kafka_header_add(h, m->headers[i].name, -1, m->headers[i].value,
                            (ssize_t)m->headers[i].value_len);
    if (m->run_id) {
        char num[24];
        rd_kafka_header_add(h, SKY_HDR_RUN, -1, m->run_id, -1);
        rd_kafka_header_add(h, SKY_HDR_SEQ, -1, num, (ssize_t)sky_fmt_i64(num, m->seq));
        rd_kafka_header_add(h, SKY_HDR_INTENDED, -1, num,
                            (ssize_t)sky_fmt_i64(num, m->intended_ns));
    }
    return h;
}

static int kafka_send(sky_sink_t *s, const sky_sink_msg_t *m, char *errstr, size_t errsz) {
    if (m->nheaders == 0 && m->run_id)
        return sky_producer_send(s->producer, m->key, m->key_len, m->value, m->value_len,
                                 m->run_id, m->seq, m->intended_ns, errstr, errsz);
    rd_kafka_headers_t *h = kafka_headers(m);
    if (!h)
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    int rc = sky_producer_send_with(s->producer, NULL, RD_KAFKA_PARTITION_UA, m->key, m->key_len,
                                    m->value, m->value_len, h, 0, m->intended_ns, errstr, errsz);
    rd_kafka_headers_destroy(h);
    return rc;
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

bool sky_sink_is_kafka(const sky_sink_t *s) {
    return s->kind == SINK_KAFKA;
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
    sky_producer_destroy(s->producer);
    if (s->close_out && fclose(s->out) && !rc)
        rc = sky_err(errstr, errsz, SKY_EIO, "close failed: %s", strerror(errno));
    sky_buf_free(&s->line);
    free(s->path);
    free(s);
    return rc;
}
