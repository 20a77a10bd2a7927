/* Converts a consumed Kafka message into a capture record without copying. */
#include "capture_kafka.h"

#include <string.h>

size_t sky_capture_from_message(const rd_kafka_message_t *m, sky_cap_record_t *out) {
    rd_kafka_timestamp_type_t tstype;
    memset(out, 0, sizeof *out);
    out->timestamp_ms = rd_kafka_message_timestamp(m, &tstype);
    out->partition = m->partition;
    out->offset = m->offset;
    out->key = m->key;
    out->key_len = m->key_len;
    out->value = m->payload;
    out->value_len = m->len;
    rd_kafka_headers_t *h = NULL;
    size_t dropped = 0;
    if (rd_kafka_message_headers(m, &h) || !h)
        return 0;
    const char *name;
    const void *val;
    size_t len;
    for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &len); i++) {
        if (out->nheaders == SKY_CAPTURE_HEADERS_MAX) {
            dropped++;
            continue;
        }
        sky_cap_header_t *ch = &out->headers[out->nheaders++];
        ch->name = name;
        ch->value = val;
        ch->value_len = len;
    }
    return dropped;
}
