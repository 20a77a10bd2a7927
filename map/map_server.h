/* `skyload map`: a small HTTP server (libmicrohttpd) for the live map page.
 * Everything it serves is in the binary (lib/web_assets.h); the data comes from
 * Tile38 (WITHIN per viewport, HOOKS/CHANS for the airspaces), the events topic
 * (geofence enter/exit) and, when given, PostgreSQL's flights table (airline
 * and route of the aircraft under the pointer).
 *
 *   GET /                     the page
 *   GET /assets/NAME          leaflet.js, countries-50m.json, map.js, ...
 *   GET /api/flights?bbox=W,S,E,N[&limit=N][&events=SEQ]
 *                             aircraft in the bounds as columns, + events after SEQ
 *   GET /api/airspaces        every hook's and channel's area as GeoJSON
 *   GET /api/flight?id=ID     one aircraft, with its route when PostgreSQL is given
 *   GET /api/events[?after=SEQ]
 * A query string the endpoint does not take (an unknown or repeated parameter, a
 * value that does not parse) is answered 400 with {"ok":false,"error":...}. */
#ifndef SKY_MAP_SERVER_H
#define SKY_MAP_SERVER_H

#include "kafka.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sky_map_config {
    const char *listen;       /* IPv4 "HOST:PORT"; NULL: 127.0.0.1:8080; port 0 picks one */
    const char *tile38;       /* "HOST:PORT"; NULL: 127.0.0.1:9851 */
    const char *collection;   /* NULL: "flights" */
    const sky_kconf_t *kafka; /* for events_topic; NULL: defaults */
    const char *events_topic; /* NULL: no events */
    const char *pg_conninfo;  /* NULL: no airline/route lookups */
    const char *schema;       /* of the flights table; NULL: "public" */
    int64_t max_aircraft;     /* per answer; 0: 250000 */
    int threads;              /* HTTP threads; 0: 4 */
} sky_map_config_t;

typedef struct sky_map_server sky_map_server_t;

typedef struct sky_map_stats {
    uint64_t requests, bad_requests, tile38_errors;
    uint64_t last_count; /* aircraft in the last /api/flights answer */
} sky_map_stats_t;

/* Strings in cfg are copied. Checks that Tile38 answers before listening.
 * NULL with errstr and *code (SKY_EUSAGE, SKY_EUNAVAIL, SKY_EIO, SKY_ENOMEM). */
sky_map_server_t *sky_map_server_start(const sky_map_config_t *cfg, int *code, char *errstr,
                                       size_t errstr_size);
int sky_map_server_port(const sky_map_server_t *s);
void sky_map_server_get_stats(sky_map_server_t *s, sky_map_stats_t *out);
void sky_map_server_stop(sky_map_server_t *s); /* NULL is fine */

#endif
