/* ingest thread + simulate + drain + verify, and the report directory. */
#include "loop.h"

#include "airspace_resolve.h"
#include "error.h"
#include "geofence.h"
#include "kafka_admin.h"
#include "schema.h"
#include "tile38.h"
#include "log.h"
#include "parse.h"
#include "report_html.h"
#include "timefmt.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

bool sky_loop_tile38_enabled(const sky_loop_config_t *cfg) {
    return !(cfg->tile38 && strcmp(cfg->tile38, "none") == 0);
}

static const char *loop_schema(const sky_loop_config_t *cfg) {
    return cfg->schema ? cfg->schema : SKY_LOOP_DEFAULT_SCHEMA;
}

typedef struct ingest_thread {
    sky_ingest_t *ingest;
    volatile sig_atomic_t stop;
    int rc;
    char err[512];
    pthread_t tid;
} ingest_thread_t;

static void *ingest_main(void *arg) {
    ingest_thread_t *t = arg;
    t->rc = sky_ingest_run(t->ingest, &t->stop, t->err, sizeof t->err);
    return NULL;
}

static void say(const sky_loop_config_t *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const sky_loop_config_t *cfg, const char *fmt, ...) {
    char line[256];
    va_list ap;
    if (!cfg->status)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cfg->status(cfg->status_opaque, line);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* mkdir -p: 0, or -1 with errno set. */
static int mkdir_p(const char *dir) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0777) && errno != EEXIST ? -1 : 0;
}

static int report_path(char *out, size_t outsz, const char *dir, const char *name, char *errstr,
                       size_t errstr_size) {
    if ((size_t)snprintf(out, outsz, "%s/%s", dir, name) >= outsz)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "--report: path \"%s\" is too long", dir);
    return 0;
}

/* The scenario's airspaces, resolved, as ingest registers them (docs/geofence.md). */
typedef struct loop_geo {
    sky_airspace_t *a;
    size_t n;
    char events_topic[512];
    sky_geofence_config_t gc;
} loop_geo_t;

static int geo_prepare(const sky_loop_config_t *cfg, const char *topic, loop_geo_t *g,
                       char *errstr, size_t errstr_size) {
    const sky_scenario_t *sc = cfg->scenario;
    if (cfg->events_topic)
        snprintf(g->events_topic, sizeof g->events_topic, "%s", cfg->events_topic);
    else
        sky_geofence_events_topic(topic, g->events_topic, sizeof g->events_topic);
    if (!sc->nairspaces || !sky_loop_tile38_enabled(cfg))
        return 0;
    if (!(g->a = calloc(sc->nairspaces, sizeof *g->a)))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (; g->n < sc->nairspaces; g->n++)
        if (sky_airspace_copy(&g->a[g->n], &sc->airspaces[g->n]))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    if (sky_airspaces_resolve_dir(g->a, g->n, sc->data_dir, errstr, errstr_size))
        return SKY_EUSAGE;
    g->gc = (sky_geofence_config_t){.airspaces = g->a,
                                    .nairspaces = g->n,
                                    .route = (sky_geofence_route_t)cfg->geofence_route,
                                    .events_topic = g->events_topic,
                                    .events_partitions = sc->partitions,
                                    .brokers = cfg->kafka ? cfg->kafka->brokers : NULL};
    return 0;
}

