/* The capacity ramp: per step a fresh topic, group and schema, sky_loop_run at
 * aircraft N in real time, lag and /proc samples over the hold window, and the
 * hold window's end-to-end latency read back from PostgreSQL. */
#include "capacity.h"

#include "components.h"
#include "error.h"
#include "kafka_admin.h"
#include "log.h"
#include "procstat.h"
#include "scenario.h"
#include "tile38.h"
#include "timefmt.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LAG_SAMPLES 4096

typedef struct watched_proc {
    const char *name;
    pid_t pid;
    bool children;
    sky_proc_usage_t start;
    int64_t max_rss;
    bool ok;
} watched_proc_t;

/* Samples the group's lag and the processes once a second during the hold window. */
typedef struct sampler {
    const sky_capacity_config_t *cfg;
    char topic[128];
    atomic_int_least64_t sim_start_ns; /* wall clock; 0 until simulate reports */
    atomic_int done;
    sky_lag_sample_t samples[MAX_LAG_SAMPLES];
    size_t nsamples;
    watched_proc_t procs[SKY_RAMP_MAX_PROCS];
    size_t nprocs;
    int64_t hold_start_mono, hold_end_mono;
    bool hold_started, hold_ended;
    double cpu_cores[SKY_RAMP_MAX_PROCS];
    uint64_t sys_busy0, sys_total0;
    double cpu_busy; /* the machine's, over the hold; -1 unknown */
    _Atomic(sky_ingest_t *) ingest;
    pthread_t tid;
} sampler_t;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void add_proc(sampler_t *s, const char *name, const char *pidfile, bool children) {
    char err[256];
    pid_t pid = getpid();
    if (pidfile && sky_proc_read_pidfile(pidfile, &pid, err, sizeof err)) {
        sky_log_warn("bench capacity: no %s row: %s", name, err);
        return;
    }
    s->procs[s->nprocs++] = (watched_proc_t){.name = name, .pid = pid, .children = children};
}

static void procs_sample(sampler_t *s, bool at_start, bool at_end, int64_t now_mono) {
    for (size_t i = 0; i < s->nprocs; i++) {
        watched_proc_t *p = &s->procs[i];
        sky_proc_usage_t u;
        if (sky_proc_usage(p->pid, p->children, &u, NULL, 0))
            continue;
        if (at_start) {
            p->start = u;
            p->ok = true;
        }
        if (u.rss_kib > p->max_rss)
            p->max_rss = u.rss_kib;
        if (at_end && p->ok && now_mono > s->hold_start_mono)
            s->cpu_cores[i] =
                (u.cpu_s - p->start.cpu_s) / ((double)(now_mono - s->hold_start_mono) / 1e9);
    }
}

static void lag_sample(sampler_t *s, int64_t now_mono) {
    const sky_capacity_config_t *cfg = s->cfg;
    int64_t lag = -1;
    char err[256];
    if (sky_kafka_group_lag(cfg->kafka, s->topic, s->topic, 2000, &lag, err, sizeof err) ||
        lag < 0 || s->nsamples == MAX_LAG_SAMPLES)
        return;
    s->samples[s->nsamples++] =
        (sky_lag_sample_t){(double)(now_mono - s->hold_start_mono) / 1e9, lag};
}

static void sys_sample(sampler_t *s, bool at_start) {
    uint64_t busy, total;
    if (sky_sys_cpu(&busy, &total))
        return;
    if (at_start) {
        s->sys_busy0 = busy;
        s->sys_total0 = total;
    } else if (total > s->sys_total0) {
        s->cpu_busy = (double)(busy - s->sys_busy0) / (double)(total - s->sys_total0);
    }
}

