/* skyload bench: `capacity` (the loop at stepped load to the SLO knee) and
 * `peers` (skyload's producer beside the standard tools, same workload). */
#include "capacity.h"
#include "capacity_report.h"
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "parse.h"
#include "peers.h"
#include "scenario.h"
#include "stack_files.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char bench_help[] =
    "usage: skyload bench capacity [--scenario F] [--report DIR] [--start N] [--factor X]\n"
    "                              [--warmup D] [--hold D] [--max-steps N] [--refine N]\n"
    "                              [--budget D]\n"
    "       skyload bench peers [--report DIR] [--count N] [--size BYTES] [--runs N]\n\n"
    "capacity: measures each component alone (Kafka produce+consume, an indexed COPY,\n"
    "tile38-benchmark SET, Kafka's EndToEndLatency), then runs the whole loop (simulate\n"
    "-> Kafka -> ingest -> PostgreSQL [+ Tile38] -> verify) in real time at growing load\n"
    "until a step breaks the scenario's SLO, and one step at half the knee; prints the\n"
    "steps, the knee against the slowest component and where the time goes; writes\n"
    "DIR/capacity.{txt,json,dat,html,png,svg} and DIR/step-NN/.\n"
    "peers: skyload's producer beside rdkafka_performance, ProducerPerformance, kcat -P,\n"
    "EndToEndLatency, tile38-benchmark (beside ingest's Tile38 sink) and a raw COPY, same\n"
    "workload, same stack; DIR/peers.{txt,json}. docs/bench.md says how each is measured.\n\n"
    "capacity options:\n"
    "  -s, --scenario F       scenario path or name (default capacity-ramp)\n"
    "      --start N          first step's aircraft (default: the scenario's)\n"
    "      --factor X         aircraft multiplier per step (default 1.5)\n"
    "      --warmup D         per step, excluded from the figures (default 10s)\n"
    "      --hold D           per step, measured (default 30s)\n"
    "      --max-steps N      (default 20)\n"
    "      --refine N         after the first failed step, N more between it and the last\n"
    "                         held one, halving the gap (on a log scale) each time: the\n"
    "                         knee within factor^(1/2^N) (default 2: 1.5 -> within 11%)\n"
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
    const char *what, *scenario, *plot, *stack_dir, *tile38_benchmark;
    sky_capacity_config_t cap; /* the options go straight into the two configurations */
    sky_peers_config_t peers;
    int64_t start;
} bench_opts_t;

enum { OPT_REPORT = OPT_FIRST_CMD, OPT_START, OPT_FACTOR, OPT_WARMUP, OPT_HOLD, OPT_MAX_STEPS,
       OPT_BUDGET, OPT_PLOT, OPT_STACK_DIR, OPT_SIZE, OPT_RUNS, OPT_TOOLS_DIR, OPT_T38BENCH,
       OPT_NO_COMPONENTS, OPT_NO_HALF_KNEE, OPT_COMPONENTS_RECORDS, OPT_REFINE };

