/* Fault injection: which fault (if any) hits a flight's message, as a pure
 * function of (seed, flight index, seq), and how a malformed message is made. */
#ifndef SKY_FAULTS_H
#define SKY_FAULTS_H

#include "codec.h"
#include "manifest.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdint.h>

#define SKY_FAULT_NONE (-1)

typedef struct sky_faults {
    uint64_t seed;
    double cum[SKY_FAULT_KINDS]; /* cumulative rates, in sky_fault_kind_t order */
    int gap_length;
    bool any;
} sky_faults_t;

void sky_faults_init(sky_faults_t *f, const sky_fault_rates_t *rates, uint64_t seed);
/* A sky_fault_kind_t, or SKY_FAULT_NONE. Deterministic; hot path. */
int sky_faults_pick(const sky_faults_t *f, uint64_t flight_index, uint64_t seq);
/* Makes fl fail validation (latitude, altitude or airspeed out of range, chosen
 * from the seed) and writes validation's reason into reason. */
void sky_faults_malform(const sky_faults_t *f, sky_flight_t *fl, uint64_t flight_index,
                        uint64_t seq, char *reason, size_t reason_size);

/* SplitMix64 finaliser: the hash every deterministic choice of the simulator uses. */
uint64_t sky_mix64(uint64_t x);
/* A uniform double in [0, 1) from a hash. */
double sky_unit(uint64_t h);

#endif
