/* The relay route of geofence events (docs/geofence.md): a thread SUBSCRIBEd to the
 * airspaces' Tile38 channels that produces every message, unchanged, to the events
 * topic with skyload's idempotent producer, keyed "<collection>-<id>" as Tile38's own
 * kafka:// hook keys them. Stopping drains: a barrier published on a channel after
 * the last SET comes back after every event before it. */
#ifndef SKY_GEOFENCE_RELAY_H
#define SKY_GEOFENCE_RELAY_H

#include "geofence.h"
#include "kafka.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct sky_geofence_relay sky_geofence_relay_t;

typedef struct sky_geofence_relay_stats {
    uint64_t received;   /* channel messages (barriers not counted) */
    uint64_t produced;   /* handed to the producer */
    uint64_t delivered;  /* acknowledged by Kafka */
    uint64_t failed;     /* undeliverable (message timeout, fatal error) */
    uint64_t reconnects; /* subscriptions lost and made again: events Tile38 published in
                            between are gone (pub/sub keeps no backlog) */
} sky_geofence_relay_stats_t;

/* Connects to Tile38 at host:port, subscribes to the n channels and starts relaying
 * to events_topic. kc is borrowed (must outlive the relay). NULL with errstr (and
 * *code) when Tile38 or Kafka cannot be reached. */
sky_geofence_relay_t *sky_geofence_relay_start(const sky_kconf_t *kc, const char *host, int port,
                                               const char *const *channels, size_t n,
                                               const char *events_topic, int *code, char *errstr,
                                               size_t errstr_size);
/* Drains (barrier, at most timeout_ms), flushes the producer, stops and frees the relay.
 * NULL is fine. Returns 0, or SKY_ETIMEOUT when the barrier or the flush ran out. */
int sky_geofence_relay_stop(sky_geofence_relay_t *r, int timeout_ms);
/* Subscribed right now? Thread-safe. ingest holds its Tile38 writes while it is not:
 * what Tile38 publishes with nobody subscribed is gone. */
bool sky_geofence_relay_ready(sky_geofence_relay_t *r);
/* Thread-safe. */
void sky_geofence_relay_stats(sky_geofence_relay_t *r, sky_geofence_relay_stats_t *out);

/* What ingest does with a geofence configuration: registers every airspace when
 * `register_fences` (ingest --init-schema), then, on the relay route, starts the relay
 * (*relay; NULL on the hook route, whose events Tile38 sends itself). */
int sky_geofence_ingest_start(const sky_geofence_config_t *gc, const sky_kconf_t *kc,
                              const char *tile38_host, int tile38_port, bool register_fences,
                              sky_geofence_relay_t **relay, char *errstr, size_t errstr_size);

#endif