static int start_ingest(const sky_loop_config_t *cfg, const char *topic, ingest_thread_t *t,
                        const loop_geo_t *geo, char *errstr, size_t errstr_size) {
    sky_ingest_config_t ic;
    char host[256];
    int port = 9851, code = SKY_EUNAVAIL;
    sky_ingest_config_init(&ic);
    bool with_tile38 = sky_loop_tile38_enabled(cfg);
    if (with_tile38 && cfg->tile38 &&
        sky_parse_hostport(cfg->tile38, host, sizeof host, &port, "--tile38", errstr,
                           errstr_size))
        return SKY_EUSAGE;
    ic.disable_tile38 = !with_tile38;
    ic.kafka = cfg->kafka;
    ic.topic = topic;
    ic.group = cfg->group;
    ic.tile38_host = with_tile38 && cfg->tile38 ? host : NULL;
    ic.tile38_port = port;
    ic.pg_conninfo = cfg->pg_conninfo;
    ic.schema = loop_schema(cfg);
    ic.init_schema = true;
    ic.ttl_s = (int)cfg->scenario->ttl_s;
    ic.geofence = geo->n ? &geo->gc : NULL; /* registered by ingest's init, relayed by it */
    t->ingest = sky_ingest_new(&ic, &code, errstr, errstr_size);
    if (!t->ingest)
        return code ? code : SKY_EUNAVAIL;
    if (pthread_create(&t->tid, NULL, ingest_main, t)) {
        sky_ingest_destroy(t->ingest);
        t->ingest = NULL;
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "cannot start the ingest thread");
    }
    /* Waiting for the assignment keeps the first records' latency honest. */
    for (int i = 0; i < 300; i++) {
        sky_ingest_snapshot_t s;
        sky_ingest_snapshot(t->ingest, &s);
        if (s.assigned > 0)
            break;
        sleep_ms(100);
    }
    return 0;
}

static int stop_ingest(ingest_thread_t *t, sky_loop_result_t *res, const char *stats_path,
                       char *errstr, size_t errstr_size) {
    if (!t->ingest)
        return 0;
    t->stop = 1;
    pthread_join(t->tid, NULL);
    sky_ingest_snapshot(t->ingest, &res->ingest);
    int rc = t->rc ? sky_err(errstr, errstr_size, t->rc, "ingest: %s", t->err) : 0;
    int wrc = sky_ingest_write_stats(t->ingest, stats_path, errstr, errstr_size);
    sky_ingest_destroy(t->ingest);
    t->ingest = NULL;
    return rc ? rc : wrc;
}

/* Waits until the ingest (ours or the external group) has consumed and
 * committed everything on the topic. */
static void drain(const sky_loop_config_t *cfg, const char *topic, ingest_thread_t *t,
                  volatile sig_atomic_t *stop, sky_loop_result_t *res) {
    int64_t timeout = cfg->drain_timeout_ms > 0 ? cfg->drain_timeout_ms : 120000;
    int64_t start = sky_monotonic_ns();
    const char *group = cfg->group ? cfg->group : SKY_INGEST_DEFAULT_GROUP;
    res->drained = false;
    while (!(stop && *stop) && (sky_monotonic_ns() - start) / 1000000 < timeout) {
        int64_t lag = -1, pending = 0;
        char err[256];
        if (t->ingest) {
            sky_ingest_snapshot_t s;
            sky_ingest_snapshot(t->ingest, &s);
            pending = s.pending;
            if (t->rc) /* the ingest thread ended on an error: nothing will drain */
                break;
        }
        if (sky_kafka_group_lag(cfg->kafka, group, topic, 5000, &lag, err, sizeof err))
            sky_log_warn("drain: %s", err);
        say(cfg, "drain: lag %lld, pending %lld", (long long)lag, (long long)pending);
        if (lag == 0 && pending == 0) {
            res->drained = true;
            break;
        }
        sleep_ms(250);
    }
    res->drain_s = (double)(sky_monotonic_ns() - start) / 1e9;
}

static void sim_progress(void *opaque, const sky_sim_progress_t *p) {
    const sky_loop_config_t *cfg = opaque;
    say(cfg, "simulate: %llu airborne, %llu sent, %.0f msgs/s, lag %.1f ms, %llu failed",
        (unsigned long long)p->airborne, (unsigned long long)p->sent, p->msgs_per_s,
        (double)p->lag_us / 1000.0, (unsigned long long)p->failed);
}

