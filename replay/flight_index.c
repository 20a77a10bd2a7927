/* Flight table: entries in first-seen order, the values of an idmap of their flight ids. */
#include "flight_index.h"

#include "idmap.h"

#include <stdlib.h>
#include <string.h>

/* The entries are the idmap's values. */
struct sky_flight_index {
    sky_idmap_t *ids;
};

sky_flight_index_t *sky_flight_index_new(void) {
    sky_flight_index_t *x = calloc(1, sizeof *x);
    if (!x || !(x->ids = sky_idmap_new_values(1024, sizeof(sky_flight_entry_t)))) {
        free(x);
        return NULL;
    }
    return x;
}

void sky_flight_index_destroy(sky_flight_index_t *x) {
    if (!x)
        return;
    sky_idmap_destroy(x->ids);
    free(x);
}

void sky_flight_index_prefetch(const sky_flight_index_t *x, uint64_t hash) {
    sky_idmap_prefetch(x->ids, hash);
}

void sky_flight_index_prefetch_entry(const sky_flight_index_t *x, uint64_t hash) {
    sky_idmap_prefetch_value(x->ids, sky_idmap_candidate(x->ids, hash));
}

sky_flight_entry_t *sky_flight_index_find(sky_flight_index_t *x, const char *id, size_t len) {
    int64_t i = sky_idmap_find(x->ids, id, len);
    return i < 0 ? NULL : sky_idmap_value(x->ids, (size_t)i);
}

sky_flight_entry_t *sky_flight_index_get(sky_flight_index_t *x, const char *id, size_t len) {
    return sky_flight_index_get_hashed(x, id, len, sky_idmap_hash(id, len));
}

sky_flight_entry_t *sky_flight_index_get_hashed(sky_flight_index_t *x, const char *id,
                                                size_t len, uint64_t hash) {
    if (len >= SKY_FLIGHT_ID_MAX)
        return NULL;
    bool added;
    int64_t i = sky_idmap_intern_hashed(x->ids, id, len, hash, &added);
    if (i < 0)
        return NULL;
    sky_flight_entry_t *e = sky_idmap_value(x->ids, (size_t)i);
    if (added)
        e->partition = -1; /* the rest is zero */
    return e;
}

size_t sky_flight_index_count(const sky_flight_index_t *x) {
    return sky_idmap_count(x->ids);
}

const sky_flight_entry_t *sky_flight_index_at(const sky_flight_index_t *x, size_t i) {
    return sky_idmap_value(x->ids, i);
}

const char *sky_flight_index_id(const sky_flight_index_t *x, const sky_flight_entry_t *e) {
    return sky_idmap_key(x->ids, sky_idmap_value_index(x->ids, e), NULL);
}
