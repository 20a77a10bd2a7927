/* Capacity ramp judgement: lag trend, SLO verdict per step, knee, step JSON. */
#include "ramp.h"

#include "error.h"
#include "parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const sky_stage_names[SKY_NSTAGES] = {
    "kafka_ack", "consume", "batch", "pg", "tile38", "pg_write", "tile38_write", "commit"};

static const char *const verdict_names[] = {"held",        "slo broken",   "lag unbounded",
                                            "not drained", "verify failed", "underdelivered"};

const char *sky_ramp_verdict_name(sky_ramp_verdict_t v) {
    size_t i = (size_t)v;
    return i < sizeof verdict_names / sizeof verdict_names[0] ? verdict_names[i] : "?";
}

static double json_ms(const json_t *v) {
    double d = 0;
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v) &&
        sky_parse_double(json_string_value(v), 0, 1e12, &d, "threshold", NULL, 0) == 0)
        return d;
    return 0;
}

void sky_ramp_slo_from_json(const json_t *slo, sky_ramp_slo_t *out) {
    memset(out, 0, sizeof *out);
    const json_t *lat = json_object_get(slo, "latency_ms");
    const json_t *ack = json_object_get(lat, "kafka_ack");
    const json_t *pg = json_object_get(lat, "pg_commit");
    out->kafka_ack_p99_us = (int64_t)(json_ms(json_object_get(ack, "p99")) * 1000.0);
    out->pg_commit_p50_us = (int64_t)(json_ms(json_object_get(pg, "p50")) * 1000.0);
    out->pg_commit_p99_us = (int64_t)(json_ms(json_object_get(pg, "p99")) * 1000.0);
    const json_t *t38 = json_object_get(lat, "tile38");
    out->tile38_p99_us = (int64_t)(json_ms(json_object_get(t38, "p99")) * 1000.0);
}

void sky_ramp_lag_trend(const sky_lag_sample_t *samples, size_t n, double offered_msgs_s,
                        sky_lag_trend_t *out) {
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    double st = 0, sl = 0, stt = 0, stl = 0;
    for (size_t i = 0; i < n; i++) {
        double t = samples[i].t_s, l = (double)samples[i].lag;
        st += t;
        sl += l;
        stt += t * t;
        stl += t * l;
        if (samples[i].lag > out->max)
            out->max = samples[i].lag;
    }
    out->last = samples[n - 1].lag;
    double den = (double)n * stt - st * st;
    if (n < 3 || den <= 0)
        return;
    out->slope_msgs_s = ((double)n * stl - st * sl) / den;
    double limit = fmax(0.02 * offered_msgs_s, 1.0);
    out->unbounded = out->slope_msgs_s > limit && (double)out->last > offered_msgs_s;
}

static bool over(int64_t value_us, int64_t limit_us) {
    return limit_us > 0 && value_us > limit_us;
}

sky_ramp_verdict_t sky_ramp_judge(const sky_ramp_step_t *step, const sky_ramp_slo_t *slo) {
    if (!step->verify_passed)
        return SKY_STEP_VERIFY_FAILED;
    /* A generator that cannot offer the load makes every later figure meaningless. */
    if (step->produced_msgs_s < 0.9 * step->offered_msgs_s)
        return SKY_STEP_UNDERDELIVERED;
    if (step->lag.unbounded)
        return SKY_STEP_LAG_UNBOUNDED;
    if (!step->drained)
        return SKY_STEP_NOT_DRAINED;
    if (over(step->kafka_ack.p99, slo->kafka_ack_p99_us) ||
        over(step->pg_commit.p50, slo->pg_commit_p50_us) ||
        over(step->pg_commit.p99, slo->pg_commit_p99_us) || step->pg_commit.p99 < 0 ||
        over(step->tile38.p99, slo->tile38_p99_us))
        return SKY_STEP_SLO_BROKEN;
    return SKY_STEP_HELD;
}

int sky_ramp_knee(const sky_ramp_step_t *steps, size_t n) {
    int knee = -1;
    for (size_t i = 0; i < n && steps[i].verdict == SKY_STEP_HELD; i++)
        knee = (int)i;
    return knee;
}

