/* Each component of the loop alone: Kafka (our producer and consumer at once), an
 * indexed COPY by N connections at once, tile38-benchmark, EndToEndLatency. */
#include "components.h"

#include "codec.h"
#include "ingest.h"
#include "error.h"
#include "kafka_admin.h"
#include "log.h"
#include "parse.h"
#include "peers.h"
#include "pgsink.h"
#include "procstat.h"
#include "schema.h"
#include "tile38.h"
#include "timefmt.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Rows per flight in the generated data, flights interleaved record by record as live
 * traffic is: a batch holds about one row per flight (no collapse into fewer SETs). */
#define FLIGHT_ROWS 10

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool stopped(const sky_components_config_t *c) {
    return c->stop && *c->stop;
}

static void note(sky_component_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(sky_component_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->note, sizeof c->note, fmt, ap);
    va_end(ap);
}

/* A server's CPU so far (with children: postgres' backends); < 0 when not known. */
static double server_cpu(const char *pidfile, bool children) {
    pid_t pid;
    sky_proc_usage_t u;
    if (!pidfile || sky_proc_read_pidfile(pidfile, &pid, NULL, 0) ||
        sky_proc_usage(pid, children, &u, NULL, 0))
        return -1;
    return u.cpu_s;
}

static double self_cpu(void) {
    sky_proc_usage_t u;
    return sky_proc_usage(getpid(), false, &u, NULL, 0) ? -1 : u.cpu_s;
}

/* Per-record CPU over a component's run, microseconds. */
static void per_record(sky_component_t *c, double server0, double server1, double self0,
                       double self1, int64_t records) {
    c->server_us = server0 >= 0 && server1 >= 0 ? (server1 - server0) * 1e6 / (double)records : -1;
    c->client_us = self0 >= 0 && self1 >= 0 ? (self1 - self0) * 1e6 / (double)records : -1;
}

/* Record i of n: flight i % flights, its seq i / flights (5 s apart). */
static int64_t gen_flights(int64_t n) {
    return n / FLIGHT_ROWS > 0 ? n / FLIGHT_ROWS : 1;
}

static void gen_flight(int64_t i, int64_t n, sky_flight_t *f, int64_t *ts_ms, int64_t *seq) {
    int64_t flight = i % gen_flights(n);
    memset(f, 0, sizeof *f);
    *seq = i / gen_flights(n);
    *ts_ms = INT64_C(1795600800000) + *seq * 5000;
    snprintf(f->flight_id, sizeof f->flight_id, "CMP%lld-%06llx", (long long)(flight % 9000),
             (unsigned long long)flight);
    f->has_location = true;
    f->latitude = -60 + (double)((flight * 7 + *seq) % 120) + 0.1234567;
    f->longitude = -170 + (double)((flight * 13 + *seq) % 340) + 0.7654321;
    f->altitude = (int32_t)(30000 + *seq * 10);
    f->airspeed = (int32_t)(400 + flight % 100);
    sky_ts_format(*ts_ms, SKY_TS_ISO8601, f->timestamp);
    f->has_metadata = true;
    snprintf(f->airline, sizeof f->airline, "CMP");
    snprintf(f->flight_number, sizeof f->flight_number, "CP%lld", (long long)(flight % 9000));
    snprintf(f->departure_airport, sizeof f->departure_airport, "EGLL");
    snprintf(f->arrival_airport, sizeof f->arrival_airport, "KJFK");
}

/* ---- Kafka: produce and consume at once ---- */

typedef struct consume_job {
    const sky_components_config_t *cfg;
    const char *topic;
    int64_t want, got;
    int64_t last_ns;
    atomic_int ready;
    char err[256];
} consume_job_t;

static void *consume_main(void *arg) {
    consume_job_t *j = arg;
    int n = 0;
    sky_consumer_t *c = sky_consumer_new(j->cfg->kafka, NULL, j->err, sizeof j->err);
    if (c && sky_consumer_assign_all(c, j->topic, RD_KAFKA_OFFSET_BEGINNING, &n, j->err,
                                     sizeof j->err)) {
        sky_consumer_destroy(c);
        c = NULL;
    }
    atomic_store(&j->ready, c ? 1 : -1);
    int64_t deadline = sky_monotonic_ns() + INT64_C(300) * 1000000000;
    while (c && j->got < j->want && sky_monotonic_ns() < deadline && !stopped(j->cfg)) {
        rd_kafka_message_t *m = sky_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err) {
            j->got++;
            j->last_ns = sky_monotonic_ns();
        }
        rd_kafka_message_destroy(m);
    }
    sky_consumer_destroy(c);
    return NULL;
}

