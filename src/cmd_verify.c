/* skyload verify: check a run end to end against its manifest(s) and report. */
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "parse.h"
#include "report_html.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char verify_help[] =
    "usage: skyload verify --manifest M [--manifest M2 ...] [-b BROKERS] [-t TOPIC]\n"
    "                      [--pg CONNINFO] [--schema NAME] [--tile38 HOST:PORT|none]\n"
    "                      [--ingest-stats FILE] [--slo FILE] [--format text|json|junit]\n"
    "                      [--output F] [--hgrm-dir DIR] [--dlq-topic T] [--skip CHECK]\n"
    "                      [--threads N] [--html FILE]\n\n"
    "Checks a finished (or running) run against its manifest: every (flight, seq) in\n"
    "Kafka once, one partition per flight, per-flight order; every expected row in\n"
    "PostgreSQL exactly once; every airborne flight at its last position in Tile38\n"
    "with a TTL; injected malformed records in the dead-letter topic and nothing\n"
    "else; every expected geofence enter/exit event once, in order, on the events\n"
    "topic; latency per stage (from the intended time) against the SLO. Injected\n"
    "faults are judged by their expected outcome. Manifests of shards merge.\n\n"
    "Checks and the server each reads:\n"
    "  kafka        Kafka (-b): the topic\n"
    "  dlq          Kafka (-b): the dead-letter topic an ingest writes\n"
    "  pg           PostgreSQL (--pg): the rows an ingest stored (--schema)\n"
    "  tile38       Tile38 (--tile38): the positions an ingest stored\n"
    "A topic nothing ingests (a plain simulate or replay): --skip pg,tile38,dlq.\n\n"
    "Options:\n"
    "      --manifest PATH     run manifest (repeat for shards)\n"
    "      --schema NAME       PostgreSQL schema of flight_positions (default public)\n"
    "      --tile38-collection NAME  Tile38 collection (default flights)\n"
    "      --ingest-stats FILE 'skyload ingest --stats' output: consumed, tile38 and\n"
    "                          pg_commit latency stages\n"
    "      --slo FILE          SLO thresholds, YAML or JSON {\"latency_ms\": {\"pg_commit\":\n"
    "                          {\"p99\": 2000}}}; default: the manifest's \"slo\"\n"
    "      --format FMT        text (default), json or junit (one testcase per check)\n"
    "  -o, --output FILE       write the report to FILE instead of stdout\n"
    "      --hgrm-dir DIR      write DIR/<stage>.hgrm percentile files (milliseconds)\n"
    "      --html FILE         write the report page (checks, latency curves, a map of\n"
    "                          sampled tracks; one self-contained file); default:\n"
    "                          report.html beside --output, none without it\n"
    "      --dlq-topic NAME    dead-letter topic (default <topic>.dlq)\n"
    "      --skip CHECK        kafka, pg, tile38, dlq or geofence (repeat, or comma-separated);\n"
    "                          --tile38 none is --skip tile38\n"
    "      --events-topic T    geofence events (default: the manifest's, TOPIC.events)\n"
    "      --timeout DURATION  server round trip / Kafka idle bound (default 30s)\n"
    "      --threads N         threads reading the topic, each a share of the partitions\n"
    "                          (default: one per usable CPU, at most one per partition)\n"
    "\n" CLI_COMMON_HELP "\n"
    "Exit status: 0 every check passed, 1 a check or SLO failed, 2 usage error,\n"
    "3 a server could not be reached.\n\n"
    "Examples:\n"
    "  skyload verify --manifest run.json --pg 'host=127.0.0.1 dbname=skyload'\n"
    "  skyload verify --manifest replay.json --skip pg,tile38,dlq   # nothing ingests it\n"
    "  skyload verify --manifest s0.json --manifest s1.json --skip tile38 \\\n"
    "      --format junit -o verify.xml --hgrm-dir latency/\n";

typedef struct verify_opts {
    cli_common_t common;
    const char **manifests;
    size_t nmanifests;
    sky_verify_config_t cfg;
    sky_verify_format_t format;
    bool format_set;
    const char *output;
    const char *hgrm_dir;
    const char *html;
    char html_default[4096];
} verify_opts_t;

static int add_manifest(verify_opts_t *o, const char *path) {
    const char **n = realloc(o->manifests, (o->nmanifests + 1) * sizeof *n);
    if (!n)
        return cli_usage_error("verify", "out of memory");
    o->manifests = n;
    n[o->nmanifests++] = path;
    return 0;
}

