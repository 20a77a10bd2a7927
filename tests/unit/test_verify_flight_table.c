/* Unit tests for verify's per-flight table: seen bitmap, lookup, fault masks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "flight_table.h"

#include <stdlib.h>
#include <string.h>

static sky_verify_manifest_t *two_flights(void) {
    sky_verify_manifest_t *m = sky_verify_manifest_new();
    m->flights = calloc(2, sizeof *m->flights);
    m->flights[0] = (sky_vm_flight_t){.id = strdup("AAA1"), .first_seq = 0, .last_seq = 129,
                                      .partition = -1};
    m->flights[1] = (sky_vm_flight_t){.id = strdup("BBB2"), .first_seq = 10, .last_seq = 12,
                                      .partition = 2};
    m->nflights = 2;
    m->faults = calloc(2, sizeof *m->faults);
    m->faults[0] = (sky_vm_fault_t){SKY_FAULT_GAP, strdup("AAA1"), 64, 3};
    m->faults[1] = (sky_vm_fault_t){SKY_FAULT_REORDER, strdup("AAA1"), 100, 1};
    m->nfaults = 2;
    return m;
}

static void test_flight_mark_reports_new_seen_and_outside(void **state) {
    (void)state;
    static const struct {
        const char *flight;
        int64_t seq;
        int expected;
    } rows[] = {
        {"AAA1", 0, 0},   {"AAA1", 0, 1},   {"AAA1", 63, 0}, {"AAA1", 64, 0},
        {"AAA1", 129, 0}, {"AAA1", 130, -1}, {"BBB2", 9, -1}, {"BBB2", 10, 0},
        {"BBB2", 12, 0},  {"BBB2", 12, 1},
    };
    sky_verify_manifest_t *m = two_flights();
    sky_flight_table_t *t = sky_flight_table_new(m, NULL, 0);
    assert_non_null(t);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_vflight_t *f = sky_flight_table_find(t, rows[i].flight, strlen(rows[i].flight));
        assert_non_null(f);
        assert_int_equal(sky_flight_mark(f, rows[i].seq), rows[i].expected);
    }
    sky_flight_table_reset(t);
    assert_int_equal(sky_flight_is_seen(sky_flight_table_find(t, "AAA1", 4), 0), 0);
    sky_flight_table_destroy(t);
    sky_verify_manifest_destroy(m);
}

static void test_flight_find_rejects_unknown_and_prefix_ids(void **state) {
    (void)state;
    sky_verify_manifest_t *m = two_flights();
    sky_flight_table_t *t = sky_flight_table_new(m, NULL, 0);
    assert_null(sky_flight_table_find(t, "AAA", 3));
    assert_null(sky_flight_table_find(t, "AAA12", 5));
    assert_null(sky_flight_table_find(t, "", 0));
    assert_int_equal(sky_flight_table_find(t, "BBB2", 4)->manifest_partition, 2);
    sky_flight_table_destroy(t);
    sky_verify_manifest_destroy(m);
}

static void test_flight_faults_cover_gap_range_and_reorder(void **state) {
    (void)state;
    static const struct {
        int64_t seq;
        unsigned mask;
    } rows[] = {
        {63, 0},
        {64, SKY_FAULT_BIT(SKY_FAULT_GAP)},
        {66, SKY_FAULT_BIT(SKY_FAULT_GAP)},
        {67, 0},
        {100, SKY_FAULT_BIT(SKY_FAULT_REORDER)},
        {101, 0},
    };
    sky_verify_manifest_t *m = two_flights();
    sky_flight_table_t *t = sky_flight_table_new(m, NULL, 0);
    sky_vflight_t *f = sky_flight_table_find(t, "AAA1", 4);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(sky_flight_faults_at(t, f, rows[i].seq), rows[i].mask);
    assert_int_equal(sky_flight_faults_at(t, sky_flight_table_find(t, "BBB2", 4), 11), 0);
    sky_flight_table_destroy(t);
    sky_verify_manifest_destroy(m);
}

static void test_flight_table_memory_is_per_flight_not_per_seq(void **state) {
    (void)state;
    sky_verify_manifest_t *m = sky_verify_manifest_new();
    m->flights = calloc(1000, sizeof *m->flights);
    for (int i = 0; i < 1000; i++) {
        char id[16];
        snprintf(id, sizeof id, "F%04d", i);
        m->flights[i] = (sky_vm_flight_t){.id = strdup(id), .last_seq = 9999, .partition = -1};
    }
    m->nflights = 1000;
    sky_flight_table_t *t = sky_flight_table_new(m, NULL, 0);
    /* 10 M seqs: 1 bit each (1.25 MB) plus a small fixed struct per flight. */
    assert_true(sky_flight_table_bytes(t) < 1250000 + 1000 * 160);
    assert_non_null(sky_flight_table_find(t, "F0999", 5));
    sky_flight_table_destroy(t);
    sky_verify_manifest_destroy(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flight_mark_reports_new_seen_and_outside),
        cmocka_unit_test(test_flight_find_rejects_unknown_and_prefix_ids),
        cmocka_unit_test(test_flight_faults_cover_gap_range_and_reorder),
        cmocka_unit_test(test_flight_table_memory_is_per_flight_not_per_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