static const struct option bench_longopts[] = {
    {"scenario", required_argument, NULL, 's'},
    {"report", required_argument, NULL, OPT_REPORT},
    {"start", required_argument, NULL, OPT_START},
    {"factor", required_argument, NULL, OPT_FACTOR},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"hold", required_argument, NULL, OPT_HOLD},
    {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
    {"refine", required_argument, NULL, OPT_REFINE},
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

static void bench_defaults(bench_opts_t *o) {
    cli_common_init(&o->common);
    o->scenario = "capacity-ramp";
    o->plot = SKY_SOURCE_DIR "/bench/plot.gp";
    o->stack_dir = SKY_SOURCE_DIR "/.stack";
    o->cap = (sky_capacity_config_t){.report_dir = "report/bench", .factor = 1.5,
                                     .max_steps = 20, .refine = 2,
                                     .warmup_ms = 10000, .hold_ms = 30000, .budget_ms = 540000,
                                     .components = true, .half_knee = true};
    o->peers = (sky_peers_config_t){.tools_dir = SKY_SOURCE_DIR "/bench/tools", .count = 500000,
                                    .size = 220, .runs = 3, .stop = &cli_stop};
}

/* the option's argument as a bounded number or a duration, into dst */
#define I64(lo, hi, dst, name) sky_parse_i64(arg, lo, hi, dst, name, err, sizeof err)
#define DURATION(dst, name) sky_parse_duration_ms(arg, dst, name, err, sizeof err)

static int bench_opt(void *opts, int opt, const char *arg) {
    bench_opts_t *o = opts;
    sky_capacity_config_t *c = &o->cap;
    char err[512];
    int rc = 0;
    switch (opt) {
    case 's': o->scenario = arg; break;
    case OPT_REPORT: c->report_dir = o->peers.report_dir = arg; break;
    case OPT_PLOT: o->plot = arg; break;
    case OPT_STACK_DIR: o->stack_dir = arg; break;
    case OPT_TOOLS_DIR: o->peers.tools_dir = arg; break;
    case OPT_T38BENCH: o->tile38_benchmark = arg; break;
    case OPT_NO_COMPONENTS: c->components = false; break;
    case OPT_NO_HALF_KNEE: c->half_knee = false; break;
    case OPT_COMPONENTS_RECORDS:
        rc = I64(1000, 100000000, &c->components_records, "--components-records");
        break;
    case OPT_START: rc = I64(1, 100000000, &o->start, "--start"); break;
    case OPT_FACTOR:
        rc = sky_parse_double(arg, 1.01, 100, &c->factor, "--factor", err, sizeof err);
        break;
    case OPT_WARMUP: rc = DURATION(&c->warmup_ms, "--warmup"); break;
    case OPT_HOLD: rc = DURATION(&c->hold_ms, "--hold"); break;
    case OPT_BUDGET: rc = DURATION(&c->budget_ms, "--budget"); break;
    case OPT_MAX_STEPS: rc = I64(1, 100, &c->max_steps, "--max-steps"); break;
    case OPT_REFINE: rc = I64(0, 10, &c->refine, "--refine"); break;
    case 'n': rc = I64(1000, 100000000, &o->peers.count, "--count"); break;
    case OPT_SIZE: rc = I64(SKY_PEER_HEADER_BYTES + 16, 1000000, &o->peers.size, "--size"); break;
    case OPT_RUNS: rc = I64(1, 20, &o->peers.runs, "--runs"); break;
    default: return cli_usage_error("bench", "unknown option");
    }
    if (!rc && c->hold_ms <= 0)
        rc = sky_err(err, sizeof err, SKY_EUSAGE, "--hold must be more than 0");
    return rc ? cli_usage_error("bench", "%s", err) : 0;
}

static int bench_what(void *opts, int argc, char **argv) {
    bench_opts_t *o = opts;
    if (argc != 1)
        return cli_usage_error("bench",
                               argc ? "one of capacity or peers only" : "capacity or peers?");
    o->what = argv[0];
    if (strcmp(o->what, "capacity") && strcmp(o->what, "peers"))
        return cli_usage_error("bench", "unknown benchmark \"%s\" (capacity or peers)", o->what);
    return 0;
}

static const cli_spec_t bench_spec = {.cmd = "bench", .help = bench_help, .shortopts = "s:n:",
                                      .longopts = bench_longopts, .own = bench_opt,
                                      .args = bench_what};

static void on_step(void *opaque, size_t index, const sky_ramp_step_t *step) {
    cli_status_clear(opaque);
    if (index == 0)
        sky_capacity_print_header(stdout);
    sky_capacity_print_step(stdout, step);
    fflush(stdout);
}

static void on_status(void *opaque, const char *line) {
    cli_status_update(opaque, false, "%s", line);
}

static int bench_capacity(bench_opts_t *o, const sky_stack_files_t *sf, char *err, size_t errsz) {
    char path[1024], prefix[64];
    if (sky_scenario_find(o->scenario, path, sizeof path, err, errsz))
        return SKY_EUSAGE;
    snprintf(prefix, sizeof prefix, "bench_cap_%ld_%d", (long)time(NULL), (int)getpid());
    cli_status_t status;
    cli_status_init(&status);
    sky_capacity_config_t *c = &o->cap;
    c->scenario_path = path;
    c->name_prefix = prefix;
    c->start_aircraft = (uint64_t)o->start;
    c->kafka_pidfile = sf->has_kafka_pid ? sf->kafka_pid : NULL;
    c->pg_pidfile = sf->has_pg_pid ? sf->pg_pid : NULL;
    bool t38 = sf->has_tile38_pid && !cli_tile38_none(&o->common);
    c->tile38_pidfile = t38 ? sf->tile38_pid : NULL;
    c->on_step = on_step;
    c->status = on_status;
    c->opaque = &status;
    sky_capacity_result_t res;
    int rc = sky_capacity_run(c, &cli_stop, &res, err, errsz);
    cli_status_clear(&status);
    if (rc)
        return rc;
    sky_capacity_print_results(stdout, &res);
    char why[512] = "";
    rc = sky_capacity_write_report(c->report_dir, &res, path, o->plot, why, sizeof why);
    if (why[0]) /* a report written without its chart says why, and is no failure */
        cli_error("bench", "%s", why);
    int knee = res.knee;
    sky_capacity_result_free(&res);
    return rc ? rc : knee >= 0 ? 0 : SKY_ECHECK;
}

int cmd_bench(int argc, char **argv) {
    bench_opts_t o = {0};
    bench_defaults(&o);
    o.peers.report_dir = o.cap.report_dir;
    int rc = cli_parse(&bench_spec, &o.common, &o, argc, argv);
    if (rc != CLI_GO) {
        cli_common_free(&o.common);
        return cli_parse_status(rc);
    }
    cli_install_signals();
    sky_stack_files_t sf;
    sky_stack_files_find(o.stack_dir, o.tile38_benchmark, &sf);
    sky_capacity_config_t *c = &o.cap;
    sky_peers_config_t *p = &o.peers;
    c->kafka = p->kafka = &o.common.kafka;
    c->pg_conninfo = p->pg_conninfo = o.common.pg;
    c->tile38 = p->tile38 = o.common.tile38;
    c->tile38_benchmark = p->tile38_benchmark = sf.tile38_benchmark;
    c->stack_dir = p->stack_dir = o.stack_dir;
    char err[1024];
    if (mkdir(c->report_dir, 0777) && errno != EEXIST)
        rc = sky_err(err, sizeof err, SKY_EIO, "%s: %s", c->report_dir, strerror(errno));
    else if (strcmp(o.what, "capacity") == 0)
        rc = bench_capacity(&o, &sf, err, sizeof err);
    else
        rc = sky_peers_run(p, stdout, err, sizeof err);
    if (rc == SKY_ECHECK) { /* no step held the SLO: the step table says so */
        cli_common_free(&o.common);
        return 1;
    }
    return cli_finish("bench", &o.common, rc, err,
                      CLI_USES_KAFKA | CLI_USES_PG |
                          (cli_tile38_none(&o.common) ? 0 : CLI_USES_TILE38));
}
