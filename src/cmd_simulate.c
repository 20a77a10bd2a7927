/* skyload simulate: synthetic air traffic from a scenario (or flags) to Kafka,
 * a JSON Lines file, stdout or nowhere, paced, deterministic, with a manifest. */
#include "cli.h"
#include "cli_geofence.h"
#include "commands.h"
#include "dynbuf.h"
#include "error.h"
#include "parse.h"
#include "scenario.h"
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char simulate_help[] =
    "usage: skyload simulate [--scenario NAME|FILE] [options]\n\n"
    "Generates realistic synthetic flights (climb, cruise, descent, approach on the\n"
    "great circle) and publishes one FlightData per aircraft every cadence, keyed\n"
    "by flight_id, with the skyload-run/seq/intended headers. A landing flight is\n"
    "replaced by a new departure, so the airborne count follows the scenario's load.\n"
    "Same scenario + seed + --start-time = byte-identical records. Flags override\n"
    "the scenario (docs/scenarios.md). Exit status 3 when a record was not delivered.\n\n"
    "Options:\n"
    "  -s, --scenario NAME|FILE  scenarios/NAME.yaml or a YAML file\n"
    "  -n, --aircraft N          airborne aircraft (a constant load)\n"
    "  -d, --duration D          simulated time to cover (5s, 10m, 1h; 0 = until stopped)\n"
    "      --seed S              random seed (default 1)\n"
    "      --start-time T        simulated start, ISO 8601 or epoch (default: now)\n"
    "      --speedup K           simulated time runs K times faster than real time\n"
    "      --rate max|N          ignore time: as fast as possible, or N records/s\n"
    "      --cadence D           time between two reports of one aircraft (default 5s)\n"
    "      --shard I/N           emit only shard I of N (the union of all shards is the\n"
    "                            unsharded run)\n"
    "      --sink SINK           kafka (default), file:PATH or stdout (JSON Lines), null\n"
    "      --partitions N        partitions when creating the topic (default 6)\n"
    "      --no-create-topic     do not create the topic first\n"
    "      --manifest PATH       write the run manifest (docs/manifest.md) to PATH\n"
    "      --timestamp-format F  iso8601 (default), epoch or epoch-ms\n"
    "      --data-dir DIR        airports.csv, airlines.csv, aircraft_types.csv,\n"
    "                            performance.csv\n"
    "      --airspaces FILE      more airspaces (GeoJSON or YAML): the manifest lists the\n"
    "                            enter/exit events Tile38 will send (docs/geofence.md)\n"
    "      --events-topic T      their events topic (default TOPIC.events)\n"
    "\n" CLI_COMMON_HELP "\n"
    "--json prints a summary object on stdout at the end. SIGINT/SIGTERM stop the run\n"
    "cleanly: flush, write the manifest, exit 0.\n\n"
    "Examples:\n"
    "  skyload simulate --scenario smoke -t flights --manifest smoke.json\n"
    "  skyload simulate -n 1000 -d 60s --seed 7 --start-time 2026-11-25T10:00:00Z \\\n"
    "      --rate max --sink file:out.jsonl\n";

typedef struct simulate_opts {
    cli_common_t common;
    cli_geofence_t geo; /* --airspaces, --events-topic */
    const char *scenario;
    sky_sim_config_t cfg;
    const char *sink;
    bool create_topic_off;
    /* flag values that override the scenario; has_* says which were given */
    int64_t aircraft, duration_ms, cadence_ms, start_ms, partitions;
    uint64_t seed;
    double speedup, rate;
    bool has_aircraft, has_duration, has_cadence, has_start, has_partitions, has_seed,
        has_speedup, has_rate, has_ts_format;
} simulate_opts_t;

enum {
    OPT_SEED = OPT_FIRST_CMD,
    OPT_START,
    OPT_SPEEDUP,
    OPT_RATE,
    OPT_CADENCE,
    OPT_SHARD,
    OPT_SINK,
    OPT_PARTITIONS,
    OPT_NO_CREATE,
    OPT_MANIFEST,
    OPT_TS_FORMAT,
    OPT_DATA_DIR,
};

static int parse_rate(const char *arg, simulate_opts_t *o, char *err, size_t errsz) {
    o->has_rate = true;
    if (strcmp(arg, "max") == 0) {
        o->rate = -1;
        return 0;
    }
    return sky_parse_double(arg, 1, 1e9, &o->rate, "--rate", err, errsz);
}

static int parse_start(const char *arg, simulate_opts_t *o, char *err, size_t errsz) {
    o->has_start = true;
    return sky_ts_parse(arg, strlen(arg), &o->start_ms, err, errsz);
}

