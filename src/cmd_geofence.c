/* skyload geofence setup|list|drop: a scenario's airspaces as Tile38 hooks or channels. */
#include "cli.h"
#include "cli_geofence.h"
#include "commands.h"
#include "error.h"
#include "geofence.h"
#include "parse.h"
#include "tile38.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char geofence_help[] =
    "usage: skyload geofence setup (--scenario S | --airspaces FILE) [--geofence-route R]\n"
    "                              [--events-topic T] [--collection NAME] [-t TOPIC]\n"
    "       skyload geofence list [--pattern GLOB] [--json]\n"
    "       skyload geofence drop [--scenario S | --airspaces FILE | NAME ...]\n\n"
    "setup registers every airspace on Tile38's collection (default flights) as a\n"
    "geofence with DETECT enter,exit (COMMANDS set; floor/ceiling as WHERE altitude),\n"
    "its events bound for the events topic (created with LogAppendTime timestamps):\n"
    "route relay (SETCHAN; `skyload ingest` relays the channel to Kafka) or hook\n"
    "(SETHOOK kafka://BROKER/TOPIC; Tile38 produces itself). Same names are replaced.\n"
    "`skyload ingest --init-schema --airspaces FILE` does the same at start.\n"
    "list shows the hooks and channels (ours carry META source skyload); drop deletes\n"
    "the named ones, a scenario's, or every one of ours.\n\n"
    "Options:\n"
    "  -s, --scenario NAME|FILE  scenarios/NAME.yaml or a file: its airspaces\n"
    "      --collection NAME     Tile38 collection the fences watch (default flights)\n"
    "      --pattern GLOB        list: hook/channel names (default *)\n"
    "      --data-dir DIR        airports.csv for airport airspaces\n"
    CLI_GEOFENCE_HELP "\n" CLI_COMMON_HELP "\n"
    "Examples:\n"
    "  skyload geofence setup --scenario ci --tile38 127.0.0.1:9851 -b 127.0.0.1:9092\n"
    "  skyload geofence setup --airspaces firs.geojson --geofence-route hook -t flights\n"
    "  skyload geofence list --json\n"
    "  skyload geofence drop LHR-CTR\n";

enum { OPT_SCENARIO = OPT_FIRST_CMD, OPT_COLLECTION, OPT_PATTERN, OPT_DATA_DIR };

typedef struct geofence_opts {
    cli_common_t common;
    cli_geofence_t geo;
    const char *action;
    const char *scenario;
    const char *collection;
    const char *pattern;
    const char *data_dir;
    char **names;
    int nnames;
} geofence_opts_t;

static const struct option geofence_longopts[] = {
    {"scenario", required_argument, NULL, 's'},
    {"collection", required_argument, NULL, OPT_COLLECTION},
    {"pattern", required_argument, NULL, OPT_PATTERN},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {NULL, 0, NULL, 0}};

static int geofence_opt(void *opts, int opt, const char *arg) {
    geofence_opts_t *o = opts;
    switch (opt) {
    case 's': o->scenario = arg; return 0;
    case OPT_COLLECTION: o->collection = arg; return 0;
    case OPT_PATTERN: o->pattern = arg; return 0;
    case OPT_DATA_DIR: o->data_dir = arg; return 0;
    default: return cli_usage_error("geofence", "unknown option");
    }
}

/* ACTION [NAME...]: setup, list, or drop with the fences to drop. */
static int geofence_args(void *opts, int argc, char **argv) {
    geofence_opts_t *o = opts;
    if (argc < 1)
        return cli_usage_error("geofence", "no action: setup, list or drop");
    o->action = argv[0];
    o->names = argv + 1;
    o->nnames = argc - 1;
    if (strcmp(o->action, "setup") && strcmp(o->action, "list") && strcmp(o->action, "drop"))
        return cli_usage_error("geofence", "\"%s\" is not setup, list or drop", o->action);
    if (o->nnames && strcmp(o->action, "drop") != 0)
        return cli_usage_error("geofence", "unexpected argument \"%s\"", o->names[0]);
    return 0;
}

static cli_geofence_t *geofence_of(void *opts) {
    return &((geofence_opts_t *)opts)->geo;
}

static const cli_spec_t geofence_spec = {
    .cmd = "geofence", .help = geofence_help, .shortopts = "s:", .longopts = geofence_longopts,
    .own = geofence_opt, .args = geofence_args, .geofence = geofence_of};

/* The airspaces of --scenario and --airspaces, resolved into o->geo. */
static int load_airspaces(geofence_opts_t *o) {
    char path[1024], err[1024];
    sky_scenario_t *sc = NULL;
    if (o->scenario && (sky_scenario_find(o->scenario, path, sizeof path, err, sizeof err) ||
                        sky_scenario_load(path, &sc, err, sizeof err))) {
        cli_error("geofence", "%s", err);
        return 2;
    }
    const char *topic = o->common.topic;
    if (sc && sc->topic && strcmp(topic, "flights") == 0)
        topic = sc->topic; /* -t not given: the scenario's topic names the events topic */
    int rc = cli_geofence_prepare(&o->geo, sc, topic, o->common.kafka.brokers, o->data_dir,
                                  "geofence");
    sky_scenario_destroy(sc);
    if (!rc && o->geo.nairspaces == 0 && strcmp(o->action, "setup") == 0) {
        cli_error("geofence", "no airspaces: give --scenario with airspaces: or --airspaces "
                              "FILE");
        rc = 2;
    }
    o->geo.cfg.collection = o->collection;
    return rc;
}

