/* skyload ingest: run the pipeline behind the topic (Kafka -> Tile38 + PostgreSQL). */
#include "cli.h"
#include "cli_geofence.h"
#include "commands.h"
#include "error.h"
#include "ingest.h"
#include "parse.h"
#include "schema.h"
#include "timefmt.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ingest_help[] =
    "usage: skyload ingest [-t TOPIC] [-b BROKERS] [-g GROUP] [--tile38 HOST:PORT]\n"
    "                      [--pg CONNINFO] [--init-schema] [--schema NAME] [--pg-connections N]\n"
    "                      [--batch-rows N] [--batch-ms MS] [--ttl S] [--dlq-topic T]\n"
    "                      [--metrics HOST:PORT] [--stats PATH] [--no-tile38]\n"
    "                      [--storage auto|timescaledb|native] [--chunk-interval D]\n"
    "                      [--compress-after D] [--print-schema] [-X k=v]\n\n"
    "Consumes FlightData records as a member of a consumer group and stores them in\n"
    "Tile38 (latest position per flight, never moving backwards) and in PostgreSQL\n"
    "(every position exactly once), then commits the offsets. A pipeline: while the\n"
    "next batch is consumed and decoded, earlier ones are written by N lanes, each a\n"
    "PostgreSQL and a Tile38 connection with its share of the partitions (in order),\n"
    "both sinks at the same time; a partition's offsets are committed up to the last\n"
    "batch both sinks acknowledged. A batch closes as soon as its lane is free (small\n"
    "batches when idle), else at --batch-rows or --batch-ms (large ones under load).\n"
    "Records that do not decode or validate go to the dead-letter topic. While a\n"
    "server is down the partitions are paused and the batch retried. SIGTERM/SIGINT:\n"
    "store the batches in hand, commit, exit 0 (a second signal gives up on them);\n"
    "SIGUSR1: write --stats.\n\n"
    "Options:\n"
    "  -g, --group GROUP      consumer group (default skyload-ingest)\n"
    "      --init-schema      create the PostgreSQL schema first (idempotent)\n"
    "      --schema NAME      PostgreSQL schema (default public)\n"
    "      --retention-days N keep N days of positions (default 30, 0 = forever)\n"
    "      --storage S        auto (default): a TimescaleDB hypertable where TimescaleDB\n"
    "                         is installed and preloaded, else native daily partitions\n"
    "                         (one line says why); timescaledb: that or an error;\n"
    "                         native: partitions even with TimescaleDB\n"
    "      --chunk-interval D TimescaleDB chunk interval (default 1h, docs/ingest.md)\n"
    "      --compress-after D chunks older than D go to the columnstore (default 2h)\n"
    "      --print-schema     print the SQL --init-schema would run here, and exit\n"
    "      --pg-connections N PostgreSQL connections writing in parallel (default: one\n"
    "                         per usable CPU, 2 to 8)\n"
    "      --batch-rows N     most rows per batch (default 20000)\n"
    "      --batch-ms MS      longest a row waits for its batch to close, ms (default 200)\n"
    "      --ttl S            Tile38 object expiry in seconds (default 120, 0 = none)\n"
    "      --collection NAME  Tile38 collection (default flights)\n"
    "      --no-tile38        PostgreSQL only (no live map); same as --tile38 none\n"
    "      --dlq-topic T      dead-letter topic (default TOPIC.dlq)\n"
    "      --metrics H:P      serve Prometheus metrics on http://H:P/metrics\n"
    "      --stats PATH       write the ingest stats JSON on exit and on SIGUSR1\n"
    "Passwords: use PGPASSWORD, PGPASSFILE or ~/.pgpass, never --pg.\n"
    "\n" CLI_GEOFENCE_HELP "  (with --init-schema the airspaces are registered; on the relay\n"
    "  route ingest relays their channels to the events topic)\n"
    "\n" CLI_COMMON_HELP "\n"
    "Examples:\n"
    "  skyload ingest -t flights --init-schema --pg 'host=127.0.0.1 user=skyload dbname=skyload'\n"
    "  skyload ingest -t flights --metrics 127.0.0.1:9464 --stats ingest.json\n"
    "  skyload ingest --print-schema --storage native --schema history\n"
    "  skyload ingest -t flights --init-schema --airspaces scenarios/ci.yaml\n";

