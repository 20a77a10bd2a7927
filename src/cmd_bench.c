/* skyload bench: `capacity` (the loop at stepped load to the SLO knee) and
 * `peers` (skyload's producer beside the standard tools, same workload). */
#include "capacity.h"
#include "capacity_report.h"
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "kafka_admin.h"
#include "parse.h"
#include "peers.h"
#include "scenario.h"
#include "timefmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The three skyload headers, with values as long as a run's (run id 35 characters,
 * a 3-digit seq, an ns timestamp): librdkafka peers that can send headers get the
 * same ones, since building them is part of every skyload record's cost. */
static const char *const peer_headers[] = {
    "-H", "skyload-run=r-20261125T100000Z-1-0-19ab5fc3d40", "-H", "skyload-seq=123", "-H",
    "skyload-intended=1795600800065778000", NULL};
#define PEER_HEADER_BYTES (11 + 35 + 11 + 3 + 16 + 19) /* names + values */

static const char bench_help[] =
    "usage: skyload bench capacity [--scenario F] [--report DIR] [--start N] [--factor X]\n"
    "                              [--warmup D] [--hold D] [--max-steps N] [--budget D]\n"
    "       skyload bench peers [--report DIR] [--count N] [--size BYTES] [--runs N]\n\n"
    "capacity: runs the whole loop (simulate -> Kafka -> ingest -> PostgreSQL [+ Tile38],\n"
    "verified as `skyload run` verifies) in real time at stepped load: each step is\n"
    "N aircraft for warm-up + hold, with its own topic, group and schema; N grows by\n"
    "the factor until a step breaks the scenario's SLO (slo.latency_ms kafka_ack.p99,\n"
    "pg_commit.p50/p99, judged on the hold window), its backlog grows without bound,\n"
    "does not drain, or fails verify. Latency is from the intended emit time. Prints\n"
    "the step table and the knee (the highest load that held); writes DIR/capacity.json,\n"
    "DIR/capacity.dat, DIR/capacity.txt, DIR/step-NN/ and, with gnuplot, DIR/capacity.png\n"
    "and DIR/capacity.svg. CPU and RSS rows: skyload (simulate and ingest share this\n"
    "process), the Kafka broker, PostgreSQL (postmaster and its backends).\n\n"
    "peers: on the same stack, the same record count and size, acks=all (idempotence),\n"
    "linger.ms=5 and 10,000-message batches, records spread one by one over the partitions\n"
    "(the peers' keyless records without sticky partitioning, as skyload's keyed records\n"
    "are), runs skyload simulate, rdkafka_performance,\n"
    "Kafka's ProducerPerformance and EndToEndLatency, kcat -P, tile38-benchmark and a raw\n"
    "PostgreSQL COPY: one warm-up run then --runs timed runs each (fork/exec, wall clock\n"
    "and rusage), and prints median/min/max and the ratio to skyload. DIR/peers.json.\n\n"
    "capacity options:\n"
    "  -s, --scenario F       scenario path or name (default capacity-ramp)\n"
    "      --start N          first step's aircraft (default: the scenario's)\n"
    "      --factor X         aircraft multiplier per step (default 1.5)\n"
    "      --warmup D         per step, excluded from the figures (default 10s)\n"
    "      --hold D           per step, measured (default 30s)\n"
    "      --max-steps N      (default 20)\n"
    "      --budget D         no step starts after D (default 9m)\n"
    "      --plot FILE        gnuplot script (default <source>/bench/plot.gp)\n"
    "      --stack-dir DIR    where the stack's pid files are (default <source>/.stack)\n"
    "peers options:\n"
    "  -n, --count N          records per producer run (default 500000)\n"
    "      --size BYTES       bytes per record (default 220: skyload's key + value +\n"
    "                         headers; peers send that many value bytes, no key)\n"
    "      --runs N           timed runs per tool (default 3)\n"
    "      --tools-dir DIR    where rdkafka_performance is (default <source>/bench/tools)\n"
    "      --stack-dir DIR    the stack (Kafka jars in DIR/kafka/libs)\n"
    "both:\n"
    "      --report DIR       output directory (default report/bench)\n"
    "\n" CLI_COMMON_HELP "\n"
    "Exit status: 0 done (capacity: a knee was found), 1 capacity: no step held the SLO,\n"
    "2 usage error, 3 a server could not be reached.\n\n"
    "Examples:\n"
    "  skyload bench capacity --scenario capacity-ramp --tile38 none --report bench/out\n"
    "  skyload bench peers --count 200000 --report bench/out\n";

