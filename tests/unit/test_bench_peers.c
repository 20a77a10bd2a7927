/* bench peers: each peer's output parser on output captured from the local stack
 * (the .txt files of tests/data/bench) and on damaged copies; the median/min/max spread;
 * /proc/<pid>/stat parsing; timing a child process. */
#include "peers.h"
#include "procstat.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

typedef int(parse_fn)(const char *, sky_peer_report_t *, char *, size_t);

static char *slurp(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/bench/%s", SKY_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: cannot open", path);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_parsers_read_captured_peer_output(void **state) {
    (void)state;
    static const struct {
        const char *file;
        parse_fn *parse;
        double msgs_s, mb_s, p50, p99, p999, avg;
        int64_t messages;
    } rows[] = {
        {"rdkafka_performance.txt", sky_peer_parse_rdkafka_performance, 228203, 47.92, -1, -1,
         -1, -1, 200000},
        {"producer_performance.txt", sky_peer_parse_producer_performance, 259067.357513, 51.88,
         15, 66, 69, 22.52, 200000},
        {"end_to_end_latency.txt", sky_peer_parse_end_to_end_latency, -1, -1, 1, 7, 17, 1.6352,
         -1},
        {"psql_copy.txt", sky_peer_parse_copy, -1, -1, -1, -1, -1, -1, 500000},
        {"tile38_benchmark.txt", sky_peer_parse_tile38_benchmark, 39227.67, -1, -1, -1, -1, -1, -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *text = slurp(rows[i].file), err[256];
        sky_peer_report_t r;
        if (rows[i].parse(text, &r, err, sizeof err))
            fail_msg("%s: %s", rows[i].file, err);
        assert_true(fabs(r.msgs_s - rows[i].msgs_s) < 1e-6);
        assert_true(fabs(r.mb_s - rows[i].mb_s) < 1e-6);
        assert_true(fabs(r.p50_ms - rows[i].p50) < 1e-9);
        assert_true(fabs(r.p99_ms - rows[i].p99) < 1e-9);
        assert_true(fabs(r.p999_ms - rows[i].p999) < 1e-9);
        assert_true(fabs(r.avg_ms - rows[i].avg) < 1e-9);
        assert_int_equal(r.messages, rows[i].messages);
        free(text);
    }
}

/* Captured in a bench run: rdkafka_performance exited 1, having delivered every record. */
static void test_rdkafka_performance_counts_delivered_not_produced(void **state) {
    (void)state;
    const char *text =
        "% Sending 500000 messages of size 125 bytes\n"
        "% 500000 messages produced (62500000 bytes), 500000 delivered (offset 83204, 0 failed) "
        "in 1043ms: 479288 msgs/s and 59.91 MB/s, 0 produce failures, 1 in queue, no "
        "compression\n"
        "% 499999 messages produced (62500000 bytes), 500000 delivered (offset 83204, 0 failed) "
        "in 1043ms: 479290 msgs/s and 59.91 MB/s, 0 produce failures, 0 in queue, no "
        "compression\n";
    sky_peer_report_t r;
    char err[256] = "";
    if (sky_peer_parse_rdkafka_performance(text, &r, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(r.messages, 500000);
    assert_true(fabs(r.msgs_s - 479290) < 1e-6);
}

static void test_parsers_reject_output_without_a_summary(void **state) {
    (void)state;
    static const struct {
        parse_fn *parse;
        const char *text, *err_has;
    } rows[] = {
        {sky_peer_parse_rdkafka_performance, "% Sending 200000 messages of size 210 bytes\n",
         "rdkafka_performance"},
        {sky_peer_parse_rdkafka_performance,
         "% 5 messages produced (10 bytes), 5 delivered in lots: 5 msgs/s and 1 MB/s\n",
         "rdkafka_performance"},
        {sky_peer_parse_rdkafka_performance,
         "% 9 messages produced (90 bytes), 9 delivered (offset 3, 1 failed) in 5ms: 1800 "
         "msgs/s and 0.02 MB/s, 0 produce failures, 0 in queue, no compression\n",
         "1 of its records failed"},
        {sky_peer_parse_producer_performance,
         "100 records sent, 50.0 records/sec (0.01 MB/sec), 2.0 ms avg latency, 5.0 ms max "
         "latency.\n",
         "ProducerPerformance"},
        {sky_peer_parse_producer_performance, "", "ProducerPerformance"},
        {sky_peer_parse_end_to_end_latency, "Avg latency: 1.5 ms\n", "EndToEndLatency"},
        {sky_peer_parse_end_to_end_latency, "Percentiles: 50th = 1, 99th = 2, 99.9th = 3\n",
         "EndToEndLatency"},
        {sky_peer_parse_copy, "ERROR:  relation \"t\" does not exist\n", "COPY"},
        {sky_peer_parse_tile38_benchmark, "\rSET (point): 0.00\rSET (point): 1234.5",
         "tile38-benchmark"}, /* killed before its final line */
        {sky_peer_parse_tile38_benchmark, "dial tcp 127.0.0.1:9851: connect: connection refused\n",
         "tile38-benchmark"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_peer_report_t r;
        char err[256] = "";
        assert_int_not_equal(rows[i].parse(rows[i].text, &r, err, sizeof err), 0);
        if (!strstr(err, rows[i].err_has))
            fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err, rows[i].err_has);
    }
}

static void test_spread_is_median_min_max(void **state) {
    (void)state;
    static const struct {
        double v[5];
        size_t n;
        double median, min, max;
    } rows[] = {{{3, 1, 2}, 3, 2, 1, 3},
                {{10, 40, 20, 30}, 4, 25, 10, 40},
                {{7}, 1, 7, 7, 7},
                {{5, 5, 1, 9, 5}, 5, 5, 1, 9}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double v[5];
        memcpy(v, rows[i].v, sizeof v);
        sky_spread_t s = sky_spread_of(v, rows[i].n);
        assert_true(s.median == rows[i].median && s.min == rows[i].min && s.max == rows[i].max);
    }
}

static void test_proc_stat_parses_names_with_spaces_and_parens(void **state) {
    (void)state;
    static const struct {
        const char *line;
        int ok;
        pid_t ppid;
        uint64_t ticks, waited;
        int64_t rss;
    } rows[] = {
        {"42 (java) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 60 0 1000 4096000 12345 "
         "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0",
         1, 1, 300, 10, 12345},
        {"7 (a (b) c) R 3 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 9", 1, 3, 3, 0, 9},
        {"7 no parens here", 0, 0, 0, 0, 0},
        {"7 (short) R 3 7", 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_proc_stat_t st;
        int rc = sky_proc_parse_stat(rows[i].line, &st);
        assert_int_equal(rc == 0, rows[i].ok);
        if (!rows[i].ok)
            continue;
        assert_int_equal(st.ppid, rows[i].ppid);
        assert_int_equal(st.ticks, rows[i].ticks);
        assert_int_equal(st.waited_children_ticks, rows[i].waited);
        assert_int_equal(st.rss_pages, rows[i].rss);
    }
}

static void test_exec_times_a_child_and_reports_its_status(void **state) {
    (void)state;
    static const struct {
        const char *argv[4];
        int status;
        double min_wall;
    } rows[] = {
        {{"sleep", "0.2", NULL}, 0, 0.2},
        {{"sh", "-c", "exit 3", NULL}, 3, 0},
        {{"sh", "-c", "kill -9 $$", NULL}, 128 + 9, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_exec_result_t r;
        char err[256];
        assert_int_equal(sky_bench_exec(rows[i].argv, NULL, NULL, 10000, &r, err, sizeof err), 0);
        assert_int_equal(r.status, rows[i].status);
        assert_true(r.wall_s >= rows[i].min_wall && r.wall_s < 5);
    }
    const char *missing[] = {"/nonexistent/skyload-peer", NULL};
    sky_exec_result_t r;
    char err[256];
    assert_int_not_equal(sky_bench_exec(missing, NULL, NULL, 1000, &r, err, sizeof err), 0);
    assert_non_null(strstr(err, "not found"));
}

static void test_sys_cpu_reads_busy_and_total_ticks(void **state) {
    (void)state;
    static const struct {
        const char *line;
        int rc;
        uint64_t busy, total;
    } rows[] = {
        {"cpu  100 5 50 800 40 3 2 0 0 0\n", 0, 160, 1000},
        {"cpu  1 2 3 4\n", 0, 6, 10},
        {"cpu0 100 5 50 800 40 3 2 0\n", -1, 0, 0},
        {"intr 1 2 3\n", -1, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t busy = 0, total = 0;
        int rc = sky_sys_cpu_parse(rows[i].line, &busy, &total);
        assert_int_equal(rc != 0 ? -1 : 0, rows[i].rc);
        if (!rc) {
            assert_int_equal(busy, rows[i].busy);
            assert_int_equal(total, rows[i].total);
        }
    }
    uint64_t busy, total;
    assert_int_equal(sky_sys_cpu(&busy, &total), 0);
    assert_true(total > 0 && busy <= total);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sys_cpu_reads_busy_and_total_ticks),
        cmocka_unit_test(test_parsers_read_captured_peer_output),
        cmocka_unit_test(test_rdkafka_performance_counts_delivered_not_produced),
        cmocka_unit_test(test_parsers_reject_output_without_a_summary),
        cmocka_unit_test(test_spread_is_median_min_max),
        cmocka_unit_test(test_proc_stat_parses_names_with_spaces_and_parens),
        cmocka_unit_test(test_exec_times_a_child_and_reports_its_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