/* ---- ingest alone, draining the Kafka component's topic ---- */

typedef struct ingest_job {
    sky_ingest_t *in;
    volatile sig_atomic_t stop;
    int rc;
    char err[512];
} ingest_job_t;

static void *ingest_main(void *arg) {
    ingest_job_t *j = arg;
    j->rc = sky_ingest_run(j->in, &j->stop, j->err, sizeof j->err);
    return NULL;
}

static void drop_scratch(const sky_components_config_t *cfg, const char *schema,
                         const char *collection) {
    char sql[256], err[256];
    PGconn *c = PQconnectdb(cfg->pg_conninfo ? cfg->pg_conninfo : "");
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS \"%s\" "
                              "CASCADE", schema);
    if (PQstatus(c) == CONNECTION_OK)
        PQclear(PQexec(c, sql));
    PQfinish(c);
    const char *argv[] = {"DROP", collection};
    if (collection)
        sky_tile38_oneshot(cfg->tile38, 2, argv, err, sizeof err);
}

static void ingest_component(const sky_components_config_t *cfg, const char *topic,
                             sky_components_result_t *res) {
    sky_component_t *out = &res->ingest;
    char name[160], host[256] = "127.0.0.1", err[512] = "";
    int port = 9851, code;
    bool t38 = !(cfg->tile38 && strcmp(cfg->tile38, "none") == 0);
    snprintf(name, sizeof name, "%s_ingest", cfg->name_prefix);
    if (t38 && cfg->tile38 &&
        sky_parse_hostport(cfg->tile38, host, sizeof host, &port, "--tile38", err, sizeof err)) {
        note(out, "failed: %.180s", err);
        return;
    }
    sky_ingest_config_t ic;
    sky_ingest_config_init(&ic);
    ic.kafka = cfg->kafka;
    ic.topic = topic;
    ic.group = name;
    ic.schema = name;
    ic.collection = name;
    ic.init_schema = true;
    ic.pg_conninfo = cfg->pg_conninfo;
    ic.disable_tile38 = !t38;
    ic.tile38_host = host;
    ic.tile38_port = port;
    ic.pg_connections = cfg->pg_connections;
    ingest_job_t job = {0};
    pthread_t tid;
    if (!(job.in = sky_ingest_new(&ic, &code, err, sizeof err)) ||
        pthread_create(&tid, NULL, ingest_main, &job)) {
        note(out, "failed: %.180s", err[0] ? err : "cannot start the ingest thread");
        sky_ingest_destroy(job.in);
        drop_scratch(cfg, name, t38 ? name : NULL);
        return;
    }
    sky_ingest_snapshot_t snap;
    int64_t t0 = 0, stored0 = 0, deadline = sky_monotonic_ns() + INT64_C(300) * 1000000000;
    double pg0 = -1, me0 = -1, kf0 = -1, t380 = -1;
    for (;;) {
        sky_ingest_snapshot(job.in, &snap);
        int64_t now = sky_monotonic_ns();
        if (!t0 && snap.stored_pg > 0) { /* from the first stored row: the join is not counted */
            t0 = now;
            stored0 = (int64_t)snap.stored_pg;
            pg0 = server_cpu(cfg->pg_pidfile, true);
            me0 = self_cpu();
            kf0 = server_cpu(cfg->kafka_pidfile, false);
            t380 = server_cpu(cfg->tile38_pidfile, false);
        }
        if ((int64_t)snap.stored_pg >= cfg->records || now > deadline || stopped(cfg) || job.rc)
            break;
        sleep_ms(10);
    }
    int64_t rows = (int64_t)snap.stored_pg - stored0;
    if ((int64_t)snap.stored_pg >= cfg->records && rows > 0) {
        out->wall_s = (double)(sky_monotonic_ns() - t0) / 1e9;
        out->rate = (double)rows / out->wall_s;
        per_record(out, pg0, server_cpu(cfg->pg_pidfile, true), me0, self_cpu(), rows);
        double kf1 = server_cpu(cfg->kafka_pidfile, false), t381 = server_cpu(cfg->tile38_pidfile, false);
        res->ingest_broker_us = kf0 >= 0 && kf1 >= 0 ? (kf1 - kf0) * 1e6 / (double)rows : -1;
        res->ingest_tile38_us = t380 >= 0 && t381 >= 0 ? (t381 - t380) * 1e6 / (double)rows : -1;
        note(out, "skyload ingest (%d PostgreSQL connection(s)%s) draining %lld records",
             snap.pg_connections, t38 ? ", Tile38" : ", no Tile38", (long long)cfg->records);
    } else {
        note(out, "failed: %lld of %lld rows stored%s%.140s", (long long)snap.stored_pg,
             (long long)cfg->records, job.rc ? ": " : "", job.rc ? job.err : "");
    }
    job.stop = 1;
    pthread_join(tid, NULL);
    sky_ingest_destroy(job.in);
    drop_scratch(cfg, name, t38 ? name : NULL);
}