static int parse_skip(verify_opts_t *o, const char *arg) {
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"kafka", SKY_VERIFY_KAFKA},
                 {"pg", SKY_VERIFY_PG},
                 {"postgresql", SKY_VERIFY_PG},
                 {"tile38", SKY_VERIFY_TILE38},
                 {"dlq", SKY_VERIFY_DLQ},
                 {"geofence", SKY_VERIFY_GEOFENCE}};
    const char *p = arg;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == len && strncmp(p, names[i].name, len) == 0) {
                o->cfg.checks &= ~names[i].bit;
                found = 1;
            }
        if (!found)
            return cli_usage_error(
                "verify", "--skip \"%s\": expected kafka, pg, tile38, dlq or geofence", arg);
        p += len + (p[len] == ',');
    }
    return 0;
}

enum {
    OPT_MANIFEST = OPT_FIRST_CMD,
    OPT_SCHEMA,
    OPT_COLLECTION,
    OPT_INGEST_STATS,
    OPT_SLO,
    OPT_FORMAT,
    OPT_HGRM_DIR,
    OPT_DLQ_TOPIC,
    OPT_SKIP,
    OPT_TIMEOUT,
    OPT_THREADS,
    OPT_HTML,
    OPT_EVENTS_TOPIC,
};

static int handle_opt(void *opts, int opt, const char *arg) {
    verify_opts_t *o = opts;
    char err[512];
    int64_t ms;
    switch (opt) {
    case OPT_MANIFEST: return add_manifest(o, arg);
    case OPT_SCHEMA: o->cfg.schema = arg; return 0;
    case OPT_COLLECTION: o->cfg.tile38_collection = arg; return 0;
    case OPT_INGEST_STATS: o->cfg.ingest_stats_path = arg; return 0;
    case OPT_SLO: o->cfg.slo_path = arg; return 0;
    case OPT_FORMAT:
        o->format_set = true;
        if (sky_verify_format_parse(arg, &o->format, err, sizeof err))
            return cli_usage_error("verify", "%s", err);
        return 0;
    case 'o': o->output = arg; return 0;
    case OPT_HGRM_DIR: o->hgrm_dir = arg; return 0;
    case OPT_HTML: o->html = arg; return 0;
    case OPT_DLQ_TOPIC: o->cfg.dlq_topic = arg; return 0;
    case OPT_EVENTS_TOPIC: o->cfg.events_topic = arg; return 0;
    case OPT_SKIP: return parse_skip(o, arg);
    case OPT_TIMEOUT:
        if (sky_parse_duration_ms(arg, &ms, "--timeout", err, sizeof err) || ms <= 0 ||
            ms > INT32_MAX)
            return cli_usage_error("verify", "--timeout \"%s\": expected a positive duration",
                                   arg);
        o->cfg.timeout_ms = (int)ms;
        return 0;
    case OPT_THREADS:
        if (sky_parse_i64(arg, 1, SKY_VERIFY_MAX_THREADS, &ms, "--threads", err, sizeof err))
            return cli_usage_error("verify", "%s", err);
        o->cfg.threads = (int)ms;
        return 0;
    default: return cli_usage_error("verify", "unknown option");
    }
}

static const struct option verify_longopts[] = {
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"tile38-collection", required_argument, NULL, OPT_COLLECTION},
    {"ingest-stats", required_argument, NULL, OPT_INGEST_STATS},
    {"slo", required_argument, NULL, OPT_SLO},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"output", required_argument, NULL, 'o'},
    {"hgrm-dir", required_argument, NULL, OPT_HGRM_DIR},
    {"dlq-topic", required_argument, NULL, OPT_DLQ_TOPIC},
    {"skip", required_argument, NULL, OPT_SKIP},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"html", required_argument, NULL, OPT_HTML},
    {"events-topic", required_argument, NULL, OPT_EVENTS_TOPIC},
    {NULL, 0, NULL, 0}};

/* What the options mean together, once all are read. */
static int check_args(void *opts, int argc, char **argv) {
    verify_opts_t *o = opts;
    if (argc > 0)
        return cli_usage_error("verify", "unexpected argument \"%s\"", argv[0]);
    if (cli_tile38_none(&o->common)) /* one spelling for "no Tile38" in every command */
        o->cfg.checks &= ~(unsigned)SKY_VERIFY_TILE38;
    char host[256], err[300];
    int port;
    if ((o->cfg.checks & SKY_VERIFY_TILE38) &&
        sky_parse_hostport(o->common.tile38, host, sizeof host, &port, "--tile38", err,
                           sizeof err))
        return cli_usage_error("verify", "%s (or none)", err);
    if (!o->nmanifests)
        return cli_usage_error("verify", "--manifest PATH is required");
    if (!o->cfg.checks)
        return cli_usage_error("verify", "every check is skipped: nothing to verify");
    if (o->common.json && !o->format_set)
        o->format = SKY_VERIFY_FORMAT_JSON;
    if (!o->html && o->output) { /* report.html beside the report file */
        const char *slash = strrchr(o->output, '/');
        int dir = slash ? (int)(slash - o->output + 1) : 0;
        if (snprintf(o->html_default, sizeof o->html_default, "%.*sreport.html", dir, o->output) <
            (int)sizeof o->html_default)
            o->html = o->html_default;
    }
    return 0;
}

