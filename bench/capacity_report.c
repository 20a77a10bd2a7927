/* The capacity ramp's table, knee line, JSON, gnuplot data and chart. */
#include "capacity_report.h"

#include "error.h"
#include "peers.h"
#include "report_html.h"

#include <string.h>

static double ms(int64_t us) {
    return us < 0 ? -1 : (double)us / 1000.0;
}

/* A figure, or "-" when it was not measured (negative). */
static void col(FILE *f, int width, int decimals, double v) {
    if (v < 0)
        fprintf(f, " %*s", width, "-");
    else
        fprintf(f, " %*.*f", width, decimals, v);
}

static double proc_cpu(const sky_ramp_step_t *s, const char *name) {
    for (size_t i = 0; i < s->nprocs; i++)
        if (strcmp(s->procs[i].name, name) == 0)
            return s->procs[i].cpu_cores;
    return -1;
}

void sky_capacity_print_header(FILE *f) {
    fprintf(f, "%4s %8s %9s %9s %9s %8s %8s %8s %9s %8s %9s %8s %6s %6s %6s %6s %8s  %s\n",
            "step", "aircraft", "offered/s", "stored/s", "sent/s", "ack_p99", "e2e_p50", "e2e_p99",
            "e2e_p99.9", "t38_p99", "lag_slope", "lag_max", "cpu_sk", "cpu_kf", "cpu_pg",
            "cpu_38", "rss_skMB", "verdict");
}

void sky_capacity_print_step(FILE *f, const sky_ramp_step_t *s) {
    fprintf(f, "%4zu %8llu", s->run, (unsigned long long)s->aircraft);
    col(f, 9, 0, s->offered_msgs_s);
    col(f, 9, 0, s->achieved_msgs_s);
    col(f, 9, 0, s->produced_msgs_s);
    col(f, 8, 1, ms(s->kafka_ack.p99));
    col(f, 8, 1, ms(s->pg_commit.p50));
    col(f, 8, 1, ms(s->pg_commit.p99));
    col(f, 9, 1, ms(s->pg_commit.p999));
    col(f, 8, 1, ms(s->tile38.p99));
    fprintf(f, " %9.1f %8lld", s->lag.slope_msgs_s, (long long)s->lag.max);
    col(f, 6, 2, proc_cpu(s, "skyload"));
    col(f, 6, 2, proc_cpu(s, "kafka"));
    col(f, 6, 2, proc_cpu(s, "postgres"));
    col(f, 6, 2, proc_cpu(s, "tile38"));
    col(f, 8, 0, s->nprocs ? (double)s->procs[0].rss_kib / 1024.0 : -1);
    fprintf(f, "  %s\n", sky_ramp_verdict_name(s->verdict));
}

/* Per step, where the time went: each stage's p50/p99 (ms; decode in us), how busy
 * each sink was, the machine's CPUs, and for a step that failed what broke it. */
void sky_capacity_print_stages(FILE *f, const sky_capacity_result_t *r) {
    fprintf(f, "\nwhere the time goes (p50/p99 ms per record, from each stage's start; pg_write "
               "and t38_write per batch; busy = share of the hold a sink spent writing):\n");
    fprintf(f, "%4s %13s %13s %13s %13s %13s %13s %13s %13s %9s %6s %6s %5s %5s\n", "step",
            "kafka_ack", "consume", "batch", "pg", "tile38", "pg_write", "t38_write", "commit",
            "decode_us", "pg_bz", "t38_bz", "cpu", "conns");
    for (size_t i = 0; i <= r->nsteps; i++) {
        const sky_ramp_step_t *s = i < r->nsteps ? &r->steps[i] : r->has_half ? &r->half : NULL;
        if (!s)
            break;
        if (i < r->nsteps)
            fprintf(f, "%4zu", s->run);
        else
            fprintf(f, "%4s", "half");
        for (int k = 0; k < SKY_NSTAGES; k++) {
            char cell[32] = "-";
            if (s->stages[k].p99 >= 0)
                snprintf(cell, sizeof cell, "%.1f/%.1f", ms(s->stages[k].p50), ms(s->stages[k].p99));
            fprintf(f, " %13s", cell);
        }
        char dec[32] = "-";
        if (s->decode_ns.p99 >= 0)
            snprintf(dec, sizeof dec, "%.1f/%.1f", (double)s->decode_ns.p50 / 1000.0,
                     (double)s->decode_ns.p99 / 1000.0);
        fprintf(f, " %9s", dec);
        col(f, 6, 2, s->pg_busy);
        col(f, 6, 2, s->tile38_busy);
        col(f, 5, 2, s->cpu_busy);
        fprintf(f, " %5d\n", s->pg_connections);
    }
    for (size_t i = 0; i < r->nsteps; i++) {
        char why[400];
        sky_ramp_explain(&r->steps[i], &r->slo, why, sizeof why);
        if (why[0])
            fprintf(f, "step %zu %s: %s\n", r->steps[i].run,
                    sky_ramp_verdict_name(r->steps[i].verdict), why);
    }
}