static void kafka_component(const sky_components_config_t *cfg, sky_components_result_t *res) {
    sky_component_t *out = &res->kafka;
    char topic[160], err[256];
    snprintf(topic, sizeof topic, "%s_kafka", cfg->name_prefix);
    if (sky_kafka_ensure_topic(cfg->kafka, topic, 6, NULL, err, sizeof err)) {
        note(out, "failed: %.180s", err);
        return;
    }
    consume_job_t job = {.cfg = cfg, .topic = topic, .want = cfg->records};
    pthread_t tid;
    sky_producer_t *p = sky_producer_new(cfg->kafka, topic, err, sizeof err);
    if (!p || pthread_create(&tid, NULL, consume_main, &job)) {
        note(out, "failed: %.180s", p ? "cannot start the consumer thread" : err);
        sky_producer_destroy(p);
        sky_kafka_delete_topic(cfg->kafka, topic, 10000, err, sizeof err);
        return;
    }
    while (!atomic_load(&job.ready))
        sleep_ms(10);
    uint8_t buf[SKY_FLIGHT_ENCODED_MAX];
    double srv0 = server_cpu(cfg->kafka_pidfile, false), me0 = self_cpu();
    int64_t t0 = sky_monotonic_ns(), sent = 0;
    int rc = atomic_load(&job.ready) < 0;
    for (int64_t i = 0; i < cfg->records && !rc && !stopped(cfg); i++, sent++) {
        sky_flight_t f;
        int64_t ts, seq;
        gen_flight(i, cfg->records, &f, &ts, &seq);
        size_t n = sky_flight_encode(&f, buf, sizeof buf);
        rc = sky_producer_send(p, RD_KAFKA_PARTITION_UA, f.flight_id, strlen(f.flight_id), buf,
                               n, "components", seq, sky_now_ns(), err, sizeof err);
    }
    if (!rc)
        rc = sky_producer_flush(p, 60000, err, sizeof err);
    if (rc)
        job.want = job.got; /* let the consumer go */
    pthread_join(tid, NULL);
    sky_producer_destroy(p);
    if (job.ready < 0)
        note(out, "failed: consumer: %.180s", job.err);
    else if (rc)
        note(out, "failed: producer: %.180s", err);
    else if (job.got < cfg->records)
        note(out, "failed: %lld of %lld records came back", (long long)job.got,
             (long long)cfg->records);
    else {
        out->wall_s = (double)(job.last_ns - t0) / 1e9;
        out->rate = (double)sent / out->wall_s;
        per_record(out, srv0, server_cpu(cfg->kafka_pidfile, false), me0, self_cpu(), sent);
        note(out, "%lld records (FlightData, skyload headers, 6 partitions) produced by "
                  "skyload's producer and consumed at once",
             (long long)sent);
        if (!stopped(cfg)) {
            sky_log_info("bench: components alone: ingest draining the topic");
            ingest_component(cfg, topic, res);
        }
    }
    sky_kafka_delete_topic(cfg->kafka, topic, 10000, err, sizeof err);
}

/* ---- an indexed COPY by N connections at once ---- */

typedef struct copy_job {
    PGconn *conn;
    sky_buf_t data;
    char sql[256];
    int rc;
    char err[256];
    pthread_t tid;
} copy_job_t;

