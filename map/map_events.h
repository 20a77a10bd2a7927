/* The geofence events `skyload map` flashes: a thread reads the events topic
 * (Tile38's own hook messages, from its end: the map shows what happens now)
 * into a ring of the last SKY_MAP_EVENTS_RING events that the page polls. */
#ifndef SKY_MAP_EVENTS_H
#define SKY_MAP_EVENTS_H

#include "dynbuf.h"
#include "kafka.h"
#include "map_query.h"

#include <stdint.h>

#define SKY_MAP_EVENTS_RING 4096
#define SKY_MAP_EVENTS_PAGE 500 /* at most this many per answer */

typedef struct sky_map_events sky_map_events_t;

/* kc and topic are copied. Starts the reading thread; Kafka being down is not
 * an error (the thread retries and the state says so). NULL with errstr on a
 * bad configuration or no memory. */
sky_map_events_t *sky_map_events_start(const sky_kconf_t *kc, const char *topic, char *errstr,
                                       size_t errstr_size);
void sky_map_events_stop(sky_map_events_t *e); /* NULL is fine */

/* Adds one event (the reading thread does; exposed for tests). */
void sky_map_events_add(sky_map_events_t *e, const sky_map_event_t *ev);

/* Appends "events":{...} (state, topic, totals and the events with seq > after,
 * oldest first, at most SKY_MAP_EVENTS_PAGE) to out. e may be NULL (no topic). */
int sky_map_events_write(sky_map_events_t *e, uint64_t after, sky_buf_t *out);

/* A ring without a reading thread (for tests). */
sky_map_events_t *sky_map_events_new_ring(void);

#endif
