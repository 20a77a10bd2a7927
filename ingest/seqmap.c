/* flight_id -> latest Tile38 position: the entries are values of the project's one
 * flight-id map (lib/idmap); they move only in sky_seqmap_reserve; never shrinks. */
#include "seqmap.h"

#include "error.h"
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

/* The entries are the idmap's values; room is how many it holds without moving them. */
struct sky_seqmap {
    sky_idmap_t *ids;
    size_t room;
};

sky_seqmap_t *sky_seqmap_new(size_t initial_capacity) {
    size_t room = initial_capacity < 32 ? 32 : initial_capacity;
    sky_seqmap_t *m = calloc(1, sizeof *m);
    if (!m || !(m->ids = sky_idmap_new_values(room, sizeof(sky_seq_entry_t))) ||
        sky_seqmap_reserve(m, room)) {
        sky_seqmap_destroy(m);
        return NULL;
    }
    return m;
}

void sky_seqmap_destroy(sky_seqmap_t *m) {
    if (!m)
        return;
    sky_idmap_destroy(m->ids);
    free(m);
}

int sky_seqmap_reserve(sky_seqmap_t *m, size_t extra) {
    if (sky_idmap_reserve(m->ids, extra, extra * SKY_FLIGHT_ID_MAX))
        return SKY_ENOMEM;
    size_t need = sky_idmap_count(m->ids) + extra;
    m->room = need > m->room ? need : m->room;
    return 0;
}

sky_seq_entry_t *sky_seqmap_get(sky_seqmap_t *m, const char *id, bool create) {
    size_t len = strnlen(id, SKY_FLIGHT_ID_MAX - 1);
    int64_t i = sky_idmap_find(m->ids, id, len);
    /* past the reservation an entry would move the others under the caller's pointers */
    if (i < 0 && create && sky_idmap_count(m->ids) < m->room)
        i = sky_idmap_intern(m->ids, id, len, NULL);
    return i < 0 ? NULL : sky_idmap_value(m->ids, (size_t)i);
}

void sky_seqmap_clear(sky_seqmap_t *m) {
    sky_idmap_clear(m->ids);
}

size_t sky_seqmap_count(const sky_seqmap_t *m) {
    return sky_idmap_count(m->ids);
}

bool sky_seq_newer(bool a_has_seq, int64_t a_seq, int64_t a_ts, bool b_has_seq, int64_t b_seq,
                   int64_t b_ts) {
    if (a_has_seq && b_has_seq)
        return a_seq > b_seq;
    return a_ts > b_ts;
}