static int simulate(const sky_loop_config_t *cfg, const char *topic, const char *manifest_path,
                    const loop_geo_t *geo, volatile sig_atomic_t *stop, sky_loop_result_t *res,
                    char *errstr, size_t errstr_size) {
    sky_sim_config_t sc;
    memset(&sc, 0, sizeof sc);
    sc.scenario = cfg->scenario;
    sc.sink = SKY_SINK_KAFKA;
    sc.kafka = cfg->kafka;
    sc.topic = topic;
    sc.create_topic = true;
    sc.manifest_path = manifest_path;
    sc.shard_count = 1;
    sc.events_topic = geo->events_topic;
    if (cfg->external_ingest) /* its pipeline keeps earlier runs' flights: new ids */
        sc.flight_index_base = (uint64_t)(sky_now_ns() / 1000000000) << 24;
    sc.progress = sim_progress;
    sc.progress_opaque = (void *)cfg;
    if (cfg->scenario->timestamp_format &&
        sky_ts_format_parse(cfg->scenario->timestamp_format, &sc.ts_format, errstr, errstr_size))
        return SKY_EUSAGE;
    return sky_sim_run(&sc, stop, &res->sim, errstr, errstr_size);
}

static int write_reports(const sky_loop_config_t *cfg, sky_verify_report_t *r, const char *topic,
                         const char *manifest_path, char *errstr, size_t errstr_size) {
    static const struct {
        const char *name;
        sky_verify_format_t fmt;
    } files[] = {{"verify.txt", SKY_VERIFY_FORMAT_TEXT},
                 {"verify.json", SKY_VERIFY_FORMAT_JSON},
                 {"verify.xml", SKY_VERIFY_FORMAT_JUNIT}};
    char path[1024];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (report_path(path, sizeof path, cfg->report_dir, files[i].name, errstr, errstr_size))
            return SKY_EUSAGE;
        FILE *f = fopen(path, "w");
        if (!f)
            return sky_err(errstr, errstr_size, SKY_EIO, "%s: %s", path, strerror(errno));
        int rc = sky_verify_report_write(r, files[i].fmt, f);
        if (fclose(f) || rc)
            return sky_err(errstr, errstr_size, SKY_EIO, "%s: write failed", path);
    }
    int rc = sky_verify_report_write_hgrm(r, cfg->report_dir, errstr, errstr_size);
    if (!rc && !report_path(path, sizeof path, cfg->report_dir, "report.html", errstr, errstr_size))
        rc = sky_verify_write_report_page(r, cfg->kafka, topic, &manifest_path, 1, path, errstr,
                                          errstr_size);
    return rc;
}

static int verify(const sky_loop_config_t *cfg, const char *topic, const char *manifest_path,
                  const char *stats_path, const loop_geo_t *geo, volatile sig_atomic_t *stop,
                  sky_loop_result_t *res, char *errstr, size_t errstr_size) {
    sky_verify_config_t vc;
    memset(&vc, 0, sizeof vc);
    vc.manifest_paths = &manifest_path;
    vc.nmanifests = 1;
    vc.kafka = cfg->kafka;
    vc.topic = topic;
    vc.pg_conninfo = cfg->pg_conninfo;
    vc.schema = cfg->external_ingest ? cfg->schema : loop_schema(cfg);
    vc.tile38 = cfg->tile38;
    vc.events_topic = geo->events_topic;
    if (!sky_loop_tile38_enabled(cfg))
        vc.checks = SKY_VERIFY_ALL & ~(SKY_VERIFY_TILE38 | SKY_VERIFY_GEOFENCE);
    vc.ingest_stats_path = cfg->external_ingest ? NULL : stats_path;
    vc.stop = stop;
    int rc = sky_verify_run(&vc, &res->report, errstr, errstr_size);
    return rc ? rc : write_reports(cfg, res->report, topic, manifest_path, errstr, errstr_size);
}

/* The in-process pipeline starts from nothing: a run's flight ids, times and
 * seqs repeat with its scenario and seed, so rows and Tile38 objects left by an
 * earlier run would be taken as this run's (or block its rows on the unique key). */