static void *sampler_main(void *arg) {
    sampler_t *s = arg;
    const sky_capacity_config_t *cfg = s->cfg;
    while (!atomic_load(&s->done)) {
        int64_t start = atomic_load(&s->sim_start_ns);
        int64_t now_mono = sky_monotonic_ns();
        if (start > 0 && !s->hold_started &&
            sky_now_ns() >= start + cfg->warmup_ms * 1000000) {
            s->hold_started = true;
            s->hold_start_mono = now_mono;
            procs_sample(s, true, false, now_mono);
            sys_sample(s, true);
            /* ingest's stage histograms describe the hold (and the drain after it) */
            sky_ingest_t *in = atomic_load(&s->ingest);
            if (in)
                sky_ingest_reset_latency(in);
        } else if (s->hold_started && !s->hold_ended) {
            bool end = now_mono - s->hold_start_mono >= cfg->hold_ms * 1000000;
            lag_sample(s, now_mono);
            procs_sample(s, false, end, sky_monotonic_ns());
            if (end) {
                s->hold_ended = true;
                s->hold_end_mono = now_mono;
                sys_sample(s, false);
            }
        }
        int64_t left_ms =
            cfg->hold_ms - (sky_monotonic_ns() - s->hold_start_mono) / 1000000;
        sleep_ms(s->hold_started && !s->hold_ended ? (int)(left_ms < 1000 ? (left_ms > 10 ? left_ms : 10) : 1000) : 100);
    }
    /* The loop can end (drained and verified) within a sample interval of the hold's end. */
    if (s->hold_started && !s->hold_ended) {
        lag_sample(s, sky_monotonic_ns());
        procs_sample(s, false, true, sky_monotonic_ns());
        sys_sample(s, false);
        s->hold_ended = true;
    }
    return NULL;
}

static void ingest_hook(void *opaque, sky_ingest_t *in) {
    sampler_t *s = opaque;
    atomic_store(&s->ingest, in);
}

static void status_hook(void *opaque, const char *line) {
    sampler_t *s = opaque;
    int64_t zero = 0;
    /* The loop reports "simulate: ..." from the emission loop's first progress report. */
    if (strncmp(line, "simulate:", 9) == 0)
        atomic_compare_exchange_strong(&s->sim_start_ns, &zero, sky_now_ns());
    if (s->cfg->status)
        s->cfg->status(s->cfg->opaque, line);
}

static sky_ramp_lat_t no_lat(void) {
    return (sky_ramp_lat_t){-1, -1, -1, -1, -1};
}

static sky_ramp_lat_t hist_lat(const sky_hist_t *h) {
    if (!h || sky_hist_count(h) == 0)
        return no_lat();
    return (sky_ramp_lat_t){sky_hist_percentile(h, 50), sky_hist_percentile(h, 90),
                            sky_hist_percentile(h, 99), sky_hist_percentile(h, 99.9),
                            sky_hist_max(h)};
}

/* Percentiles of one histogram of ingest's stats JSON (lib/histogram.h's form). */
static sky_ramp_lat_t json_hist_lat(json_t *h) {
    char *text = json_is_object(h) ? json_dumps(h, JSON_COMPACT) : NULL;
    char err[128];
    sky_hist_t *hist = text ? sky_hist_from_json(text, err, sizeof err) : NULL;
    free(text);
    sky_ramp_lat_t l = hist_lat(hist);
    sky_hist_destroy(hist);
    return l;
}

/* The stage breakdown from the step's ingest-stats.json (from the hold on), and how
 * busy each sink was: its write time over the window, per connection. */
