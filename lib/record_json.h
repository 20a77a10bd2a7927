/* The JSON Lines form of a Kafka record that `skyload tail` prints and
 * `replay --format jsonl` reads (docs/formats.md). */
#ifndef SKY_RECORD_JSON_H
#define SKY_RECORD_JSON_H

#include "codec.h"
#include "dynbuf.h"

#include <librdkafka/rdkafka.h>

/* Appends the FlightData as a JSON object with the proto field names. */
int sky_flight_to_json(const sky_flight_t *f, sky_buf_t *out);

/* Appends one record as a JSON object (no newline): topic, partition, offset,
 * timestamp (ms), key, headers, and either value (decoded, valid) or value
 * (decoded) + error, or error + value_b64 (the raw bytes) when it does not
 * decode. Returns 0, or SKY_ENOMEM. *valid is set to 1 when the value is a
 * valid FlightData (may be NULL). */
int sky_record_to_json(const rd_kafka_message_t *m, sky_buf_t *out, int *valid);

/* Standard base64 (RFC 4648, with padding). */
int sky_buf_add_base64(sky_buf_t *b, const void *data, size_t len);
/* Decodes base64 into out (capacity cap); returns the length or -1 when invalid. */
long sky_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap);

#endif
