/* A simulated record's FlightData bytes, written straight from its flight plan and
 * position: the generator's hot path, without a sky_flight_t in between. The bytes
 * are sky_flight_encode's for the same flight (test_record checks it). */
#ifndef SKY_RECORD_H
#define SKY_RECORD_H

#include "timefmt.h"
#include "traffic.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sky_simrec sky_simrec_t;

/* Tables for the model's airlines and airports; t must outlive the result. NULL when
 * out of memory. */
sky_simrec_t *sky_simrec_new(const sky_traffic_t *t, sky_ts_format_t fmt);
void sky_simrec_destroy(sky_simrec_t *r); /* NULL is fine */

/* A flight's id kept by the caller for all its records, so that it is written once
 * per flight rather than once per record: 16 bytes (len 0: not kept, longer than 15). */
typedef struct sky_simrec_id {
    char text[15];
    uint8_t len;
} sky_simrec_id_t;

/* Keeps a flight's id, len bytes of text as sky_traffic_put_flight_id wrote them (the
 * caller has them already: the partition is the id's hash), in id; id->len is 0 when
 * they do not fit. */
void sky_simrec_id(sky_simrec_id_t *id, const char *text, size_t len);

/* Encodes the record of plan at pos, time ts_ms (since the epoch), into out, which
 * has room for SKY_FLIGHT_ENCODED_MAX bytes (fixed-size moves write past the end of
 * the record); returns its length. id: the plan's, from sky_simrec_id. The key
 * (flight_id) is at out + 2, out[1] bytes. */
size_t sky_simrec_encode(sky_simrec_t *r, const sky_flight_plan_t *plan,
                         const sky_simrec_id_t *id, const sky_position_t *pos, int64_t ts_ms,
                         uint8_t *out);

#endif