uint64_t sky_ramp_refine_aircraft(const sky_ramp_step_t *steps, size_t n) {
    uint64_t failed = 0, held = 0;
    for (size_t i = 0; i < n; i++)
        if (steps[i].verdict != SKY_STEP_HELD && (!failed || steps[i].aircraft < failed))
            failed = steps[i].aircraft;
    for (size_t i = 0; i < n && failed; i++)
        if (steps[i].verdict == SKY_STEP_HELD && steps[i].aircraft < failed &&
            steps[i].aircraft > held)
            held = steps[i].aircraft;
    if (!failed || !held)
        return 0;
    uint64_t mid = (uint64_t)llround(sqrt((double)held * (double)failed));
    return mid > held && mid < failed ? mid : 0;
}

static int by_aircraft(const void *a, const void *b) {
    const sky_ramp_step_t *x = a, *y = b;
    if (x->aircraft != y->aircraft)
        return x->aircraft < y->aircraft ? -1 : 1;
    return x->run < y->run ? -1 : x->run > y->run;
}

void sky_ramp_sort(sky_ramp_step_t *steps, size_t n) {
    if (n > 1)
        qsort(steps, n, sizeof *steps, by_aircraft);
}

uint64_t sky_ramp_next_aircraft(uint64_t current, double factor) {
    double next = ceil((double)current * factor);
    if (!(next < 1e15))
        return current + 1;
    return (uint64_t)next > current ? (uint64_t)next : current + 1;
}

static json_t *lat_to_json(const sky_ramp_lat_t *l) {
    return json_pack("{sI sI sI sI sI}", "p50", (json_int_t)l->p50, "p90", (json_int_t)l->p90,
                     "p99", (json_int_t)l->p99, "p99.9", (json_int_t)l->p999, "max",
                     (json_int_t)l->max);
}

static json_t *procs_to_json(const sky_ramp_step_t *s) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->nprocs; i++)
        json_array_append_new(a, json_pack("{ss sf sI}", "name", s->procs[i].name, "cpu_cores",
                                           s->procs[i].cpu_cores, "rss_kib",
                                           (json_int_t)s->procs[i].rss_kib));
    return a;
}

static double ms_of(int64_t us) {
    return (double)us / 1000.0;
}

void sky_ramp_explain(const sky_ramp_step_t *s, const sky_ramp_slo_t *slo, char *out,
                      size_t outsz) {
    size_t n = 0;
    out[0] = '\0';
    if (s->verdict == SKY_STEP_HELD)
        return;
#define SAY(...) (n += (size_t)snprintf(out + n, n < outsz ? outsz - n : 0, __VA_ARGS__))
    if (over(s->kafka_ack.p99, slo->kafka_ack_p99_us))
        SAY("kafka_ack p99 %.1f ms > %.0f ms; ", ms_of(s->kafka_ack.p99),
            ms_of(slo->kafka_ack_p99_us));
    if (over(s->pg_commit.p99, slo->pg_commit_p99_us))
        SAY("pg_commit p99 %.1f ms > %.0f ms; ", ms_of(s->pg_commit.p99),
            ms_of(slo->pg_commit_p99_us));
    if (over(s->pg_commit.p50, slo->pg_commit_p50_us))
        SAY("pg_commit p50 %.1f ms > %.0f ms; ", ms_of(s->pg_commit.p50),
            ms_of(slo->pg_commit_p50_us));
    if (over(s->tile38.p99, slo->tile38_p99_us))
        SAY("tile38 p99 %.1f ms > %.0f ms; ", ms_of(s->tile38.p99), ms_of(slo->tile38_p99_us));
    static const sky_stage_t path[] = {SKY_STAGE_CONSUME, SKY_STAGE_BATCH, SKY_STAGE_PG,
                                       SKY_STAGE_TILE38};
    int worst = -1;
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++)
        if (s->stages[path[i]].p99 >= 0 &&
            (worst < 0 || s->stages[path[i]].p99 > s->stages[worst].p99))
            worst = (int)path[i];
    if (worst >= 0)
        SAY("longest stage: %s p99 %.1f ms", sky_stage_names[worst], ms_of(s->stages[worst].p99));
    if (s->pg_busy > 0.9)
        SAY("; PostgreSQL connections %.0f%% busy", 100 * s->pg_busy);
    if (s->tile38_busy > 0.9)
        SAY("; Tile38 %.0f%% busy", 100 * s->tile38_busy);
    if (s->cpu_busy > 0.9)
        SAY("; CPUs %.0f%% busy", 100 * s->cpu_busy);
