/* Emission schedule: a fixed phase per slot and the slots sorted by phase once;
 * the iterator walks that order cycle after cycle. */
#include "scheduler.h"

#include "error.h"

#include <stdlib.h>

struct sky_sched {
    sky_sched_params_t p;
    uint32_t nslots;
    uint32_t *order; /* shard slot numbers (global = index + n * count) sorted by phase */
    size_t pos;
    uint64_t cycle;
};

int64_t sky_sched_phase_us(uint64_t global, int64_t cadence_us) {
    /* Weyl sequence: fractional part of global * golden ratio, as a 64-bit fraction. */
    uint64_t frac = global * 0x9E3779B97F4A7C15ULL;
    return (int64_t)(((unsigned __int128)frac * (uint64_t)cadence_us) >> 64);
}

size_t sky_sched_bytes_per_slot(void) {
    return sizeof(uint32_t);
}

static uint64_t global_of(const sky_sched_t *s, uint32_t local) {
    return (uint64_t)s->p.shard_index + (uint64_t)local * (uint64_t)s->p.shard_count;
}

uint64_t sky_sched_global(const sky_sched_t *s, uint32_t local) {
    return global_of(s, s->order[local]);
}

uint32_t sky_sched_slots(const sky_sched_t *s) {
    return s->nslots;
}

static int cmp_key(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct sort_item {
    int64_t phase;
    uint64_t global;
    uint32_t local;
} sort_item_t;

static int cmp_item(const void *a, const void *b) {
    const sort_item_t *x = a, *y = b;
    if (x->phase != y->phase)
        return x->phase < y->phase ? -1 : 1;
    return cmp_key(&x->global, &y->global);
}

static int build_order(sky_sched_t *s) {
    sort_item_t *items = malloc((size_t)s->nslots * sizeof *items);
    if (!items)
        return SKY_ENOMEM;
    for (uint32_t i = 0; i < s->nslots; i++) {
        items[i].global = global_of(s, i);
        items[i].phase = sky_sched_phase_us(items[i].global, s->p.cadence_us);
        items[i].local = i;
    }
    qsort(items, s->nslots, sizeof *items, cmp_item);
    for (uint32_t i = 0; i < s->nslots; i++)
        s->order[i] = items[i].local;
    free(items);
    return 0;
}

sky_sched_t *sky_sched_new(const sky_sched_params_t *p, char *errstr, size_t errstr_size) {
    if (p->shard_count < 1 || p->shard_index < 0 || p->shard_index >= p->shard_count ||
        p->cadence_us <= 0) {
        sky_err(errstr, errstr_size, SKY_EUSAGE, "scheduler: bad shard %d/%d or cadence %lld us",
                p->shard_index, p->shard_count, (long long)p->cadence_us);
        return NULL;
    }
    uint64_t n = p->slots_total / (uint64_t)p->shard_count +
                 ((uint64_t)p->shard_index < p->slots_total % (uint64_t)p->shard_count);
    if (n > UINT32_MAX) {
        sky_err(errstr, errstr_size, SKY_EUSAGE, "scheduler: %llu slots is too many for one shard",
                (unsigned long long)n);
        return NULL;
    }
    sky_sched_t *s = calloc(1, sizeof *s);
    if (s) {
        s->p = *p;
        s->nslots = (uint32_t)n;
        s->order = malloc((n ? n : 1) * sizeof *s->order);
    }
    if (!s || !s->order || build_order(s)) {
        sky_sched_destroy(s);
        sky_err(errstr, errstr_size, SKY_ENOMEM, "scheduler: out of memory for %llu slots",
                (unsigned long long)n);
        return NULL;
    }
    return s;
}

void sky_sched_destroy(sky_sched_t *s) {
    if (!s)
        return;
    free(s->order);
    free(s);
}

int sky_sched_next(sky_sched_t *s, sky_emission_t *e) {
    if (!s->nslots)
        return -1;
    if (s->pos == s->nslots) {
        s->pos = 0;
        s->cycle++;
    }
    /* local = position in phase order, so the caller's per-slot state is walked
     * sequentially (a 100k-aircraft run is memory bound otherwise) */
    e->local = (uint32_t)s->pos;
    e->global = global_of(s, s->order[s->pos++]);
    e->cycle = s->cycle;
    e->t_us = (int64_t)s->cycle * s->p.cadence_us + sky_sched_phase_us(e->global, s->p.cadence_us);
    return 0;
}
