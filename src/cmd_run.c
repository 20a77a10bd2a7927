/* skyload run: one command for CI — ingest + simulate + drain + verify. */
#include "cli.h"
#include "cli_geofence.h"
#include "commands.h"
#include "error.h"
#include "loop.h"
#include "parse.h"

#include <stdio.h>
#include <string.h>

static const char run_help[] =
    "usage: skyload run SCENARIO [--report DIR] [--external-ingest] [--schema NAME]\n"
    "                   [--group G] [--drain-timeout D] [-b BROKERS] [-t TOPIC]\n"
    "                   [--tile38 HOST:PORT|none] [--pg CONNINFO] [-X k=v]\n\n"
    "Runs the whole loop on a real stack: starts ingest (topic -> Tile38 +\n"
    "PostgreSQL) in-process, simulates SCENARIO (a path or a name in scenarios/),\n"
    "waits until the consumer group's lag is 0, then verifies the run end to end.\n"
    "Writes DIR/{manifest.json, ingest-stats.json, verify.txt, verify.json,\n"
    "verify.xml, <stage>.hgrm}, prints the report, and exits with verify's status.\n\n"
    "Options:\n"
    "      --report DIR         report directory (default report/<scenario name>)\n"
    "      --external-ingest    the pipeline under test ingests; only watch its group\n"
    "                           (--group) drain, and verify without ingest stats;\n"
    "                           time starts now (rows of earlier runs stay apart)\n"
    "      --group G            ingest consumer group (default skyload-ingest)\n"
    "      --schema NAME        PostgreSQL schema of the run (default skyload_run); it is\n"
    "                           dropped and recreated at the start (not with\n"
    "                           --external-ingest)\n"
    "      --drain-timeout D    bound on waiting for lag 0 (default 120s)\n"
    "      --tile38 none        run without the Tile38 sink (and skip its checks)\n"
    "\n" CLI_GEOFENCE_HELP "\n" CLI_COMMON_HELP "\n"
    "Exit status: 0 every check passed, 1 a check or SLO failed (or the pipeline\n"
    "did not drain in time), 2 usage error, 3 a server could not be reached.\n\n"
    "Examples:\n"
    "  skyload run scenarios/ci.yaml --report report/ci\n"
    "  skyload run smoke --external-ingest --group my-pipeline -b kafka:9092\n";

typedef struct run_opts {
    cli_common_t common;
    cli_geofence_t geo; /* --airspaces, --geofence-route, --events-topic */
    const char *scenario;
    sky_loop_config_t cfg;
    char report_dir[512];
} run_opts_t;

enum { OPT_REPORT = OPT_FIRST_CMD, OPT_EXTERNAL, OPT_GROUP, OPT_SCHEMA, OPT_DRAIN };
static const struct option run_longopts[] = {{"report", required_argument, NULL, OPT_REPORT},
                                             {"external-ingest", no_argument, NULL, OPT_EXTERNAL},
                                             {"group", required_argument, NULL, OPT_GROUP},
                                             {"schema", required_argument, NULL, OPT_SCHEMA},
                                             {"drain-timeout", required_argument, NULL, OPT_DRAIN},
                                             {NULL, 0, NULL, 0}};

static int run_opt(void *opts, int opt, const char *arg) {
    run_opts_t *o = opts;
    char err[512];
    switch (opt) {
    case OPT_REPORT: o->cfg.report_dir = arg; return 0;
    case OPT_EXTERNAL: o->cfg.external_ingest = true; return 0;
    case OPT_GROUP: o->cfg.group = arg; return 0;
    case OPT_SCHEMA: o->cfg.schema = arg; return 0;
    case OPT_DRAIN:
        return sky_parse_duration_ms(arg, &o->cfg.drain_timeout_ms, "--drain-timeout", err,
                                     sizeof err)
                   ? cli_usage_error("run", "%s", err)
                   : 0;
    default: return cli_usage_error("run", "unknown option");
    }
}

static int run_args(void *opts, int argc, char **argv) {
    if (argc != 1)
        return cli_usage_error("run", argc ? "one SCENARIO only" : "no SCENARIO given");
    ((run_opts_t *)opts)->scenario = argv[0];
    return 0;
}

