/* Open-addressing (linear probing, FNV-1a) map from flight_id to its latest
 * Tile38 position; never shrinks, grows at 50% load. */
#include "seqmap.h"

#include "error.h"
#include "parse.h"

#include <stdlib.h>
#include <string.h>

struct sky_seqmap {
    sky_seq_entry_t *slots;
    size_t cap; /* power of two */
    size_t count;
};

static uint64_t hash_id(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

sky_seqmap_t *sky_seqmap_new(size_t initial_capacity) {
    sky_seqmap_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 64;
    while (m->cap < initial_capacity * 2)
        m->cap *= 2;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void sky_seqmap_destroy(sky_seqmap_t *m) {
    if (!m)
        return;
    free(m->slots);
    free(m);
}

static sky_seq_entry_t *probe(sky_seq_entry_t *slots, size_t cap, const char *id) {
    size_t i = (size_t)hash_id(id) & (cap - 1);
    while (slots[i].used && strcmp(slots[i].id, id) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

int sky_seqmap_reserve(sky_seqmap_t *m, size_t extra) {
    size_t need = m->cap;
    while ((m->count + extra) * 2 > need)
        need *= 2;
    if (need == m->cap)
        return 0;
    sky_seq_entry_t *slots = calloc(need, sizeof *slots);
    if (!slots)
        return SKY_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used)
            *probe(slots, need, m->slots[i].id) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = need;
    return 0;
}

sky_seq_entry_t *sky_seqmap_get(sky_seqmap_t *m, const char *id, bool create) {
    sky_seq_entry_t *e = probe(m->slots, m->cap, id);
    if (e->used)
        return e;
    if (!create || (m->count + 1) * 2 > m->cap)
        return NULL;
    memset(e, 0, sizeof *e);
    sky_strlcpy(e->id, id, sizeof e->id);
    e->used = true;
    m->count++;
    return e;
}

void sky_seqmap_clear(sky_seqmap_t *m) {
    memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->count = 0;
}

size_t sky_seqmap_count(const sky_seqmap_t *m) {
    return m->count;
}

bool sky_seq_newer(bool a_has_seq, int64_t a_seq, int64_t a_ts, bool b_has_seq, int64_t b_seq,
                   int64_t b_ts) {
    if (a_has_seq && b_has_seq)
        return a_seq > b_seq;
    return a_ts > b_ts;
}