static void stages_from_stats(const char *dir, double window_s, sky_ramp_step_t *step) {
    char path[1100];
    snprintf(path, sizeof path, "%s/ingest-stats.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    json_t *st = json_object_get(root, "stages_us");
    static const struct {
        sky_stage_t stage;
        const char *key;
    } keys[] = {{SKY_STAGE_CONSUME, "consume"},   {SKY_STAGE_BATCH, "batch"},
                {SKY_STAGE_PG, "pg"},             {SKY_STAGE_TILE38, "tile38"},
                {SKY_STAGE_PG_WRITE, "pg_write_batch"},
                {SKY_STAGE_TILE38_WRITE, "tile38_write_batch"},
                {SKY_STAGE_COMMIT, "commit"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        step->stages[keys[i].stage] = json_hist_lat(json_object_get(st, keys[i].key));
    step->decode_ns = json_hist_lat(json_object_get(root, "decode_ns"));
    step->tile38 = json_hist_lat(json_object_get(json_object_get(root, "latency_us"), "tile38"));
    step->pg_connections = (int)json_integer_value(json_object_get(root, "pg_connections"));
    double pg_s = json_number_value(json_object_get(json_object_get(st, "pg_write_batch"), "sum"));
    double t38_s =
        json_number_value(json_object_get(json_object_get(st, "tile38_write_batch"), "sum"));
    if (window_s > 0 && step->pg_connections > 0)
        step->pg_busy = pg_s / 1e6 / window_s / step->pg_connections;
    if (window_s > 0 && step->tile38.p99 >= 0 && step->pg_connections > 0)
        step->tile38_busy = t38_s / 1e6 / window_s / step->pg_connections; /* a writer per lane */
    json_decref(root);
}

static int64_t cell_i64(PGresult *r, int col) {
    if (PQgetisnull(r, 0, col))
        return -1;
    return strtoll(PQgetvalue(r, 0, col), NULL, 10);
}

/* Rows stored during the window, and stored_at - intended_at of the rows intended in it. */
static int hold_window_pg(const sky_capacity_config_t *cfg, const char *schema, double from_s,
                          double to_s, sky_ramp_step_t *step, char *errstr, size_t errstr_size) {
    char sql[1536];
    snprintf(sql, sizeof sql,
             "WITH w AS (SELECT (extract(epoch FROM stored_at - intended_at) * 1e6)::bigint AS us "
             "FROM \"%s\".flight_positions WHERE intended_at >= to_timestamp(%.6f) "
             "AND intended_at < to_timestamp(%.6f)) "
             "SELECT (SELECT count(*) FROM \"%s\".flight_positions WHERE stored_at >= "
             "to_timestamp(%.6f) AND stored_at < to_timestamp(%.6f)), "
             "percentile_disc(0.5) WITHIN GROUP (ORDER BY us), "
             "percentile_disc(0.9) WITHIN GROUP (ORDER BY us), "
             "percentile_disc(0.99) WITHIN GROUP (ORDER BY us), "
             "percentile_disc(0.999) WITHIN GROUP (ORDER BY us), max(us) FROM w",
             schema, from_s, to_s, schema, from_s, to_s);
    PGconn *conn = PQconnectdb(cfg->pg_conninfo ? cfg->pg_conninfo : "");
    int rc = 0;
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = sky_err(errstr, errstr_size, SKY_EUNAVAIL, "PostgreSQL: %s", PQerrorMessage(conn));
    } else {
        PGresult *r = PQexec(conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            rc = sky_err(errstr, errstr_size, SKY_EPG, "hold window latency in %s: %s", schema,
                         PQresultErrorMessage(r));
        } else {
            step->achieved_msgs_s = (double)cell_i64(r, 0) / (to_s - from_s);
            step->pg_commit = (sky_ramp_lat_t){cell_i64(r, 1), cell_i64(r, 2), cell_i64(r, 3),
                                               cell_i64(r, 4), cell_i64(r, 5)};
        }
        PQclear(r);
        if (!rc) {
            snprintf(sql, sizeof sql,
                     "SET client_min_messages = warning; DROP SCHEMA IF EXISTS \"%s\" CASCADE",
                     schema);
            PQclear(PQexec(conn, sql));
        }
    }
    PQfinish(conn);
    return rc;
}

static sky_scenario_t *step_scenario(const sky_capacity_config_t *cfg, uint64_t aircraft,
                                     char *errstr, size_t errstr_size) {
    sky_scenario_t *sc = NULL;
    if (sky_scenario_load(cfg->scenario_path, &sc, errstr, errstr_size))
        return NULL;
    sc->load.kind = SKY_PROFILE_CONSTANT;
    sc->load.from = sc->load.to = aircraft;
    sc->duration_ms = cfg->warmup_ms + cfg->hold_ms;
    sc->speedup = 1;
    sc->rate = 0;
    sc->has_start_time = false;
    return sc;
}

/* The manifest's started_at is the emission loop's own start; the status line
 * that the sampler saw comes up to a progress interval later. */
static double manifest_start_s(const char *dir, int64_t fallback_ns) {
    char path[1100];
    int64_t ms = 0;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    const char *ts = json_string_value(json_object_get(m, "started_at"));
    int bad = !ts || sky_ts_parse(ts, strlen(ts), &ms, NULL, 0);
    json_decref(m);
    return bad ? (double)fallback_ns / 1e9 : (double)ms / 1000.0;
}

static void fill_from_sampler(sampler_t *s, sky_ramp_step_t *step) {
    sky_ramp_lag_trend(s->samples, s->nsamples, step->offered_msgs_s, &step->lag);
    for (size_t i = 0; i < s->nprocs; i++) {
        sky_ramp_proc_t *p = &step->procs[step->nprocs++];
        snprintf(p->name, sizeof p->name, "%s", s->procs[i].name);
        p->cpu_cores = s->cpu_cores[i];
        p->rss_kib = s->procs[i].max_rss;
    }
}

/* One step: the loop with the sampler beside it, then the hold window's figures. */
/* index SIZE_MAX: the half-knee step (topic _half, directory half-knee/). */
static int run_step(const sky_capacity_config_t *cfg, size_t index, uint64_t aircraft,
                    volatile sig_atomic_t *stop, sky_ramp_step_t *step, int64_t *cadence_ms,
                    char *errstr, size_t errstr_size) {
    sampler_t *s = calloc(1, sizeof *s);
    char dir[1024];
    if (!s)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    sky_scenario_t *sc = step_scenario(cfg, aircraft, errstr, errstr_size);
    if (!sc) {
        free(s);
        return SKY_EUSAGE;
    }
    s->cfg = cfg;
    if (index == SIZE_MAX) {
        snprintf(s->topic, sizeof s->topic, "%s_half", cfg->name_prefix);
        snprintf(dir, sizeof dir, "%s/half-knee", cfg->report_dir);
    } else {
        snprintf(s->topic, sizeof s->topic, "%s_s%02zu", cfg->name_prefix, index);
        snprintf(dir, sizeof dir, "%s/step-%02zu", cfg->report_dir, index);
    }
    add_proc(s, "skyload", NULL, false);
    if (cfg->kafka_pidfile)
        add_proc(s, "kafka", cfg->kafka_pidfile, false);
    if (cfg->pg_pidfile)
        add_proc(s, "postgres", cfg->pg_pidfile, true);
    if (cfg->tile38_pidfile)
        add_proc(s, "tile38", cfg->tile38_pidfile, false);
    *cadence_ms = sc->cadence_ms;
    memset(step, 0, sizeof *step);
    step->aircraft = aircraft;
    step->offered_msgs_s = (double)aircraft * 1000.0 / (double)sc->cadence_ms;
    step->pg_commit = step->kafka_ack = step->tile38 = step->decode_ns = no_lat();
    for (int i = 0; i < SKY_NSTAGES; i++)
        step->stages[i] = no_lat();
    step->pg_busy = step->tile38_busy = step->cpu_busy = s->cpu_busy = -1;
    /* the broker stamps each record when it appends it: ingest's consume stage starts there */
    static const char *const topic_cfg[] = {"message.timestamp.type=LogAppendTime", NULL};
    char terr[256];
    if (sky_kafka_ensure_topic(cfg->kafka, s->topic, sc->partitions > 0 ? sc->partitions : 6,
                               topic_cfg, terr, sizeof terr))
        sky_log_warn("bench capacity: %s", terr);

    sky_loop_config_t lc = {.scenario = sc, .kafka = cfg->kafka, .topic = s->topic,
                            .tile38 = cfg->tile38,
                            .pg_conninfo = cfg->pg_conninfo, .schema = s->topic,
                            .group = s->topic, .report_dir = dir,
                            .drain_timeout_ms = cfg->hold_ms + 30000,
                            .status = status_hook, .status_opaque = s,
                            .ingest_started = ingest_hook};
    sky_loop_result_t lr;
    int rc = 0;
    if (pthread_create(&s->tid, NULL, sampler_main, s))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "cannot start the sampler thread");
    if (!rc) {
        rc = sky_loop_run(&lc, stop, &lr, errstr, errstr_size);
        atomic_store(&s->done, 1);
        pthread_join(s->tid, NULL);
    }
    if (!rc) {
        double from = manifest_start_s(dir, atomic_load(&s->sim_start_ns)) +
                      (double)cfg->warmup_ms / 1000.0;
        step->produced_msgs_s = lr.sim.msgs_per_s;
        step->verify_passed = sky_verify_report_passed(lr.report);
        step->drained = lr.drained;
        step->drain_s = lr.drain_s;
        step->kafka_ack = hist_lat(sky_verify_report_stage(lr.report, "kafka_ack"));
        step->stages[SKY_STAGE_KAFKA_ACK] = step->kafka_ack;
        stages_from_stats(dir, (double)cfg->hold_ms / 1000.0 + lr.drain_s, step);
        fill_from_sampler(s, step);
        step->cpu_busy = s->cpu_busy;
        sky_verify_report_destroy(lr.report);
        rc = hold_window_pg(cfg, s->topic, from, from + (double)cfg->hold_ms / 1000.0, step,
                            errstr, errstr_size);
    }
    char err[256];
    if (sky_kafka_delete_topic(cfg->kafka, s->topic, 10000, err, sizeof err))
        sky_log_warn("bench capacity: %s", err);
    sky_scenario_destroy(sc);
    free(s);
    return rc;
}

static int grow(sky_capacity_result_t *res, size_t *cap) {
    if (res->nsteps < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    sky_ramp_step_t *n = realloc(res->steps, ncap * sizeof *n);
    if (!n)
        return SKY_ENOMEM;
    res->steps = n;
    *cap = ncap;
    return 0;
}

static uint64_t first_aircraft(const sky_capacity_config_t *cfg, sky_ramp_slo_t *slo,
                               char *errstr, size_t errstr_size) {
    sky_scenario_t *sc = NULL;
    if (sky_scenario_load(cfg->scenario_path, &sc, errstr, errstr_size))
        return 0;
    sky_ramp_slo_from_json(sc->slo, slo);
    uint64_t a = cfg->start_aircraft ? cfg->start_aircraft : sc->load.from;
    sky_scenario_destroy(sc);
    return a ? a : 1;
}

/* Every step's SETs stay in the AOF after their objects expired (9.4 M commands,
 * 1.7 GB after one ramp): rewrite it, or the next start of the stack spends a minute
 * loading it. Tile38 rewrites in the background. */
static void shrink_tile38_aof(const sky_capacity_config_t *cfg) {
    const char *argv[] = {"AOFSHRINK"};
    char err[256];
    if (!(cfg->tile38 && strcmp(cfg->tile38, "none") == 0) &&
        sky_tile38_oneshot(cfg->tile38, 1, argv, err, sizeof err))
        sky_log_warn("bench capacity: AOFSHRINK: %s", err);
}

/* The ramp as it runs: steps are numbered in the order they run (step-NN/). */
typedef struct ramp {
    const sky_capacity_config_t *cfg;
    volatile sig_atomic_t *stop;
    sky_capacity_result_t *res;
    int64_t started_ns;
    size_t run, cap;
    bool out_of_memory; /* the step table could not grow: no use going on */
} ramp_t;

/* Runs the next step at aircraft and appends it, judged: 0. Not started (a signal, the
 * time budget): 1, with the stop reason. The step failed to run: a negative SKY_E*,
 * with the stop reason (the steps so far still make a table). */
static int ramp_step(ramp_t *rp, uint64_t aircraft, char *errstr, size_t errstr_size) {
    const sky_capacity_config_t *cfg = rp->cfg;
    sky_capacity_result_t *res = rp->res;
    if (rp->stop && *rp->stop) {
        snprintf(res->stop_reason, sizeof res->stop_reason, "stopped by a signal");
        return 1;
    }
    if ((sky_monotonic_ns() - rp->started_ns) / 1000000 > cfg->budget_ms) {
        snprintf(res->stop_reason, sizeof res->stop_reason, "time budget used up");
        return 1;
    }
    if (grow(res, &rp->cap)) {
        rp->out_of_memory = true;
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    sky_ramp_step_t *step = &res->steps[res->nsteps];
    size_t run = rp->run++;
    int rc = run_step(cfg, run, aircraft, rp->stop, step, &res->cadence_ms, errstr, errstr_size);
    if (rc) {
        snprintf(res->stop_reason, sizeof res->stop_reason, "step %zu could not run: %.100s",
                 run, errstr);
        return rc;
    }
    step->run = run;
    step->verdict = sky_ramp_judge(step, &res->slo);
    res->nsteps++;
    if (cfg->on_step)
        cfg->on_step(cfg->opaque, run, step);
    return 0;
}

static int run_capacity(const sky_capacity_config_t *cfg, volatile sig_atomic_t *stop,
                        sky_capacity_result_t *res, char *errstr, size_t errstr_size) {
    memset(res, 0, sizeof *res);
    res->knee = -1;
    if (!cfg->scenario_path || !cfg->report_dir || !cfg->name_prefix || cfg->factor <= 1.0 ||
        cfg->hold_ms <= 0 || cfg->warmup_ms < 0)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "bench capacity: a scenario, a report directory, a name prefix, a "
                       "factor > 1 and a hold time > 0 are required");
    uint64_t aircraft = first_aircraft(cfg, &res->slo, errstr, errstr_size);
    if (!aircraft)
        return SKY_EUSAGE;
    if (cfg->components) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "%s_cmp", cfg->name_prefix);
        sky_components_config_t cc = {
            .kafka = cfg->kafka, .pg_conninfo = cfg->pg_conninfo, .tile38 = cfg->tile38,
            .tile38_benchmark = cfg->tile38_benchmark, .stack_dir = cfg->stack_dir,
            .work_dir = cfg->report_dir, .name_prefix = prefix,
            .records = cfg->components_records > 0 ? cfg->components_records : 300000,
            .pg_connections = sky_ingest_default_pg_connections(), .stop = stop,
            .kafka_pidfile = cfg->kafka_pidfile, .pg_pidfile = cfg->pg_pidfile,
            .tile38_pidfile = cfg->tile38_pidfile};
        if (cfg->status)
            cfg->status(cfg->opaque, "components: each alone (Kafka, COPY, Tile38, latency)");
        res->has_components =
            sky_components_run(&cc, &res->components, errstr, errstr_size) == 0;
    }
    ramp_t rp = {cfg, stop, res, sky_monotonic_ns(), 0, 0, false};
    snprintf(res->stop_reason, sizeof res->stop_reason, "max steps (%lld) reached",
             (long long)cfg->max_steps);
    bool failed = false;
    while (!failed && rp.run < (size_t)cfg->max_steps) {
        int rc = ramp_step(&rp, aircraft, errstr, errstr_size);
        if (rc < 0 && (!res->nsteps || rp.out_of_memory))
            return rc;
        if (rc)
            break;
        const sky_ramp_step_t *step = &res->steps[res->nsteps - 1];
        if ((failed = step->verdict != SKY_STEP_HELD))
            snprintf(res->stop_reason, sizeof res->stop_reason, "step %zu: %s", step->run,
                     sky_ramp_verdict_name(step->verdict));
        aircraft = sky_ramp_next_aircraft(aircraft, cfg->factor);
    }
    for (int64_t r = 0; failed && r < cfg->refine; r++) {
        if (!(aircraft = sky_ramp_refine_aircraft(res->steps, res->nsteps)))
            break;
        if (cfg->status)
            cfg->status(cfg->opaque, "refining the knee");
        int rc = ramp_step(&rp, aircraft, errstr, errstr_size);
        if (rc < 0 && rp.out_of_memory)
            return rc;
        if (rc)
            break;
    }
    sky_ramp_sort(res->steps, res->nsteps);
    res->knee = sky_ramp_knee(res->steps, res->nsteps);
    /* e2e latency well below the knee, against Kafka's own (EndToEndLatency) */
    if (cfg->half_knee && res->knee >= 0 && !(stop && *stop)) {
        uint64_t half = res->steps[res->knee].aircraft / 2;
        if (cfg->status)
            cfg->status(cfg->opaque, "half-knee step");
        if (half && run_step(cfg, SIZE_MAX, half, stop, &res->half, &res->cadence_ms, errstr,
                             errstr_size) == 0) {
            res->half.verdict = sky_ramp_judge(&res->half, &res->slo);
            res->has_half = true;
        }
    }
    return 0;
}

