/* verify's topic reader against librdkafka's mock cluster: one thread or several, every
 * record of every partition reaches the callback exactly once, each partition's in
 * offset order and in one thread. */
#include "error.h"
#include "kafka.h"
#include "mock_kafka.h"
#include "topic_reader.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

enum { PARTS = 6, PER_PART = 2000 };

static rd_kafka_t *mock_rk;
static char bootstraps[256];

static int start_mock(void **state) {
    (void)state;
    char err[256];
    if (!(mock_rk = mock_kafka_start("readme", PARTS, bootstraps, sizeof bootstraps)))
        return -1;
    sky_kconf_t kc = {.brokers = bootstraps};
    sky_producer_t *p = sky_producer_new(&kc, "readme", err, sizeof err);
    if (!p)
        return -1;
    for (int part = 0; part < PARTS; part++)
        for (int i = 0; i < PER_PART; i++)
            if (sky_producer_send(p, part, "k", 1, "v", 1, NULL, 0, 0, err, sizeof err))
                return -1;
    int rc = sky_producer_flush(p, 10000, err, sizeof err);
    sky_producer_destroy(p);
    return rc ? -1 : 0;
}

static int stop_mock(void **state) {
    (void)state;
    rd_kafka_destroy(mock_rk);
    return 0;
}

/* What one reading thread saw. */
typedef struct lane {
    pthread_t thread;
    int64_t next[PARTS]; /* next offset expected per partition */
    uint64_t records, out_of_order;
    int parts_seen[PARTS];
} lane_t;

static void on_records(void *opaque, const rd_kafka_message_t *const *msgs, size_t n) {
    lane_t *l = opaque;
    if (!l->records)
        l->thread = pthread_self();
    for (size_t i = 0; i < n; i++) {
        int32_t p = msgs[i]->partition;
        l->records++;
        l->parts_seen[p] = 1;
        l->out_of_order += msgs[i]->offset != l->next[p];
        l->next[p] = msgs[i]->offset + 1;
    }
}

static void test_topic_read_delivers_every_record_once_in_one_or_several_threads(void **state) {
    (void)state;
    static const int threads[] = {1, 2, 3, 6, 16};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        lane_t lanes[16];
        void *opaques[16];
        memset(lanes, 0, sizeof lanes);
        for (int i = 0; i < 16; i++)
            opaques[i] = &lanes[i];
        sky_kconf_t kc = {.brokers = bootstraps};
        sky_topic_read_stats_t st;
        char err[512];
        assert_int_equal(sky_topic_read_parallel(&kc, "readme", NULL, 0, 5000, NULL, threads[t],
                                                 on_records, opaques, &st, err, sizeof err),
                         0);
        assert_true(st.complete);
        assert_int_equal(st.records, PARTS * PER_PART);
        uint64_t total = 0;
        int owners[PARTS] = {0};
        for (int i = 0; i < 16; i++) {
            total += lanes[i].records;
            assert_int_equal(lanes[i].out_of_order, 0);
            for (int p = 0; p < PARTS; p++)
                owners[p] += lanes[i].parts_seen[p];
        }
        assert_int_equal(total, PARTS * PER_PART);
        for (int p = 0; p < PARTS; p++) { /* each partition read whole, by one thread */
            assert_int_equal(owners[p], 1);
            for (int i = 0; i < 16; i++)
                if (lanes[i].parts_seen[p])
                    assert_int_equal(lanes[i].next[p], PER_PART);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_read_delivers_every_record_once_in_one_or_several_threads),
    };
    return cmocka_run_group_tests(tests, start_mock, stop_mock);
}