static void *copy_main(void *arg) {
    copy_job_t *j = arg;
    PGresult *r = PQexec(j->conn, j->sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    for (size_t at = 0; ok && at < j->data.len; at += 1 << 20) {
        size_t n = j->data.len - at < (1 << 20) ? j->data.len - at : 1 << 20;
        ok = PQputCopyData(j->conn, j->data.data + at, (int)n) == 1;
    }
    ok = ok && PQputCopyEnd(j->conn, NULL) == 1;
    while ((r = PQgetResult(j->conn))) {
        ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    if (!ok) {
        j->rc = -1;
        snprintf(j->err, sizeof j->err, "%s", PQerrorMessage(j->conn));
    }
    return NULL;
}

/* libpq prints NOTICEs (schema creation's "already exists") on stderr: not here. */
static void quiet_notice(void *arg, const char *message) {
    (void)arg;
    sky_log_debug("PostgreSQL: %s", message);
}

static int copy_prepare(const sky_components_config_t *cfg, const char *schema, copy_job_t *jobs,
                        int n, char *err, size_t errsz) {
    sky_schema_opts_t o;
    sky_schema_info_t info;
    sky_schema_opts_init(&o);
    o.schema = schema;
    for (int k = 0; k < n; k++) {
        jobs[k].conn = PQconnectdb(cfg->pg_conninfo ? cfg->pg_conninfo : "");
        sky_buf_init(&jobs[k].data, 0);
        if (jobs[k].conn)
            PQsetNoticeProcessor(jobs[k].conn, quiet_notice, NULL);
        if (PQstatus(jobs[k].conn) != CONNECTION_OK)
            return sky_err(err, errsz, SKY_EUNAVAIL, "PostgreSQL: %s",
                           PQerrorMessage(jobs[k].conn));
        snprintf(jobs[k].sql, sizeof jobs[k].sql,
                 "COPY \"%s\".flight_positions (\"time\", flight_id, seq, geom, altitude_ft, "
                 "airspeed_kt, airline, flight_number, departure, arrival, intended_at) FROM STDIN "
                 "WITH (FORMAT binary)",
                 schema);
        if (sky_buf_add(&jobs[k].data, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19))
            return sky_err(err, errsz, SKY_ENOMEM, "out of memory");
    }
    int rc = sky_schema_init(jobs[0].conn, &o, &info, err, errsz);
    /* the rows, spread record by record over the connections like partitions over lanes */
    for (int64_t i = 0; i < cfg->records && !rc; i++) {
        sky_flight_t f;
        int64_t ts, seq;
        gen_flight(i, cfg->records, &f, &ts, &seq);
        sky_pg_row_t row = {.flight = &f, .ts_ms = ts, .seq = seq, .intended_ns = sky_now_ns()};
        /* a flight's rows through one connection, as a partition's through one lane */
        if (sky_pg_copy_row_binary(&jobs[(i % gen_flights(cfg->records)) % n].data, &row))
            rc = sky_err(err, errsz, SKY_ENOMEM, "out of memory");
    }
    for (int k = 0; k < n && !rc; k++)
        if (sky_buf_add(&jobs[k].data, "\377\377", 2))
            rc = sky_err(err, errsz, SKY_ENOMEM, "out of memory");
    return rc;
}

static void copy_component(const sky_components_config_t *cfg, sky_component_t *out) {
    char schema[160], err[512] = "";
    int n = cfg->pg_connections > 0 ? cfg->pg_connections : 1;
    snprintf(schema, sizeof schema, "%s_copy", cfg->name_prefix);
    copy_job_t *jobs = calloc((size_t)n, sizeof *jobs);
    int rc = jobs ? copy_prepare(cfg, schema, jobs, n, err, sizeof err)
                  : sky_err(err, sizeof err, SKY_ENOMEM, "out of memory");
    double srv0 = rc ? -1 : server_cpu(cfg->pg_pidfile, true);
    int64_t t0 = sky_monotonic_ns();
    int started = 0;
    for (; !rc && started < n; started++)
        if (pthread_create(&jobs[started].tid, NULL, copy_main, &jobs[started]))
            rc = sky_err(err, sizeof err, SKY_ENOMEM, "cannot start a COPY thread");
    for (int k = 0; k < started; k++) {
        pthread_join(jobs[k].tid, NULL);
        if (jobs[k].rc && !rc)
            rc = sky_err(err, sizeof err, SKY_EPG, "COPY: %s", jobs[k].err);
    }
    if (!rc) {
        out->wall_s = (double)(sky_monotonic_ns() - t0) / 1e9;
        out->rate = (double)cfg->records / out->wall_s;
        per_record(out, srv0, server_cpu(cfg->pg_pidfile, true), -1, -1, cfg->records);
        note(out, "%lld rows, COPY binary into a fresh flight_positions (the loop's schema and "
                  "indexes) by %d connection(s) at once",
             (long long)cfg->records, n);
    } else {
        note(out, "failed: %.180s", err);
    }
    if (jobs && jobs[0].conn && PQstatus(jobs[0].conn) == CONNECTION_OK) {
        char sql[256];
        snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS \"%s\" "
                                  "CASCADE",
                 schema);
        PQclear(PQexec(jobs[0].conn, sql));
    }
    for (int k = 0; jobs && k < n; k++) {
        PQfinish(jobs[k].conn);
        sky_buf_free(&jobs[k].data);
    }
    free(jobs);
}

/* ---- tile38-benchmark, EndToEndLatency ---- */

static int slurp(const char *path, char *buf, size_t bufsz) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, bufsz - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return f ? 0 : -1;
}

