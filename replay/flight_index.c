/* Flight table: entries in insertion order plus an open-addressing hash of indexes. */
#include "flight_index.h"

#include <stdlib.h>
#include <string.h>

struct sky_flight_index {
    sky_flight_entry_t *entries;
    size_t count, cap;
    uint32_t *slots; /* entry index + 1; 0 = free */
    size_t nslots;
};

static uint64_t hash_id(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h;
}

sky_flight_index_t *sky_flight_index_new(void) {
    sky_flight_index_t *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->nslots = 1024;
    x->slots = calloc(x->nslots, sizeof *x->slots);
    if (!x->slots) {
        free(x);
        return NULL;
    }
    return x;
}

void sky_flight_index_destroy(sky_flight_index_t *x) {
    if (!x)
        return;
    free(x->entries);
    free(x->slots);
    free(x);
}

static size_t probe(const sky_flight_index_t *x, const char *id, size_t len) {
    size_t i = (size_t)hash_id(id, len) & (x->nslots - 1);
    for (;;) {
        uint32_t s = x->slots[i];
        if (!s)
            return i;
        const sky_flight_entry_t *e = &x->entries[s - 1];
        if (strncmp(e->id, id, len) == 0 && e->id[len] == '\0')
            return i;
        i = (i + 1) & (x->nslots - 1);
    }
}

static int grow_slots(sky_flight_index_t *x) {
    size_t n = x->nslots * 2;
    uint32_t *ns = calloc(n, sizeof *ns);
    if (!ns)
        return -1;
    free(x->slots);
    x->slots = ns;
    x->nslots = n;
    for (size_t e = 0; e < x->count; e++)
        x->slots[probe(x, x->entries[e].id, strlen(x->entries[e].id))] = (uint32_t)(e + 1);
    return 0;
}

sky_flight_entry_t *sky_flight_index_find(sky_flight_index_t *x, const char *id, size_t len) {
    uint32_t s = x->slots[probe(x, id, len)];
    return s ? &x->entries[s - 1] : NULL;
}

sky_flight_entry_t *sky_flight_index_get(sky_flight_index_t *x, const char *id, size_t len) {
    if (len >= SKY_FLIGHT_ID_MAX)
        return NULL;
    size_t slot = probe(x, id, len);
    if (x->slots[slot])
        return &x->entries[x->slots[slot] - 1];
    if ((x->count + 1) * 2 > x->nslots) {
        if (grow_slots(x))
            return NULL;
        slot = probe(x, id, len);
    }
    if (x->count == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        sky_flight_entry_t *ne = realloc(x->entries, cap * sizeof *ne);
        if (!ne)
            return NULL;
        x->entries = ne;
        x->cap = cap;
    }
    sky_flight_entry_t *e = &x->entries[x->count];
    memset(e, 0, sizeof *e);
    memcpy(e->id, id, len);
    e->partition = -1;
    x->slots[slot] = (uint32_t)(++x->count);
    return e;
}

size_t sky_flight_index_count(const sky_flight_index_t *x) {
    return x->count;
}

const sky_flight_entry_t *sky_flight_index_at(const sky_flight_index_t *x, size_t i) {
    return i < x->count ? &x->entries[i] : NULL;
}