int sky_capacity_run(const sky_capacity_config_t *cfg, volatile sig_atomic_t *stop,
                     sky_capacity_result_t *res, char *errstr, size_t errstr_size) {
    int rc = run_capacity(cfg, stop, res, errstr, errstr_size);
    shrink_tile38_aof(cfg);
    return rc;
}

static json_t *capacity_json(const sky_capacity_result_t *res, const char *scenario);

void sky_capacity_result_free(sky_capacity_result_t *res) {
    if (!res)
        return;
    free(res->steps);
    res->steps = NULL;
    res->nsteps = 0;
}

json_t *sky_capacity_result_to_json(const sky_capacity_result_t *res, const char *scenario) {
    json_t *j = capacity_json(res, scenario);
    if (j && res->has_components)
        json_object_set_new(j, "components", sky_components_to_json(&res->components));
    if (j && res->has_half)
        json_object_set_new(j, "half_knee", sky_ramp_step_to_json(&res->half));
    return j;
}

static json_t *capacity_json(const sky_capacity_result_t *res, const char *scenario) {
    json_t *steps = json_array();
    for (size_t i = 0; steps && i < res->nsteps; i++)
        json_array_append_new(steps, sky_ramp_step_to_json(&res->steps[i]));
    const sky_ramp_step_t *k = res->knee >= 0 ? &res->steps[res->knee] : NULL;
    return json_pack("{si ss sI s{sI sI sI sI} so sI sf ss so}", "skyload_bench_capacity", 1,
                     "scenario", scenario ? scenario : "", "cadence_ms",
                     (json_int_t)res->cadence_ms, "slo_us", "kafka_ack_p99",
                     (json_int_t)res->slo.kafka_ack_p99_us, "pg_commit_p50",
                     (json_int_t)res->slo.pg_commit_p50_us, "pg_commit_p99",
                     (json_int_t)res->slo.pg_commit_p99_us, "tile38_p99",
                     (json_int_t)res->slo.tile38_p99_us, "knee",
                     k ? json_integer(res->knee) : json_null(), "knee_aircraft",
                     (json_int_t)(k ? k->aircraft : 0), "knee_msgs_s",
                     k ? k->offered_msgs_s : 0.0, "stop_reason", res->stop_reason, "steps",
                     steps);
}
