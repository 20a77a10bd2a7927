/* Deterministic fault selection and malformed-message construction. */
#include "faults.h"

#include <stdio.h>
#include <string.h>

uint64_t sky_mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

double sky_unit(uint64_t h) {
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

void sky_faults_init(sky_faults_t *f, const sky_fault_rates_t *r, uint64_t seed) {
    const double rates[SKY_FAULT_KINDS] = {[SKY_FAULT_DROP] = r->drop,
                                           [SKY_FAULT_GAP] = r->gap,
                                           [SKY_FAULT_DUPLICATE] = r->duplicate,
                                           [SKY_FAULT_REORDER] = r->reorder,
                                           [SKY_FAULT_MALFORMED] = r->malformed};
    double sum = 0;
    memset(f, 0, sizeof *f);
    f->seed = sky_mix64(seed ^ 0xFA017ULL);
    for (int k = 0; k < SKY_FAULT_KINDS; k++) {
        sum += rates[k];
        f->cum[k] = sum;
    }
    f->any = sum > 0;
    f->gap_length = r->gap_length > 0 ? r->gap_length : 3;
}

static uint64_t fault_hash(const sky_faults_t *f, uint64_t flight_index, uint64_t seq) {
    return sky_mix64(f->seed ^ sky_mix64(flight_index * 0x100000001B3ULL + seq));
}

int sky_faults_pick(const sky_faults_t *f, uint64_t flight_index, uint64_t seq) {
    if (!f->any)
        return SKY_FAULT_NONE;
    double u = sky_unit(fault_hash(f, flight_index, seq));
    for (int k = 0; k < SKY_FAULT_KINDS; k++)
        if (u < f->cum[k])
            return k;
    return SKY_FAULT_NONE;
}

void sky_faults_malform(const sky_faults_t *f, sky_flight_t *fl, uint64_t flight_index,
                        uint64_t seq, char *reason, size_t reason_size) {
    uint64_t h = sky_mix64(fault_hash(f, flight_index, seq));
    switch (h % 3) {
    case 0: fl->latitude = fl->latitude >= 0 ? 90.5 + (double)(h % 90) : -90.5 - (double)(h % 90);
        break;
    case 1: fl->altitude = SKY_ALT_MAX_FT + 1 + (int32_t)(h % 50000); break;
    default: fl->airspeed = -1 - (int32_t)(h % 500); break;
    }
    fl->has_location = true;
    if (sky_flight_validate(fl, NULL, reason, reason_size) == 0)
        snprintf(reason, reason_size, "malformed");
}