static int reset_pg(const sky_loop_config_t *cfg, char *errstr, size_t errstr_size) {
    const char *schema = loop_schema(cfg);
    if (strcmp(schema, "public") == 0)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--schema public: run drops and recreates its schema at the start; "
                       "give it a schema of its own (default %s)", SKY_LOOP_DEFAULT_SCHEMA);
    if (sky_schema_check_name(schema, errstr, errstr_size))
        return SKY_EUSAGE;
    PGconn *conn = PQconnectdb(cfg->pg_conninfo ? cfg->pg_conninfo : "");
    int rc = 0;
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = sky_err(errstr, errstr_size, SKY_EUNAVAIL, "PostgreSQL: %s",
                     PQerrorMessage(conn));
    } else {
        char *ident = PQescapeIdentifier(conn, schema, strlen(schema));
        char sql[256];
        snprintf(sql, sizeof sql, "SET client_min_messages = warning; "
                                  "DROP SCHEMA IF EXISTS %s CASCADE", ident ? ident : "\"\"");
        PQfreemem(ident);
        PGresult *r = PQexec(conn, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = sky_err(errstr, errstr_size, SKY_EPG, "drop schema %s: %s", schema,
                         PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(conn);
    return rc;
}

static int reset_tile38(const sky_loop_config_t *cfg, char *errstr, size_t errstr_size) {
    const char *argv[] = {"DROP", SKY_INGEST_DEFAULT_COLLECTION};
    return sky_tile38_oneshot(cfg->tile38, 2, argv, errstr, errstr_size);
}

int sky_loop_run(const sky_loop_config_t *cfg, volatile sig_atomic_t *stop, sky_loop_result_t *res,
                 char *errstr, size_t errstr_size) {
    char manifest[1024], stats[1024];
    ingest_thread_t t;
    loop_geo_t geo;
    memset(res, 0, sizeof *res);
    memset(&t, 0, sizeof t);
    memset(&geo, 0, sizeof geo);
    const char *topic = cfg->topic       ? cfg->topic
                        : cfg->scenario->topic ? cfg->scenario->topic
                                               : "flights";
    if (mkdir_p(cfg->report_dir))
        return sky_err(errstr, errstr_size, SKY_EIO, "--report %s: %s", cfg->report_dir,
                       strerror(errno));
    if (report_path(manifest, sizeof manifest, cfg->report_dir, "manifest.json", errstr,
                    errstr_size) ||
        report_path(stats, sizeof stats, cfg->report_dir, "ingest-stats.json", errstr,
                    errstr_size))
        return SKY_EUSAGE;
    int rc = sky_kafka_ensure_topic(cfg->kafka, topic, cfg->scenario->partitions, NULL, errstr,
                                    errstr_size);
    if (!rc)
        rc = geo_prepare(cfg, topic, &geo, errstr, errstr_size);
    if (!rc && !cfg->external_ingest) {
        say(cfg, "reset: schema %s%s", loop_schema(cfg),
            sky_loop_tile38_enabled(cfg) ? " and the Tile38 collection" : "");
        rc = reset_pg(cfg, errstr, errstr_size);
        if (!rc && sky_loop_tile38_enabled(cfg))
            rc = reset_tile38(cfg, errstr, errstr_size);
    }
    if (!rc && !cfg->external_ingest) {
        say(cfg, "ingest: starting");
        rc = start_ingest(cfg, topic, &t, &geo, errstr, errstr_size);
        if (!rc && cfg->ingest_started)
            cfg->ingest_started(cfg->status_opaque, t.ingest);
    }
    if (!rc)
        rc = simulate(cfg, topic, manifest, &geo, stop, res, errstr, errstr_size);
    if (!rc)
        drain(cfg, topic, &t, stop, res);
    int src = stop_ingest(&t, res, stats, errstr, errstr_size);
    if (!rc)
        rc = src;
    if (!rc)
        rc = verify(cfg, topic, manifest, stats, &geo, stop, res, errstr, errstr_size);
    sky_airspaces_free(geo.a, geo.n);
    return rc;
}
