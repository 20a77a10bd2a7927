/* Geofences on Tile38 (docs/geofence.md): each airspace registered on the flights
 * collection with DETECT enter,exit, its events bound for a Kafka topic by one of two
 * routes -- a hook (SETHOOK ... kafka://: Tile38 produces itself) or a channel
 * (SETCHAN: ingest's relay SUBSCRIBEs and produces) -- and listing, dropping, and the
 * events topic's offsets at a run's start. */
#ifndef SKY_GEOFENCE_H
#define SKY_GEOFENCE_H

#include "kafka.h"
#include "manifest.h"
#include "airspace.h"
#include "tile38.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum sky_geofence_route {
    SKY_GEOFENCE_RELAY = 0, /* SETCHAN + SUBSCRIBE, relayed by ingest (the default: it lost
                               nothing where the hook did, bench/RESULTS.md "geofence") */
    SKY_GEOFENCE_HOOK,      /* SETHOOK kafka://broker/topic: Tile38's own producer */
} sky_geofence_route_t;

#define SKY_GEOFENCE_DEFAULT_ROUTE SKY_GEOFENCE_RELAY
#define SKY_GEOFENCE_META_KEY "source" /* META source skyload: ours, for list and drop */
#define SKY_GEOFENCE_META_VALUE "skyload"

const char *sky_geofence_route_name(sky_geofence_route_t r); /* "relay", "hook" */
int sky_geofence_route_parse(const char *s, sky_geofence_route_t *out, char *errstr,
                             size_t errstr_size);

typedef struct sky_geofence_config {
    const sky_airspace_t *airspaces; /* resolved (sky_airspaces_resolve*); borrowed */
    size_t nairspaces;
    sky_geofence_route_t route;
    const char *collection;   /* NULL: "flights" */
    const char *events_topic; /* required: sky_geofence_events_topic gives the default */
    int events_partitions;    /* when the topic is created; 0: 6 */
    const char *brokers;      /* for a hook's kafka:// endpoint, the first host:port of the
                                 list (Tile38 connects to it); NULL: 127.0.0.1:9092 */
} sky_geofence_config_t;

/* "<topic>.events" into out. */
void sky_geofence_events_topic(const char *topic, char *out, size_t outsz);

/* One registration command, argv form. */
typedef struct sky_geofence_args {
    char **argv;
    size_t argc;
} sky_geofence_args_t;

/* The SETHOOK / SETCHAN command for airspace a (numbers written so that Tile38 reads
 * back exactly the doubles simulator/airspace.c computes with). 0, SKY_EUSAGE
 * (unresolved airport, bad broker) or SKY_ENOMEM; free with sky_geofence_args_free. */
int sky_geofence_command(const sky_geofence_config_t *c, const sky_airspace_t *a,
                         sky_geofence_args_t *out, char *errstr, size_t errstr_size);
void sky_geofence_args_free(sky_geofence_args_t *args);

/* Creates the events topic (message.timestamp.type=LogAppendTime: the event's time on
 * the topic) when kc is not NULL, then registers every airspace, replacing a hook or
 * channel of the same name (of either route). Idempotent. */
int sky_geofence_setup(sky_tile38_t *t, const sky_kconf_t *kc, const sky_geofence_config_t *c,
                       char *errstr, size_t errstr_size);

/* Deletes the hooks and channels with these names; names NULL: every one carrying
 * META source skyload. *removed (may be NULL) gets how many went. */
int sky_geofence_drop(sky_tile38_t *t, const char *const *names, size_t n, int *removed,
                      char *errstr, size_t errstr_size);

/* Hooks and channels matching pattern ("*": all) as a JSON array of {"name", "route",
 * "key", "endpoint", "command", "ours"}; *out owned by the caller (json_decref). */
int sky_geofence_list(sky_tile38_t *t, const char *pattern, json_t **out, char *errstr,
                      size_t errstr_size);

/* Each partition's high watermark of topic (none when it does not exist yet: then the
 * run's events are all of it). *out (free()) holds {partition, first_offset = the mark}. */
int sky_geofence_topic_offsets(rd_kafka_t *rk, const char *topic, int timeout_ms,
                               sky_manifest_partition_t **out, size_t *n, char *errstr,
                               size_t errstr_size);

/* The manifest's geofence section for a run with these airspaces, the events topic's
 * offsets read from rk when it is not NULL (a Kafka sink). */
int sky_geofence_manifest_section(sky_manifest_t *m, rd_kafka_t *rk, const char *events_topic,
                                  const sky_airspace_t *a, size_t n, char *errstr,
                                  size_t errstr_size);

#endif
