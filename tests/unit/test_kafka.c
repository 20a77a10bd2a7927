/* Kafka clients against librdkafka's mock cluster (fast, in-process): headers,
 * per-key partitioning, delivery accounting, consumer assignment and commits.
 * The real broker is exercised by tests/e2e. */
#include "error.h"
#include "kafka.h"
#include "kafka_admin.h"
#include "mock_kafka.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

static rd_kafka_t *mock_rk;
static char bootstraps[256];

static int start_mock(void **state) {
    (void)state;
    mock_rk = mock_kafka_start("flights", 6, bootstraps, sizeof bootstraps);
    return mock_rk ? 0 : -1;
}

static int stop_mock(void **state) {
    (void)state;
    rd_kafka_destroy(mock_rk);
    return 0;
}

static void test_producer_attaches_headers_and_keeps_a_key_on_one_partition(void **state) {
    (void)state;
    char err[512];
    sky_kconf_t kc = {.brokers = bootstraps};
    sky_producer_t *p = sky_producer_new(&kc, "flights", err, sizeof err);
    assert_non_null(p);
    static const char *const keys[] = {"AAA1", "BBB2", "CCC3", "DDD4"};
    for (int seq = 0; seq < 50; seq++)
        for (int k = 0; k < 4; k++)
            assert_int_equal(sky_producer_send(p, RD_KAFKA_PARTITION_UA, keys[k], 4, "v", 1,
                                               "run-1", seq, 1000000000LL + seq, err, sizeof err),
                             0);
    assert_int_equal(sky_producer_flush(p, 10000, err, sizeof err), 0);
    sky_producer_stats_t st;
    sky_producer_get_stats(p, &st);
    assert_int_equal(st.produced, 200);
    assert_int_equal(st.delivered, 200);
    assert_int_equal(st.failed, 0);
    assert_int_equal(sky_hist_count(sky_producer_ack_hist(p)), 200);
    sky_producer_destroy(p);

    sky_consumer_t *c = sky_consumer_new(&kc, NULL, err, sizeof err);
    assert_non_null(c);
    int nparts = 0;
    assert_int_equal(sky_consumer_assign_all(c, "flights", RD_KAFKA_OFFSET_BEGINNING, &nparts, err,
                                             sizeof err), 0);
    assert_int_equal(nparts, 6);
    int32_t part_of[4] = {-1, -1, -1, -1};
    int64_t next_seq[4] = {0};
    int got = 0;
    for (int polls = 0; got < 200 && polls < 2000; polls++) {
        rd_kafka_message_t *m = sky_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err) {
            int k = ((const char *)m->key)[0] - 'A';
            int64_t seq, intended;
            char run[32];
            assert_int_equal(sky_msg_header_i64(m, SKY_HDR_SEQ, &seq), 0);
            assert_int_equal(sky_msg_header_i64(m, SKY_HDR_INTENDED, &intended), 0);
            assert_int_equal(sky_msg_header_str(m, SKY_HDR_RUN, run, sizeof run), 0);
            assert_string_equal(run, "run-1");
            assert_int_equal(intended, 1000000000LL + seq);
            assert_int_equal(seq, next_seq[k]++); /* per-key order kept */
            if (part_of[k] < 0)
                part_of[k] = m->partition;
            assert_int_equal(m->partition, part_of[k]);
            assert_true(sky_msg_header_i64(m, "absent", &seq) < 0);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(got, 200);
    sky_consumer_destroy(c);
}

static void note_partition(void *opaque, const sky_delivery_t *d) {
    *(int32_t *)opaque = d->err ? -2 : d->partition;
}

/* The caller's partition is taken as it is, unless -X names a partitioner: then the
 * partitioner decides (consistent = CRC32 of the key modulo the partition count). */
static void test_partition_hint_is_used_unless_a_partitioner_is_configured(void **state) {
    (void)state;
    static const char key[] = "AAL1-000001";
    const int32_t murmur2 = sky_kafka_murmur2_partition(key, 11, 6);
    const int32_t consistent = (int32_t)(crc32(0, (const Bytef *)key, 11) % 6);
    int32_t other = 0; /* a partition neither partitioner picks for the key */
    while (other == murmur2 || other == consistent)
        other++;
    const struct {
        const char *prop; /* NULL: none */
        int32_t hint, expected;
    } rows[] = {
        {NULL, other, other},
        {NULL, RD_KAFKA_PARTITION_UA, murmur2},
        {"partitioner=consistent", other, consistent},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[512];
        const char *props[1] = {rows[i].prop};
        sky_kconf_t kc = {.brokers = bootstraps, .props = props, .nprops = rows[i].prop ? 1 : 0};
        sky_producer_t *p = sky_producer_new(&kc, "flights", err, sizeof err);
        assert_non_null(p);
        int32_t got = -1;
        sky_producer_set_delivery_cb(p, note_partition, &got);
        assert_int_equal(sky_producer_send(p, rows[i].hint, key, 11, "v", 1, "run-1", 0, 1, err,
                                           sizeof err),
                         0);
        assert_int_equal(sky_producer_flush(p, 10000, err, sizeof err), 0);
        assert_int_equal(got, rows[i].expected);
        sky_producer_destroy(p);
    }
}

static void test_bad_passthrough_property_is_a_usage_error(void **state) {
    (void)state;
    char err[512];
    const char *props[] = {"no.such.property=1"};
    sky_kconf_t kc = {.brokers = bootstraps, .props = props, .nprops = 1};
    assert_null(sky_producer_new(&kc, "flights", err, sizeof err));
    assert_non_null(strstr(err, "no.such.property"));
    const char *props2[] = {"linger.ms"};
    sky_kconf_t kc2 = {.brokers = bootstraps, .props = props2, .nprops = 1};
    assert_null(sky_consumer_new(&kc2, "g", err, sizeof err));
    assert_non_null(strstr(err, "expected key=value"));
}

static void test_offset_parse(void **state) {
    (void)state;
    int64_t off;
    char err[128];
    assert_int_equal(sky_parse_offset("beginning", &off, err, sizeof err), 0);
    assert_int_equal(off, RD_KAFKA_OFFSET_BEGINNING);
    assert_int_equal(sky_parse_offset("end", &off, err, sizeof err), 0);
    assert_int_equal(off, RD_KAFKA_OFFSET_END);
    assert_int_equal(sky_parse_offset("17", &off, err, sizeof err), 0);
    assert_int_equal(off, 17);
    assert_true(sky_parse_offset("-3", &off, err, sizeof err) < 0);
    assert_true(sky_parse_offset("start", &off, err, sizeof err) < 0);
}

static void test_flush_times_out_when_no_broker_answers(void **state) {
    (void)state;
    char err[512];
    const char *props[] = {"message.timeout.ms=60000"};
    sky_kconf_t kc = {.brokers = "127.0.0.1:1", .props = props, .nprops = 1};
    sky_producer_t *p = sky_producer_new(&kc, "flights", err, sizeof err);
    assert_non_null(p);
    assert_int_equal(
        sky_producer_send(p, RD_KAFKA_PARTITION_UA, "K", 1, "v", 1, NULL, 0, 0, err, sizeof err), 0);
    assert_int_equal(sky_producer_flush(p, 300, err, sizeof err), SKY_ETIMEOUT);
    assert_non_null(strstr(err, "1 records still unacknowledged"));
    sky_producer_destroy(p);
}

static void test_eof_tracker_needs_every_partition_at_its_end(void **state) {
    (void)state;
    static const struct {
        int32_t partition;
        rd_kafka_resp_err_t err;
        bool all_at_end; /* expected after this message */
    } rows[] = {
        {0, RD_KAFKA_RESP_ERR__PARTITION_EOF, false},
        {1, RD_KAFKA_RESP_ERR__PARTITION_EOF, false},
        {1, RD_KAFKA_RESP_ERR__PARTITION_EOF, false}, /* twice counts once */
        {2, RD_KAFKA_RESP_ERR_NO_ERROR, false},
        {2, RD_KAFKA_RESP_ERR__PARTITION_EOF, true},
        {0, RD_KAFKA_RESP_ERR_NO_ERROR, false},      /* a new record: not at its end */
        {7, RD_KAFKA_RESP_ERR__PARTITION_EOF, false}, /* not an assigned partition */
        {0, RD_KAFKA_RESP_ERR__TRANSPORT, false},     /* other errors change nothing */
        {0, RD_KAFKA_RESP_ERR__PARTITION_EOF, true},
    };
    sky_eof_tracker_t t;
    assert_int_equal(sky_eof_tracker_init(&t, 3), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rd_kafka_message_t m;
        memset(&m, 0, sizeof m);
        m.partition = rows[i].partition;
        m.err = rows[i].err;
        if (sky_eof_tracker_note(&t, &m) != rows[i].all_at_end)
            fail_msg("row %zu: partition %d err %d: expected %d", i, rows[i].partition,
                     rows[i].err, rows[i].all_at_end);
    }
    sky_eof_tracker_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_producer_attaches_headers_and_keeps_a_key_on_one_partition),
        cmocka_unit_test(test_partition_hint_is_used_unless_a_partitioner_is_configured),
        cmocka_unit_test(test_bad_passthrough_property_is_a_usage_error),
        cmocka_unit_test(test_offset_parse),
        cmocka_unit_test(test_flush_times_out_when_no_broker_answers),
        cmocka_unit_test(test_eof_tracker_needs_every_partition_at_its_end),
    };
    return cmocka_run_group_tests(tests, start_mock, stop_mock);
}
