/* Unit tests for the key -> dense index map shared by verify, replay and ingest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "idmap.h"

#include <stdio.h>
#include <string.h>

static void test_idmap_interns_in_insertion_order_and_finds_exact_keys(void **state) {
    (void)state;
    static const struct {
        const char *key;
        size_t len;
        int64_t index;
        bool added;
    } rows[] = {
        {"BAW123-00002a", 13, 0, true}, {"BAW12", 5, 1, true},  {"", 0, 2, true},
        {"BAW123-00002a", 13, 0, false}, {"a\0b", 3, 3, true},   {"a\0c", 3, 4, true},
        {"a", 1, 5, true},              {"BAW12", 5, 1, false}, {"a\0b", 3, 3, false},
    };
    sky_idmap_t *m = sky_idmap_new(0);
    assert_non_null(m);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bool added = !rows[i].added;
        assert_int_equal(sky_idmap_intern(m, rows[i].key, rows[i].len, &added), rows[i].index);
        assert_int_equal(added, rows[i].added);
        assert_int_equal(sky_idmap_find(m, rows[i].key, rows[i].len), rows[i].index);
    }
    assert_int_equal(sky_idmap_count(m), 6);
    assert_int_equal(sky_idmap_find(m, "BAW1", 4), -1);
    assert_int_equal(sky_idmap_find(m, "BAW123", 6), -1);
    assert_int_equal(sky_idmap_find(m, "a\0", 2), -1);
    size_t len = 0;
    assert_memory_equal(sky_idmap_key(m, 3, &len), "a\0b", 4);
    assert_int_equal(len, 3);
    assert_null(sky_idmap_key(m, 6, NULL));
    sky_idmap_destroy(m);
}

/* Flight ids that differ in one digit, grown from an undersized map: every one is
 * found at its own index after the slots and the key arena have moved many times. */
static void test_idmap_grows_and_keeps_every_index(void **state) {
    (void)state;
    enum { N = 200000 };
    char key[32];
    sky_idmap_t *m = sky_idmap_new(4);
    for (int i = 0; i < N; i++) {
        int len = snprintf(key, sizeof key, "F%07d", i);
        assert_int_equal(sky_idmap_intern(m, key, (size_t)len, NULL), i);
    }
    for (int i = 0; i < N; i++) {
        int len = snprintf(key, sizeof key, "F%07d", i);
        assert_int_equal(sky_idmap_find(m, key, (size_t)len), i);
        size_t klen;
        assert_string_equal(sky_idmap_key(m, (size_t)i, &klen), key);
        assert_int_equal(klen, (size_t)len);
    }
    for (int i = N; i < N + 1000; i++) {
        int len = snprintf(key, sizeof key, "F%07d", i);
        assert_int_equal(sky_idmap_find(m, key, (size_t)len), -1);
    }
    assert_int_equal(sky_idmap_count(m), N);
    sky_idmap_destroy(m);
}

static void test_idmap_clear_forgets_keys_and_reuses_indexes(void **state) {
    (void)state;
    sky_idmap_t *m = sky_idmap_new(8);
    assert_int_equal(sky_idmap_intern(m, "AAL1", 4, NULL), 0);
    assert_int_equal(sky_idmap_intern(m, "DAL2", 4, NULL), 1);
    sky_idmap_clear(m);
    assert_int_equal(sky_idmap_count(m), 0);
    assert_int_equal(sky_idmap_find(m, "AAL1", 4), -1);
    assert_int_equal(sky_idmap_intern(m, "DAL2", 4, NULL), 0);
    assert_string_equal(sky_idmap_key(m, 0, NULL), "DAL2");
    sky_idmap_destroy(m);
}

/* The staged lookup verify uses: a present key's candidate is its index, confirmed by
 * is_key; an absent key has no candidate (or one that is_key refuses); find_hashed and
 * intern_hashed agree with find and intern. */
static void test_idmap_staged_lookup_agrees_with_find(void **state) {
    (void)state;
    char key[32];
    sky_idmap_t *m = sky_idmap_new(0);
    for (int i = 0; i < 5000; i++) {
        int len = snprintf(key, sizeof key, "AAL%d-%06x", i, i);
        uint64_t h = sky_idmap_hash(key, (size_t)len);
        assert_int_equal(sky_idmap_intern_hashed(m, key, (size_t)len, h, NULL), i);
    }
    for (int i = 0; i < 6000; i++) {
        int len = snprintf(key, sizeof key, "AAL%d-%06x", i, i);
        uint64_t h = sky_idmap_hash(key, (size_t)len);
        sky_idmap_prefetch(m, h);
        int64_t cand = sky_idmap_candidate(m, h);
        int64_t want = i < 5000 ? i : -1;
        assert_int_equal(sky_idmap_find_hashed(m, key, (size_t)len, h), want);
        assert_int_equal(sky_idmap_find(m, key, (size_t)len), want);
        if (want >= 0) {
            assert_int_equal(cand, want);
            assert_true(sky_idmap_is_key(m, cand, key, (size_t)len));
        } else {
            assert_false(sky_idmap_is_key(m, cand, key, (size_t)len));
        }
    }
    assert_false(sky_idmap_is_key(m, 0, "AAL1-000001", 11)); /* index 0 holds another key */
    sky_idmap_destroy(m);
}

