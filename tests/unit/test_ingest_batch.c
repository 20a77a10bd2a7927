/* ingest's batch: rows grow in place, each partition's offset range covers exactly
 * what was added, and a reset keeps the memory but forgets the content. */
#include "batch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void test_ranges_cover_each_partition_from_first_to_last_offset(void **state) {
    (void)state;
    static const struct {
        int32_t partition;
        uint32_t epoch;
        int64_t offset;
    } adds[] = {{3, 1, 100}, {5, 7, 40}, {3, 1, 101}, {3, 1, 105}, {5, 7, 41}, {0, 2, 9}};
    static const struct {
        int32_t partition;
        uint32_t epoch;
        int64_t first, end;
    } want[] = {{3, 1, 100, 106}, {5, 7, 40, 42}, {0, 2, 9, 10}};
    sky_batch_t *b = sky_batch_new();
    assert_non_null(b);
    for (size_t i = 0; i < sizeof adds / sizeof adds[0]; i++)
        assert_int_equal(sky_batch_cover(b, adds[i].partition, adds[i].epoch, adds[i].offset), 0);
    assert_int_equal(b->nranges, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const sky_batch_range_t *g = sky_batch_range_of(b, want[i].partition);
        assert_non_null(g);
        assert_int_equal(g->epoch, want[i].epoch);
        assert_int_equal(g->first, want[i].first);
        assert_int_equal(g->end, want[i].end);
    }
    assert_null(sky_batch_range_of(b, 4));
    sky_batch_destroy(b);
}

static void test_rows_grow_and_reset_keeps_capacity(void **state) {
    (void)state;
    sky_batch_t *b = sky_batch_new();
    for (int i = 0; i < 5000; i++) {
        sky_batch_row_t *r = sky_batch_next_row(b);
        assert_non_null(r);
        r->seq = i;
        if (i % 2 == 0) /* odd rows are taken but not committed: they do not count */
            sky_batch_commit_row(b);
    }
    assert_int_equal(b->nrows, 2500);
    assert_int_equal(b->rows[10].seq, 20);
    size_t cap = b->cap;
    assert_int_equal(sky_buf_add(&b->raw, "key", 3), 0);
    sky_batch_cover(b, 1, 1, 1);
    atomic_store(&b->done, SKY_BATCH_PG | SKY_BATCH_TILE38);
    b->dlq_records = 4;
    sky_batch_reset(b, 3);
    assert_int_equal(b->nrows, 0);
    assert_int_equal(b->nranges, 0);
    assert_int_equal(b->raw.len, 0);
    assert_int_equal(atomic_load(&b->done), 0);
    assert_int_equal(b->dlq_records, 0);
    assert_int_equal(b->lane, 3);
    assert_int_equal(b->cap, cap);
    sky_batch_destroy(b);
    sky_batch_destroy(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_cover_each_partition_from_first_to_last_offset),
        cmocka_unit_test(test_rows_grow_and_reset_keeps_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