/* The knee against each component alone, and the latency at half the knee. */
void sky_capacity_print_targets(FILE *f, const sky_capacity_result_t *r) {
    const sky_components_result_t *c = &r->components;
    if (r->has_components) {
        fprintf(f, "\ncomponents alone, same run:\n");
        const struct {
            const char *name;
            const sky_component_t *c;
        } all[] = {{"Kafka produce+consume", &c->kafka},
                   {"ingest alone", &c->ingest},
                   {"indexed COPY", &c->copy},
                   {"tile38-benchmark SET", &c->tile38}};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
            char cpu[96] = "";
            if (all[i].c->server_us >= 0)
                snprintf(cpu, sizeof cpu, ", server CPU %.2f us/record", all[i].c->server_us);
            if (all[i].c->client_us >= 0)
                snprintf(cpu + strlen(cpu), sizeof cpu - strlen(cpu), ", client %.2f us/record",
                         all[i].c->client_us);
            if (all[i].c->rate > 0)
                fprintf(f, "  %-22s %10.0f /s%s  (%s)\n", all[i].name, all[i].c->rate, cpu,
                        all[i].c->note);
            else
                fprintf(f, "  %-22s %10s     (%s)\n", all[i].name, "-", all[i].c->note);
        }
        if (c->ingest.rate > 0)
            fprintf(f, "  %-22s broker %.2f us/record, tile38-server %.2f us/record while ingest "
                       "drained (server = PostgreSQL above)\n",
                    "", c->ingest_broker_us, c->ingest_tile38_us);
        if (c->e2e_p99_ms >= 0)
            fprintf(f, "  %-22s p50 %.0f ms, p99 %.0f ms  (%s)\n", "EndToEndLatency",
                    c->e2e_p50_ms, c->e2e_p99_ms, c->e2e_note);
        else
            fprintf(f, "  %-22s -  (%s)\n", "EndToEndLatency", c->e2e_note);
        const char *which;
        double slowest = sky_components_slowest(c, &which);
        if (r->knee >= 0 && slowest > 0) {
            const sky_ramp_step_t *k = &r->steps[r->knee];
            fprintf(f, "knee / slowest component (%s) = %.0f / %.0f = %.2f (target >= 0.70); CPUs at "
                       "the knee %.0f%% busy (target >= 85%%)\n",
                    which, k->achieved_msgs_s, slowest, k->achieved_msgs_s / slowest,
                    k->cpu_busy >= 0 ? 100 * k->cpu_busy : -1.0);
        }
    }
    if (r->has_half) {
        const sky_ramp_step_t *h = &r->half;
        fprintf(f, "half the knee: %llu aircraft = %.0f msgs/s, e2e p99 %.1f ms (%s)",
                (unsigned long long)h->aircraft, h->offered_msgs_s, ms(h->pg_commit.p99),
                sky_ramp_verdict_name(h->verdict));
        if (r->has_components && c->e2e_p99_ms >= 0)
            fprintf(f, "; EndToEndLatency p99 %.0f ms + 250 = %.0f ms: %s", c->e2e_p99_ms,
                    c->e2e_p99_ms + 250, ms(h->pg_commit.p99) <= c->e2e_p99_ms + 250 ? "met" : "not met");
        fprintf(f, "\n");
    }
}