typedef struct bench_opts {
    cli_common_t common;
    bool tile38_set;
    const char *what;
    const char *scenario, *report, *plot, *stack_dir, *tools_dir;
    int64_t start, max_steps, warmup_ms, hold_ms, budget_ms;
    double factor;
    int64_t count, size, runs;
} bench_opts_t;

static void bench_defaults(bench_opts_t *o) {
    cli_common_init(&o->common);
    o->scenario = "capacity-ramp";
    o->report = "report/bench";
    o->plot = SKY_SOURCE_DIR "/bench/plot.gp";
    o->stack_dir = SKY_SOURCE_DIR "/.stack";
    o->tools_dir = SKY_SOURCE_DIR "/bench/tools";
    o->factor = 1.5;
    o->max_steps = 20;
    o->warmup_ms = 10000;
    o->hold_ms = 30000;
    o->budget_ms = 540000;
    o->count = 500000;
    o->size = 220;
    o->runs = 3;
}

enum {
    OPT_SCENARIO = 's',
    OPT_REPORT = OPT_FIRST_CMD,
    OPT_START,
    OPT_FACTOR,
    OPT_WARMUP,
    OPT_HOLD,
    OPT_MAX_STEPS,
    OPT_BUDGET,
    OPT_PLOT,
    OPT_STACK_DIR,
    OPT_SIZE,
    OPT_RUNS,
    OPT_TOOLS_DIR,
};

static int bench_opt(bench_opts_t *o, int opt, const char *arg) {
    char err[512];
    int rc = 0;
    switch (opt) {
    case OPT_SCENARIO: o->scenario = arg; break;
    case OPT_REPORT: o->report = arg; break;
    case OPT_PLOT: o->plot = arg; break;
    case OPT_STACK_DIR: o->stack_dir = arg; break;
    case OPT_TOOLS_DIR: o->tools_dir = arg; break;
    case OPT_START: rc = sky_parse_i64(arg, 1, 100000000, &o->start, "--start", err, sizeof err); break;
    case OPT_FACTOR: rc = sky_parse_double(arg, 1.01, 100, &o->factor, "--factor", err, sizeof err); break;
    case OPT_WARMUP: rc = sky_parse_duration_ms(arg, &o->warmup_ms, "--warmup", err, sizeof err); break;
    case OPT_HOLD: rc = sky_parse_duration_ms(arg, &o->hold_ms, "--hold", err, sizeof err); break;
    case OPT_BUDGET: rc = sky_parse_duration_ms(arg, &o->budget_ms, "--budget", err, sizeof err); break;
    case OPT_MAX_STEPS: rc = sky_parse_i64(arg, 1, 100, &o->max_steps, "--max-steps", err, sizeof err); break;
    case 'n': rc = sky_parse_i64(arg, 1000, 100000000, &o->count, "--count", err, sizeof err); break;
    case OPT_SIZE:
        rc = sky_parse_i64(arg, PEER_HEADER_BYTES + 16, 1000000, &o->size, "--size", err,
                           sizeof err);
        break;
    case OPT_RUNS: rc = sky_parse_i64(arg, 1, 20, &o->runs, "--runs", err, sizeof err); break;
    default: return cli_usage_error("bench", "unknown option");
    }
    if (!rc && o->hold_ms <= 0)
        rc = sky_err(err, sizeof err, SKY_EUSAGE, "--hold must be more than 0");
    return rc ? cli_usage_error("bench", "%s", err) : 0;
}

static int parse_bench_args(int argc, char **argv, bench_opts_t *o) {
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"scenario", required_argument, NULL, OPT_SCENARIO},
        {"report", required_argument, NULL, OPT_REPORT},
        {"start", required_argument, NULL, OPT_START},
        {"factor", required_argument, NULL, OPT_FACTOR},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"hold", required_argument, NULL, OPT_HOLD},
        {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
        {"budget", required_argument, NULL, OPT_BUDGET},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"stack-dir", required_argument, NULL, OPT_STACK_DIR},
        {"tools-dir", required_argument, NULL, OPT_TOOLS_DIR},
        {"count", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, OPT_SIZE},
        {"runs", required_argument, NULL, OPT_RUNS},
        {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "s:n:", longopts, NULL)) != -1) {
        int rc = cli_common_opt(&o->common, opt, optarg);
        if (rc == 1) {
            o->tile38_set |= opt == OPT_TILE38;
            continue;
        }
        if (rc < 0)
            return rc == -2 ? -2 : 2;
        if (opt == 'h') {
            fputs(bench_help, stdout);
            return -2;
        }
        if ((rc = bench_opt(o, opt, optarg)))
            return rc;
    }
    if (optind != argc - 1)
        return cli_usage_error("bench", optind < argc ? "one of capacity or peers only"
                                                      : "capacity or peers?");
    o->what = argv[optind];
    if (strcmp(o->what, "capacity") && strcmp(o->what, "peers"))
        return cli_usage_error("bench", "unknown benchmark \"%s\" (capacity or peers)", o->what);
    return 0;
}

