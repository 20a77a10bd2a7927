/* Per-flight state of a replay, keyed by flight_id: the next sequence number,
 * the partition Kafka put the flight on, metadata and the last valid position,
 * which is what the run manifest lists. Memory grows with flights, not records. */
#ifndef SKY_FLIGHT_INDEX_H
#define SKY_FLIGHT_INDEX_H

#include "codec.h"
#include "manifest.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sky_flight_entry {
    char id[SKY_FLIGHT_ID_MAX];
    int64_t next_seq; /* seq of the next record published for the flight */
    int32_t partition; /* -1 until a delivery report names it */
    bool has_meta;
    char airline[SKY_META_MAX], flight_number[SKY_META_MAX];
    char departure[SKY_META_MAX], arrival[SKY_META_MAX];
    bool has_final;
    sky_manifest_pos_t final;
} sky_flight_entry_t;

typedef struct sky_flight_index sky_flight_index_t;

sky_flight_index_t *sky_flight_index_new(void); /* NULL on allocation failure */
void sky_flight_index_destroy(sky_flight_index_t *x); /* NULL is fine */
/* The entry for id (len bytes, < SKY_FLIGHT_ID_MAX), created when new; NULL when out
 * of memory or id too long. The pointer is owned by x and valid until the next get. */
sky_flight_entry_t *sky_flight_index_get(sky_flight_index_t *x, const char *id, size_t len);
/* Lookup without creating; NULL when absent. */
sky_flight_entry_t *sky_flight_index_find(sky_flight_index_t *x, const char *id, size_t len);
size_t sky_flight_index_count(const sky_flight_index_t *x);
const sky_flight_entry_t *sky_flight_index_at(const sky_flight_index_t *x, size_t i);

#endif