static sky_tile38_t *connect_tile38(geofence_opts_t *o, int *status) {
    char host[256], err[512];
    int port;
    if (sky_parse_hostport(o->common.tile38, host, sizeof host, &port, "--tile38", err,
                           sizeof err)) {
        *status = cli_usage_error("geofence", "%s", err);
        return NULL;
    }
    sky_tile38_t *t = sky_tile38_new(host, port, 10000, err, sizeof err);
    if (!t) {
        cli_error("geofence", "%s", err);
        *status = 3;
    }
    return t;
}

static int do_setup(geofence_opts_t *o, sky_tile38_t *t) {
    char err[1024];
    int rc = sky_geofence_setup(t, &o->common.kafka, &o->geo.cfg, err, sizeof err);
    if (rc) {
        cli_error("geofence", "%s", err);
        return sky_exit_status(rc);
    }
    if (o->common.json)
        printf("{\"registered\":%zu,\"route\":\"%s\",\"events_topic\":\"%s\"}\n",
               o->geo.nairspaces, sky_geofence_route_name(o->geo.cfg.route),
               o->geo.cfg.events_topic);
    else
        fprintf(stderr, "skyload geofence: %zu airspaces registered as %s on %s, events to %s\n",
                o->geo.nairspaces, o->geo.cfg.route == SKY_GEOFENCE_HOOK ? "hooks" : "channels",
                o->collection ? o->collection : "flights", o->geo.cfg.events_topic);
    return 0;
}

static int do_list(geofence_opts_t *o, sky_tile38_t *t) {
    char err[512];
    json_t *all = NULL;
    int rc = sky_geofence_list(t, o->pattern ? o->pattern : "*", &all, err, sizeof err);
    if (rc) {
        cli_error("geofence", "%s", err);
        return sky_exit_status(rc);
    }
    if (o->common.json) {
        char *s = json_dumps(all, JSON_COMPACT);
        if (s)
            puts(s);
        free(s);
    } else {
        size_t i;
        json_t *h;
        printf("%-24s %-6s %-10s %s\n", "name", "route", "collection", "fence");
        json_array_foreach(all, i, h) {
            json_t *cmd = json_object_get(h, "command");
            /* the fence: from WITHIN/NEARBY on, the geometry shortened */
            char fence[160] = "";
            size_t at = 0, k;
            json_t *a;
            bool on = false;
            json_array_foreach(cmd, k, a) {
                const char *s = json_string_value(a);
                if (s && (!strcasecmp(s, "WITHIN") || !strcasecmp(s, "NEARBY")))
                    on = true;
                if (on && s && at < sizeof fence - 1) {
                    int n = snprintf(fence + at, sizeof fence - at, "%s%.40s%s", at ? " " : "",
                                     s, strlen(s) > 40 ? "..." : "");
                    at += n > 0 ? (size_t)n : 0;
                }
            }
            printf("%-24s %-6s %-10s %s%s\n", json_string_value(json_object_get(h, "name")),
                   json_string_value(json_object_get(h, "route")),
                   json_string_value(json_object_get(h, "key")), fence,
                   json_is_true(json_object_get(h, "ours")) ? "" : "  (not skyload's)");
        }
    }
    json_decref(all);
    return 0;
}

static int do_drop(geofence_opts_t *o, sky_tile38_t *t) {
    char err[512];
    int removed = 0, rc;
    if (o->nnames) {
        rc = sky_geofence_drop(t, (const char *const *)o->names, (size_t)o->nnames, &removed,
                               err, sizeof err);
    } else if (o->geo.nairspaces) {
        const char **names = calloc(o->geo.nairspaces, sizeof *names);
        if (!names) {
            cli_error("geofence", "out of memory");
            return 3;
        }
        for (size_t i = 0; i < o->geo.nairspaces; i++)
            names[i] = o->geo.airspaces[i].name;
        rc = sky_geofence_drop(t, names, o->geo.nairspaces, &removed, err, sizeof err);
        free(names);
    } else {
        rc = sky_geofence_drop(t, NULL, 0, &removed, err, sizeof err);
    }
    if (rc) {
        cli_error("geofence", "%s", err);
        return sky_exit_status(rc);
    }
    if (o->common.json)
        printf("{\"removed\":%d}\n", removed);
    else
        fprintf(stderr, "skyload geofence: %d hooks and channels removed\n", removed);
    return 0;
}

int cmd_geofence(int argc, char **argv) {
    geofence_opts_t o;
    memset(&o, 0, sizeof o);
    cli_common_init(&o.common);
    cli_geofence_init(&o.geo);
    int rc = cli_parse(&geofence_spec, &o.common, &o, argc, argv);
    if (!rc && strcmp(o.action, "list") != 0 && (o.scenario || o.geo.airspaces_path ||
                                                 strcmp(o.action, "setup") == 0))
        rc = load_airspaces(&o);
    sky_tile38_t *t = NULL;
    if (!rc && !(t = connect_tile38(&o, &rc)) && !rc)
        rc = 3;
    if (!rc)
        rc = strcmp(o.action, "setup") == 0  ? do_setup(&o, t)
             : strcmp(o.action, "list") == 0 ? do_list(&o, t)
                                             : do_drop(&o, t);
    sky_tile38_destroy(t);
    cli_geofence_free(&o.geo);
    cli_common_free(&o.common);
    return cli_parse_status(rc);
}