#undef SAY
    if (n >= outsz && outsz > 4)
        memcpy(out + outsz - 4, "...", 4);
}

static json_t *stages_to_json(const sky_ramp_step_t *s) {
    json_t *o = json_object();
    for (int i = 0; o && i < SKY_NSTAGES; i++)
        if (s->stages[i].p99 >= 0)
            json_object_set_new(o, sky_stage_names[i], lat_to_json(&s->stages[i]));
    return o;
}

json_t *sky_ramp_step_to_json(const sky_ramp_step_t *s) {
    json_t *j = json_pack("{sI sf sf sf so so s{sf sI sI sb} sb sb sf so ss}", "aircraft",
                     (json_int_t)s->aircraft, "offered_msgs_s", s->offered_msgs_s,
                     "achieved_msgs_s", s->achieved_msgs_s, "produced_msgs_s", s->produced_msgs_s,
                     "kafka_ack_us", lat_to_json(&s->kafka_ack), "pg_commit_us",
                     lat_to_json(&s->pg_commit), "lag", "slope_msgs_s", s->lag.slope_msgs_s,
                     "last", (json_int_t)s->lag.last, "max", (json_int_t)s->lag.max, "unbounded",
                     s->lag.unbounded, "verify_passed", s->verify_passed, "drained", s->drained,
                     "drain_s", s->drain_s, "procs", procs_to_json(s), "verdict",
                     sky_ramp_verdict_name(s->verdict));
    if (j && s->tile38.p99 >= 0)
        json_object_set_new(j, "tile38_us", lat_to_json(&s->tile38));
    if (j) {
        json_object_set_new(j, "stages_us", stages_to_json(s));
        if (s->decode_ns.p99 >= 0)
            json_object_set_new(j, "decode_ns", lat_to_json(&s->decode_ns));
        json_object_set_new(j, "pg_busy", json_real(s->pg_busy));
        json_object_set_new(j, "tile38_busy", json_real(s->tile38_busy));
        json_object_set_new(j, "cpu_busy", json_real(s->cpu_busy));
        json_object_set_new(j, "pg_connections", json_integer(s->pg_connections));
        json_object_set_new(j, "run", json_integer((json_int_t)s->run));
    }
    return j;
}

static int lat_from_json(const json_t *o, sky_ramp_lat_t *l) {
    json_int_t v[5];
    if (json_unpack((json_t *)o, "{sI sI sI sI sI}", "p50", &v[0], "p90", &v[1], "p99", &v[2],
                    "p99.9", &v[3], "max", &v[4]))
        return -1;
    *l = (sky_ramp_lat_t){v[0], v[1], v[2], v[3], v[4]};
    return 0;
}

static int procs_from_json(const json_t *a, sky_ramp_step_t *s) {
    size_t i;
    json_t *p;
    if (!json_is_array(a))
        return -1;
    json_array_foreach(a, i, p) {
        const char *name;
        json_int_t rss;
        if (s->nprocs == SKY_RAMP_MAX_PROCS)
            return -1;
        sky_ramp_proc_t *d = &s->procs[s->nprocs++];
        if (json_unpack(p, "{ss sF sI}", "name", &name, "cpu_cores", &d->cpu_cores, "rss_kib",
                        &rss) ||
            sky_strlcpy(d->name, name, sizeof d->name))
            return -1;
        d->rss_kib = rss;
    }
    return 0;
}

static int verdict_from_name(const char *name, sky_ramp_verdict_t *out) {
    for (size_t i = 0; i < sizeof verdict_names / sizeof verdict_names[0]; i++)
        if (strcmp(name, verdict_names[i]) == 0) {
            *out = (sky_ramp_verdict_t)i;
            return 0;
        }
    return -1;
}

