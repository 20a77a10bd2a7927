/* Capacity ramp logic: lag trend (unbounded backlog), step verdicts, the knee on
 * recorded step tables (tests/data/bench/ramp-*.json), the step JSON round trip. */
#include "ramp.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAXS 16

static void test_lag_trend_flags_only_a_backlog_that_keeps_growing(void **state) {
    (void)state;
    static const struct {
        const char *what;
        double offered;
        int64_t lag[MAXS];
        size_t n;
        bool unbounded;
    } rows[] = {
        {"flat small backlog", 10000, {120, 80, 150, 90, 110, 100, 130, 95}, 8, false},
        {"draining backlog", 10000, {9000, 7000, 5000, 3000, 1000, 0}, 6, false},
        {"grows 20% of input", 10000, {0, 2000, 4000, 6000, 8000, 10000, 12000, 14000}, 8, true},
        {"grows 1% of input (noise)", 10000, {0, 100, 200, 300, 400, 500, 600, 700}, 8, false},
        {"grows but under 1 s of input", 10000, {0, 500, 1000, 1500, 2000, 2500}, 6, false},
        {"two samples never judge", 100, {0, 100000}, 2, false},
        {"sawtooth batches", 5000, {4000, 100, 4200, 50, 3900, 80, 4100, 60}, 8, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_lag_sample_t s[MAXS];
        for (size_t j = 0; j < rows[i].n; j++)
            s[j] = (sky_lag_sample_t){(double)j, rows[i].lag[j]};
        sky_lag_trend_t t;
        sky_ramp_lag_trend(s, rows[i].n, rows[i].offered, &t);
        if (t.unbounded != rows[i].unbounded)
            fail_msg("%s: unbounded %d, slope %.1f", rows[i].what, t.unbounded, t.slope_msgs_s);
        assert_int_equal(t.last, rows[i].lag[rows[i].n - 1]);
    }
}

static sky_ramp_step_t held_step(void) {
    sky_ramp_step_t s;
    memset(&s, 0, sizeof s);
    s.aircraft = 1000;
    s.offered_msgs_s = s.produced_msgs_s = s.achieved_msgs_s = 1000;
    s.kafka_ack = (sky_ramp_lat_t){5000, 8000, 10000, 12000, 20000};
    s.pg_commit = (sky_ramp_lat_t){100000, 200000, 300000, 400000, 500000};
    s.tile38 = (sky_ramp_lat_t){-1, -1, -1, -1, -1};
    s.verify_passed = s.drained = true;
    return s;
}

static void test_judge_names_the_first_failure(void **state) {
    (void)state;
    const sky_ramp_slo_t slo = {.kafka_ack_p99_us = 500000, .pg_commit_p99_us = 1000000,
                                .tile38_p99_us = 800000};
    enum { OK, NOVERIFY, SLOW_GEN, LAG, NODRAIN, ACK_SLOW, PG_SLOW, PG_EMPTY, LAG_AND_SLOW,
           T38_OK, T38_SLOW };
    static const struct {
        int change;
        sky_ramp_verdict_t want;
    } rows[] = {
        {OK, SKY_STEP_HELD},          {NOVERIFY, SKY_STEP_VERIFY_FAILED},
        {SLOW_GEN, SKY_STEP_UNDERDELIVERED}, {LAG, SKY_STEP_LAG_UNBOUNDED},
        {NODRAIN, SKY_STEP_NOT_DRAINED}, {ACK_SLOW, SKY_STEP_SLO_BROKEN},
        {PG_SLOW, SKY_STEP_SLO_BROKEN},  {PG_EMPTY, SKY_STEP_SLO_BROKEN},
        {LAG_AND_SLOW, SKY_STEP_LAG_UNBOUNDED},
        {T38_OK, SKY_STEP_HELD},      {T38_SLOW, SKY_STEP_SLO_BROKEN},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_ramp_step_t s = held_step();
        switch (rows[i].change) {
        case NOVERIFY: s.verify_passed = false; break;
        case SLOW_GEN: s.produced_msgs_s = 800; break;
        case LAG: s.lag.unbounded = true; break;
        case NODRAIN: s.drained = false; break;
        case ACK_SLOW: s.kafka_ack.p99 = 600000; break;
        case PG_SLOW: s.pg_commit.p99 = 1000001; break;
        case PG_EMPTY: s.pg_commit.p99 = -1; break;
        case LAG_AND_SLOW: s.lag.unbounded = true, s.pg_commit.p99 = 5000000; break;
        case T38_OK: s.tile38 = (sky_ramp_lat_t){1000, 2000, 800000, 900000, 950000}; break;
        case T38_SLOW: s.tile38 = (sky_ramp_lat_t){1000, 2000, 800001, 900000, 950000}; break;
        default: break;
        }
        assert_string_equal(sky_ramp_verdict_name(sky_ramp_judge(&s, &slo)),
                            sky_ramp_verdict_name(rows[i].want));
    }
}

/* Recorded ramps: re-judging every step gives the recorded verdict, and the knee. */
static void test_recorded_ramps_rejudge_to_the_same_knee(void **state) {
    (void)state;
    static const struct {
        const char *file;
        int knee;
        size_t nsteps;
    } rows[] = {
        {"ramp-capacity-2core.json", 6, 8}, /* as recorded: step 7 failed verify's SLO */
        {"ramp-slo-broken.json", 2, 4},
        {"ramp-lag-unbounded.json", 1, 3},
        {"ramp-none-held.json", -1, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char path[1024], err[512];
        snprintf(path, sizeof path, "%s/tests/data/bench/%s", SKY_SOURCE_DIR, rows[i].file);
        sky_ramp_step_t *steps = NULL;
        size_t n = 0;
        if (sky_ramp_steps_load(path, &steps, &n, err, sizeof err))
            fail_msg("%s", err);
        json_t *root = json_load_file(path, 0, NULL);
        json_t *slo_us = json_object_get(root, "slo_us");
        sky_ramp_slo_t slo = {
            json_integer_value(json_object_get(slo_us, "kafka_ack_p99")),
            json_integer_value(json_object_get(slo_us, "pg_commit_p50")),
            json_integer_value(json_object_get(slo_us, "pg_commit_p99")),
            json_integer_value(json_object_get(slo_us, "tile38_p99"))};
        assert_int_equal(n, rows[i].nsteps);
        for (size_t j = 0; j < n; j++) {
            sky_ramp_step_t again = steps[j];
            again.verdict = sky_ramp_judge(&steps[j], &slo);
            assert_string_equal(sky_ramp_verdict_name(again.verdict),
                                sky_ramp_verdict_name(steps[j].verdict));
        }
        assert_int_equal(sky_ramp_knee(steps, n), rows[i].knee);
        json_decref(root);
        free(steps);
    }
}

/* Bisection after the first failure: table of (aircraft, held) ramps -> next step. */
static void test_refine_bisects_between_the_knee_and_the_first_failure(void **state) {
    (void)state;
    static const struct {
        uint64_t aircraft[6];
        bool held[6];
        size_t n;
        uint64_t next;
    } rows[] = {
        {{8000, 12000, 18000, 27000, 40500}, {1, 1, 1, 1, 0}, 5, 33068}, /* sqrt(27k*40.5k) */
        {{8000, 12000, 18000, 27000, 40500, 33068}, {1, 1, 1, 1, 0, 0}, 6, 29880},
        {{8000, 12000, 18000, 27000, 40500, 33068}, {1, 1, 1, 1, 0, 1}, 6, 36596},
        {{8000, 12000}, {1, 1}, 2, 0},      /* nothing failed: nothing to refine */
        {{8000}, {0}, 1, 0},                /* nothing held */
        {{10, 11}, {1, 0}, 2, 0},           /* no whole count strictly between */
        {{10, 12}, {1, 0}, 2, 11},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_ramp_step_t steps[6];
        for (size_t j = 0; j < rows[i].n; j++) {
            steps[j] = held_step();
            steps[j].aircraft = rows[i].aircraft[j];
            steps[j].verdict = rows[i].held[j] ? SKY_STEP_HELD : SKY_STEP_SLO_BROKEN;
        }
        uint64_t next = sky_ramp_refine_aircraft(steps, rows[i].n);
        if (next != rows[i].next)
            fail_msg("row %zu: next %llu, want %llu", i, (unsigned long long)next,
                     (unsigned long long)rows[i].next);
    }
}

/* Refinement steps run out of order; sorted by load, the knee is the highest held step. */
static void test_sorted_refined_ramp_has_its_knee_at_the_highest_held_step(void **state) {
    (void)state;
    static const uint64_t aircraft[] = {8000, 12000, 18000, 27000, 40500, 33068, 29880};
    static const bool held[] = {1, 1, 1, 1, 0, 0, 1};
    sky_ramp_step_t steps[7];
    for (size_t j = 0; j < 7; j++) {
        steps[j] = held_step();
        steps[j].aircraft = aircraft[j];
        steps[j].run = j;
        steps[j].verdict = held[j] ? SKY_STEP_HELD : SKY_STEP_SLO_BROKEN;
    }
    sky_ramp_sort(steps, 7);
    for (size_t j = 1; j < 7; j++)
        assert_true(steps[j - 1].aircraft < steps[j].aircraft);
    int knee = sky_ramp_knee(steps, 7);
    assert_int_equal(knee, 4);
    assert_int_equal(steps[knee].aircraft, 29880);
    assert_int_equal(steps[knee].run, 6);
    json_t *j = sky_ramp_step_to_json(&steps[knee]);
    sky_ramp_step_t back;
    char err[256];
    assert_int_equal(sky_ramp_step_from_json(j, &back, err, sizeof err), 0);
    assert_int_equal(back.run, 6);
    json_decref(j);
}

static void test_step_json_reads_back_identically(void **state) {
    (void)state;
    sky_ramp_step_t s = held_step(), back;
    s.lag = (sky_lag_trend_t){12.5, 40, 90, false};
    s.nprocs = 2;
    s.procs[0] = (sky_ramp_proc_t){"skyload", 0.75, 51200};
    s.procs[1] = (sky_ramp_proc_t){"postgres", 0.5, 300000};
    s.verdict = SKY_STEP_LAG_UNBOUNDED;
    s.tile38 = (sky_ramp_lat_t){900, 1800, 3500, 7000, 9100};
    json_t *j = sky_ramp_step_to_json(&s);
    char err[256];
    assert_non_null(j);
    assert_int_equal(sky_ramp_step_from_json(j, &back, err, sizeof err), 0);
    json_decref(j);
    assert_memory_equal(&back.pg_commit, &s.pg_commit, sizeof s.pg_commit);
    assert_memory_equal(&back.tile38, &s.tile38, sizeof s.tile38);
    assert_int_equal(back.nprocs, 2);
    assert_string_equal(back.procs[1].name, "postgres");
    assert_true(fabs(back.lag.slope_msgs_s - 12.5) < 1e-9);
    assert_int_equal(back.verdict, SKY_STEP_LAG_UNBOUNDED);
}

static void test_step_json_rejects_unknown_verdict_and_missing_fields(void **state) {
    (void)state;
    static const char *const bad[] = {
        "{}",
        "{\"aircraft\":1}",
    };
    char err[256];
    sky_ramp_step_t out;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        assert_int_not_equal(sky_ramp_step_from_json(j, &out, err, sizeof err), 0);
        assert_non_null(strstr(err, "step"));
        json_decref(j);
    }
    sky_ramp_step_t s = held_step();
    json_t *j = sky_ramp_step_to_json(&s);
    json_object_set_new(j, "verdict", json_string("fine"));
    assert_int_not_equal(sky_ramp_step_from_json(j, &out, err, sizeof err), 0);
    assert_non_null(strstr(err, "unknown verdict"));
    json_decref(j);
}

static void test_next_aircraft_grows_by_the_factor_at_least_by_one(void **state) {
    (void)state;
    static const struct {
        uint64_t cur;
        double factor;
        uint64_t want;
    } rows[] = {{2000, 1.5, 3000}, {3000, 1.5, 4500}, {4500, 1.5, 6750}, {6750, 1.5, 10125},
                {1, 1.5, 2},       {1, 1.01, 2},      {10, 1.01, 11},    {7, 2.0, 14}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(sky_ramp_next_aircraft(rows[i].cur, rows[i].factor), rows[i].want);
}

static void test_slo_reads_scenario_thresholds_as_numbers_or_strings(void **state) {
    (void)state;
    json_t *slo = json_loads("{\"latency_ms\":{\"kafka_ack\":{\"p99\":\"500\"},"
                             "\"pg_commit\":{\"p50\":100,\"p99\":1000.5},"
                             "\"tile38\":{\"p99\":250}}}",
                             0, NULL);
    sky_ramp_slo_t s;
    sky_ramp_slo_from_json(slo, &s);
    assert_int_equal(s.kafka_ack_p99_us, 500000);
    assert_int_equal(s.pg_commit_p50_us, 100000);
    assert_int_equal(s.pg_commit_p99_us, 1000500);
    assert_int_equal(s.tile38_p99_us, 250000);
    json_decref(slo);
    sky_ramp_slo_from_json(NULL, &s);
    assert_int_equal(s.pg_commit_p99_us, 0);
}

/* A failing step names the SLO over its threshold, the longest stage on the record's
 * path, and a sink busy all the time; a step that held says nothing. */
static void test_explain_names_the_slo_and_the_stage_that_broke_it(void **state) {
    (void)state;
    const sky_ramp_slo_t slo = {.kafka_ack_p99_us = 500000, .pg_commit_p99_us = 1000000};
    sky_ramp_step_t s = held_step();
    char why[400];
    for (int i = 0; i < SKY_NSTAGES; i++)
        s.stages[i] = (sky_ramp_lat_t){-1, -1, -1, -1, -1};
    s.pg_busy = s.tile38_busy = s.cpu_busy = -1;
    s.verdict = SKY_STEP_HELD;
    sky_ramp_explain(&s, &slo, why, sizeof why);
    assert_string_equal(why, "");
    s.pg_commit.p99 = 1135000;
    s.stages[SKY_STAGE_CONSUME] = (sky_ramp_lat_t){1000, 2000, 9000, 12000, 15000};
    s.stages[SKY_STAGE_BATCH] = (sky_ramp_lat_t){20000, 90000, 150000, 170000, 180000};
    s.stages[SKY_STAGE_PG] = (sky_ramp_lat_t){300000, 700000, 870000, 900000, 950000};
    s.stages[SKY_STAGE_TILE38] = (sky_ramp_lat_t){3000, 9000, 40000, 50000, 60000};
    s.pg_busy = 0.97;
    s.tile38_busy = 0.2;
    s.verdict = SKY_STEP_SLO_BROKEN;
    sky_ramp_explain(&s, &slo, why, sizeof why);
    assert_string_equal(why, "pg_commit p99 1135.0 ms > 1000 ms; longest stage: pg p99 870.0 ms; "
                             "PostgreSQL connections 97% busy");
    s.pg_commit.p99 = 900000; /* the backlog broke it, not a percentile */
    s.verdict = SKY_STEP_LAG_UNBOUNDED;
    s.cpu_busy = 0.99;
    sky_ramp_explain(&s, &slo, why, sizeof why);
    assert_string_equal(why, "longest stage: pg p99 870.0 ms; PostgreSQL connections 97% busy; "
                             "CPUs 99% busy");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lag_trend_flags_only_a_backlog_that_keeps_growing),
        cmocka_unit_test(test_judge_names_the_first_failure),
        cmocka_unit_test(test_recorded_ramps_rejudge_to_the_same_knee),
        cmocka_unit_test(test_refine_bisects_between_the_knee_and_the_first_failure),
        cmocka_unit_test(test_sorted_refined_ramp_has_its_knee_at_the_highest_held_step),
        cmocka_unit_test(test_step_json_reads_back_identically),
        cmocka_unit_test(test_step_json_rejects_unknown_verdict_and_missing_fields),
        cmocka_unit_test(test_next_aircraft_grows_by_the_factor_at_least_by_one),
        cmocka_unit_test(test_slo_reads_scenario_thresholds_as_numbers_or_strings),
        cmocka_unit_test(test_explain_names_the_slo_and_the_stage_that_broke_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
