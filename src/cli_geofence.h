/* The geofence options several commands share (--airspaces, --geofence-route,
 * --events-topic) and turning them, with a scenario's airspaces, into a resolved
 * lib/geofence.h configuration. CLI only. */
#ifndef SKY_CLI_GEOFENCE_H
#define SKY_CLI_GEOFENCE_H

#include "geofence.h"
#include "scenario.h"

#include <stdbool.h>

/* getopt_long ids between the common options (1000..) and the commands' (1100..). */
enum { OPT_AIRSPACES = 1050, OPT_GEOFENCE_ROUTE, OPT_EVENTS_TOPIC };

#define CLI_GEOFENCE_LONG                                                                          \
    {"airspaces", required_argument, NULL, OPT_AIRSPACES},                                         \
        {"geofence-route", required_argument, NULL, OPT_GEOFENCE_ROUTE},                           \
        {"events-topic", required_argument, NULL, OPT_EVENTS_TOPIC}

#define CLI_GEOFENCE_HELP                                                                          \
    "Geofences (docs/geofence.md):\n"                                                              \
    "      --airspaces FILE   GeoJSON or YAML airspaces, or a scenario's (--airspaces smoke);\n"\
    "                         with a scenario, added to its own\n"                            \
    "      --geofence-route R relay (default: SETCHAN, ingest relays to Kafka) or hook\n"       \
    "                         (SETHOOK kafka://: Tile38 produces itself)\n"                        \
    "      --events-topic T   geofence events topic (default TOPIC.events)\n"

typedef struct cli_geofence {
    const char *airspaces_path; /* --airspaces */
    bool route_set;
    sky_geofence_route_t route; /* --geofence-route */
    const char *events_topic;   /* --events-topic */
    /* filled by cli_geofence_prepare */
    sky_airspace_t *airspaces; /* resolved copies */
    size_t nairspaces;
    char topic_buf[512];
    char path_buf[1024]; /* --airspaces NAME resolved to scenarios/NAME.yaml */
    sky_geofence_config_t cfg;
} cli_geofence_t;

void cli_geofence_init(cli_geofence_t *g);
void cli_geofence_free(cli_geofence_t *g);
/* 1 when opt was one of ours, 0 when not, 2 after a usage error (printed). */
int cli_geofence_opt(cli_geofence_t *g, const char *cmd, int opt, const char *arg);
/* Appends --airspaces FILE's airspaces to sc (simulate, run). 0 or exit status 2. */
int cli_geofence_add_to_scenario(cli_geofence_t *g, sky_scenario_t *sc, const char *cmd);
/* Collects sc's airspaces (may be NULL) and --airspaces FILE's, resolves airports with
 * data_dir's airports (NULL: sc's, else the built-in) and fills g->cfg for topic.
 * 0, or an exit status after printing the error. No airspaces: g->nairspaces 0. */
int cli_geofence_prepare(cli_geofence_t *g, const sky_scenario_t *sc, const char *topic,
                         const char *brokers, const char *data_dir, const char *cmd);

#endif