void sky_capacity_print_knee(FILE *f, const sky_capacity_result_t *r) {
    if (r->knee < 0) {
        fprintf(f, "knee: none (no step held the SLO); stopped: %s\n", r->stop_reason);
        return;
    }
    const sky_ramp_step_t *k = &r->steps[r->knee];
    fprintf(f,
            "knee: step %zu, %llu aircraft = %.0f msgs/s offered, %.0f stored/s, end-to-end "
            "p99 %.1f ms (SLO %.0f ms); stopped: %s\n",
            k->run, (unsigned long long)k->aircraft, k->offered_msgs_s, k->achieved_msgs_s,
            ms(k->pg_commit.p99), ms(r->slo.pg_commit_p99_us), r->stop_reason);
}

void sky_capacity_print_results(FILE *f, const sky_capacity_result_t *r) {
    sky_capacity_print_knee(f, r);
    sky_capacity_print_stages(f, r);
    sky_capacity_print_targets(f, r);
}

static void write_dat(FILE *f, const sky_capacity_result_t *r) {
    fprintf(f, "# offered_msgs_s stored_msgs_s e2e_p50_ms e2e_p90_ms e2e_p99_ms e2e_p999_ms "
               "ack_p99_ms aircraft held tile38_p99_ms\n");
    for (size_t i = 0; i < r->nsteps; i++) {
        const sky_ramp_step_t *s = &r->steps[i];
        fprintf(f, "%.0f %.0f %.3f %.3f %.3f %.3f %.3f %llu %d %.3f\n", s->offered_msgs_s,
                s->achieved_msgs_s, ms(s->pg_commit.p50), ms(s->pg_commit.p90),
                ms(s->pg_commit.p99), ms(s->pg_commit.p999), ms(s->kafka_ack.p99),
                (unsigned long long)s->aircraft, s->verdict == SKY_STEP_HELD, ms(s->tile38.p99));
    }
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t pathsz) {
    if ((size_t)snprintf(path, pathsz, "%s/%s", dir, name) >= pathsz)
        return NULL;
    return fopen(path, "w");
}

int sky_capacity_write_report(const char *dir, const sky_capacity_result_t *r,
                              const char *scenario, const char *plot_script, char *errstr,
                              size_t errstr_size) {
    char path[1024], dat[1024];
    FILE *f = open_in(dir, "capacity.txt", path, sizeof path);
    if (!f)
        return sky_err(errstr, errstr_size, SKY_EIO, "%s/capacity.txt: cannot write", dir);
    sky_capacity_print_header(f);
    for (size_t i = 0; i < r->nsteps; i++)
        sky_capacity_print_step(f, &r->steps[i]);
    sky_capacity_print_results(f, r);
    fclose(f);
    json_t *j = sky_capacity_result_to_json(r, scenario);
    snprintf(path, sizeof path, "%s/capacity.json", dir);
    int jrc = j ? json_dump_file(j, path, JSON_INDENT(1)) : -1;
    if (jrc) {
        json_decref(j);
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: cannot write", path);
    }
    /* the same steps as a page (offered vs stored, e2e p99, CPU per process) */
    snprintf(path, sizeof path, "%s/capacity.html", dir);
    int hrc = sky_capacity_write_html(j, path, errstr, errstr_size);
    json_decref(j);
    if (hrc)
        return hrc;
    if (!(f = open_in(dir, "capacity.dat", dat, sizeof dat)))
        return sky_err(errstr, errstr_size, SKY_EIO, "%s/capacity.dat: cannot write", dir);
    write_dat(f, r);
    fclose(f);
    char script[2200], log[1100], err[256];
    snprintf(script, sizeof script, "dat='%s'; outdir='%s'", dat, dir);
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    const char *argv[] = {"gnuplot", "-e", script, plot_script, NULL};
    sky_exec_result_t x;
    if (sky_bench_exec(argv, NULL, log, 60000, &x, err, sizeof err) || x.status)
        snprintf(errstr, errstr_size, "no chart: gnuplot %s (see %s)",
                 x.status == 127 ? "not installed" : "failed", log);
    return 0;
}