static int make_dir(const char *dir) {
    if (mkdir(dir, 0777) && errno != EEXIST) {
        cli_error("bench", "%s: %s", dir, strerror(errno));
        return 3;
    }
    return 0;
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t pathsz) {
    if ((size_t)snprintf(path, pathsz, "%s/%s", dir, name) >= pathsz)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f)
        cli_error("bench", "%s: %s", path, strerror(errno));
    return f;
}

/* ---- capacity ------------------------------------------------------------ */

static void on_step(void *opaque, size_t index, const sky_ramp_step_t *step) {
    cli_status_t *st = opaque;
    cli_status_clear(st);
    if (index == 0)
        sky_capacity_print_header(stdout);
    sky_capacity_print_step(stdout, index, step);
    fflush(stdout);
}

static void on_status(void *opaque, const char *line) {
    cli_status_update(opaque, false, "%s", line);
}

static int bench_capacity(bench_opts_t *o) {
    char path[1024], err[1024], prefix[64], kpid[1024], pgpid[1024], tpid[1024];
    if (sky_scenario_find(o->scenario, path, sizeof path, err, sizeof err)) {
        cli_error("bench", "%s", err);
        return 2;
    }
    snprintf(prefix, sizeof prefix, "bench_cap_%ld_%d", (long)time(NULL), (int)getpid());
    snprintf(kpid, sizeof kpid, "%s/kafka/pid", o->stack_dir);
    snprintf(pgpid, sizeof pgpid, "%s/pg/data/postmaster.pid", o->stack_dir);
    snprintf(tpid, sizeof tpid, "%s/tile38/pid", o->stack_dir);
    cli_status_t status;
    cli_status_init(&status);
    sky_capacity_config_t cfg = {
        .scenario_path = path, .kafka = &o->common.kafka, .pg_conninfo = o->common.pg,
        .tile38 = o->common.tile38, .report_dir = o->report, .name_prefix = prefix,
        .start_aircraft = (uint64_t)o->start, .factor = o->factor, .max_steps = (int)o->max_steps,
        .warmup_ms = o->warmup_ms, .hold_ms = o->hold_ms, .budget_ms = o->budget_ms,
        .kafka_pidfile = access(kpid, R_OK) == 0 ? kpid : NULL,
        .pg_pidfile = access(pgpid, R_OK) == 0 ? pgpid : NULL,
        .tile38_pidfile = access(tpid, R_OK) == 0 && !(o->common.tile38 &&
                                                       strcmp(o->common.tile38, "none") == 0)
                              ? tpid
                              : NULL,
        .on_step = on_step, .status = on_status, .opaque = &status};
    sky_capacity_result_t res;
    int rc = sky_capacity_run(&cfg, &cli_stop, &res, err, sizeof err);
    cli_status_clear(&status);
    if (rc) {
        cli_error("bench", "%s", err);
        return sky_exit_status(rc);
    }
    sky_capacity_print_knee(stdout, &res);
    err[0] = '\0';
    rc = sky_capacity_write_report(o->report, &res, path, o->plot, err, sizeof err);
    if (err[0])
        cli_error("bench", "%s", err);
    rc = rc ? 3 : 0;
    int knee = res.knee;
    sky_capacity_result_free(&res);
    return rc ? rc : knee >= 0 ? 0 : 1;
}

/* ---- peers --------------------------------------------------------------- */

/* Every peer produces the same workload: count records of size bytes (skyload:
 * key + value + headers; peers: that many value bytes and no key, so that
 * murmur2_random / the Java default spread them over the 6 partitions as
 * skyload's many keys do), acks=all via idempotence, linger 5 ms, 10,000-record
 * (1 MB) batches. */
typedef enum peer_kind {
    PEER_SKYLOAD = 0,
    PEER_RDKAFKA_PERF,
    PEER_PRODUCER_PERF,
    PEER_KCAT,
    PEER_E2E_LATENCY,
    PEER_TILE38,
    PEER_COPY,
    NPEERS
} peer_kind_t;

static const char *const peer_names[NPEERS] = {
    "skyload simulate", "rdkafka_performance", "ProducerPerformance", "kcat -P",
    "EndToEndLatency",  "tile38-benchmark",    "PostgreSQL COPY"};