static cli_geofence_t *run_geofence(void *opts) {
    return &((run_opts_t *)opts)->geo;
}

static const cli_spec_t run_spec = {.cmd = "run", .help = run_help, .longopts = run_longopts,
                                    .own = run_opt, .args = run_args, .geofence = run_geofence};

static void on_status(void *opaque, const char *line) {
    cli_status_update(opaque, false, "%s", line);
}

static void print_summary(const sky_loop_result_t *res, const char *dir) {
    fprintf(stderr,
            "skyload run: %llu records from %llu flights (%llu delivered, %llu failed), "
            "drained in %.1f s%s; report in %s/\n",
            (unsigned long long)res->sim.produced, (unsigned long long)res->sim.flights,
            (unsigned long long)res->sim.delivered, (unsigned long long)res->sim.failed,
            res->drain_s, res->drained ? "" : " (NOT drained: timed out)", dir);
}

static int run_loop(run_opts_t *o, const sky_scenario_t *sc) {
    char err[1024];
    cli_status_t status;
    sky_loop_result_t res;
    cli_status_init(&status);
    o->cfg.scenario = sc;
    o->cfg.kafka = &o->common.kafka;
    o->cfg.topic = o->common.topic_set ? o->common.topic : NULL;
    o->cfg.tile38 = o->common.tile38;
    o->cfg.pg_conninfo = o->common.pg;
    o->cfg.status = on_status;
    o->cfg.status_opaque = &status;
    o->cfg.geofence_route = (int)o->geo.route;
    o->cfg.events_topic = o->geo.events_topic;
    if (!o->cfg.report_dir) {
        snprintf(o->report_dir, sizeof o->report_dir, "report/%s", sc->name ? sc->name : "run");
        o->cfg.report_dir = o->report_dir;
    }
    int rc = sky_loop_run(&o->cfg, &cli_stop, &res, err, sizeof err);
    cli_status_clear(&status);
    if (rc) {
        cli_error("run", "%s", err);
        sky_verify_report_destroy(res.report);
        return sky_exit_status(rc);
    }
    sky_verify_report_write(res.report, o->common.json ? SKY_VERIFY_FORMAT_JSON
                                                       : SKY_VERIFY_FORMAT_TEXT,
                            stdout);
    print_summary(&res, o->cfg.report_dir);
    bool passed = sky_verify_report_passed(res.report) && res.drained;
    sky_verify_report_destroy(res.report);
    return passed ? 0 : 1;
}

int cmd_run(int argc, char **argv) {
    run_opts_t o;
    memset(&o, 0, sizeof o);
    cli_common_init(&o.common);
    cli_geofence_init(&o.geo);
    int rc = cli_parse(&run_spec, &o.common, &o, argc, argv);
    if (rc != CLI_GO) {
        cli_geofence_free(&o.geo);
        cli_common_free(&o.common);
        return cli_parse_status(rc);
    }
    cli_install_signals();
    char path[1024], err[1024];
    sky_scenario_t *sc = NULL;
    rc = sky_scenario_find(o.scenario, path, sizeof path, err, sizeof err);
    if (!rc)
        rc = sky_scenario_load(path, &sc, err, sizeof err);
    if (rc) {
        cli_error("run", "%s", err);
        cli_geofence_free(&o.geo);
        cli_common_free(&o.common);
        return 2;
    }
    if (cli_geofence_add_to_scenario(&o.geo, sc, "run")) {
        sky_scenario_destroy(sc);
        cli_geofence_free(&o.geo);
        cli_common_free(&o.common);
        return 2;
    }
    if (o.cfg.external_ingest && sc->has_start_time) {
        /* The pipeline under test keeps earlier runs' rows: a fixed start time
         * would give this run the same (flight_id, time) keys as the last one. */
        sc->has_start_time = false;
        fprintf(stderr, "skyload run: --external-ingest: simulating from the current time, "
                        "not the scenario's start_time\n");
    }
    rc = run_loop(&o, sc);
    if (rc == 3)
        cli_explain_unreachable("run", &o.common,
                                CLI_USES_KAFKA | CLI_USES_PG | CLI_USES_TILE38);
    sky_scenario_destroy(sc);
    cli_geofence_free(&o.geo);
    cli_common_free(&o.common);
    return rc;
}