enum {
    OPT_INIT = OPT_FIRST_CMD, OPT_SCHEMA, OPT_BATCH_ROWS, OPT_BATCH_MS, OPT_TTL, OPT_DLQ,
    OPT_METRICS, OPT_STATS, OPT_RETENTION, OPT_COLLECTION, OPT_NO_TILE38, OPT_STORAGE,
    OPT_CHUNK_INTERVAL, OPT_COMPRESS_AFTER, OPT_PRINT_SCHEMA, OPT_PG_CONNECTIONS
};

typedef struct ingest_opts {
    cli_common_t common;
    sky_ingest_config_t cfg;
    sky_schema_opts_t schema_opts;
    bool print_schema;
    cli_geofence_t geo; /* --airspaces, --geofence-route, --events-topic */
} ingest_opts_t;

static volatile sig_atomic_t stats_requested;

static void on_usr1(int sig) {
    (void)sig;
    stats_requested = 1;
}

/* argv is visible to every user of the machine: refuse a password in it. */
static int check_no_password(const char *conninfo) {
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (!opts) {
        int rc = cli_usage_error("ingest", "--pg: %s", err ? err : "cannot parse");
        PQfreemem(err);
        return rc;
    }
    int rc = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
            rc = cli_usage_error("ingest", "--pg must not carry a password (it would show in ps); "
                                           "use PGPASSWORD, PGPASSFILE or ~/.pgpass");
    PQconninfoFree(opts);
    return rc;
}

static int parse_int_opt(const char *arg, int64_t min, int64_t max, int *out, const char *what) {
    char err[256];
    int64_t v;
    if (sky_parse_i64(arg, min, max, &v, what, err, sizeof err))
        return cli_usage_error("ingest", "%s", err);
    *out = (int)v;
    return 0;
}

static const struct option ingest_longopts[] = {
    {"group", required_argument, NULL, 'g'},
    {"init-schema", no_argument, NULL, OPT_INIT},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"batch-rows", required_argument, NULL, OPT_BATCH_ROWS},
    {"batch-ms", required_argument, NULL, OPT_BATCH_MS},
    {"ttl", required_argument, NULL, OPT_TTL},
    {"dlq-topic", required_argument, NULL, OPT_DLQ},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"stats", required_argument, NULL, OPT_STATS},
    {"retention-days", required_argument, NULL, OPT_RETENTION},
    {"collection", required_argument, NULL, OPT_COLLECTION},
    {"no-tile38", no_argument, NULL, OPT_NO_TILE38},
    {"storage", required_argument, NULL, OPT_STORAGE},
    {"chunk-interval", required_argument, NULL, OPT_CHUNK_INTERVAL},
    {"compress-after", required_argument, NULL, OPT_COMPRESS_AFTER},
    {"print-schema", no_argument, NULL, OPT_PRINT_SCHEMA},
    {"pg-connections", required_argument, NULL, OPT_PG_CONNECTIONS},
    {NULL, 0, NULL, 0}};

static int ingest_option(ingest_opts_t *o, int opt, const char *arg);

static int ingest_opt(void *opts, int opt, const char *arg) {
    ingest_opts_t *o = opts;
    sky_ingest_config_t *c = &o->cfg;
    switch (opt) {
    case 'g': c->group = arg; return 0;
    case OPT_INIT: c->init_schema = true; return 0;
    case OPT_SCHEMA: c->schema = arg; return 0;
    case OPT_BATCH_ROWS: return parse_int_opt(arg, 1, 1000000, &c->batch_rows, "--batch-rows");
    case OPT_BATCH_MS: return parse_int_opt(arg, 1, 600000, &c->batch_ms, "--batch-ms");
    case OPT_TTL: return parse_int_opt(arg, 0, 100000000, &c->ttl_s, "--ttl");
    case OPT_RETENTION:
        return parse_int_opt(arg, 0, 100000, &c->retention_days, "--retention-days");
    case OPT_PG_CONNECTIONS:
        return parse_int_opt(arg, 1, SKY_INGEST_MAX_PG_CONNECTIONS, &c->pg_connections,
                             "--pg-connections");
    default: return ingest_option(o, opt, arg);
    }
}

