/* `skyload bench peers`: every peer tool run as a child process (fork/exec, wall
 * clock, rusage) on the same stack and workload, the Tile38 sink in this process,
 * and the table: median/min/max over runs, the ratio to the yardstick. */
#include "peers.h"

#include "error.h"
#include "kafka_admin.h"
#include "log.h"
#include "parse.h"
#include "t38rate.h"
#include "tile38.h"
#include "timefmt.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Positions per batch of the Tile38 sink's run: ingest's default batch size. */
#define T38SINK_FLIGHTS 20000

static bool stopped(const sky_peers_config_t *o) {
    return o->stop && *o->stop;
}

/* The three skyload headers, with values as long as a run's (run id 35 characters,
 * a 3-digit seq, an ns timestamp): librdkafka peers that can send headers get the
 * same ones, since building them is part of every skyload record's cost. */
static const char *const peer_headers[] = {
    "-H", "skyload-run=r-20261125T100000Z-1-0-19ab5fc3d40", "-H", "skyload-seq=123", "-H",
    "skyload-intended=1795600800065778000", NULL};

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
    PEER_T38SINK,
    PEER_COPY,
    NPEERS
} peer_kind_t;

static const char *const peer_names[NPEERS] = {
    "skyload simulate", "rdkafka_performance", "ProducerPerformance",  "kcat -P",
    "EndToEndLatency",  "tile38-benchmark",    "skyload Tile38 sink", "PostgreSQL COPY"};

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
    const sky_peers_config_t *o;
    char self[1024], java_cp[1100], log4j[1100], rdperf[1100];
    char kcat_in[1100], copy_csv[1100], schema[64], conninfo_opt[1200];
    char t38_host[256], t38_port[16], t38_collection[64];
    int t38_port_num;
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
    const sky_peers_config_t *o = c->o;
    a->n = 0;
    snprintf(a->nums[0], 64, "%lld", (long long)o->count);
    snprintf(a->nums[1], 64, "%lld", (long long)o->size);
    snprintf(a->nums[2], 64, "%lld", (long long)c->sky_aircraft);
    snprintf(a->nums[3], 64, "%llds", (long long)c->sky_duration_s);
    snprintf(a->nums[4], 64, "bootstrap.servers=%s", c->brokers);
    snprintf(a->nums[5], 64, "%d", E2E_COUNT);
    /* with the headers sent as headers, the value carries the rest of the record */
    snprintf(a->nums[6], 64, "%lld", (long long)(o->size - SKY_PEER_HEADER_BYTES));
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
    case PEER_TILE38: {
        /* SET POINT of distinct ids on one connection, 100 commands per pipeline: the
         * shape of ingest's Tile38 sink (one connection, pipelined SETs) */
        const char *const l[] = {"-h", c->t38_host, "-p", c->t38_port, "-n", a->nums[0], "-c", "1",
                                 "-P", "100", "-q", "-t", "SET-POINT", NULL};
        add(a, o->tile38_benchmark);
        add_list(a, l);
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
    if (k == PEER_RDKAFKA_PERF && (r->status == 0 || r->status == 1)) {
        /* 1 with every record delivered is its miscount (see the parser), not a failure */
        rc = sky_peer_parse_rdkafka_performance(text, &rep, why, whysz);
        if (!rc && r->status && rep.messages != c->o->count)
            rc = why_failed(why, whysz, "exit status 1, %lld of %lld delivered (output in %.180s)",
                            (long long)rep.messages, (long long)c->o->count, out_path);
    } else if (r->status != 0)
        rc = why_failed(why, whysz, "exit status %d (output in %.180s)", r->status, out_path);
    else if (k == PEER_PRODUCER_PERF)
        rc = sky_peer_parse_producer_performance(text, &rep, why, whysz);
    else if (k == PEER_E2E_LATENCY)
        rc = sky_peer_parse_end_to_end_latency(text, &rep, why, whysz);
    else if (k == PEER_COPY)
        rc = sky_peer_parse_copy(text, &rep, why, whysz);
    else if (k == PEER_TILE38)
        rc = sky_peer_parse_tile38_benchmark(text, &rep, why, whysz);
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
        if (!c->t38_port_num)
            return "not run: --tile38 none";
        if (!c->o->tile38_benchmark || access(c->o->tile38_benchmark, X_OK)) {
            snprintf(why, sizeof why, "not found: %.160s (deploy/local/stack up builds it)",
                     c->o->tile38_benchmark ? c->o->tile38_benchmark : "tile38-benchmark");
            return why;
        }
        return NULL;
    case PEER_T38SINK:
        return c->t38_port_num ? NULL : "not run: --tile38 none";
    default: return NULL;
    }
}

/* The sink in this process: rows per second of its own writes, CPU of this thread. */
static int t38sink_run_once(peers_ctx_t *c, sky_exec_result_t *r, int64_t *sets, char *why,
                            size_t whysz) {
    sky_t38rate_t rate;
    char err[512];
    memset(r, 0, sizeof *r);
    int rc = sky_bench_t38sink(c->t38_host, c->t38_port_num, c->t38_collection, c->o->count,
                               T38SINK_FLIGHTS, &rate, err, sizeof err);
    if (rc)
        return why_failed(why, whysz, "%.200s", err);
    r->wall_s = rate.wall_s;
    r->cpu_s = rate.cpu_s;
    *sets = rate.sets;
    return 0;
}