#define E2E_COUNT 5000
#define MAX_RUNS 20

typedef struct peer_result {
    char skipped[160]; /* non-empty: why the peer did not run */
    int nruns;
    double rate[MAX_RUNS], wall[MAX_RUNS], cpu[MAX_RUNS], self_rate[MAX_RUNS];
    double p50[MAX_RUNS], p99[MAX_RUNS], p999[MAX_RUNS];
    int64_t rss_kib;
    int64_t units; /* records (rows) per run */
} peer_result_t;

typedef struct peers_ctx {
    bench_opts_t *o;
    char self[1024], java_cp[1100], log4j[1100], rdperf[1100];
    char kcat_in[1100], copy_csv[1100], schema[64], conninfo_opt[1200];
    const char *brokers;
    char topic[128];
    int64_t sky_aircraft, sky_duration_s;
} peers_ctx_t;

static int write_kcat_input(const char *path, int64_t count, int64_t size) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    char *line = malloc((size_t)size + 1);
    if (!line) {
        fclose(f);
        return -1;
    }
    for (int64_t i = 0; i < size; i++)
        line[i] = (char)('a' + i % 26);
    line[size] = '\n';
    for (int64_t i = 0; i < count; i++)
        fwrite(line, 1, (size_t)size + 1, f);
    free(line);
    return fclose(f);
}

/* Rows shaped like ingest's flight_positions rows: 100 positions per flight, 5 s apart. */
static int write_copy_csv(const char *path, int64_t count) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int64_t i = 0; i < count; i++) {
        int64_t flight = i / 100, seq = i % 100;
        char ts[SKY_TS_MAX];
        ts[sky_ts_format((1795600800 + seq * 5) * 1000, SKY_TS_ISO8601, ts)] = '\0';
        fprintf(f, "%s,BAW%lld-%06llx,%lld,SRID=4326;POINT(%.5f %.5f),%d,%d,%s\n", ts,
                (long long)(flight % 9000), (unsigned long long)flight, (long long)seq,
                -10.0 + (double)(flight % 2000) * 0.01, 40.0 + (double)seq * 0.01, 35000, 450,
                ts);
    }
    return fclose(f);
}

static int psql(peers_ctx_t *c, const char *sql, const char *out, sky_exec_result_t *r) {
    char err[256];
    /* Not -q: the COPY run is timed from psql's "COPY N" tag. */
    const char *argv[] = {"psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", c->conninfo_opt,
                          "-c", sql, NULL};
    if (!c->conninfo_opt[0])
        argv[4] = "-w", argv[5] = "-w"; /* libpq defaults and PG* variables */
    if (sky_bench_exec(argv, NULL, out, 600000, r, err, sizeof err))
        return -1;
    return r->status;
}

static int copy_setup(peers_ctx_t *c, bool create) {
    char sql[1024];
    sky_exec_result_t r;
    if (create)
        snprintf(sql, sizeof sql,
                 "SET client_min_messages = warning; CREATE SCHEMA %s; CREATE TABLE "
                 "%s.flight_positions (\"time\" timestamptz NOT NULL, flight_id text NOT NULL, "
                 "seq bigint, geom geography(Point, 4326) NOT NULL, altitude_ft integer, "
                 "airspeed_kt integer, intended_at timestamptz, stored_at timestamptz NOT NULL "
                 "DEFAULT now(), UNIQUE (flight_id, \"time\")); CREATE INDEX ON "
                 "%s.flight_positions USING gist (geom); CREATE INDEX ON %s.flight_positions "
                 "USING brin (\"time\")",
                 c->schema, c->schema, c->schema, c->schema);
    else
        snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
                                  "CASCADE", c->schema);
    return psql(c, sql, NULL, &r);
}

