/* Emission schedule: every slot (one airborne aircraft position) emits once per
 * cadence at its own fixed phase, so load is smooth. Phases follow a golden-ratio
 * sequence, which spreads any prefix of slots evenly (load profiles activate a prefix).
 * Since all intervals are equal, the order within a cadence is fixed: O(1) per emission. */
#ifndef SKY_SCHEDULER_H
#define SKY_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

typedef struct sky_sched sky_sched_t;

typedef struct sky_sched_params {
    uint64_t slots_total;        /* slots over all shards */
    int shard_index, shard_count; /* this shard owns global slots s with s % count == index */
    int64_t cadence_us;
} sky_sched_params_t;

typedef struct sky_emission {
    uint32_t local;  /* storage index of the slot, 0 .. sky_sched_slots() - 1, in phase
                        order: callers keep per-slot state in an array walked in sequence */
    uint64_t global; /* global slot number */
    uint64_t cycle;  /* cadence number, from 0 */
    int64_t t_us;    /* simulated offset from the start: cycle * cadence + phase */
} sky_emission_t;

/* Returns NULL with errstr on bad parameters or allocation failure. */
sky_sched_t *sky_sched_new(const sky_sched_params_t *p, char *errstr, size_t errstr_size);
void sky_sched_destroy(sky_sched_t *s); /* NULL is fine */

/* Number of slots this shard owns (may be 0). */
uint32_t sky_sched_slots(const sky_sched_t *s);
uint64_t sky_sched_global(const sky_sched_t *s, uint32_t local);
/* The next emission in time order (ties by global slot). Returns 0, or -1 when the shard has no slot. */
int sky_sched_next(sky_sched_t *s, sky_emission_t *e);
/* The fixed phase of a global slot within the cadence, in [0, cadence_us). */
int64_t sky_sched_phase_us(uint64_t global, int64_t cadence_us);
/* Memory held per slot, for the memory budget report. */
size_t sky_sched_bytes_per_slot(void);

#endif
