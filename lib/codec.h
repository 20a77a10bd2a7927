/* FlightData (the seed schema, proto/flight_data.proto): a plain C struct,
 * an allocation-free encoder and decoder that are wire-compatible with
 * protobuf-c (tests/unit/test_codec.c checks byte equality), and the
 * validation rules of DESIGN.md. */
#ifndef SKY_CODEC_H
#define SKY_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SKY_FLIGHT_ID_MAX 64 /* bytes, NUL included */
#define SKY_TIMESTAMP_MAX 48
#define SKY_META_MAX 32

typedef struct sky_flight {
    char flight_id[SKY_FLIGHT_ID_MAX];
    bool has_location;
    double latitude;
    double longitude;
    int32_t altitude; /* feet */
    int32_t airspeed; /* knots */
    char timestamp[SKY_TIMESTAMP_MAX];
    bool has_metadata;
    char airline[SKY_META_MAX];
    char flight_number[SKY_META_MAX];
    char departure_airport[SKY_META_MAX];
    char arrival_airport[SKY_META_MAX];
} sky_flight_t;

/* Longest encoding of a sky_flight_t (all strings at their maximum). */
#define SKY_FLIGHT_ENCODED_MAX 384

/* Encodes f into out (cap bytes); returns the length, or 0 when cap is too small.
 * proto3 rules: zero scalars and empty strings are omitted; the sub-messages
 * are written when has_location / has_metadata is set. */
size_t sky_flight_encode(const sky_flight_t *f, uint8_t *out, size_t cap);

/* The strlen of each string of a sky_flight_t, when the caller knows them already. */
typedef struct sky_flight_lens {
    uint8_t flight_id, timestamp, airline, flight_number, departure, arrival;
} sky_flight_lens_t;

/* Fills l with the length of each string of f (at most its array's size - 1). */
void sky_flight_measure(const sky_flight_t *f, sky_flight_lens_t *l);

/* sky_flight_encode's bytes exactly, without measuring the strings: the generator's
 * path. Needs cap >= SKY_FLIGHT_ENCODED_MAX (it copies short strings in fixed 32-byte
 * moves, the tail overwritten by the next field); returns 0 when cap is smaller. */
size_t sky_flight_encode_lens(const sky_flight_t *f, const sky_flight_lens_t *lens, uint8_t *out,
                              size_t cap);

/* Decodes a FlightData; unknown fields are skipped. Fails with SKY_EINVAL and a
 * reason ("field 2: truncated", "flight_id longer than 63 bytes", ...). */
int sky_flight_decode(const void *buf, size_t len, sky_flight_t *out, char *errstr,
                      size_t errstr_size);

/* Applies DESIGN.md's validation rules; on success stores the parsed timestamp
 * in *ts_ms (may be NULL). Fails with SKY_EINVAL and the first rule broken. */
int sky_flight_validate(const sky_flight_t *f, int64_t *ts_ms, char *errstr, size_t errstr_size);

/* The same rules without the timestamp (for readers that parse the time themselves). */
int sky_flight_check_fields(const sky_flight_t *f, char *errstr, size_t errstr_size);

/* decode + validate in one call. */
int sky_flight_parse(const void *buf, size_t len, sky_flight_t *out, int64_t *ts_ms, char *errstr,
                     size_t errstr_size);

/* Validation bounds (DESIGN.md "Validation"). */
#define SKY_ALT_MIN_FT (-2000)
#define SKY_ALT_MAX_FT 100000
#define SKY_SPEED_MIN_KT 0
#define SKY_SPEED_MAX_KT 2000

#endif