/* Formats the reason a peer run failed; returns -1. */
static int why_failed(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_failed(char *why, size_t whysz, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
    return -1;
}

#define ARGV_MAX 40

typedef struct argv_buf {
    const char *argv[ARGV_MAX];
    size_t n;
    char nums[7][64];
} argv_buf_t;

static void add(argv_buf_t *a, const char *s) {
    if (a->n < ARGV_MAX - 1)
        a->argv[a->n++] = s;
    a->argv[a->n] = NULL;
}

static void add_list(argv_buf_t *a, const char *const *l) {
    for (; *l; l++)
        add(a, *l);
}

/* The peers send keyless records; librdkafka would keep those on one partition for
 * sticky.partitioning.linger.ms at a time (one big batch), where skyload's keyed records
 * spread over every partition record by record. 0 spreads the peers' records the same way,
 * so both build the same batches. */
static const char *const rdkafka_common[] = {
    "-X", "enable.idempotence=true", "-X", "linger.ms=5", "-X", "batch.num.messages=10000",
    "-X", "partitioner=murmur2_random", "-X", "sticky.partitioning.linger.ms=0", NULL};

static void java_args(peers_ctx_t *c, argv_buf_t *a, const char *cls) {
    add(a, "java");
    add(a, "-Xms256m");
    add(a, "-Xmx512m");
    add(a, c->log4j);
    add(a, "-cp");
    add(a, c->java_cp);
    add(a, cls);
}

/* argv for one run of peer k into a->argv. */
static void peer_argv(peers_ctx_t *c, peer_kind_t k, argv_buf_t *a) {
    bench_opts_t *o = c->o;
    a->n = 0;
    snprintf(a->nums[0], 64, "%lld", (long long)o->count);
    snprintf(a->nums[1], 64, "%lld", (long long)o->size);
    snprintf(a->nums[2], 64, "%lld", (long long)c->sky_aircraft);
    snprintf(a->nums[3], 64, "%llds", (long long)c->sky_duration_s);
    snprintf(a->nums[4], 64, "bootstrap.servers=%s", c->brokers);
    snprintf(a->nums[5], 64, "%d", E2E_COUNT);
    /* with the headers sent as headers, the value carries the rest of the record */
    snprintf(a->nums[6], 64, "%lld", (long long)(o->size - PEER_HEADER_BYTES));
    switch (k) {
    case PEER_SKYLOAD: {
        const char *const l[] = {"simulate", "-n", a->nums[2], "-d", a->nums[3], "--seed", "1",
                                 "--start-time", "2026-11-25T10:00:00Z", "--rate", "max",
                                 "--no-create-topic", "--json", "-b", c->brokers, "-t", c->topic,
                                 "-X", "linger.ms=5", "-X", "batch.num.messages=10000", NULL};
        add(a, c->self);
        add_list(a, l);
        break;
    }
    case PEER_RDKAFKA_PERF: {
        const char *const l[] = {"-P", "-t", c->topic, "-b", c->brokers, "-s", a->nums[6], "-c",
                                 a->nums[0], "-X", "queue.buffering.max.messages=1000000", NULL};
        add(a, c->rdperf);
        add_list(a, l);
        add_list(a, peer_headers);
        add_list(a, rdkafka_common);
        break;
    }
    case PEER_PRODUCER_PERF: {
        const char *const l[] = {"--topic", c->topic, "--num-records", a->nums[0],
                                 "--record-size", a->nums[1], "--throughput", "-1",
                                 "--producer-props", a->nums[4], "acks=all",
                                 "enable.idempotence=true", "linger.ms=5", "batch.size=1000000",
                                 /* keyless: spread record by record, not sticky (above) */
                                 "partitioner.class="
                                 "org.apache.kafka.clients.producer.RoundRobinPartitioner",
                                 NULL};
        java_args(c, a, "org.apache.kafka.tools.ProducerPerformance");
        add_list(a, l);
        break;
    }
    case PEER_KCAT: {
        const char *const l[] = {"kcat", "-P", "-b", c->brokers, "-t", c->topic, "-l",
                                 c->kcat_in, NULL};
        add_list(a, l);
        add_list(a, peer_headers);
        add_list(a, rdkafka_common);
        break;
    }
    case PEER_E2E_LATENCY:
        java_args(c, a, "org.apache.kafka.tools.EndToEndLatency");
        add(a, c->brokers);
        add(a, c->topic);
        add(a, a->nums[5]);
        add(a, "all");
        add(a, a->nums[1]);
        break;
    default: break;
    }
}

/* The figure one run yields: records (rows) per second of wall time, and what the
 * tool said of itself. Returns 0 or -1 (failed run: the reason in why). */
static int run_figures(peers_ctx_t *c, peer_kind_t k, const char *out_path,
                       const sky_exec_result_t *r, peer_result_t *pr, char *why, size_t whysz) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(out_path, "r");
    if (f) {
        text = calloc(1, 1 << 20);
        len = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
        fclose(f);
    }
    (void)len;
    if (!text)
        return why_failed(why, whysz, "cannot read %.200s", out_path);
    sky_peer_report_t rep = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    int rc = 0;
    if (r->status != 0)
        rc = why_failed(why, whysz, "exit status %d (output in %.180s)", r->status, out_path);
    else if (k == PEER_RDKAFKA_PERF)
        rc = sky_peer_parse_rdkafka_performance(text, &rep, why, whysz);
    else if (k == PEER_PRODUCER_PERF)
        rc = sky_peer_parse_producer_performance(text, &rep, why, whysz);
    else if (k == PEER_E2E_LATENCY)
        rc = sky_peer_parse_end_to_end_latency(text, &rep, why, whysz);
    else if (k == PEER_COPY)
        rc = sky_peer_parse_copy(text, &rep, why, whysz);
    else if (k == PEER_SKYLOAD) {
        json_t *j = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
        rep.messages = json_integer_value(json_object_get(j, "delivered"));
        rep.msgs_s = json_number_value(json_object_get(j, "msgs_per_s"));
        json_decref(j);
        if (rep.messages <= 0)
            rc = why_failed(why, whysz, "no \"delivered\" in simulate's --json");
    }
    free(text);
    if (rc)
        return -1;
    int i = pr->nruns++;
    pr->units = k == PEER_E2E_LATENCY ? E2E_COUNT
                : rep.messages > 0    ? rep.messages
                                      : c->o->count;
    pr->wall[i] = r->wall_s;
    pr->cpu[i] = r->cpu_s;
    pr->rate[i] = (double)pr->units / r->wall_s;
    pr->self_rate[i] = rep.msgs_s;
    pr->p50[i] = rep.p50_ms;
    pr->p99[i] = rep.p99_ms;
    pr->p999[i] = rep.p999_ms;
    if (r->maxrss_kib > pr->rss_kib)
        pr->rss_kib = r->maxrss_kib;
    return 0;
}

