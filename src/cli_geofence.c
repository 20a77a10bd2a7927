/* --airspaces, --geofence-route, --events-topic: parsing and preparation. */
#include "cli_geofence.h"

#include "airspace_resolve.h"
#include "cli.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void cli_geofence_init(cli_geofence_t *g) {
    memset(g, 0, sizeof *g);
    g->route = SKY_GEOFENCE_DEFAULT_ROUTE;
}

void cli_geofence_free(cli_geofence_t *g) {
    sky_airspaces_free(g->airspaces, g->nairspaces);
    g->airspaces = NULL;
    g->nairspaces = 0;
}

int cli_geofence_opt(cli_geofence_t *g, const char *cmd, int opt, const char *arg) {
    char err[256];
    switch (opt) {
    case OPT_AIRSPACES: g->airspaces_path = arg; return 1;
    case OPT_EVENTS_TOPIC: g->events_topic = arg; return 1;
    case OPT_GEOFENCE_ROUTE:
        if (sky_geofence_route_parse(arg, &g->route, err, sizeof err))
            return cli_usage_error(cmd, "%s", err);
        g->route_set = true;
        return 1;
    default: return 0;
    }
}

/* --airspaces takes a file, or a scenario's name as --scenario does ("smoke"). */
static int airspaces_path(cli_geofence_t *g, const char *cmd) {
    char err[512];
    struct stat st;
    if (!g->airspaces_path || stat(g->airspaces_path, &st) == 0 ||
        strchr(g->airspaces_path, '/'))
        return 0;
    if (sky_scenario_find(g->airspaces_path, g->path_buf, sizeof g->path_buf, err, sizeof err)) {
        cli_error(cmd, "--airspaces: \"%s\" is neither a file nor a scenario in scenarios/",
                  g->airspaces_path);
        return 2;
    }
    g->airspaces_path = g->path_buf;
    return 0;
}

int cli_geofence_add_to_scenario(cli_geofence_t *g, sky_scenario_t *sc, const char *cmd) {
    char err[1024];
    if (!g->airspaces_path)
        return 0;
    if (airspaces_path(g, cmd))
        return 2;
    size_t before = sc->nairspaces;
    if (sky_airspaces_load(g->airspaces_path, &sc->airspaces, &sc->nairspaces, err, sizeof err)) {
        cli_error(cmd, "--airspaces: %s", err);
        return 2;
    }
    for (size_t i = before; i < sc->nairspaces; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(sc->airspaces[i].name, sc->airspaces[j].name) == 0) {
                cli_error(cmd, "--airspaces %s: airspace \"%s\" is already in the scenario",
                          g->airspaces_path, sc->airspaces[i].name);
                return 2;
            }
    g->airspaces_path = NULL; /* now part of the scenario */
    return 0;
}

int cli_geofence_prepare(cli_geofence_t *g, const sky_scenario_t *sc, const char *topic,
                         const char *brokers, const char *data_dir, const char *cmd) {
    char err[1024];
    size_t n = sc ? sc->nairspaces : 0;
    cli_geofence_free(g);
    if (n && !(g->airspaces = calloc(n, sizeof *g->airspaces))) {
        cli_error(cmd, "out of memory");
        return 2;
    }
    for (size_t i = 0; i < n; i++, g->nairspaces++)
        if (sky_airspace_copy(&g->airspaces[i], &sc->airspaces[i])) {
            cli_error(cmd, "out of memory");
            return 2;
        }
    if (airspaces_path(g, cmd))
        return 2;
    if (g->airspaces_path &&
        sky_airspaces_load(g->airspaces_path, &g->airspaces, &g->nairspaces, err, sizeof err)) {
        cli_error(cmd, "--airspaces: %s", err);
        return 2;
    }
    for (size_t i = n; i < g->nairspaces; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->airspaces[i].name, g->airspaces[j].name) == 0) {
                cli_error(cmd, "--airspaces: airspace \"%s\" is named twice",
                          g->airspaces[i].name);
                return 2;
            }
    if (sky_airspaces_resolve_dir(g->airspaces, g->nairspaces,
                                  data_dir ? data_dir : sc ? sc->data_dir : NULL, err,
                                  sizeof err)) {
        cli_error(cmd, "%s", err);
        return 2;
    }
    if (g->events_topic)
        snprintf(g->topic_buf, sizeof g->topic_buf, "%s", g->events_topic);
    else
        sky_geofence_events_topic(topic, g->topic_buf, sizeof g->topic_buf);
    g->cfg = (sky_geofence_config_t){.airspaces = g->airspaces,
                                     .nairspaces = g->nairspaces,
                                     .route = g->route,
                                     .collection = NULL,
                                     .events_topic = g->topic_buf,
                                     .events_partitions = sc ? sc->partitions : 0,
                                     .brokers = brokers};
    return 0;
}
