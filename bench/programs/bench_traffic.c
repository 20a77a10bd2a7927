/* Times the traffic model's two calls: sky_traffic_plan (once per flight) and
 * sky_traffic_position (once per message, the generator's hot path). */
#include "traffic.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    size_t nflights = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    const char *dir = argc > 2 ? argv[2] : NULL;
    char err[512];
    sky_traffic_params_t p = {.data_dir = dir, .seed = 42};
    sky_traffic_t *t = sky_traffic_new(&p, err, sizeof err);
    sky_flight_plan_t *plans = malloc(nflights * sizeof *plans);
    if (!t || !plans || nflights == 0) {
        fprintf(stderr, "bench_traffic: %s\n", t ? "out of memory or no flights" : err);
        return 1;
    }
    double t0 = now_ns();
    for (size_t i = 0; i < nflights; i++)
        if (sky_traffic_plan(t, i, &plans[i], err, sizeof err) != 0) {
            fprintf(stderr, "bench_traffic: %s\n", err);
            return 1;
        }
    double plan_ns = (now_ns() - t0) / nflights;

    /* one message per flight per round, as the scheduler emits them: flights interleaved */
    const int rounds = 100;
    double checksum = 0;
    sky_position_t pos;
    t0 = now_ns();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < nflights; i++) {
            int64_t at = (int64_t)plans[i].duration_ms * r / rounds;
            sky_traffic_position(t, &plans[i], at, &pos);
            checksum += pos.lat + pos.alt_ft;
        }
    double calls = (double)rounds * nflights;
    double pos_ns = (now_ns() - t0) / calls;
    printf("flights %zu, plan size %zu B\n", nflights, sizeof(sky_flight_plan_t));
    printf("sky_traffic_plan:     %8.1f ns/call\n", plan_ns);
    printf("sky_traffic_position: %8.1f ns/call (%.1f M calls/s/core; %.0f calls; checksum %.3g)\n",
           pos_ns, 1e3 / pos_ns, calls, checksum);
    free(plans);
    sky_traffic_destroy(t);
    return 0;
}