/* One run of peer k into its own fresh topic (or the truncated COPY table). */
static int peer_run_once(peers_ctx_t *c, peer_kind_t k, int run, sky_exec_result_t *r,
                         char *out_path, size_t outsz, char *why, size_t whysz) {
    char err[512];
    argv_buf_t a;
    snprintf(out_path, outsz, "%s/peers/%d-%d.out", c->o->report_dir, (int)k, run);
    if (k == PEER_TILE38) {
        peer_argv(c, k, &a);
        int rc = sky_bench_exec(a.argv, NULL, out_path, 600000, r, err, sizeof err);
        const char *drop[] = {"DROP", "key:bench"}; /* tile38-benchmark's own key, left behind */
        char ignored[256];
        sky_tile38_oneshot(c->o->tile38, 2, drop, ignored, sizeof ignored);
        return rc ? why_failed(why, whysz, "%.200s", err) : 0;
    }
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
    if (sky_kafka_ensure_topic(c->o->kafka, c->topic, 6, NULL, err, sizeof err))
        return why_failed(why, whysz, "%.200s", err);
    peer_argv(c, k, &a);
    int rc = sky_bench_exec(a.argv, NULL, out_path, 600000, r, err, sizeof err);
    if (rc)
        why_failed(why, whysz, "%.200s", err);
    sky_kafka_delete_topic(c->o->kafka, c->topic, 10000, err, sizeof err);
    return rc ? -1 : 0;
}