static const char *peer_unavailable(peers_ctx_t *c, peer_kind_t k) {
    static char why[256];
    char path[1100];
    switch (k) {
    case PEER_RDKAFKA_PERF:
        return access(c->rdperf, X_OK) ? "not built: bench/run-all.sh builds it into bench/tools/"
                                       : NULL;
    case PEER_PRODUCER_PERF:
    case PEER_E2E_LATENCY:
        snprintf(path, sizeof path, "%s/kafka/libs", c->o->stack_dir);
        if (access(path, R_OK) == 0)
            return NULL;
        snprintf(why, sizeof why, "no Kafka jars in %.180s (deploy/local/stack up)", path);
        return why;
    case PEER_TILE38:
        snprintf(path, sizeof path, "%s/tile38/BLOCKED", c->o->stack_dir);
        if (access(path, R_OK) == 0)
            return "blocked: Tile38 not installable here";
        return "not run: the tile38-benchmark output parser is not written yet";
    default: return NULL;
    }
}

/* One run of peer k into its own fresh topic (or the truncated COPY table). */
static int peer_run_once(peers_ctx_t *c, peer_kind_t k, int run, sky_exec_result_t *r,
                         char *out_path, size_t outsz, char *why, size_t whysz) {
    char err[512];
    argv_buf_t a;
    snprintf(out_path, outsz, "%s/peers/%d-%d.out", c->o->report, (int)k, run);
    if (k == PEER_COPY) {
        char sql[1400];
        sky_exec_result_t t;
        snprintf(sql, sizeof sql, "TRUNCATE %s.flight_positions", c->schema);
        if (psql(c, sql, NULL, &t))
            return why_failed(why, whysz, "psql: TRUNCATE failed");
        snprintf(sql, sizeof sql,
                 "\\copy %s.flight_positions (\"time\", flight_id, seq, geom, altitude_ft, "
                 "airspeed_kt, intended_at) FROM '%s' WITH (FORMAT csv)",
                 c->schema, c->copy_csv);
        return psql(c, sql, out_path, r) < 0 ? why_failed(why, whysz, "psql did not run") : 0;
    }
    snprintf(c->topic, sizeof c->topic, "bench_peers_%d_%d_%d", (int)getpid(), (int)k, run);
    if (sky_kafka_ensure_topic(&c->o->common.kafka, c->topic, 6, NULL, err, sizeof err))
        return why_failed(why, whysz, "%.200s", err);
    peer_argv(c, k, &a);
    int rc = sky_bench_exec(a.argv, NULL, out_path, 600000, r, err, sizeof err);
    if (rc)
        why_failed(why, whysz, "%.200s", err);
    sky_kafka_delete_topic(&c->o->common.kafka, c->topic, 10000, err, sizeof err);
    return rc ? -1 : 0;
}