int sky_ramp_step_from_json(const json_t *obj, sky_ramp_step_t *out, char *errstr,
                            size_t errstr_size) {
    json_int_t aircraft, last, max;
    int unbounded, passed, drained;
    json_t *ack, *pg, *procs;
    const char *verdict;
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    if (json_unpack_ex((json_t *)obj, &jerr, 0,
                       "{sI sF sF sF so so s{sF sI sI sb} sb sb sF so ss}", "aircraft", &aircraft,
                       "offered_msgs_s", &out->offered_msgs_s, "achieved_msgs_s",
                       &out->achieved_msgs_s, "produced_msgs_s", &out->produced_msgs_s,
                       "kafka_ack_us", &ack, "pg_commit_us", &pg, "lag", "slope_msgs_s",
                       &out->lag.slope_msgs_s, "last", &last, "max", &max, "unbounded",
                       &unbounded, "verify_passed", &passed, "drained", &drained, "drain_s",
                       &out->drain_s, "procs", &procs, "verdict", &verdict))
        return sky_err(errstr, errstr_size, SKY_EINVAL, "step: %s", jerr.text);
    if (aircraft < 0 || lat_from_json(ack, &out->kafka_ack) || lat_from_json(pg, &out->pg_commit))
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "step: aircraft must be >= 0 and kafka_ack_us/pg_commit_us need p50, "
                       "p90, p99, p99.9 and max");
    /* tile38_us: only steps that ran with the Tile38 sink (and files written before it) */
    json_t *t38 = json_object_get(obj, "tile38_us");
    out->tile38 = (sky_ramp_lat_t){-1, -1, -1, -1, -1};
    if (t38 && lat_from_json(t38, &out->tile38))
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "step: tile38_us needs p50, p90, p99, p99.9 and max");
    /* the stage breakdown: steps recorded before it have none */
    json_t *st = json_object_get(obj, "stages_us");
    for (int i = 0; i < SKY_NSTAGES; i++) {
        json_t *l = json_object_get(st, sky_stage_names[i]);
        out->stages[i] = (sky_ramp_lat_t){-1, -1, -1, -1, -1};
        if (l && lat_from_json(l, &out->stages[i]))
            return sky_err(errstr, errstr_size, SKY_EINVAL, "step: stages_us.%s needs p50, p90, "
                           "p99, p99.9 and max", sky_stage_names[i]);
    }
    out->decode_ns = (sky_ramp_lat_t){-1, -1, -1, -1, -1};
    if (json_object_get(obj, "decode_ns"))
        lat_from_json(json_object_get(obj, "decode_ns"), &out->decode_ns);
    json_t *v;
    out->pg_busy = json_is_number(v = json_object_get(obj, "pg_busy")) ? json_number_value(v) : -1;
    out->tile38_busy =
        json_is_number(v = json_object_get(obj, "tile38_busy")) ? json_number_value(v) : -1;
    out->cpu_busy = json_is_number(v = json_object_get(obj, "cpu_busy")) ? json_number_value(v) : -1;
    out->pg_connections = (int)json_integer_value(json_object_get(obj, "pg_connections"));
    out->run = (size_t)json_integer_value(json_object_get(obj, "run")); /* 0 in older files */
    if (procs_from_json(procs, out))
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "step: procs must be at most %d {name, cpu_cores, rss_kib} objects",
                       SKY_RAMP_MAX_PROCS);
    if (verdict_from_name(verdict, &out->verdict))
        return sky_err(errstr, errstr_size, SKY_EINVAL, "step: unknown verdict \"%s\"", verdict);
    out->aircraft = (uint64_t)aircraft;
    out->lag.last = last;
    out->lag.max = max;
    out->lag.unbounded = unbounded;
    out->verify_passed = passed;
    out->drained = drained;
    return 0;
}

int sky_ramp_steps_load(const char *path, sky_ramp_step_t **out, size_t *n, char *errstr,
                        size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    *out = NULL;
    *n = 0;
    if (!root)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
    json_t *steps = json_object_get(root, "steps");
    size_t count = json_array_size(steps);
    int rc = 0;
    if (!json_is_array(steps))
        rc = sky_err(errstr, errstr_size, SKY_EINVAL, "%s: no \"steps\" array", path);
    sky_ramp_step_t *arr = rc ? NULL : calloc(count ? count : 1, sizeof *arr);
    if (!rc && !arr)
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; !rc && i < count; i++) {
        char why[256];
        json_t *sj = json_array_get(steps, i);
        if (sky_ramp_step_from_json(sj, &arr[i], why, sizeof why))
            rc = sky_err(errstr, errstr_size, SKY_EINVAL, "%s: steps[%zu]: %s", path, i, why);
        else if (!json_object_get(sj, "run")) /* recorded before refinement: in run order */
            arr[i].run = i;
    }
    json_decref(root);
    if (rc) {
        free(arr);
        return rc;
    }
    *out = arr;
    *n = count;
    return 0;
}
