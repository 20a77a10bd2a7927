/* Per-flight verification state, sized by flights, never by messages: the
 * manifest's expected seq range, a 1-bit-per-seq "seen" bitmap, ordering and
 * partition trackers, and the faults injected into the flight. Looked up by
 * flight_id in an open-addressing hash map with no per-record allocation. */
#ifndef SKY_FLIGHT_TABLE_H
#define SKY_FLIGHT_TABLE_H

#include "verify_manifest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_vflight {
    const char *id; /* borrowed from the manifest */
    size_t id_len;
    int64_t first_seq, last_seq; /* expected range (inclusive) */
    uint64_t *seen;              /* bit (seq - first_seq); points into the table's arena */
    int32_t manifest_partition;  /* -1 when the manifest has none */
    /* Consumption trackers (reset by sky_flight_table_reset): */
    int32_t partition;    /* partition of the first record seen, -1 before */
    int32_t other_partition; /* a second partition seen, -1 when none */
    int64_t max_seq;      /* highest seq seen on `partition`, -1 before */
    int64_t max_seq_offset;
    size_t fault_first, nfaults; /* range in the table's sorted fault array */
    const sky_vm_final_t *final;
    bool landed;
} sky_vflight_t;

typedef struct sky_flight_table sky_flight_table_t;

/* Fault kinds as bits, for sky_flight_faults_at. */
#define SKY_FAULT_BIT(k) (1u << (k))

/* Builds the table from m (borrowed: must outlive the table). Flights listed
 * in several manifests are merged (widest range). NULL with errstr on failure. */
sky_flight_table_t *sky_flight_table_new(const sky_verify_manifest_t *m, char *errstr,
                                         size_t errstr_size);
void sky_flight_table_destroy(sky_flight_table_t *t); /* NULL is fine */
/* Clears the seen bitmaps and trackers before another check walks its source. */
void sky_flight_table_reset(sky_flight_table_t *t);

size_t sky_flight_table_count(const sky_flight_table_t *t);
sky_vflight_t *sky_flight_table_at(sky_flight_table_t *t, size_t i);
/* NULL when the flight is not in the manifest. */
sky_vflight_t *sky_flight_table_find(sky_flight_table_t *t, const void *key, size_t len);
/* find in stages for a batch of keys, so that their cache misses overlap (idmap.h):
 * prefetch returns the key's hash and prefetches its slot; candidate prefetches the
 * flight (NULL: absent) and its key; the bitmap can be prefetched from the candidate's
 * seen; confirm returns the key's flight (the candidate, or a full lookup) or NULL. */
uint64_t sky_flight_table_prefetch(const sky_flight_table_t *t, const void *key, size_t len);
sky_vflight_t *sky_flight_table_candidate(sky_flight_table_t *t, uint64_t hash);
sky_vflight_t *sky_flight_table_confirm(sky_flight_table_t *t, sky_vflight_t *candidate,
                                        const void *key, size_t len, uint64_t hash);

/* Marks seq seen: returns 0 when new, 1 when already seen, -1 when outside the range. */
int sky_flight_mark(sky_vflight_t *f, int64_t seq);
/* The same where several threads may mark one flight (an atomic OR). */
int sky_flight_mark_shared(sky_vflight_t *f, int64_t seq);
/* Safe from several threads: the flight's partition, which becomes p when it had none. */
int32_t sky_flight_claim_partition(sky_vflight_t *f, int32_t p);
/* Safe from several threads: records p as the flight's second partition; true only for
 * the call that did (so the split is reported once). */
bool sky_flight_note_other_partition(sky_vflight_t *f, int32_t p);
int sky_flight_is_seen(const sky_vflight_t *f, int64_t seq);
/* Bitmask of SKY_FAULT_BIT(kind) injected at seq (a gap covers seq..seq+count-1). */
unsigned sky_flight_faults_at(const sky_flight_table_t *t, const sky_vflight_t *f, int64_t seq);

/* Bytes held by the table (for the memory-per-flight claim in bench/RESULTS.md). */
size_t sky_flight_table_bytes(const sky_flight_table_t *t);

#endif