static void run_peer(peers_ctx_t *c, peer_kind_t k, peer_result_t *pr) {
    const char *skip = peer_unavailable(c, k);
    if (skip) {
        sky_strlcpy(pr->skipped, skip, sizeof pr->skipped);
        return;
    }
    /* Run 0 warms up the broker, the page cache and the JIT; it is not counted. */
    for (int run = 0; run <= c->o->runs && !cli_stop; run++) {
        sky_exec_result_t r;
        char out[1200], why[256] = "";
        fprintf(stderr, "skyload bench: %s run %d/%lld%s\n", peer_names[k], run,
                (long long)c->o->runs, run ? "" : " (warm-up)");
        int before = pr->nruns;
        if (peer_run_once(c, k, run, &r, out, sizeof out, why, sizeof why) ||
            (run_figures(c, k, out, &r, pr, why, sizeof why) && (pr->nruns = before, 1))) {
            snprintf(pr->skipped, sizeof pr->skipped, "failed: %.140s", why);
            pr->nruns = 0;
            return;
        }
        if (run == 0)
            pr->nruns = before; /* drop the warm-up */
    }
}

static sky_spread_t spread(const double *v, int n) {
    double copy[MAX_RUNS];
    memcpy(copy, v, (size_t)n * sizeof *v);
    return sky_spread_of(copy, (size_t)n);
}

static void print_peer(FILE *f, peer_kind_t k, const peer_result_t *pr, double sky_median) {
    if (pr->skipped[0] || pr->nruns == 0) {
        fprintf(f, "%-20s %s\n", peer_names[k], pr->skipped[0] ? pr->skipped : "not run");
        return;
    }
    sky_spread_t rate = spread(pr->rate, pr->nruns), wall = spread(pr->wall, pr->nruns);
    sky_spread_t cpu = spread(pr->cpu, pr->nruns);
    if (k == PEER_E2E_LATENCY) {
        sky_spread_t p50 = spread(pr->p50, pr->nruns), p99 = spread(pr->p99, pr->nruns);
        sky_spread_t p999 = spread(pr->p999, pr->nruns);
        fprintf(f, "%-20s latency, %d records one at a time: p50 %.0f ms [%.0f-%.0f], p99 %.0f ms "
                   "[%.0f-%.0f], p99.9 %.0f ms [%.0f-%.0f]\n",
                peer_names[k], E2E_COUNT, p50.median, p50.min, p50.max, p99.median, p99.min,
                p99.max, p999.median, p999.min, p999.max);
        return;
    }
    char ratio[32] = "-";
    if (k != PEER_SKYLOAD && k != PEER_COPY && rate.median > 0 && sky_median > 0)
        snprintf(ratio, sizeof ratio, "%.2fx", sky_median / rate.median);
    char self[32] = "-";
    if (pr->self_rate[0] > 0)
        snprintf(self, sizeof self, "%.0f", spread(pr->self_rate, pr->nruns).median);
    fprintf(f, "%-20s %9.0f %9.0f %9.0f %7.2f %7.2f %7.0f %10s %9s\n", peer_names[k],
            rate.median, rate.min, rate.max, wall.median, cpu.median,
            (double)pr->rss_kib / 1024.0, self, ratio);
}

static void print_peers(FILE *f, peers_ctx_t *c, const peer_result_t *res) {
    double sky = res[PEER_SKYLOAD].nruns ? spread(res[PEER_SKYLOAD].rate, res[PEER_SKYLOAD].nruns).median : 0;
    fprintf(f, "%lld records x %lld bytes, acks=all (idempotence), linger.ms=5, 10,000-record "
               "batches, 6 partitions; median of %lld runs after a warm-up [min-max];\n"
               "rate = records (rows) / wall time of the whole process; skyload/peer = skyload's "
               "median rate / the peer's\n",
            (long long)c->o->count, (long long)c->o->size, (long long)c->o->runs);
    fprintf(f, "%-20s %9s %9s %9s %7s %7s %7s %10s %9s\n", "tool", "median/s", "min/s", "max/s",
            "wall_s", "cpu_s", "rss_MB", "self-rep/s", "sky/peer");
    for (int k = 0; k < NPEERS; k++)
        print_peer(f, (peer_kind_t)k, &res[k], sky);
}