/* Before reading anything: every server a selected check needs must answer, or the
 * run stops here naming it, its checks and the --skip that leaves them out. */
static int servers_answer(const verify_opts_t *o) {
    unsigned checks = o->cfg.checks, uses = 0;
    if (checks & (SKY_VERIFY_KAFKA | SKY_VERIFY_DLQ))
        uses |= CLI_USES_KAFKA;
    if (checks & SKY_VERIFY_PG)
        uses |= CLI_USES_PG;
    if (checks & SKY_VERIFY_TILE38)
        uses |= CLI_USES_TILE38;
    if (!cli_explain_unreachable("verify", &o->common, uses))
        return 0;
    cli_error("verify", "kafka and dlq read Kafka, pg PostgreSQL, tile38 Tile38; pg, tile38 and "
                        "dlq see what an ingest made of the topic. To verify without a server, "
                        "leave its checks out (--skip pg, --skip tile38 or --tile38 none, "
                        "--skip kafka,dlq); a topic nothing ingests: --skip pg,tile38,dlq");
    return 3;
}

/* 'topic "NAME" does not exist' (the manifest's topic, or -t): which topics there are. */
static void explain_missing_topic(const verify_opts_t *o, const char *err) {
    const char *p = strstr(err, "topic \""), *end = p ? strchr(p + 7, '"') : NULL;
    char name[256];
    if (!end || !strstr(end, "does not exist") || (size_t)(end - p - 7) >= sizeof name)
        return;
    memcpy(name, p + 7, (size_t)(end - p - 7));
    name[end - p - 7] = '\0';
    cli_explain_missing_topic("verify", &o->common, name);
}

static void fill_config(verify_opts_t *o) {
    o->cfg.manifest_paths = o->manifests;
    o->cfg.nmanifests = o->nmanifests;
    o->cfg.kafka = &o->common.kafka;
    o->cfg.topic = o->common.topic;
    o->cfg.pg_conninfo = o->common.pg;
    o->cfg.tile38 = o->common.tile38;
    o->cfg.stop = &cli_stop;
}

static int write_outputs(const verify_opts_t *o, const sky_verify_report_t *r) {
    char err[512];
    FILE *out = o->output ? fopen(o->output, "w") : stdout;
    if (!out) {
        cli_error("verify", "%s: cannot open for writing", o->output);
        return 2;
    }
    int rc = sky_verify_report_write(r, o->format, out);
    if (o->output && fclose(out))
        rc = SKY_EIO;
    if (rc) {
        cli_error("verify", "cannot write the report: %s", sky_strerror(rc));
        return 3;
    }
    if (o->hgrm_dir && sky_verify_report_write_hgrm(r, o->hgrm_dir, err, sizeof err)) {
        cli_error("verify", "%s", err);
        return 3;
    }
    if (o->html && sky_verify_write_report_page(r, &o->common.kafka, o->common.topic,
                                                o->manifests, o->nmanifests, o->html, err,
                                                sizeof err)) {
        cli_error("verify", "%s", err);
        return 3;
    }
    return sky_verify_report_passed(r) ? 0 : 1;
}

static const cli_spec_t verify_spec = {
    .cmd = "verify", .help = verify_help, .shortopts = "o:", .longopts = verify_longopts,
    .own = handle_opt, .args = check_args};

int cmd_verify(int argc, char **argv) {
    verify_opts_t o;
    memset(&o, 0, sizeof o);
    cli_common_init(&o.common);
    o.common.topic = NULL; /* the manifest's topic unless -t says otherwise */
    o.cfg.checks = SKY_VERIFY_ALL;
    int rc = cli_parse(&verify_spec, &o.common, &o, argc, argv);
    if (!rc)
        rc = servers_answer(&o);
    if (!rc) {
        cli_install_signals();
        fill_config(&o);
        char err[1024];
        sky_verify_report_t *r = NULL;
        int vrc = sky_verify_run(&o.cfg, &r, err, sizeof err);
        if (vrc) {
            cli_error("verify", "%s", err);
            rc = sky_exit_status(vrc);
            explain_missing_topic(&o, err);
        } else {
            rc = write_outputs(&o, r);
        }
        sky_verify_report_destroy(r);
    }
    free(o.manifests);
    cli_common_free(&o.common);
    return cli_parse_status(rc);
}