/* One command-specific option; returns 0 or a parse error (err filled). */
static int simulate_opt(simulate_opts_t *o, int opt, const char *arg, char *err, size_t errsz) {
    int64_t v;
    switch (opt) {
    case 's': o->scenario = arg; return 0;
    case 'n': o->has_aircraft = true;
        return sky_parse_i64(arg, 1, 100000000, &o->aircraft, "--aircraft", err, errsz);
    case 'd': o->has_duration = true;
        return sky_parse_duration_ms(arg, &o->duration_ms, "--duration", err, errsz);
    case OPT_SEED: o->has_seed = true;
        if (sky_parse_i64(arg, 0, INT64_MAX, &v, "--seed", err, errsz))
            return SKY_EUSAGE;
        o->seed = (uint64_t)v;
        return 0;
    case OPT_START: return parse_start(arg, o, err, errsz);
    case OPT_SPEEDUP: o->has_speedup = true;
        return sky_parse_double(arg, 0.001, 1e6, &o->speedup, "--speedup", err, errsz);
    case OPT_RATE: return parse_rate(arg, o, err, errsz);
    case OPT_CADENCE: o->has_cadence = true;
        if (sky_parse_duration_ms(arg, &o->cadence_ms, "--cadence", err, errsz))
            return SKY_EUSAGE;
        return o->cadence_ms >= 100 ? 0
                                    : sky_err(err, errsz, SKY_EUSAGE, "--cadence: at least 100ms");
    case OPT_SHARD: return sky_parse_shard(arg, &o->cfg.shard_index, &o->cfg.shard_count, err, errsz);
    case OPT_SINK: o->sink = arg;
        return sky_sink_parse(arg, &o->cfg.sink, &o->cfg.sink_path, err, errsz);
    case OPT_PARTITIONS: o->has_partitions = true;
        return sky_parse_i64(arg, 1, 10000, &o->partitions, "--partitions", err, errsz);
    case OPT_NO_CREATE: o->create_topic_off = true; return 0;
    case OPT_MANIFEST: o->cfg.manifest_path = arg; return 0;
    case OPT_TS_FORMAT: o->has_ts_format = true;
        return sky_ts_format_parse(arg, &o->cfg.ts_format, err, errsz);
    case OPT_DATA_DIR: o->cfg.data_dir = arg; return 0;
    default: return sky_err(err, errsz, SKY_EUSAGE, "unknown option");
    }
}

static const struct option simulate_longopts[] = {
    {"scenario", required_argument, NULL, 's'},
    {"aircraft", required_argument, NULL, 'n'},
    {"duration", required_argument, NULL, 'd'},
    {"seed", required_argument, NULL, OPT_SEED},
    {"start-time", required_argument, NULL, OPT_START},
    {"speedup", required_argument, NULL, OPT_SPEEDUP},
    {"rate", required_argument, NULL, OPT_RATE},
    {"cadence", required_argument, NULL, OPT_CADENCE},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"sink", required_argument, NULL, OPT_SINK},
    {"partitions", required_argument, NULL, OPT_PARTITIONS},
    {"no-create-topic", no_argument, NULL, OPT_NO_CREATE},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"timestamp-format", required_argument, NULL, OPT_TS_FORMAT},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {NULL, 0, NULL, 0}};

static int simulate_own(void *opts, int opt, const char *arg) {
    char err[512];
    return simulate_opt(opts, opt, arg, err, sizeof err) ? cli_usage_error("simulate", "%s", err)
                                                        : 0;
}

static int simulate_args(void *opts, int argc, char **argv) {
    const simulate_opts_t *o = opts;
    if (argc > 0)
        return cli_usage_error("simulate", "unexpected argument \"%s\"", argv[0]);
    if (o->common.json && o->cfg.sink == SKY_SINK_STDOUT)
        return cli_usage_error("simulate", "--json and --sink stdout both write to stdout");
    return 0;
}

static cli_geofence_t *simulate_geofence(void *opts) {
    return &((simulate_opts_t *)opts)->geo;
}

static const cli_spec_t simulate_spec = {
    .cmd = "simulate", .help = simulate_help, .shortopts = "s:n:d:",
    .longopts = simulate_longopts, .own = simulate_own, .args = simulate_args,
    .geofence = simulate_geofence};

