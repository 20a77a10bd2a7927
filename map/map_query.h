/* What `skyload map` asks Tile38 and how it answers the page: the query-string
 * parser (a bad one is a 400), the aircraft columns built from a WITHIN reply,
 * the airspaces read back from Tile38's own HOOKS and CHANS, and the geofence
 * event messages of the events topic. Pure functions: no I/O, unit-tested. */
#ifndef SKY_MAP_QUERY_H
#define SKY_MAP_QUERY_H

#include "dynbuf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* West, south, east, north in degrees. west > east crosses the antimeridian. */
typedef struct sky_bbox {
    double west, south, east, north;
} sky_bbox_t;

/* "W,S,E,N": four finite numbers, longitudes in [-180, 180], latitudes in
 * [-90, 90], south <= north. 0 or SKY_EINVAL with a sentence in errstr. */
int sky_map_parse_bbox(const char *s, sky_bbox_t *out, char *errstr, size_t errstr_size);

/* --listen "HOST:PORT": HOST an IPv4 address or "localhost" (given back as
 * 127.0.0.1), PORT 0..65535 (0: any free port). 0 or SKY_EUSAGE. */
int sky_map_parse_listen(const char *s, char *host, size_t hostsz, int *port, char *errstr,
                         size_t errstr_size);

/* One query parameter as the page may send it; a name not in the list, a
 * repeated name or a value that does not parse is a 400. */
typedef struct sky_map_param {
    const char *name;
    const char *value;
} sky_map_param_t;

/* The aircraft of one viewport, as parallel arrays (the page draws 100,000 of
 * them each second: columns parse faster than an object per aircraft). */
typedef struct sky_map_columns {
    sky_buf_t ids, lat, lon, alt, spd, seq;
    size_t count;
} sky_map_columns_t;

void sky_map_columns_init(sky_map_columns_t *c);
void sky_map_columns_free(sky_map_columns_t *c);
/* Appends the objects of one JSON reply of "WITHIN <key> ... POINTS ..." (fields
 * altitude, airspeed, seq by name; Tile38 leaves out a field whose value is 0).
 * *cursor gets the reply's cursor (0: no more pages). 0, SKY_ETILE38 for an
 * error reply or an unexpected shape, SKY_ENOMEM. */
int sky_map_columns_add_reply(sky_map_columns_t *c, const char *reply, size_t len,
                              int64_t *cursor, char *errstr, size_t errstr_size);
/* {"ids":[...],"lat":[...],...} members (no braces) onto out. */
int sky_map_columns_write(const sky_map_columns_t *c, sky_buf_t *out);

/* Resolves "GET key id" in a fence's command to the object's GeoJSON; returns
 * a new reference or NULL. */
typedef json_t *(sky_map_get_object_fn)(void *opaque, const char *key, const char *id);

/* A GeoJSON Feature for the area of one hook or channel: command is the JSON
 * array HOOKS/CHANS give ("WITHIN","flights","FENCE","DETECT","enter,exit",
 * "CIRCLE","51.47","-0.45","37000"). CIRCLE and NEARBY's POINT give a Point
 * with properties.radius_m; BOUNDS a Polygon; OBJECT its GeoJSON; GET the
 * stored object (via get, may be NULL); HASH, TILE and QUADKEY their cell.
 * Returns a new reference, or NULL with why filled (an area kind not drawn). */
json_t *sky_map_airspace_feature(const char *name, const char *kind, const json_t *command,
                                 sky_map_get_object_fn *get, void *opaque, char *why,
                                 size_t why_size);

/* One geofence event: a Tile38 hook/channel message
 * {"command":"set","detect":"enter","hook":"LHR-CTR","key":"flights","id":"BAW1-00002a",
 *  "time":"2026-11-25T10:00:05.12Z","object":{"type":"Point","coordinates":[lon,lat]},...} */
typedef struct sky_map_event {
    char detect[16]; /* enter, exit, inside, outside, cross, roam */
    char hook[128];
    char id[128];
    char time[48]; /* as Tile38 wrote it */
    double lat, lon;
    bool has_point;
} sky_map_event_t;

/* 0, or SKY_EINVAL when the message is not JSON or has no detect/hook/id. */
int sky_map_event_parse(const char *json, size_t len, sky_map_event_t *out, char *errstr,
                        size_t errstr_size);

#endif