static void tile38_component(const sky_components_config_t *cfg, sky_component_t *out) {
    char host[256] = "127.0.0.1", port_s[16], count[32], path[1200], err[256];
    int port = 9851;
    if (cfg->tile38 && sky_parse_hostport(cfg->tile38, host, sizeof host, &port, "--tile38", err,
                                          sizeof err)) {
        note(out, "failed: %.180s", err);
        return;
    }
    snprintf(port_s, sizeof port_s, "%d", port);
    snprintf(count, sizeof count, "%lld", (long long)cfg->records);
    snprintf(path, sizeof path, "%s/tile38-benchmark.out", cfg->work_dir);
    const char *argv[] = {cfg->tile38_benchmark, "-h", host, "-p", port_s, "-n", count, "-c", "1",
                          "-P", "100", "-q", "-t", "SET-POINT", NULL};
    sky_exec_result_t r;
    sky_peer_report_t rep;
    char *text = malloc(1 << 20);
    double srv0 = server_cpu(cfg->tile38_pidfile, false);
    if (!text || sky_bench_exec(argv, NULL, path, 600000, &r, err, sizeof err) || r.status ||
        slurp(path, text, 1 << 20) || sky_peer_parse_tile38_benchmark(text, &rep, err, sizeof err))
        note(out, "failed: %.180s", r.status ? "tile38-benchmark exited with an error" : err);
    else {
        out->rate = rep.msgs_s;
        out->wall_s = r.wall_s;
        per_record(out, srv0, server_cpu(cfg->tile38_pidfile, false), 0, r.cpu_s, cfg->records);
        note(out, "tile38-benchmark -n %lld -c 1 -P 100 -t SET-POINT (its own figure)",
             (long long)cfg->records);
    }
    free(text);
    const char *drop[] = {"DROP", "key:bench"}; /* its own key, left behind */
    sky_tile38_oneshot(cfg->tile38, 2, drop, err, sizeof err);
}