static void run_peer(peers_ctx_t *c, peer_kind_t k, peer_result_t *pr) {
    const char *skip = peer_unavailable(c, k);
    if (skip) {
        sky_strlcpy(pr->skipped, skip, sizeof pr->skipped);
        return;
    }
    /* Run 0 warms up the broker, the page cache and the JIT; it is not counted. */
    for (int run = 0; run <= c->o->runs && !stopped(c->o); run++) {
        sky_exec_result_t r;
        char out[1200], why[256] = "";
        sky_log_info("bench peers: %s run %d/%lld%s", peer_names[k], run,
                (long long)c->o->runs, run ? "" : " (warm-up)");
        int before = pr->nruns;
        if (k == PEER_T38SINK) {
            int64_t sets = 0;
            if (t38sink_run_once(c, &r, &sets, why, sizeof why)) {
                snprintf(pr->skipped, sizeof pr->skipped, "failed: %.140s", why);
                pr->nruns = 0;
                return;
            }
            if (run) {
                int i = pr->nruns++;
                pr->units = sets;
                pr->wall[i] = r.wall_s;
                pr->cpu[i] = r.cpu_s;
                pr->rate[i] = pr->self_rate[i] = (double)sets / r.wall_s;
                pr->p50[i] = pr->p99[i] = pr->p999[i] = -1;
            }
            continue;
        }
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

/* sky_median: skyload simulate's rate, the Kafka rows' yardstick; t38_median:
 * tile38-benchmark's own rate, the Tile38 sink's. */
static void print_peer(FILE *f, peer_kind_t k, const peer_result_t *pr, double sky_median,
                       double t38_median) {
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
    if (k == PEER_T38SINK && t38_median > 0)
        snprintf(ratio, sizeof ratio, "%.2fx", rate.median / t38_median);
    else if (k != PEER_SKYLOAD && k != PEER_COPY && k != PEER_TILE38 && k != PEER_T38SINK &&
             rate.median > 0 && sky_median > 0)
        snprintf(ratio, sizeof ratio, "%.2fx", sky_median / rate.median);
    char self[32] = "-";
    if (pr->self_rate[0] > 0)
        snprintf(self, sizeof self, "%.0f", spread(pr->self_rate, pr->nruns).median);
    char rss[32] = "-"; /* the in-process sink has no process of its own */
    if (pr->rss_kib > 0)
        snprintf(rss, sizeof rss, "%.0f", (double)pr->rss_kib / 1024.0);
    fprintf(f, "%-20s %9.0f %9.0f %9.0f %7.2f %7.2f %7s %10s %9s\n", peer_names[k],
            rate.median, rate.min, rate.max, wall.median, cpu.median, rss, self, ratio);
}

static void print_peers(FILE *f, peers_ctx_t *c, const peer_result_t *res) {
    const peer_result_t *s = &res[PEER_SKYLOAD], *t = &res[PEER_TILE38];
    double sky = s->nruns ? spread(s->rate, s->nruns).median : 0;
    double t38 = t->nruns && t->self_rate[0] > 0 ? spread(t->self_rate, t->nruns).median : 0;
    fprintf(f, "%lld records x %lld bytes, acks=all (idempotence), linger.ms=5, 10,000-record "
               "batches, 6 partitions; median of %lld runs after a warm-up [min-max];\n"
               "rate = records (rows) / wall time of the whole process; sky/peer = skyload "
               "simulate's median rate / the peer's;\n"
               "Tile38: tile38-benchmark SET POINT of %lld ids, one connection, 100 per pipeline "
               "(self-rep = its own figure); the skyload Tile38 sink (ingest/t38sink.c, in this "
               "process) SETs %lld positions of %d flights (FIELD seq, altitude, airspeed, EX, "
               "POINT) one batch of %d at a time, one pipeline per batch; its ratio = its rate / "
               "tile38-benchmark's self-reported rate (target >= 0.80)\n",
            (long long)c->o->count, (long long)c->o->size, (long long)c->o->runs,
            (long long)c->o->count, (long long)c->o->count, T38SINK_FLIGHTS, T38SINK_FLIGHTS);
    fprintf(f, "%-20s %9s %9s %9s %7s %7s %7s %10s %9s\n", "tool", "median/s", "min/s", "max/s",
            "wall_s", "cpu_s", "rss_MB", "self-rep/s", "ratio");
    for (int k = 0; k < NPEERS; k++)
        print_peer(f, (peer_kind_t)k, &res[k], sky, t38);
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

static int peers_setup(peers_ctx_t *c, char *errstr, size_t errstr_size) {
    const sky_peers_config_t *o = c->o;
    ssize_t n = readlink("/proc/self/exe", c->self, sizeof c->self - 1);
    if (n <= 0)
        return sky_err(errstr, errstr_size, SKY_EIO, "cannot find my own executable: %s",
                       strerror(errno));
    c->self[n] = '\0';
    c->brokers = o->kafka && o->kafka->brokers ? o->kafka->brokers : "127.0.0.1:9092";
    snprintf(c->java_cp, sizeof c->java_cp, "%s/kafka/libs/*", o->stack_dir);
    snprintf(c->log4j, sizeof c->log4j, "-Dlog4j.configuration=file:%s/kafka/tools-log4j.properties",
             o->stack_dir);
    snprintf(c->rdperf, sizeof c->rdperf, "%s/rdkafka_performance", o->tools_dir);
    snprintf(c->kcat_in, sizeof c->kcat_in, "%s/peers/kcat.in", o->report_dir);
    snprintf(c->copy_csv, sizeof c->copy_csv, "%s/peers/copy.csv", o->report_dir);
    snprintf(c->schema, sizeof c->schema, "bench_peers_%d", (int)getpid());
    snprintf(c->t38_collection, sizeof c->t38_collection, "bench_peers_%d", (int)getpid());
    snprintf(c->conninfo_opt, sizeof c->conninfo_opt, "%s", o->pg_conninfo ? o->pg_conninfo : "");
    if (!o->tile38 || strcmp(o->tile38, "none") != 0) {
        int port = 9851;
        if (o->tile38 && sky_parse_hostport(o->tile38, c->t38_host, sizeof c->t38_host, &port,
                                            "--tile38", errstr, errstr_size))
            return SKY_EUSAGE;
        if (!o->tile38)
            snprintf(c->t38_host, sizeof c->t38_host, "127.0.0.1");
        c->t38_port_num = port;
        snprintf(c->t38_port, sizeof c->t38_port, "%d", port);
    }
    /* simulate's record count is aircraft x (duration / 5 s cadence). */
    /* Enough aircraft to spread over the partitions like real traffic, few enough
     * that planning them (~1.4 us each) is not a noticeable part of the run. */
    c->sky_aircraft = o->count < 10000 ? o->count : 10000;
    c->sky_duration_s = 5 * (o->count / c->sky_aircraft);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/peers", o->report_dir);
    if (mkdir(dir, 0777) && errno != EEXIST)
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: %s", dir, strerror(errno));
    if (write_kcat_input(c->kcat_in, o->count, o->size - SKY_PEER_HEADER_BYTES) ||
        write_copy_csv(c->copy_csv, o->count))
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: cannot write the peers' input files",
                       dir);
    return 0;
}

int sky_peers_run(const sky_peers_config_t *cfg, FILE *table, char *errstr, size_t errstr_size) {
    peers_ctx_t c;
    memset(&c, 0, sizeof c);
    c.o = cfg;
    int rc = peers_setup(&c, errstr, errstr_size);
    if (rc)
        return rc;
    peer_result_t *res = calloc(NPEERS, sizeof *res);
    if (!res)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (int k = 0; k < NPEERS && !stopped(cfg); k++) {
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
    if (table)
        print_peers(table, &c, res);
    char path[1100];
    snprintf(path, sizeof path, "%s/peers.txt", cfg->report_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        print_peers(f, &c, res);
        fclose(f);
    }
    json_t *j = peers_json(&c, res);
    snprintf(path, sizeof path, "%s/peers.json", cfg->report_dir);
    if (!f || !j || json_dump_file(j, path, JSON_INDENT(1)))
        rc = sky_err(errstr, errstr_size, SKY_EIO, "%s: cannot write the results", cfg->report_dir);
    json_decref(j);
    free(res);
    return rc;
}
