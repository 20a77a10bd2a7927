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
#include "report_html.h"
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

static const char bench_help[] =
    "usage: skyload bench capacity [--scenario F] [--report DIR] [--start N] [--factor X]\n"
    "                              [--warmup D] [--hold D] [--max-steps N] [--budget D]\n"
    "       skyload bench peers [--report DIR] [--count N] [--size BYTES] [--runs N]\n\n"
    "capacity: first measures each component alone (Kafka produce+consume, an indexed\n"
    "COPY by ingest's connections, tile38-benchmark SET, Kafka's EndToEndLatency), then\n"
    "runs the whole loop (simulate -> Kafka -> ingest -> PostgreSQL [+ Tile38], verified\n"
    "as `skyload run` verifies) in real time at stepped load: each step is N aircraft\n"
    "for warm-up + hold, with its own topic, group and schema; N grows by the factor\n"
    "until a step breaks the scenario's SLO (slo.latency_ms kafka_ack.p99,\n"
    "pg_commit.p50/p99, tile38.p99, judged on the hold window), its backlog grows\n"
    "without bound, does not drain, or fails verify; then one step at half the knee.\n"
    "Latency is from the intended emit time. Prints the step table, the knee, where the\n"
    "time goes per step (each stage's p50/p99: Kafka ack, consume, batch, PostgreSQL,\n"
    "Tile38, per-batch writes, commit; decode per record; how busy each sink and the\n"
    "CPUs were) with what broke the failing step, and the knee against the slowest\n"
    "component. Writes DIR/capacity.json, .dat, .txt, DIR/step-NN/, DIR/half-knee/ and,\n"
    "with gnuplot, DIR/capacity.png and .svg. CPU and RSS rows: skyload (simulate and\n"
    "ingest share this process), the Kafka broker, PostgreSQL (postmaster and its\n"
    "backends), tile38-server.\n\n"
    "peers: on the same stack, the same record count and size, acks=all (idempotence),\n"
    "linger.ms=5 and 10,000-message batches, records spread one by one over the partitions\n"
    "(the peers' keyless records without sticky partitioning, as skyload's keyed records\n"
    "are), runs skyload simulate, rdkafka_performance,\n"
    "Kafka's ProducerPerformance and EndToEndLatency, kcat -P, tile38-benchmark (SET POINT,\n"
    "one connection, 100 per pipeline) beside ingest's Tile38 sink writing the same number\n"
    "of positions (its ratio to tile38-benchmark), and a raw PostgreSQL COPY: one warm-up\n"
    "run then --runs timed runs each (fork/exec, wall clock and rusage), and prints\n"
    "median/min/max and the ratios. DIR/peers.txt, DIR/peers.json.\n\n"
    "capacity options:\n"
    "  -s, --scenario F       scenario path or name (default capacity-ramp)\n"
    "      --start N          first step's aircraft (default: the scenario's)\n"
    "      --factor X         aircraft multiplier per step (default 1.5)\n"
    "      --warmup D         per step, excluded from the figures (default 10s)\n"
    "      --hold D           per step, measured (default 30s)\n"
    "      --max-steps N      (default 20)\n"
    "      --budget D         no step starts after D (default 9m)\n"
    "      --plot FILE        gnuplot script (default <source>/bench/plot.gp)\n"
    "      --no-components    skip measuring Kafka, COPY, tile38-benchmark and Kafka's\n"
    "                         EndToEndLatency alone first (the knee's yardsticks)\n"
    "      --components-records N  records per component (default 300000)\n"
    "      --no-half-knee     skip the step at half the knee (its e2e p99 against\n"
    "                         EndToEndLatency's p99 + 250 ms)\n"
    "      --stack-dir DIR    where the stack's pid files are (default <source>/.stack)\n"
    "peers options:\n"
    "  -n, --count N          records per producer run (default 500000)\n"
    "      --size BYTES       bytes per record (default 220: skyload's key + value +\n"
    "                         headers; peers send that many value bytes, no key)\n"
    "      --runs N           timed runs per tool (default 3)\n"
    "      --tools-dir DIR    where rdkafka_performance is (default <source>/bench/tools)\n"
    "      --tile38-benchmark PATH  (default: beside $SKY_TILE38_BIN, else <stack-dir>/bin)\n"
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
    const char *scenario, *report, *plot, *stack_dir, *tools_dir, *tile38_benchmark;
    int64_t start, max_steps, warmup_ms, hold_ms, budget_ms;
    double factor;
    int64_t count, size, runs;
    bool no_components, no_half_knee;
    int64_t components_records;
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
    OPT_T38BENCH,
    OPT_NO_COMPONENTS,
    OPT_NO_HALF_KNEE,
    OPT_COMPONENTS_RECORDS,
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
    case OPT_T38BENCH: o->tile38_benchmark = arg; break;
    case OPT_NO_COMPONENTS: o->no_components = true; break;
    case OPT_NO_HALF_KNEE: o->no_half_knee = true; break;
    case OPT_COMPONENTS_RECORDS:
        rc = sky_parse_i64(arg, 1000, 100000000, &o->components_records, "--components-records",
                           err, sizeof err);
        break;
    case OPT_START: rc = sky_parse_i64(arg, 1, 100000000, &o->start, "--start", err, sizeof err); break;
    case OPT_FACTOR: rc = sky_parse_double(arg, 1.01, 100, &o->factor, "--factor", err, sizeof err); break;
    case OPT_WARMUP: rc = sky_parse_duration_ms(arg, &o->warmup_ms, "--warmup", err, sizeof err); break;
    case OPT_HOLD: rc = sky_parse_duration_ms(arg, &o->hold_ms, "--hold", err, sizeof err); break;
    case OPT_BUDGET: rc = sky_parse_duration_ms(arg, &o->budget_ms, "--budget", err, sizeof err); break;
    case OPT_MAX_STEPS: rc = sky_parse_i64(arg, 1, 100, &o->max_steps, "--max-steps", err, sizeof err); break;
    case 'n': rc = sky_parse_i64(arg, 1000, 100000000, &o->count, "--count", err, sizeof err); break;
    case OPT_SIZE:
        rc = sky_parse_i64(arg, SKY_PEER_HEADER_BYTES + 16, 1000000, &o->size, "--size", err,
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
        {"tile38-benchmark", required_argument, NULL, OPT_T38BENCH},
        {"no-components", no_argument, NULL, OPT_NO_COMPONENTS},
        {"no-half-knee", no_argument, NULL, OPT_NO_HALF_KNEE},
        {"components-records", required_argument, NULL, OPT_COMPONENTS_RECORDS},
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

/* ---- capacity ------------------------------------------------------------ */

/* tile38-benchmark sits beside the server the stack runs: SKY_TILE38_BIN's folder
 * when the stack uses an existing binary, else <stack>/bin. */
static void tile38_benchmark_path(const bench_opts_t *o, char *out, size_t outsz) {
    if (o->tile38_benchmark) {
        snprintf(out, outsz, "%s", o->tile38_benchmark);
        return;
    }
    const char *bin = getenv("SKY_TILE38_BIN");
    const char *slash = bin ? strrchr(bin, '/') : NULL;
    if (slash)
        snprintf(out, outsz, "%.*s/tile38-benchmark", (int)(slash - bin), bin);
    else
        snprintf(out, outsz, "%s/bin/tile38-benchmark", o->stack_dir);
}

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
    char path[1024], err[1024], prefix[64], kpid[1024], pgpid[1024], tpid[1024], t38bench[1100];
    tile38_benchmark_path(o, t38bench, sizeof t38bench);
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
        .components = !o->no_components, .components_records = o->components_records,
        .tile38_benchmark = t38bench, .stack_dir = o->stack_dir, .half_knee = !o->no_half_knee,
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
    sky_capacity_print_stages(stdout, &res);
    sky_capacity_print_targets(stdout, &res);
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

static int bench_peers(bench_opts_t *o) {
    char t38bench[1100], err[1024];
    tile38_benchmark_path(o, t38bench, sizeof t38bench);
    sky_peers_config_t cfg = {.kafka = &o->common.kafka, .pg_conninfo = o->common.pg,
                              .tile38 = o->common.tile38, .tile38_benchmark = t38bench,
                              .report_dir = o->report, .stack_dir = o->stack_dir,
                              .tools_dir = o->tools_dir, .count = o->count, .size = o->size,
                              .runs = o->runs, .stop = &cli_stop};
    int rc = sky_peers_run(&cfg, stdout, err, sizeof err);
    if (rc)
        cli_error("bench", "%s", err);
    return rc ? sky_exit_status(rc) : 0;
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
