/* Kafka record <-> JSON Lines text (the tail format). */
#include "record_json.h"

#include "error.h"

#include <string.h>

static int add_field_str(sky_buf_t *b, const char *name, const char *v, int comma) {
    int rc = 0;
    if (comma)
        rc |= sky_buf_add_char(b, ',');
    rc |= sky_buf_add_json_str(b, name, strlen(name));
    rc |= sky_buf_add_char(b, ':');
    rc |= sky_buf_add_json_str(b, v, strlen(v));
    return rc;
}

int sky_flight_to_json(const sky_flight_t *f, sky_buf_t *b) {
    int rc = sky_buf_add_char(b, '{');
    rc |= add_field_str(b, "flight_id", f->flight_id, 0);
    if (f->has_location) {
        rc |= sky_buf_add_str(b, ",\"location\":{\"latitude\":");
        rc |= sky_buf_add_double(b, f->latitude);
        rc |= sky_buf_add_str(b, ",\"longitude\":");
        rc |= sky_buf_add_double(b, f->longitude);
        rc |= sky_buf_add_char(b, '}');
    }
    rc |= sky_buf_add_str(b, ",\"altitude\":");
    rc |= sky_buf_add_i64(b, f->altitude);
    rc |= sky_buf_add_str(b, ",\"airspeed\":");
    rc |= sky_buf_add_i64(b, f->airspeed);
    rc |= add_field_str(b, "timestamp", f->timestamp, 1);
    if (f->has_metadata) {
        rc |= sky_buf_add_str(b, ",\"metadata\":{");
        rc |= add_field_str(b, "airline", f->airline, 0);
        rc |= add_field_str(b, "flight_number", f->flight_number, 1);
        rc |= add_field_str(b, "departure_airport", f->departure_airport, 1);
        rc |= add_field_str(b, "arrival_airport", f->arrival_airport, 1);
        rc |= sky_buf_add_char(b, '}');
    }
    rc |= sky_buf_add_char(b, '}');
    return rc ? SKY_ENOMEM : 0;
}

static int add_headers(const rd_kafka_message_t *m, sky_buf_t *b) {
    rd_kafka_headers_t *h = NULL;
    int rc = sky_buf_add_str(b, ",\"headers\":{");
    if (!rd_kafka_message_headers(m, &h) && h) {
        const char *name;
        const void *val;
        size_t len;
        for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &len); i++) {
            if (i)
                rc |= sky_buf_add_char(b, ',');
            rc |= sky_buf_add_json_str(b, name, strlen(name));
            rc |= sky_buf_add_char(b, ':');
            if (val)
                rc |= sky_buf_add_json_str(b, val, len);
            else
                rc |= sky_buf_add_str(b, "null");
        }
    }
    rc |= sky_buf_add_char(b, '}');
    return rc;
}

int sky_record_to_json(const rd_kafka_message_t *m, sky_buf_t *b, int *valid) {
    char err[256];
    sky_flight_t f;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    int rc = sky_buf_add_str(b, "{\"topic\":");
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    rc |= sky_buf_add_json_str(b, topic, strlen(topic));
    rc |= sky_buf_add_str(b, ",\"partition\":");
    rc |= sky_buf_add_i64(b, m->partition);
    rc |= sky_buf_add_str(b, ",\"offset\":");
    rc |= sky_buf_add_i64(b, m->offset);
    rc |= sky_buf_add_str(b, ",\"timestamp\":");
    rc |= sky_buf_add_i64(b, ts);
    rc |= sky_buf_add_str(b, ",\"key\":");
    if (m->key)
        rc |= sky_buf_add_json_str(b, m->key, m->key_len);
    else
        rc |= sky_buf_add_str(b, "null");
    rc |= add_headers(m, b);
    int drc = sky_flight_decode(m->payload, m->len, &f, err, sizeof err);
    if (drc == 0) {
        rc |= sky_buf_add_str(b, ",\"value\":");
        rc |= sky_flight_to_json(&f, b);
        drc = sky_flight_validate(&f, NULL, err, sizeof err);
    } else {
        rc |= sky_buf_add_str(b, ",\"value_b64\":");
        rc |= sky_buf_add_base64(b, m->payload, m->len);
    }
    if (drc) {
        rc |= sky_buf_add_str(b, ",\"error\":");
        rc |= sky_buf_add_json_str(b, err, strlen(err));
    }
    rc |= sky_buf_add_char(b, '}');
    if (valid)
        *valid = drc == 0;
    return rc ? SKY_ENOMEM : 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sky_buf_add_base64(sky_buf_t *b, const void *data, size_t len) {
    const uint8_t *p = data;
    int rc = sky_buf_add_char(b, '"');
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63], i + 1 < len ? b64[v >> 6 & 63] : '=',
                     i + 2 < len ? b64[v & 63] : '='};
        rc |= sky_buf_add(b, q, 4);
    }
    rc |= sky_buf_add_char(b, '"');
    return rc ? SKY_ENOMEM : 0;
}

long sky_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap) {
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '=')
            break;
        const char *pos = memchr(b64, c, 64);
        if (!pos || c == '\0')
            return -1;
        acc = acc << 6 | (uint32_t)(pos - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)n;
}