static void e2e_latency(const sky_components_config_t *cfg, sky_components_result_t *res) {
    char topic[160], cp[1100], log4j[1100], path[1200], err[256];
    const char *brokers = cfg->kafka && cfg->kafka->brokers ? cfg->kafka->brokers
                                                            : SKY_DEFAULT_BROKERS;
    snprintf(topic, sizeof topic, "%s_e2e", cfg->name_prefix);
    snprintf(cp, sizeof cp, "%s/kafka/libs/*", cfg->stack_dir);
    snprintf(log4j, sizeof log4j, "-Dlog4j.configuration=file:%s/kafka/tools-log4j.properties",
             cfg->stack_dir);
    snprintf(path, sizeof path, "%s/end-to-end-latency.out", cfg->work_dir);
    if (sky_kafka_ensure_topic(cfg->kafka, topic, 1, NULL, err, sizeof err)) {
        snprintf(res->e2e_note, sizeof res->e2e_note, "failed: %.180s", err);
        return;
    }
    const char *argv[] = {"java", "-Xms256m", "-Xmx512m", log4j, "-cp", cp,
                          "org.apache.kafka.tools.EndToEndLatency", brokers, topic, "5000", "all",
                          "220", NULL};
    sky_exec_result_t r;
    sky_peer_report_t rep;
    char *text = malloc(1 << 20);
    if (!text || sky_bench_exec(argv, NULL, path, 600000, &r, err, sizeof err) || r.status ||
        slurp(path, text, 1 << 20) ||
        sky_peer_parse_end_to_end_latency(text, &rep, err, sizeof err))
        snprintf(res->e2e_note, sizeof res->e2e_note, "failed: %.60s (output in %.110s)",
                 r.status ? "EndToEndLatency exited with an error" : err, path);
    else {
        res->e2e_p50_ms = rep.p50_ms;
        res->e2e_p99_ms = rep.p99_ms;
        snprintf(res->e2e_note, sizeof res->e2e_note,
                 "EndToEndLatency %.50s %.80s 5000 all 220 (one at a time, acks=all)",
                 brokers, topic);
    }
    free(text);
    sky_kafka_delete_topic(cfg->kafka, topic, 10000, err, sizeof err);
}

int sky_components_run(const sky_components_config_t *cfg, sky_components_result_t *res,
                       char *errstr, size_t errstr_size) {
    memset(res, 0, sizeof *res);
    sky_component_t *all[] = {&res->kafka, &res->ingest, &res->copy, &res->tile38};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        all[i]->rate = all[i]->server_us = all[i]->client_us = -1;
    res->ingest_broker_us = res->ingest_tile38_us = -1;
    res->e2e_p50_ms = res->e2e_p99_ms = -1;
    if (!cfg->name_prefix || !cfg->work_dir || cfg->records <= 0)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "components: a name prefix, a work directory and records > 0 are needed");
    sky_log_info("bench: components alone: Kafka produce + consume");
    kafka_component(cfg, res);
    if (!stopped(cfg)) {
        sky_log_info("bench: components alone: indexed COPY");
        copy_component(cfg, &res->copy);
    }
    bool t38 = !(cfg->tile38 && strcmp(cfg->tile38, "none") == 0);
    if (!t38)
        note(&res->tile38, "not measured: --tile38 none");
    else if (!cfg->tile38_benchmark)
        note(&res->tile38, "not measured: no tile38-benchmark");
    else if (!stopped(cfg)) {
        sky_log_info("bench: components alone: tile38-benchmark");
        tile38_component(cfg, &res->tile38);
    }
    if (!stopped(cfg)) {
        sky_log_info("bench: components alone: EndToEndLatency");
        e2e_latency(cfg, res);
    }
    return 0;
}

double sky_components_slowest(const sky_components_result_t *res, const char **which) {
    const struct {
        const char *name;
        const sky_component_t *c;
    } all[] = {{"Kafka produce+consume", &res->kafka},
               {"indexed COPY", &res->copy},
               {"tile38-benchmark SET", &res->tile38}};
    double slowest = -1;
    *which = "none";
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i].c->rate > 0 && (slowest < 0 || all[i].c->rate < slowest)) {
            slowest = all[i].c->rate;
            *which = all[i].name;
        }
    return slowest;
}

static json_t *component_json(const sky_component_t *c) {
    return json_pack("{sf sf sf sf ss}", "rate", c->rate, "wall_s", c->wall_s, "server_cpu_us",
                     c->server_us, "client_cpu_us", c->client_us, "note", c->note);
}

json_t *sky_components_to_json(const sky_components_result_t *res) {
    const char *which;
    double slowest = sky_components_slowest(res, &which);
    json_t *ingest = component_json(&res->ingest);
    json_object_set_new(ingest, "broker_cpu_us", json_real(res->ingest_broker_us));
    json_object_set_new(ingest, "tile38_cpu_us", json_real(res->ingest_tile38_us));
    return json_pack("{so so so so s{sf sf ss} sf ss}", "kafka", component_json(&res->kafka),
                     "ingest", ingest, "copy", component_json(&res->copy), "tile38",
                     component_json(&res->tile38),
                     "end_to_end_latency", "p50_ms", res->e2e_p50_ms, "p99_ms", res->e2e_p99_ms,
                     "note", res->e2e_note, "slowest_rate", slowest, "slowest", which);
}