static void test_idmap_reserve_makes_room_without_moving_slots(void **state) {
    (void)state;
    sky_idmap_t *m = sky_idmap_new(0);
    assert_int_equal(sky_idmap_reserve(m, 1000, 1000 * 16), 0);
    size_t bytes = sky_idmap_bytes(m);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        int len = snprintf(key, sizeof key, "UAL%d-%06x", i, i);
        assert_int_equal(sky_idmap_intern(m, key, (size_t)len, NULL), i);
    }
    assert_int_equal(sky_idmap_bytes(m), bytes);
    sky_idmap_destroy(m);
}

/* The slot index takes the low bits (and a bigger map more of them, up to the high
 * ones): both ends must spread keys that differ only in their last character. */
typedef struct value {
    int64_t seq;
    char tag[24];
} value_t;

/* Values: zeroed when their key is added, each key's own across growth and clear, not
 * moved by the keys a reservation made room for, and found back from their address. */
static void test_idmap_values_follow_their_keys(void **state) {
    (void)state;
    sky_idmap_t *m = sky_idmap_new_values(2, sizeof(value_t));
    assert_non_null(m);
    assert_null(sky_idmap_value(m, 0));
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "FL%05d", i);
        bool added;
        int64_t k = sky_idmap_intern(m, key, strlen(key), &added);
        assert_true(added);
        value_t *v = sky_idmap_value(m, (size_t)k);
        assert_non_null(v);
        assert_int_equal(v->seq, 0);
        assert_int_equal(v->tag[0], 0);
        v->seq = i;
        snprintf(v->tag, sizeof v->tag, "%d", i * 7);
        assert_int_equal(sky_idmap_value_index(m, v), (size_t)k);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "FL%05d", i);
        value_t *v = sky_idmap_value(m, (size_t)sky_idmap_find(m, key, strlen(key)));
        char want[24];
        snprintf(want, sizeof want, "%d", i * 7);
        assert_int_equal(v->seq, i);
        assert_string_equal(v->tag, want);
    }
    assert_int_equal(sky_idmap_reserve(m, 100, 100 * 8), 0);
    value_t *first = sky_idmap_value(m, 0);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "NEW%03d", i);
        assert_true(sky_idmap_intern(m, key, strlen(key), NULL) >= 0);
    }
    assert_ptr_equal(sky_idmap_value(m, 0), first); /* reserved: nothing moved */
    assert_null(sky_idmap_value(m, 5100));
    sky_idmap_clear(m);
    int64_t k = sky_idmap_intern(m, "FL00000", 7, NULL);
    assert_int_equal(((value_t *)sky_idmap_value(m, (size_t)k))->seq, 0); /* fresh again */
    sky_idmap_destroy(m);
    sky_idmap_t *plain = sky_idmap_new(1);
    assert_int_equal(sky_idmap_intern(plain, "A", 1, NULL), 0);
    assert_null(sky_idmap_value(plain, 0)); /* a map made without values has none */
    sky_idmap_destroy(plain);
}

static void test_idmap_hash_spreads_similar_keys_over_low_and_high_bits(void **state) {
    (void)state;
    enum { N = 4096, BUCKETS = 64 };
    unsigned low[BUCKETS] = {0}, high[BUCKETS] = {0};
    char key[32];
    for (int i = 0; i < N; i++) {
        int len = snprintf(key, sizeof key, "bench-%06d", i);
        uint64_t h = sky_idmap_hash(key, (size_t)len);
        low[h % BUCKETS]++;
        high[(h >> 58) % BUCKETS]++;
    }
    for (int b = 0; b < BUCKETS; b++) { /* 64 expected per bucket */
        assert_in_range(low[b], 32, 96);
        assert_in_range(high[b], 32, 96);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idmap_interns_in_insertion_order_and_finds_exact_keys),
        cmocka_unit_test(test_idmap_grows_and_keeps_every_index),
        cmocka_unit_test(test_idmap_clear_forgets_keys_and_reuses_indexes),
        cmocka_unit_test(test_idmap_staged_lookup_agrees_with_find),
        cmocka_unit_test(test_idmap_reserve_makes_room_without_moving_slots),
        cmocka_unit_test(test_idmap_values_follow_their_keys),
        cmocka_unit_test(test_idmap_hash_spreads_similar_keys_over_low_and_high_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
