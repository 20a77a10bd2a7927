/* Fault injection is deterministic and follows the rates; malformed records fail
 * validation; the murmur2 partitioner matches Java's (Kafka's UtilsTest vectors). */
#include "codec.h"
#include "faults.h"
#include "kafka_admin.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static void test_faults_follow_rates_and_are_deterministic(void **state) {
    (void)state;
    sky_fault_rates_t r = {0.02, 0.03, 0.05, 0.01, 0.04, 3};
    const double want[SKY_FAULT_KINDS] = {[SKY_FAULT_DROP] = 0.05, [SKY_FAULT_GAP] = 0.04,
                                          [SKY_FAULT_DUPLICATE] = 0.02,
                                          [SKY_FAULT_REORDER] = 0.03,
                                          [SKY_FAULT_MALFORMED] = 0.01};
    sky_faults_t f, g;
    sky_faults_init(&f, &r, 42);
    sky_faults_init(&g, &r, 42);
    uint64_t count[SKY_FAULT_KINDS] = {0};
    const uint64_t n = 200000;
    for (uint64_t i = 0; i < n; i++) {
        int k = sky_faults_pick(&f, i / 100, i % 100);
        assert_int_equal(k, sky_faults_pick(&g, i / 100, i % 100));
        if (k != SKY_FAULT_NONE)
            count[k]++;
    }
    for (int k = 0; k < SKY_FAULT_KINDS; k++) {
        double got = (double)count[k] / (double)n;
        if (got < want[k] * 0.9 || got > want[k] * 1.1)
            fail_msg("%s: rate %.4f, want %.4f", sky_fault_kind_name(k), got, want[k]);
    }
}

static void test_faults_none_without_rates(void **state) {
    (void)state;
    sky_fault_rates_t r = {0, 0, 0, 0, 0, 3};
    sky_faults_t f;
    sky_faults_init(&f, &r, 1);
    for (uint64_t i = 0; i < 10000; i++)
        assert_int_equal(sky_faults_pick(&f, i, i), SKY_FAULT_NONE);
}

static void test_malformed_records_fail_validation(void **state) {
    (void)state;
    sky_fault_rates_t r = {0, 0, 0, 1, 0, 3};
    sky_faults_t f;
    sky_faults_init(&f, &r, 7);
    for (uint64_t seq = 0; seq < 300; seq++) {
        sky_flight_t fl;
        memset(&fl, 0, sizeof fl);
        snprintf(fl.flight_id, sizeof fl.flight_id, "BAW1-000001");
        fl.has_location = true;
        fl.latitude = seq % 2 ? 51.5 : -33.9;
        fl.longitude = 0.1;
        fl.altitude = 30000;
        fl.airspeed = 450;
        snprintf(fl.timestamp, sizeof fl.timestamp, "2026-11-25T10:00:00.000Z");
        char reason[160], err[160];
        sky_faults_malform(&f, &fl, 1, seq, reason, sizeof reason);
        assert_int_not_equal(sky_flight_validate(&fl, NULL, err, sizeof err), 0);
        assert_string_equal(reason, err);
    }
}

struct murmur_row {
    const char *key;
    int32_t java; /* org.apache.kafka.common.utils.Utils.murmur2 */
};

static void test_murmur2_matches_java(void **state) {
    (void)state;
    static const struct murmur_row rows[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint32_t h = sky_murmur2(rows[i].key, strlen(rows[i].key));
        assert_int_equal((int32_t)h, rows[i].java);
        assert_int_equal(sky_kafka_murmur2_partition(rows[i].key, strlen(rows[i].key), 6),
                         (int32_t)(((uint32_t)rows[i].java & 0x7fffffff) % 6));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_follow_rates_and_are_deterministic),
        cmocka_unit_test(test_faults_none_without_rates),
        cmocka_unit_test(test_malformed_records_fail_validation),
        cmocka_unit_test(test_murmur2_matches_java),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