static cli_geofence_t *ingest_geofence(void *opts) {
    return &((ingest_opts_t *)opts)->geo;
}

static const cli_spec_t ingest_spec = {.cmd = "ingest", .help = ingest_help, .shortopts = "g:",
                                       .longopts = ingest_longopts, .own = ingest_opt,
                                       .geofence = ingest_geofence};

/* A duration option of the schema, within [min_ms, max_ms]. */
static int parse_schema_duration(const char *arg, const char *what, int64_t min_ms, int64_t max_ms,
                                 int64_t *out) {
    char err[256];
    if (sky_parse_duration_ms(arg, out, what, err, sizeof err))
        return cli_usage_error("ingest", "%s", err);
    if (*out < min_ms || *out > max_ms)
        return cli_usage_error("ingest", "%s %s: give 1m to 365d", what, arg);
    return 0;
}

static int schema_option(ingest_opts_t *o, int opt, const char *arg) {
    const int64_t minute = 60000, year = INT64_C(365) * 86400000;
    char err[256];
    switch (opt) {
    case OPT_STORAGE:
        return sky_storage_parse(arg, &o->schema_opts.storage, err, sizeof err)
                   ? cli_usage_error("ingest", "%s", err)
                   : 0;
    case OPT_CHUNK_INTERVAL:
        return parse_schema_duration(arg, "--chunk-interval", minute, year,
                                     &o->schema_opts.chunk_interval_ms);
    case OPT_COMPRESS_AFTER:
        return parse_schema_duration(arg, "--compress-after", minute, year,
                                     &o->schema_opts.compress_after_ms);
    case OPT_PRINT_SCHEMA: o->print_schema = true; return 0;
    default: return cli_usage_error("ingest", "unknown option");
    }
}

static int ingest_option(ingest_opts_t *o, int opt, const char *arg) {
    switch (opt) {
    case OPT_DLQ: o->cfg.dlq_topic = arg; return 0;
    case OPT_METRICS: o->cfg.metrics_addr = arg; return 0;
    case OPT_STATS: o->cfg.stats_path = arg; return 0;
    case OPT_COLLECTION: o->cfg.collection = arg; return 0;
    case OPT_NO_TILE38: o->cfg.disable_tile38 = true; return 0;
    default: return schema_option(o, opt, arg);
    }
}

/* Fills the config from the common options; 0 or an exit status. */
static int finish_config(ingest_opts_t *o, char *host, size_t hostsz) {
    char err[512];
    sky_ingest_config_t *c = &o->cfg;
    c->kafka = &o->common.kafka;
    c->topic = o->common.topic;
    c->pg_conninfo = o->common.pg;
    c->schema_opts = &o->schema_opts;
    if (strcmp(o->common.tile38, "none") == 0) /* as `skyload run --tile38 none` */
        c->disable_tile38 = true;
    if (!c->disable_tile38 && sky_parse_hostport(o->common.tile38, host, hostsz, &c->tile38_port,
                                                 "--tile38", err, sizeof err))
        return cli_usage_error("ingest", "%s", err);
    c->tile38_host = host;
    if (c->schema && sky_schema_check_name(c->schema, err, sizeof err))
        return cli_usage_error("ingest", "%s", err);
    if (o->geo.airspaces_path && !c->disable_tile38) { /* geofences: src/cli_geofence.h */
        int rc = cli_geofence_prepare(&o->geo, NULL, c->topic, o->common.kafka.brokers, NULL,
                                      "ingest");
        if (rc)
            return rc;
        o->geo.cfg.collection = c->collection;
        c->geofence = &o->geo.cfg;
    }
    return check_no_password(c->pg_conninfo);
}

/* --print-schema: what --init-schema would run on this server (read-only), or without
 * one for an explicit --storage. */