/* Loads the scenario (or the defaults) and applies the flags on top. */
static int build_scenario(simulate_opts_t *o, sky_scenario_t **out, char *err, size_t errsz) {
    sky_scenario_t *s = NULL;
    char path[4096];
    int rc;
    if (o->scenario) {
        if ((rc = sky_scenario_find(o->scenario, path, sizeof path, err, errsz)) ||
            (rc = sky_scenario_load(path, &s, err, errsz)))
            return rc == SKY_EIO ? SKY_EUSAGE : rc;
    } else if (!(s = sky_scenario_new()) || !(s->name = strdup("flags"))) {
        sky_scenario_destroy(s);
        return sky_err(err, errsz, SKY_ENOMEM, "out of memory");
    }
    if (o->has_aircraft) {
        s->load.kind = SKY_PROFILE_CONSTANT;
        s->load.from = (uint64_t)o->aircraft;
    }
    if (o->has_duration)
        s->duration_ms = o->duration_ms;
    if (o->has_cadence)
        s->cadence_ms = o->cadence_ms;
    if (o->has_start) {
        s->has_start_time = true;
        s->start_time_ms = o->start_ms;
    }
    if (o->has_seed)
        s->seed = o->seed;
    if (o->has_speedup)
        s->speedup = o->speedup;
    if (o->has_rate)
        s->rate = o->rate;
    if (o->has_partitions)
        s->partitions = (int)o->partitions;
    *out = s;
    return 0;
}

static void show_progress(void *opaque, const sky_sim_progress_t *p) {
    cli_status_update(opaque, false,
                      "t+%llds  airborne %llu  %.0f msgs/s  sent %llu  lag %lld us  "
                      "delivery errors %llu",
                      (long long)(p->sim_offset_ms / 1000), (unsigned long long)p->airborne,
                      p->msgs_per_s, (unsigned long long)p->sent, (long long)p->lag_us,
                      (unsigned long long)p->failed);
}

static void print_summary(const simulate_opts_t *o, const sky_sim_result_t *r) {
    if (o->common.json) {
        sky_buf_t b;
        sky_buf_init(&b, 0);
        if (sky_sim_result_to_json(r, &b) == 0)
            printf("%s\n", b.data);
        sky_buf_free(&b);
        return;
    }
    fprintf(stderr,
            "skyload simulate: %s: %llu records (%llu delivered, %llu failed), %llu flights, "
            "%llu faults, %.1f s, %.0f msgs/s",
            r->run_id, (unsigned long long)r->produced, (unsigned long long)r->delivered,
            (unsigned long long)r->failed, (unsigned long long)r->flights,
            (unsigned long long)r->faults, r->elapsed_s, r->msgs_per_s);
    if (r->paced)
        fprintf(stderr, ", lag p50 %lld us p99 %lld us max %lld us", (long long)r->lag_p50_us,
                (long long)r->lag_p99_us, (long long)r->lag_max_us);
    fprintf(stderr, "%s\n", r->stopped ? " (stopped)" : "");
}

int cmd_simulate(int argc, char **argv) {
    simulate_opts_t o;
    memset(&o, 0, sizeof o);
    cli_common_init(&o.common);
    cli_geofence_init(&o.geo);
    o.cfg.shard_count = 1;
    int rc = cli_parse(&simulate_spec, &o.common, &o, argc, argv);
    if (rc != CLI_GO) {
        cli_geofence_free(&o.geo);
        cli_common_free(&o.common);
        return cli_parse_status(rc);
    }
    char err[1024];
    sky_scenario_t *sc = NULL;
    rc = build_scenario(&o, &sc, err, sizeof err);
    if (rc) {
        cli_geofence_free(&o.geo);
        return cli_finish("simulate", &o.common, rc, err, 0);
    }
    if (cli_geofence_add_to_scenario(&o.geo, sc, "simulate")) {
        sky_scenario_destroy(sc);
        cli_geofence_free(&o.geo);
        cli_common_free(&o.common);
        return 2;
    }
    o.cfg.events_topic = o.geo.events_topic;
    cli_status_t status;
    cli_status_init(&status);
    cli_install_signals();
    o.cfg.scenario = sc;
    o.cfg.kafka = &o.common.kafka;
    o.cfg.topic = o.common.topic_set ? o.common.topic : NULL;
    o.cfg.create_topic = !o.create_topic_off;
    o.cfg.progress = show_progress;
    o.cfg.progress_opaque = &status;
    if (!o.has_ts_format && sc->timestamp_format)
        sky_ts_format_parse(sc->timestamp_format, &o.cfg.ts_format, err, sizeof err);
    sky_sim_result_t res;
    rc = sky_sim_run(&o.cfg, &cli_stop, &res, err, sizeof err);
    cli_status_clear(&status);
    if (rc == 0 || res.produced)
        print_summary(&o, &res);
    sky_scenario_destroy(sc);
    cli_geofence_free(&o.geo);
    return cli_finish("simulate", &o.common, rc, err,
                      o.cfg.sink == SKY_SINK_KAFKA ? CLI_USES_KAFKA : 0);
}
