/* flight_id -> per-flight state (the values of an idmap of the ids: one array, filled once
 * from the manifest, so it never moves) with one bitmap arena. */
#include "flight_table.h"

#include "error.h"
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

struct sky_flight_table {
    sky_vflight_t *flights; /* the idmap's values, by index (fixed once built) */
    size_t nflights;
    sky_idmap_t *ids;
    uint64_t *arena; /* every flight's bitmap */
    size_t arena_words;
    sky_vm_fault_t *faults; /* copy of the manifest's, sorted by (flight, seq) */
    size_t nfaults;
};

sky_vflight_t *sky_flight_table_find(sky_flight_table_t *t, const void *key, size_t len) {
    int64_t i = sky_idmap_find(t->ids, key, len);
    return i < 0 ? NULL : &t->flights[i];
}

uint64_t sky_flight_table_prefetch(const sky_flight_table_t *t, const void *key, size_t len) {
    uint64_t h = sky_idmap_hash(key, len);
    sky_idmap_prefetch(t->ids, h);
    return h;
}

sky_vflight_t *sky_flight_table_candidate(sky_flight_table_t *t, uint64_t hash) {
    int64_t i = sky_idmap_candidate(t->ids, hash);
    if (i < 0)
        return NULL;
    __builtin_prefetch(&t->flights[i]);
    return &t->flights[i];
}

sky_vflight_t *sky_flight_table_confirm(sky_flight_table_t *t, sky_vflight_t *candidate,
                                        const void *key, size_t len, uint64_t hash) {
    if (candidate && sky_idmap_is_key(t->ids, candidate - t->flights, key, len))
        return candidate;
    int64_t i = sky_idmap_find_hashed(t->ids, key, len, hash);
    return i < 0 ? NULL : &t->flights[i];
}

