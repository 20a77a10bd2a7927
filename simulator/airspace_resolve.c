/* Airport airspaces resolved with the traffic model's airports. */
#include "airspace_resolve.h"

#include "error.h"

#include <stdio.h>
#include <string.h>

int sky_airspaces_resolve(sky_airspace_t *a, size_t n, const sky_traffic_t *t, char *errstr,
                          size_t errstr_size) {
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind != SKY_AIRSPACE_AIRPORT)
            continue;
        long ap = t ? sky_traffic_find_airport(t, a[i].airport) : -1;
        if (ap < 0)
            return sky_err(errstr, errstr_size, SKY_EINVAL,
                           "airspace \"%s\": airport %s is not in airports.csv (large and "
                           "medium airports with an ICAO code)",
                           a[i].name, a[i].airport);
        int32_t elev;
        sky_traffic_airport_pos(t, (uint32_t)ap, &a[i].lat, &a[i].lon, &elev);
    }
    return 0;
}

int sky_airspaces_resolve_dir(sky_airspace_t *a, size_t n, const char *data_dir, char *errstr,
                              size_t errstr_size) {
    bool needed = false;
    for (size_t i = 0; i < n; i++)
        needed |= a[i].kind == SKY_AIRSPACE_AIRPORT;
    if (!needed)
        return 0;
    sky_traffic_params_t p;
    memset(&p, 0, sizeof p);
    p.data_dir = data_dir ? data_dir : SKY_SOURCE_DIR "/scenarios/data";
    p.seed = 1;
    sky_traffic_t *t = sky_traffic_new(&p, errstr, errstr_size);
    if (!t)
        return SKY_EINVAL;
    int rc = sky_airspaces_resolve(a, n, t, errstr, errstr_size);
    sky_traffic_destroy(t);
    return rc;
}
