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
    /* what every published record updates, first: one cache line (64 bytes) */
    int64_t next_seq;  /* seq of the next record published for the flight */
    int32_t partition; /* -1 until a delivery report names it */
    int32_t send_to;   /* sky_sink_partition of the flight's key, worked out once */
    bool has_final;
    bool has_meta;
    sky_manifest_pos_t final;
    /* set once per flight */
    char airline[SKY_META_MAX], flight_number[SKY_META_MAX];
    char departure[SKY_META_MAX], arrival[SKY_META_MAX];
} sky_flight_entry_t;

typedef struct sky_flight_index sky_flight_index_t;

sky_flight_index_t *sky_flight_index_new(void); /* NULL on allocation failure */
void sky_flight_index_destroy(sky_flight_index_t *x); /* NULL is fine */
/* The entry for id (len bytes, < SKY_FLIGHT_ID_MAX), created when new; NULL when out
 * of memory or id too long. The pointer is owned by x and valid until the next get. */
sky_flight_entry_t *sky_flight_index_get(sky_flight_index_t *x, const char *id, size_t len);
/* The same with id's sky_idmap_hash worked out already. */
sky_flight_entry_t *sky_flight_index_get_hashed(sky_flight_index_t *x, const char *id,
                                                size_t len, uint64_t hash);
/* Ahead of a get, in two steps a few records apart: brings the map's slot for the id of
 * this sky_idmap_hash into the cache; then (the slot there by now) the flight's entry. */
void sky_flight_index_prefetch(const sky_flight_index_t *x, uint64_t hash);
void sky_flight_index_prefetch_entry(const sky_flight_index_t *x, uint64_t hash);
/* Lookup without creating; NULL when absent. */
sky_flight_entry_t *sky_flight_index_find(sky_flight_index_t *x, const char *id, size_t len);
size_t sky_flight_index_count(const sky_flight_index_t *x);
/* Entries in the order their flights were first seen. */
const sky_flight_entry_t *sky_flight_index_at(const sky_flight_index_t *x, size_t i);
/* The flight_id of an entry of x (NUL-terminated, owned by x, valid until the next get). */
const char *sky_flight_index_id(const sky_flight_index_t *x, const sky_flight_entry_t *e);

#endif
