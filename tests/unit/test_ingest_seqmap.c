/* Ingest's per-flight position map: ordering by seq (or by timestamp for
 * records without skyload headers), duplicates are not newer, and the map
 * keeps every flight across growth. */
#include "seqmap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static void test_seq_newer_orders_by_seq_then_timestamp(void **state) {
    (void)state;
    static const struct {
        bool a_has;
        int64_t a_seq, a_ts;
        bool b_has;
        int64_t b_seq, b_ts;
        bool expected;
        const char *why;
    } rows[] = {
        {true, 5, 100, true, 4, 200, true, "higher seq wins even with an older timestamp"},
        {true, 4, 300, true, 5, 200, false, "reordered: lower seq is stale"},
        {true, 5, 100, true, 5, 100, false, "duplicate is not newer"},
        {false, -1, 300, true, 9, 200, true, "no seq on one side: timestamp decides"},
        {false, -1, 100, false, -1, 200, false, "no seq: older timestamp is stale"},
        {false, -1, 200, false, -1, 200, false, "no seq: same timestamp is a duplicate"},
        {true, 0, 100, false, -1, 50, true, "seq 0 after a headerless record"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (sky_seq_newer(rows[i].a_has, rows[i].a_seq, rows[i].a_ts, rows[i].b_has,
                          rows[i].b_seq, rows[i].b_ts) != rows[i].expected)
            fail_msg("row %zu: %s", i, rows[i].why);
}

static void test_seqmap_keeps_every_flight_across_growth(void **state) {
    (void)state;
    sky_seqmap_t *m = sky_seqmap_new(4);
    assert_non_null(m);
    char id[32];
    for (int i = 0; i < 10000; i++) {
        if (i % 100 == 0)
            assert_int_equal(sky_seqmap_reserve(m, 100), 0);
        snprintf(id, sizeof id, "FL%05d", i);
        sky_seq_entry_t *e = sky_seqmap_get(m, id, true);
        assert_non_null(e);
        e->seq = i;
        e->known = true;
    }
    assert_int_equal(sky_seqmap_count(m), 10000);
    for (int i = 0; i < 10000; i++) {
        snprintf(id, sizeof id, "FL%05d", i);
        sky_seq_entry_t *e = sky_seqmap_get(m, id, false);
        assert_non_null(e);
        assert_int_equal(e->seq, i); /* the flight's own entry, not a neighbour's */
    }
    assert_null(sky_seqmap_get(m, "absent", false));
    sky_seqmap_clear(m);
    assert_int_equal(sky_seqmap_count(m), 0);
    assert_null(sky_seqmap_get(m, "FL00001", false));
    sky_seqmap_destroy(m);
}

static void test_seqmap_refuses_to_create_past_its_reservation(void **state) {
    (void)state;
    sky_seqmap_t *m = sky_seqmap_new(1); /* room for the minimum, 32 flights */
    char id[32];
    int created = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "X%d", i);
        if (sky_seqmap_get(m, id, true))
            created++;
    }
    assert_int_equal(created, 32);
    sky_seqmap_destroy(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_newer_orders_by_seq_then_timestamp),
        cmocka_unit_test(test_seqmap_keeps_every_flight_across_growth),
        cmocka_unit_test(test_seqmap_refuses_to_create_past_its_reservation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
