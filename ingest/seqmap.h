/* Per-flight "latest position in Tile38" map that keeps the live map from ever
 * moving a flight backwards: open addressing keyed by flight_id, plus the
 * per-batch winner bookkeeping that lets ingest send one SET per flight. */
#ifndef SKY_SEQMAP_H
#define SKY_SEQMAP_H

#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_seq_entry {
    bool known;   /* confirmed: learnt from Tile38 or written by us */
    bool present; /* Tile38 holds an object for the flight (seq/ts below are valid) */
    bool has_seq;
    int64_t seq;
    int64_t ts_ms;
    uint32_t gen;        /* pick round that `pending` belongs to */
    int32_t pending;     /* index of the round's newest row for the flight */
    uint32_t lookup_gen; /* write that already asked Tile38 for the flight */
    uint32_t resend_gen; /* round the flight takes part in again (its SET was refused) */
} sky_seq_entry_t;

typedef struct sky_seqmap sky_seqmap_t;

/* Room for max(initial_capacity, 32) flights; NULL on allocation failure. */
sky_seqmap_t *sky_seqmap_new(size_t initial_capacity);
void sky_seqmap_destroy(sky_seqmap_t *m);              /* NULL is fine */
/* Makes room for `extra` more flights so that the next `extra` creations neither
 * allocate nor move entries (pointers stay valid). 0 or SKY_ENOMEM. */
int sky_seqmap_reserve(sky_seqmap_t *m, size_t extra);
/* The entry for id, or NULL when absent and !create (or when full: reserve first, so that
 * entries never move under a caller's pointers). A created entry is zeroed. */
sky_seq_entry_t *sky_seqmap_get(sky_seqmap_t *m, const char *id, bool create);
void sky_seqmap_clear(sky_seqmap_t *m); /* forgets every flight, keeps the memory */
size_t sky_seqmap_count(const sky_seqmap_t *m);

/* True when position a (seq when both have one, else the timestamp) is newer
 * than position b. Equal positions are not newer: duplicates are dropped. */
bool sky_seq_newer(bool a_has_seq, int64_t a_seq, int64_t a_ts, bool b_has_seq, int64_t b_seq,
                   int64_t b_ts);

#endif
