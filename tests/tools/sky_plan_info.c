/* Test tool: what a record does not carry about its flight (the aircraft type, the
 * planned cruise level and distance), from the model itself, for the realism test
 * (tests/realism/realism.py). A plan is a pure function of (seed, region, index), so
 * this prints the plans behind the flights of a `simulate` run of the same scenario.
 * usage: sky_plan_info SCENARIO.yaml COUNT [DATA_DIR]
 * prints one line per flight index 0..COUNT-1: index type category cruise_ft dist_nm */
#include "error.h"
#include "parse.h"
#include "scenario.h"
#include "traffic.h"

#include <stdio.h>

int main(int argc, char **argv) {
    char err[512];
    int64_t count;
    if (argc < 3 || sky_parse_i64(argv[2], 1, 100000000, &count, "COUNT", err, sizeof err)) {
        fprintf(stderr, "usage: sky_plan_info SCENARIO.yaml COUNT [DATA_DIR]\n");
        return 2;
    }
    sky_scenario_t *sc = NULL;
    if (sky_scenario_load(argv[1], &sc, err, sizeof err)) {
        fprintf(stderr, "sky_plan_info: %s\n", err);
        return 2;
    }
    const char *dir = argc > 3 ? argv[3] : sc->data_dir;
    sky_traffic_params_t tp = {dir, sc->seed,
                               {sc->has_bbox, sc->south, sc->west, sc->north, sc->east,
                                (const char *const *)sc->airports, sc->nairports,
                                (const char *const *)sc->routes, sc->nroutes}};
    sky_traffic_t *t = sky_traffic_new(&tp, err, sizeof err);
    if (!t) {
        fprintf(stderr, "sky_plan_info: %s\n", err);
        sky_scenario_destroy(sc);
        return 2;
    }
    int rc = 0;
    for (int64_t i = 0; i < count && rc == 0; i++) {
        sky_flight_plan_t plan;
        if (sky_traffic_plan(t, (uint64_t)i, &plan, err, sizeof err)) {
            fprintf(stderr, "sky_plan_info: %s\n", err);
            rc = 3;
            break;
        }
        const sky_aircraft_type_t *y = sky_traffic_type(t, plan.type);
        printf("%lld %s %s %d %.3f\n", (long long)i, y->icao, y->category,
               (int)sky_traffic_cruise_ft(&plan), sky_traffic_distance_nm(&plan));
    }
    sky_traffic_destroy(t);
    sky_scenario_destroy(sc);
    return rc;
}