static int fault_cmp(const void *a, const void *b) {
    const sky_vm_fault_t *x = a, *y = b;
    int c = strcmp(x->flight, y->flight);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int add_flights(sky_flight_table_t *t, const sky_verify_manifest_t *m) {
    for (size_t i = 0; i < m->nflights; i++) {
        const sky_vm_flight_t *mf = &m->flights[i];
        size_t len = strlen(mf->id);
        bool added;
        int64_t k = sky_idmap_intern(t->ids, mf->id, len, &added);
        if (k < 0)
            return SKY_ENOMEM;
        sky_vflight_t *f = sky_idmap_value(t->ids, (size_t)k);
        if (!added) { /* the same flight in two shards: keep the widest range */
            f->first_seq = mf->first_seq < f->first_seq ? mf->first_seq : f->first_seq;
            f->last_seq = mf->last_seq > f->last_seq ? mf->last_seq : f->last_seq;
            if (mf->final.present && (!f->final || mf->final.seq > f->final->seq))
                f->final = &mf->final;
            continue;
        }
        t->nflights++;
        *f = (sky_vflight_t){.id = mf->id, .id_len = len, .first_seq = mf->first_seq,
                             .last_seq = mf->last_seq, .manifest_partition = mf->partition,
                             .final = mf->final.present ? &mf->final : NULL,
                             .landed = mf->landed};
    }
    return 0;
}

static int build_bitmaps(sky_flight_table_t *t) {
    size_t words = 0;
    for (size_t i = 0; i < t->nflights; i++) {
        sky_vflight_t *f = &t->flights[i];
        int64_t n = f->last_seq >= f->first_seq ? f->last_seq - f->first_seq + 1 : 0;
        words += (size_t)(n + 63) / 64;
    }
    t->arena_words = words;
    t->arena = calloc(words ? words : 1, sizeof *t->arena);
    if (!t->arena)
        return SKY_ENOMEM;
    size_t at = 0;
    for (size_t i = 0; i < t->nflights; i++) {
        sky_vflight_t *f = &t->flights[i];
        int64_t n = f->last_seq >= f->first_seq ? f->last_seq - f->first_seq + 1 : 0;
        f->seen = t->arena + at;
        at += (size_t)(n + 63) / 64;
    }
    return 0;
}

static int attach_faults(sky_flight_table_t *t, const sky_verify_manifest_t *m) {
    t->faults = calloc(m->nfaults ? m->nfaults : 1, sizeof *t->faults);
    if (!t->faults)
        return SKY_ENOMEM;
    if (m->nfaults)
        memcpy(t->faults, m->faults, m->nfaults * sizeof *t->faults);
    t->nfaults = m->nfaults;
    qsort(t->faults, t->nfaults, sizeof *t->faults, fault_cmp);
    for (size_t i = 0; i < t->nfaults;) {
        size_t j = i;
        while (j < t->nfaults && strcmp(t->faults[j].flight, t->faults[i].flight) == 0)
            j++;
        sky_vflight_t *f = sky_flight_table_find(t, t->faults[i].flight,
                                                 strlen(t->faults[i].flight));
        if (f) {
            f->fault_first = i;
            f->nfaults = j - i;
        }
        i = j;
    }
    return 0;
}

sky_flight_table_t *sky_flight_table_new(const sky_verify_manifest_t *m, char *errstr,
                                         size_t errstr_size) {
    sky_flight_table_t *t = calloc(1, sizeof *t);
    if (!t || m->nflights >= UINT32_MAX / 4)
        goto nomem;
    t->ids = sky_idmap_new_values(m->nflights, sizeof(sky_vflight_t));
    if (!t->ids || add_flights(t, m))
        goto nomem;
    t->flights = sky_idmap_value(t->ids, 0); /* every flight is in: the values stay put */
    if (build_bitmaps(t) || attach_faults(t, m))
        goto nomem;
    sky_flight_table_reset(t);
    return t;
nomem:
    sky_flight_table_destroy(t);
    sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory for %zu flights", m->nflights);
    return NULL;
}

void sky_flight_table_destroy(sky_flight_table_t *t) {
    if (!t)
        return;
    sky_idmap_destroy(t->ids);
    free(t->arena);
    free(t->faults);
    free(t);
}

void sky_flight_table_reset(sky_flight_table_t *t) {
    memset(t->arena, 0, (t->arena_words ? t->arena_words : 1) * sizeof *t->arena);
    for (size_t i = 0; i < t->nflights; i++) {
        sky_vflight_t *f = &t->flights[i];
        f->partition = f->other_partition = -1;
        f->max_seq = f->max_seq_offset = -1;
    }
}

size_t sky_flight_table_count(const sky_flight_table_t *t) {
    return t->nflights;
}

sky_vflight_t *sky_flight_table_at(sky_flight_table_t *t, size_t i) {
    return i < t->nflights ? &t->flights[i] : NULL;
}

int sky_flight_mark(sky_vflight_t *f, int64_t seq) {
    if (seq < f->first_seq || seq > f->last_seq)
        return -1;
    uint64_t bit = (uint64_t)(seq - f->first_seq);
    uint64_t *w = &f->seen[bit >> 6], m = 1ULL << (bit & 63);
    if (*w & m)
        return 1;
    *w |= m;
    return 0;
}

int sky_flight_mark_shared(sky_vflight_t *f, int64_t seq) {
    if (seq < f->first_seq || seq > f->last_seq)
        return -1;
    uint64_t bit = (uint64_t)(seq - f->first_seq), m = 1ULL << (bit & 63);
    return (__atomic_fetch_or(&f->seen[bit >> 6], m, __ATOMIC_RELAXED) & m) != 0;
}

int32_t sky_flight_claim_partition(sky_vflight_t *f, int32_t p) {
    int32_t had = __atomic_load_n(&f->partition, __ATOMIC_RELAXED);
    if (had < 0 && !__atomic_compare_exchange_n(&f->partition, &had, p, false, __ATOMIC_RELAXED,
                                                __ATOMIC_RELAXED))
        return had; /* another thread claimed it first: had holds its partition */
    return had < 0 ? p : had;
}

bool sky_flight_note_other_partition(sky_vflight_t *f, int32_t p) {
    int32_t none = -1;
    return __atomic_load_n(&f->other_partition, __ATOMIC_RELAXED) < 0 &&
           __atomic_compare_exchange_n(&f->other_partition, &none, p, false, __ATOMIC_RELAXED,
                                       __ATOMIC_RELAXED);
}

int sky_flight_is_seen(const sky_vflight_t *f, int64_t seq) {
    if (seq < f->first_seq || seq > f->last_seq)
        return 0;
    uint64_t bit = (uint64_t)(seq - f->first_seq);
    return (f->seen[bit >> 6] >> (bit & 63)) & 1;
}

unsigned sky_flight_faults_at(const sky_flight_table_t *t, const sky_vflight_t *f, int64_t seq) {
    unsigned mask = 0;
    for (size_t i = f->fault_first; i < f->fault_first + f->nfaults; i++) {
        const sky_vm_fault_t *x = &t->faults[i];
        if (x->seq > seq)
            break;
        if (seq < x->seq + x->count)
            mask |= SKY_FAULT_BIT(x->kind);
    }
    return mask;
}

size_t sky_flight_table_bytes(const sky_flight_table_t *t) {
    return sizeof *t + sky_idmap_bytes(t->ids) +
           t->arena_words * sizeof *t->arena + t->nfaults * sizeof *t->faults;
}
