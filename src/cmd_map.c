/* skyload map: serve the live map of what Tile38 holds until interrupted. */
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "map_query.h"
#include "map_server.h"
#include "parse.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char map_help[] =
    "usage: skyload map [--tile38 HOST:PORT] [--listen HOST:PORT] [--events-topic T]\n"
    "                   [-b BROKERS] [-X k=v] [--pg CONNINFO] [--schema NAME]\n\n"
    "Serves a live map of every aircraft Tile38 holds: a web page (Leaflet over\n"
    "Natural Earth's coastlines, all inside this binary: no tile server, nothing\n"
    "fetched from the internet) that asks Tile38 for the aircraft in view every\n"
    "second (WITHIN <collection> BOUNDS), draws them with their heading and an\n"
    "altitude colour, shows every geofence Tile38 holds (HOOKS * and CHANS *) and,\n"
    "with --events-topic, flashes the enter/exit events Tile38's hooks deliver to\n"
    "that Kafka topic. Pointing at an aircraft shows its id, altitude and speed,\n"
    "and with --pg its airline and route from the pipeline's flights table.\n"
    "Runs until Ctrl-C or SIGTERM.\n\n"
    "Options:\n"
    "      --listen HOST:PORT   address of the page (default 127.0.0.1:8080; port 0 picks\n"
    "                           a free one). Loopback by default: the page has no login,\n"
    "                           so listen elsewhere only on a network you trust\n"
    "      --events-topic NAME  Kafka topic of Tile38's geofence hooks (read from its end)\n"
    "      --collection NAME    Tile38 collection (default flights)\n"
    "      --schema NAME        schema of the flights table with --pg (default public)\n"
    "      --max-aircraft N     most aircraft in one answer (default 250000)\n"
    "\n" CLI_COMMON_HELP "\n"
    "  --pg is only used when given (no PostgreSQL: the label shows no airline/route).\n\n"
    "Exit status: 0 stopped by a signal, 2 usage error, 3 Tile38 unreachable or the\n"
    "port is taken.\n\n"
    "Examples:\n"
    "  skyload map --tile38 127.0.0.1:9851 --events-topic flights.events\n"
    "  skyload map --listen 127.0.0.1:0 --pg 'host=127.0.0.1 dbname=skyload' --schema skyload_run\n";

typedef struct map_opts {
    cli_common_t common;
    sky_map_config_t cfg;
} map_opts_t;

enum { OPT_LISTEN = OPT_FIRST_CMD, OPT_EVENTS, OPT_COLLECTION, OPT_SCHEMA, OPT_MAX };
static const struct option map_longopts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"events-topic", required_argument, NULL, OPT_EVENTS},
    {"collection", required_argument, NULL, OPT_COLLECTION},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"max-aircraft", required_argument, NULL, OPT_MAX},
    {NULL, 0, NULL, 0}};

static int map_opt(void *opts, int opt, const char *arg) {
    sky_map_config_t *c = &((map_opts_t *)opts)->cfg;
    char err[512];
    switch (opt) {
    case OPT_LISTEN: c->listen = arg; return 0;
    case OPT_EVENTS: c->events_topic = arg; return 0;
    case OPT_COLLECTION: c->collection = arg; return 0;
    case OPT_SCHEMA: c->schema = arg; return 0;
    case OPT_MAX:
        return sky_parse_i64(arg, 1, 10000000, &c->max_aircraft, "--max-aircraft", err, sizeof err)
                   ? cli_usage_error("map", "%s", err)
                   : 0;
    default: return cli_usage_error("map", "unknown option");
    }
}

static const cli_spec_t map_spec = {
    .cmd = "map", .help = map_help, .longopts = map_longopts, .own = map_opt};

int cmd_map(int argc, char **argv) {
    map_opts_t o;
    memset(&o, 0, sizeof o);
    cli_common_init(&o.common);
    int rc = cli_parse(&map_spec, &o.common, &o, argc, argv);
    if (rc != CLI_GO) {
        cli_common_free(&o.common);
        return cli_parse_status(rc);
    }
    o.cfg.tile38 = o.common.tile38;
    o.cfg.kafka = &o.common.kafka;
    o.cfg.pg_conninfo = o.common.pg_set ? o.common.pg : NULL;
    cli_install_signals();
    char err[1024];
    int code;
    sky_map_server_t *s = sky_map_server_start(&o.cfg, &code, err, sizeof err);
    if (!s) {
        cli_error("map", "%s", err);
        cli_common_free(&o.common);
        return sky_exit_status(code);
    }
    char host[64] = "127.0.0.1";
    int port;
    if (o.cfg.listen)
        sky_map_parse_listen(o.cfg.listen, host, sizeof host, &port, err, sizeof err);
    port = sky_map_server_port(s);
    if (o.common.json)
        printf("{\"url\":\"http://%s:%d/\",\"tile38\":\"%s\",\"events_topic\":%s%s%s}\n", host,
               port, o.common.tile38, o.cfg.events_topic ? "\"" : "",
               o.cfg.events_topic ? o.cfg.events_topic : "null", o.cfg.events_topic ? "\"" : "");
    else
        printf("skyload map: http://%s:%d/ (Tile38 %s%s%s; Ctrl-C stops)\n", host, port,
               o.common.tile38, o.cfg.events_topic ? ", events from " : "",
               o.cfg.events_topic ? o.cfg.events_topic : "");
    fflush(stdout);
    cli_status_t status;
    cli_status_init(&status);
    while (!cli_stop) {
        struct timespec ts = {0, 250000000L};
        nanosleep(&ts, NULL);
        sky_map_stats_t st;
        sky_map_server_get_stats(s, &st);
        cli_status_update(&status, false,
                          "map: %llu requests (%llu bad), %llu aircraft in the last view, "
                          "%llu Tile38 errors",
                          (unsigned long long)st.requests, (unsigned long long)st.bad_requests,
                          (unsigned long long)st.last_count, (unsigned long long)st.tile38_errors);
    }
    cli_status_clear(&status);
    sky_map_server_stop(s);
    cli_common_free(&o.common);
    return 0;
}
