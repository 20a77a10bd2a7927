/* Airport airspaces get their centre from the traffic model's airports. */
#ifndef SKY_AIRSPACE_RESOLVE_H
#define SKY_AIRSPACE_RESOLVE_H

#include "airspace.h"
#include "traffic.h"

/* Fills lat/lon of every airport airspace from the traffic model's airports; errors
 * name the airspace and the unknown airport. */
int sky_airspaces_resolve(sky_airspace_t *a, size_t n, const sky_traffic_t *t, char *errstr,
                          size_t errstr_size);
/* The same with the airports of data_dir (NULL: <source>/scenarios/data). Loads no
 * model when no airspace needs it. */
int sky_airspaces_resolve_dir(sky_airspace_t *a, size_t n, const char *data_dir, char *errstr,
                              size_t errstr_size);

#endif
