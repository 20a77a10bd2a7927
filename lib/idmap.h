/* Interns byte-string keys (flight ids) as dense indexes 0, 1, 2, ... in insertion
 * order, so that per-flight state can live in plain arrays indexed by them. One
 * open-addressing table (linear probing, load <= 1/2) whose slots carry the key's full
 * hash, so a probe compares key bytes only when the hashes agree. Keys (at most 65,535
 * bytes) are copied into the map. verify, replay and ingest look every record's flight
 * up here; verify prefetches its lookups a batch at a time (the _hashed functions).
 * A map made with sky_idmap_new_values also keeps a value of a fixed size per key, in
 * one array by index: the per-flight state of ingest's Tile38 sink, replay's flight
 * index, verify's flight table and the resampler's tracks is that value. */
#ifndef SKY_IDMAP_H
#define SKY_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_idmap sky_idmap_t;

/* A map sized for `expected` keys without growing (0 is fine); NULL when out of memory. */
sky_idmap_t *sky_idmap_new(size_t expected);
/* The same with a value of value_size bytes per key, zeroed when the key is added. Values
 * move only when the map grows: after sky_idmap_reserve(m, n, ...) the next n keys added
 * move none. */
sky_idmap_t *sky_idmap_new_values(size_t expected, size_t value_size);
/* Key number i's value (owned by the map), NULL when out of range or the map has none. */
void *sky_idmap_value(const sky_idmap_t *m, size_t i);
/* The index of a value returned by sky_idmap_value. */
size_t sky_idmap_value_index(const sky_idmap_t *m, const void *value);
/* Brings value i into the cache for writing (i < 0: nothing). */
void sky_idmap_prefetch_value(const sky_idmap_t *m, int64_t i);
void sky_idmap_destroy(sky_idmap_t *m); /* NULL is fine */

/* The index of key (len bytes, any bytes, at most 65,535), or -1 when absent. */
int64_t sky_idmap_find(const sky_idmap_t *m, const void *key, size_t len);
/* The index of key, added as the next index when absent (*added says which; may be
 * NULL). SKY_ENOMEM (negative) when the map cannot grow or the key is too long. */
int64_t sky_idmap_intern(sky_idmap_t *m, const void *key, size_t len, bool *added);
/* Makes room for `keys` more keys of `key_bytes` bytes in all, so that those interns
 * cannot fail. 0 or SKY_ENOMEM. */
int sky_idmap_reserve(sky_idmap_t *m, size_t keys, size_t key_bytes);

size_t sky_idmap_count(const sky_idmap_t *m);
/* Key number i, NUL-terminated, owned by the map and valid until the next intern or
 * clear; *len (when len is not NULL) gets its length. NULL when i is out of range. */
const char *sky_idmap_key(const sky_idmap_t *m, size_t i, size_t *len);
/* Forgets every key, keeps the memory. */
void sky_idmap_clear(sky_idmap_t *m);
/* Bytes held: slots, key bytes and their offsets. */
size_t sky_idmap_bytes(const sky_idmap_t *m);

/* The map's 64-bit hash: a few multiplies for a flight id, every output bit mixed. */
uint64_t sky_idmap_hash(const void *key, size_t len);

/* Lookups in stages, for many keys at once, so that their cache misses overlap: hash
 * every key and prefetch its slot; then take each one's candidate (the index whose hash
 * matches, its key bytes prefetched; -1: the key is absent); then confirm the candidate
 * with sky_idmap_is_key, or, when that fails (two keys with one hash), use find_hashed. */
void sky_idmap_prefetch(const sky_idmap_t *m, uint64_t hash);
int64_t sky_idmap_candidate(const sky_idmap_t *m, uint64_t hash);
bool sky_idmap_is_key(const sky_idmap_t *m, int64_t i, const void *key, size_t len);
int64_t sky_idmap_find_hashed(const sky_idmap_t *m, const void *key, size_t len, uint64_t hash);
/* sky_idmap_intern with the key's sky_idmap_hash worked out already (elsewhere). */
int64_t sky_idmap_intern_hashed(sky_idmap_t *m, const void *key, size_t len, uint64_t hash,
                                bool *added);

#endif