static int print_schema(ingest_opts_t *o) {
    char err[512];
    sky_schema_opts_t so = o->schema_opts;
    so.schema = o->cfg.schema && *o->cfg.schema ? o->cfg.schema : "public";
    so.retention_days = o->cfg.retention_days;
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "skyload-print-schema", o->cfg.pg_conninfo ? o->cfg.pg_conninfo : "",
                          NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        if (so.storage == SKY_STORAGE_AUTO) {
            cli_error("ingest", "--print-schema: PostgreSQL unreachable (%s); give --storage "
                                "timescaledb or native to print without a server",
                      PQerrorMessage(conn));
            PQfinish(conn);
            return 3;
        }
        PQfinish(conn);
        conn = NULL;
    }
    sky_buf_t out;
    sky_buf_init(&out, 0);
    int rc = sky_schema_print(conn, &so, sky_now_ns() / 1000000, &out, err, sizeof err);
    PQfinish(conn);
    if (rc)
        cli_error("ingest", "%s", err);
    else
        fwrite(out.data, 1, out.len, stdout);
    sky_buf_free(&out);
    return rc ? sky_exit_status(rc) : 0;
}

static void show_progress(void *opaque, const sky_ingest_snapshot_t *s) {
    cli_status_update(opaque, false,
                      "consumed %llu  pg %llu  tile38 %llu  stale %llu  dlq %llu  lag %lld  "
                      "pending %lld%s",
                      (unsigned long long)s->consumed, (unsigned long long)s->stored_pg,
                      (unsigned long long)s->stored_tile38, (unsigned long long)s->stale_dropped,
                      (unsigned long long)s->dlq, (long long)s->lag, (long long)s->pending,
                      s->paused ? "  PAUSED (sink down)" : "");
}

static int run_ingest(ingest_opts_t *o) {
    char err[512];
    int code;
    cli_status_t status;
    cli_status_init(&status);
    o->cfg.progress = show_progress;
    o->cfg.progress_opaque = &status;
    o->cfg.stats_request = &stats_requested;
    sky_ingest_t *in = sky_ingest_new(&o->cfg, &code, err, sizeof err);
    if (!in) {
        cli_error("ingest", "%s", err);
        return code;
    }
    int rc = sky_ingest_run(in, &cli_stop, err, sizeof err);
    cli_status_clear(&status);
    if (rc)
        cli_error("ingest", "%s", err);
    sky_ingest_snapshot_t s;
    sky_ingest_snapshot(in, &s);
    fprintf(stderr,
            "skyload ingest: consumed %llu, stored pg %llu (duplicates %llu), tile38 %llu "
            "(stale %llu), dlq %llu\n",
            (unsigned long long)s.consumed, (unsigned long long)s.stored_pg,
            (unsigned long long)s.duplicates_ignored, (unsigned long long)s.stored_tile38,
            (unsigned long long)s.stale_dropped, (unsigned long long)s.dlq);
    if (o->cfg.stats_path && sky_ingest_write_stats(in, o->cfg.stats_path, err, sizeof err)) {
        cli_error("ingest", "%s", err);
        rc = rc ? rc : SKY_EIO;
    }
    sky_ingest_destroy(in);
    return rc;
}

int cmd_ingest(int argc, char **argv) {
    ingest_opts_t o;
    memset(&o, 0, sizeof o);
    cli_common_init(&o.common);
    cli_geofence_init(&o.geo);
    sky_ingest_config_init(&o.cfg);
    sky_schema_opts_init(&o.schema_opts);
    char host[256];
    int rc = cli_parse(&ingest_spec, &o.common, &o, argc, argv);
    if (rc == CLI_GO)
        rc = finish_config(&o, host, sizeof host);
    if (rc != CLI_GO) {
        cli_geofence_free(&o.geo);
        cli_common_free(&o.common);
        return cli_parse_status(rc);
    }
    if (o.print_schema) {
        rc = print_schema(&o);
        cli_geofence_free(&o.geo);
        cli_common_free(&o.common);
        return rc;
    }
    cli_install_signals();
    signal(SIGUSR1, on_usr1);
    rc = run_ingest(&o);
    cli_geofence_free(&o.geo);
    if (sky_exit_status(rc) == 3)
        cli_explain_unreachable("ingest", &o.common,
                                CLI_USES_KAFKA | CLI_USES_PG |
                                    (o.cfg.disable_tile38 ? 0 : CLI_USES_TILE38));
    cli_common_free(&o.common);
    return sky_exit_status(rc);
}
