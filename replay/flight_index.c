/* Flight table: entries in first-seen order, found through an idmap of their flight ids. */
#include "flight_index.h"

#include "dynbuf.h"
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

struct sky_flight_index {
    sky_flight_entry_t *entries; /* by idmap index */
    size_t cap;
    sky_idmap_t *ids;
};

sky_flight_index_t *sky_flight_index_new(void) {
    sky_flight_index_t *x = calloc(1, sizeof *x);
    if (!x || !(x->ids = sky_idmap_new(1024))) {
        free(x);
        return NULL;
    }
    return x;
}

void sky_flight_index_destroy(sky_flight_index_t *x) {
    if (!x)
        return;
    free(x->entries);
    sky_idmap_destroy(x->ids);
    free(x);
}

void sky_flight_index_prefetch(const sky_flight_index_t *x, uint64_t hash) {
    sky_idmap_prefetch(x->ids, hash);
}

void sky_flight_index_prefetch_entry(const sky_flight_index_t *x, uint64_t hash) {
    int64_t i = sky_idmap_candidate(x->ids, hash);
    if (i >= 0)
        __builtin_prefetch(&x->entries[i], 1);
}

sky_flight_entry_t *sky_flight_index_find(sky_flight_index_t *x, const char *id, size_t len) {
    int64_t i = sky_idmap_find(x->ids, id, len);
    return i < 0 ? NULL : &x->entries[i];
}

sky_flight_entry_t *sky_flight_index_get(sky_flight_index_t *x, const char *id, size_t len) {
    return sky_flight_index_get_hashed(x, id, len, sky_idmap_hash(id, len));
}

sky_flight_entry_t *sky_flight_index_get_hashed(sky_flight_index_t *x, const char *id,
                                                size_t len, uint64_t hash) {
    if (len >= SKY_FLIGHT_ID_MAX)
        return NULL;
    /* room for the entry first, so a failure leaves no key without one */
    if (sky_grow_array((void **)&x->entries, &x->cap, sky_idmap_count(x->ids) + 1,
                       sizeof *x->entries))
        return NULL;
    bool added;
    int64_t i = sky_idmap_intern_hashed(x->ids, id, len, hash, &added);
    if (i < 0)
        return NULL;
    sky_flight_entry_t *e = &x->entries[i];
    if (added) {
        memset(e, 0, sizeof *e);
        e->partition = -1;
    }
    return e;
}

size_t sky_flight_index_count(const sky_flight_index_t *x) {
    return sky_idmap_count(x->ids);
}

const sky_flight_entry_t *sky_flight_index_at(const sky_flight_index_t *x, size_t i) {
    return i < sky_idmap_count(x->ids) ? &x->entries[i] : NULL;
}

const char *sky_flight_index_id(const sky_flight_index_t *x, const sky_flight_entry_t *e) {
    return sky_idmap_key(x->ids, (size_t)(e - x->entries), NULL);
}