static json_t *peers_json(peers_ctx_t *c, const peer_result_t *res) {
    json_t *tools = json_array();
    for (int k = 0; tools && k < NPEERS; k++) {
        const peer_result_t *pr = &res[k];
        json_t *runs = json_array();
        for (int i = 0; runs && i < pr->nruns; i++)
            json_array_append_new(runs, json_pack("{sf sf sf sf sf sf sf}", "rate", pr->rate[i],
                                                  "wall_s", pr->wall[i], "cpu_s", pr->cpu[i],
                                                  "self_reported_rate", pr->self_rate[i],
                                                  "p50_ms", pr->p50[i], "p99_ms", pr->p99[i],
                                                  "p999_ms", pr->p999[i]));
        json_array_append_new(tools, json_pack("{ss ss* sI sI so}", "tool", peer_names[k],
                                               "skipped", pr->skipped[0] ? pr->skipped : NULL,
                                               "units", (json_int_t)pr->units, "max_rss_kib",
                                               (json_int_t)pr->rss_kib, "runs", runs));
    }
    return json_pack("{si sI sI sI so}", "skyload_bench_peers", 1, "count",
                     (json_int_t)c->o->count, "size", (json_int_t)c->o->size, "runs",
                     (json_int_t)c->o->runs, "tools", tools);
}

static int peers_setup(peers_ctx_t *c) {
    bench_opts_t *o = c->o;
    ssize_t n = readlink("/proc/self/exe", c->self, sizeof c->self - 1);
    if (n <= 0) {
        cli_error("bench", "cannot find my own executable: %s", strerror(errno));
        return 3;
    }
    c->self[n] = '\0';
    c->brokers = o->common.kafka.brokers ? o->common.kafka.brokers : "127.0.0.1:9092";
    snprintf(c->java_cp, sizeof c->java_cp, "%s/kafka/libs/*", o->stack_dir);
    snprintf(c->log4j, sizeof c->log4j, "-Dlog4j.configuration=file:%s/kafka/tools-log4j.properties",
             o->stack_dir);
    snprintf(c->rdperf, sizeof c->rdperf, "%s/rdkafka_performance", o->tools_dir);
    snprintf(c->kcat_in, sizeof c->kcat_in, "%s/peers/kcat.in", o->report);
    snprintf(c->copy_csv, sizeof c->copy_csv, "%s/peers/copy.csv", o->report);
    snprintf(c->schema, sizeof c->schema, "bench_peers_%d", (int)getpid());
    snprintf(c->conninfo_opt, sizeof c->conninfo_opt, "%s", o->common.pg ? o->common.pg : "");
    /* simulate's record count is aircraft x (duration / 5 s cadence). */
    /* Enough aircraft to spread over the partitions like real traffic, few enough
     * that planning them (~1.4 us each) is not a noticeable part of the run. */
    c->sky_aircraft = o->count < 10000 ? o->count : 10000;
    c->sky_duration_s = 5 * (o->count / c->sky_aircraft);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/peers", o->report);
    if (make_dir(dir))
        return 3;
    if (write_kcat_input(c->kcat_in, o->count, o->size - PEER_HEADER_BYTES) ||
        write_copy_csv(c->copy_csv, o->count)) {
        cli_error("bench", "%s: cannot write the peers' input files", dir);
        return 3;
    }
    return 0;
}

static int bench_peers(bench_opts_t *o) {
    peers_ctx_t c;
    memset(&c, 0, sizeof c);
    c.o = o;
    int rc = peers_setup(&c);
    if (rc)
        return rc;
    peer_result_t *res = calloc(NPEERS, sizeof *res);
    if (!res)
        return 3;
    for (int k = 0; k < NPEERS && !cli_stop; k++) {
        if (k == PEER_COPY && copy_setup(&c, true)) {
            snprintf(res[k].skipped, sizeof res[k].skipped, "failed: cannot create %s", c.schema);
            continue;
        }
        run_peer(&c, (peer_kind_t)k, &res[k]);
        if (k == PEER_COPY)
            copy_setup(&c, false);
    }
    unlink(c.kcat_in);
    unlink(c.copy_csv);
    print_peers(stdout, &c, res);
    char path[1100];
    FILE *f = open_out(o->report, "peers.txt", path, sizeof path);
    if (f) {
        print_peers(f, &c, res);
        fclose(f);
    }
    json_t *j = peers_json(&c, res);
    snprintf(path, sizeof path, "%s/peers.json", o->report);
    if (!j || json_dump_file(j, path, JSON_INDENT(1)))
        rc = 3;
    json_decref(j);
    free(res);
    return rc;
}

int cmd_bench(int argc, char **argv) {
    bench_opts_t o;
    memset(&o, 0, sizeof o);
    bench_defaults(&o);
    int rc = parse_bench_args(argc, argv, &o);
    if (rc) {
        cli_common_free(&o.common);
        return rc == -2 ? 0 : rc;
    }
    cli_install_signals();
    rc = make_dir(o.report);
    if (!rc)
        rc = strcmp(o.what, "capacity") == 0 ? bench_capacity(&o) : bench_peers(&o);
    cli_common_free(&o.common);
    return rc;
}
