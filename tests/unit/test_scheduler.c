/* The emission schedule: time order, one emission per slot per cadence at a fixed
 * phase, even spread, and shards that split the slots exactly. */
#include "scheduler.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct sched_row {
    uint64_t slots;
    int index, count;
    int64_t cadence_us;
    uint32_t local_slots;
};

static void test_sched_emits_each_slot_once_per_cadence_in_time_order(void **state) {
    (void)state;
    static const struct sched_row rows[] = {
        {1, 0, 1, 5000000, 1},  {7, 0, 1, 5000000, 7}, {1000, 0, 1, 5000000, 1000},
        {10, 3, 4, 1000000, 2}, {10, 1, 4, 100000, 3}, {3, 3, 4, 5000000, 0},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        sky_sched_params_t p = {rows[r].slots, rows[r].index, rows[r].count, rows[r].cadence_us};
        char err[128];
        sky_sched_t *s = sky_sched_new(&p, err, sizeof err);
        assert_non_null(s);
        uint32_t n = sky_sched_slots(s);
        if (n != rows[r].local_slots)
            fail_msg("row %zu: %u slots, want %u", r, n, rows[r].local_slots);
        uint32_t *seen = calloc(n ? n : 1, sizeof *seen);
        int64_t prev = -1;
        sky_emission_t e;
        for (uint64_t i = 0; i < 3ULL * n; i++) {
            assert_int_equal(sky_sched_next(s, &e), 0);
            assert_true(e.t_us >= prev);
            assert_int_equal(e.global % (uint64_t)rows[r].count, (uint64_t)rows[r].index);
            assert_int_equal(e.t_us, (int64_t)e.cycle * rows[r].cadence_us +
                                         sky_sched_phase_us(e.global, rows[r].cadence_us));
            assert_int_equal(e.cycle, i / n);
            seen[e.local]++;
            prev = e.t_us;
        }
        for (uint32_t i = 0; i < n; i++)
            assert_int_equal(seen[i], 3);
        if (!n)
            assert_int_equal(sky_sched_next(s, &e), -1);
        free(seen);
        sky_sched_destroy(s);
    }
}

static void test_sched_phases_spread_any_prefix_evenly(void **state) {
    (void)state;
    static const uint64_t prefixes[] = {10, 100, 1000, 100000};
    const int64_t cadence = 5000000;
    for (size_t r = 0; r < sizeof prefixes / sizeof prefixes[0]; r++) {
        uint64_t buckets[10] = {0};
        for (uint64_t g = 0; g < prefixes[r]; g++) {
            int64_t ph = sky_sched_phase_us(g, cadence);
            assert_true(ph >= 0 && ph < cadence);
            buckets[ph * 10 / cadence]++;
        }
        /* a Weyl sequence puts every tenth of the cadence within one slot or so of n/10 */
        for (int b = 0; b < 10; b++)
            if (buckets[b] + 2 < prefixes[r] / 10 || buckets[b] > prefixes[r] / 10 + 2)
                fail_msg("prefix %llu: bucket %d has %llu", (unsigned long long)prefixes[r], b,
                         (unsigned long long)buckets[b]);
    }
}

static void test_sched_shards_partition_the_slots(void **state) {
    (void)state;
    const uint64_t total = 1001;
    char *owner = calloc(total, 1);
    for (int i = 0; i < 4; i++) {
        sky_sched_params_t p = {total, i, 4, 5000000};
        char err[128];
        sky_sched_t *s = sky_sched_new(&p, err, sizeof err);
        assert_non_null(s);
        for (uint32_t l = 0; l < sky_sched_slots(s); l++) {
            uint64_t g = sky_sched_global(s, l);
            assert_true(g < total);
            assert_int_equal(owner[g], 0);
            owner[g] = 1;
        }
        sky_sched_destroy(s);
    }
    for (uint64_t g = 0; g < total; g++)
        assert_int_equal(owner[g], 1);
    free(owner);
}

static void test_sched_rejects_bad_shard(void **state) {
    (void)state;
    static const sky_sched_params_t rows[] = {
        {10, 4, 4, 1000}, {10, -1, 4, 1000}, {10, 0, 0, 1000}, {10, 0, 1, 0}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        char err[128] = "";
        assert_null(sky_sched_new(&rows[r], err, sizeof err));
        assert_true(strlen(err) > 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_emits_each_slot_once_per_cadence_in_time_order),
        cmocka_unit_test(test_sched_phases_spread_any_prefix_evenly),
        cmocka_unit_test(test_sched_shards_partition_the_slots),
        cmocka_unit_test(test_sched_rejects_bad_shard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
