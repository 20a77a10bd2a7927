/* Histogram: bucket geometry keeps every value within 1% of itself, percentiles
 * match an exact sort, merge adds, and the JSON form reads back identically. */
#include "histogram.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_bucket_bounds_within_one_percent(void **state) {
    (void)state;
    static const int64_t values[] = {0, 1, 255, 256, 257, 1000, 12345, 999999, 1000000007LL,
                                     INT64_MAX / 3, INT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        size_t idx = sky_hist_bucket_index(values[i]);
        int64_t lo = sky_hist_bucket_low(idx), hi = sky_hist_bucket_high(idx);
        assert_true(lo <= values[i] && values[i] <= hi);
        assert_true((double)(hi - lo) <= 0.01 * (double)lo || hi == lo);
    }
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_percentiles_match_exact_within_one_percent(void **state) {
    (void)state;
    enum { N = 100000 };
    int64_t *v = malloc(N * sizeof *v);
    sky_hist_t *h = sky_hist_new();
    assert_non_null(v);
    assert_non_null(h);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: a long-tailed sample */
        v[i] = (int64_t)(x % 1000) * (int64_t)(x % 1000) * (int64_t)(1 + x % 7);
        sky_hist_record(h, v[i]);
    }
    qsort(v, N, sizeof *v, cmp_i64);
    static const double pcts[] = {50, 90, 99, 99.9, 100};
    for (size_t i = 0; i < 5; i++) {
        size_t rank = (size_t)(pcts[i] / 100.0 * N + 0.999999);
        int64_t exact = v[(rank ? rank : 1) - 1];
        int64_t got = sky_hist_percentile(h, pcts[i]);
        assert_true(got >= exact);
        assert_true((double)(got - exact) <= 0.01 * (double)exact + 1);
    }
    assert_int_equal(sky_hist_max(h), v[N - 1]);
    assert_int_equal(sky_hist_min(h), v[0]);
    assert_int_equal(sky_hist_count(h), N);
    free(v);
    sky_hist_destroy(h);
}

static void test_merge_adds_counts_and_extremes(void **state) {
    (void)state;
    sky_hist_t *a = sky_hist_new(), *b = sky_hist_new();
    sky_hist_record(a, 10);
    sky_hist_record_n(b, 5000, 3);
    sky_hist_record(b, -7); /* clamped to 0 */
    sky_hist_merge(a, b);
    assert_int_equal(sky_hist_count(a), 5);
    assert_int_equal(sky_hist_min(a), 0);
    assert_true(sky_hist_max(a) == 5000);
    assert_true(sky_hist_percentile(a, 50) >= 4990);
    sky_hist_destroy(a);
    sky_hist_destroy(b);
}

static void test_json_roundtrip_is_identical(void **state) {
    (void)state;
    sky_hist_t *h = sky_hist_new();
    for (int64_t i = 1; i < 200000; i = i * 3 / 2 + 1)
        sky_hist_record_n(h, i, (uint64_t)(i % 5 + 1));
    sky_buf_t b, b2;
    sky_buf_init(&b, 0);
    sky_buf_init(&b2, 0);
    assert_int_equal(sky_hist_to_json(h, &b), 0);
    char err[128];
    sky_hist_t *back = sky_hist_from_json(b.data, err, sizeof err);
    assert_non_null(back);
    assert_int_equal(sky_hist_to_json(back, &b2), 0);
    assert_string_equal(b.data, b2.data);
    assert_int_equal(sky_hist_percentile(back, 99), sky_hist_percentile(h, 99));
    assert_null(sky_hist_from_json("{\"buckets\":[[999999,1]]}", err, sizeof err));
    assert_non_null(strstr(err, "bad bucket"));
    sky_buf_free(&b);
    sky_buf_free(&b2);
    sky_hist_destroy(h);
    sky_hist_destroy(back);
}

static void test_empty_histogram_reports_zeroes(void **state) {
    (void)state;
    sky_hist_t *h = sky_hist_new();
    assert_int_equal(sky_hist_percentile(h, 99), 0);
    assert_int_equal(sky_hist_max(h), 0);
    assert_int_equal(sky_hist_min(h), 0);
    sky_hist_destroy(h);
    sky_hist_destroy(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_bounds_within_one_percent),
        cmocka_unit_test(test_percentiles_match_exact_within_one_percent),
        cmocka_unit_test(test_merge_adds_counts_and_extremes),
        cmocka_unit_test(test_json_roundtrip_is_identical),
        cmocka_unit_test(test_empty_histogram_reports_zeroes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
