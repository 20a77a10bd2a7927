/* Kafka message -> capture record, for `skyload record`. */
#ifndef SKY_CAPTURE_KAFKA_H
#define SKY_CAPTURE_KAFKA_H

#include "capture.h"

#include <librdkafka/rdkafka.h>

/* Fills out with borrowed pointers into m (valid while m lives). Headers beyond
 * SKY_CAPTURE_HEADERS_MAX are dropped; returns how many were dropped. */
size_t sky_capture_from_message(const rd_kafka_message_t *m, sky_cap_record_t *out);

#endif
