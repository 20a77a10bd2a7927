/* Unit tests for the verify report: problems and examples, SLO judging, formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *render(const sky_verify_report_t *r, sky_verify_format_t fmt) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(sky_verify_report_write(r, fmt, f), 0);
    fclose(f);
    return text;
}

static void test_report_keeps_twenty_examples_and_counts_all(void **state) {
    (void)state;
    sky_verify_report_t *r = sky_verify_report_new();
    sky_verify_check_t *c = sky_verify_report_add_check(r, "pg.complete");
    for (int i = 0; i < 25; i++)
        sky_verify_check_problem(c, "F1", 2, i, -1, -1, "missing");
    assert_int_equal(c->nexamples, SKY_VERIFY_MAX_EXAMPLES);
    assert_int_equal(c->nproblems, 25);
    assert_false(sky_verify_report_passed(r));
    char *text = render(r, SKY_VERIFY_FORMAT_TEXT);
    assert_non_null(strstr(text, "... and 5 more"));
    free(text);
    sky_verify_report_destroy(r);
}

static void test_slo_fails_only_above_threshold(void **state) {
    (void)state;
    static const struct {
        const char *slo;
        int passed;
    } rows[] = {
        {"{\"latency_ms\": {\"kafka\": {\"p99\": 200}}}", 1},
        {"{\"latency_ms\": {\"kafka\": {\"p99\": 50}}}", 0},
        {"{\"latency_ms\": {\"kafka\": {\"max\": 99}}}", 0},
        {"{\"latency_ms\": {\"kafka\": {\"p50\": \"101\"}}}", 1},
        {"{\"latency_ms\": {\"tile38\": {\"p99\": 1}}}", 1}, /* no such stage: nothing judged */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sky_verify_report_t *r = sky_verify_report_new();
        sky_hist_t *h = sky_hist_new();
        sky_hist_record_n(h, 100000, 100); /* 100 ms */
        assert_non_null(sky_verify_report_add_stage(r, "kafka", "CreateTime", h));
        json_t *slo = json_loads(rows[i].slo, 0, NULL);
        assert_int_equal(sky_verify_report_apply_slo(r, slo, "test", NULL, 0), 0);
        assert_int_equal(sky_verify_report_judge_slo(r), 0);
        assert_int_equal(sky_verify_report_passed(r), rows[i].passed);
        json_decref(slo);
        sky_verify_report_destroy(r);
    }
}

static void test_slo_rejects_unknown_percentile(void **state) {
    (void)state;
    sky_verify_report_t *r = sky_verify_report_new();
    json_t *slo = json_loads("{\"latency_ms\": {\"kafka\": {\"p42\": 1}}}", 0, NULL);
    char err[256];
    assert_int_equal(sky_verify_report_apply_slo(r, slo, "slo.yaml", err, sizeof err),
                     SKY_EUSAGE);
    assert_non_null(strstr(err, "slo.yaml: slo.latency_ms.kafka.p42"));
    json_decref(slo);
    sky_verify_report_destroy(r);
}

static void test_junit_escapes_and_lists_failures(void **state) {
    (void)state;
    sky_verify_report_t *r = sky_verify_report_new();
    sky_verify_report_add_check(r, "kafka.complete");
    sky_verify_check_t *c = sky_verify_report_add_check(r, "kafka.ordering");
    sky_verify_check_problem(c, "A<&>", 4, 7, 3, 99, "seq 7 after \"8\"");
    sky_verify_check_set(c, SKY_CHECK_FAIL, "1 out of order");
    char *x = render(r, SKY_VERIFY_FORMAT_JUNIT);
    assert_non_null(strstr(x, "tests=\"2\" failures=\"1\""));
    assert_non_null(strstr(x, "<testcase classname=\"skyload.verify\" name=\"kafka.complete\"/>"));
    assert_non_null(strstr(x, "A&lt;&amp;&gt; seq=7 partition=3 offset=99: seq 7 after &quot;8&quot;"));
    free(x);
    char *j = render(r, SKY_VERIFY_FORMAT_JSON);
    json_t *root = json_loads(j, 0, NULL);
    assert_non_null(root);
    assert_true(json_is_false(json_object_get(root, "passed")));
    free(j);
    json_decref(root);
    sky_verify_report_destroy(r);
}

/* The tile38 stage (intended -> Tile38 acknowledged, from ingest's stats) in every
 * format, with its own SLO key. */
static void test_tile38_stage_in_every_format(void **state) {
    (void)state;
    sky_verify_report_t *r = sky_verify_report_new();
    sky_hist_t *h = sky_hist_new();
    sky_hist_record_n(h, 25000, 99); /* 25 ms */
    sky_hist_record(h, 400000);      /* 400 ms */
    assert_non_null(sky_verify_report_add_stage(r, "tile38", "ingest-stats", h));
    json_t *slo = json_loads("{\"latency_ms\": {\"tile38\": {\"p99\": 30, \"max\": 300}}}", 0, NULL);
    assert_int_equal(sky_verify_report_apply_slo(r, slo, "ci.yaml", NULL, 0), 0);
    assert_int_equal(sky_verify_report_judge_slo(r), 0);
    assert_false(sky_verify_report_passed(r)); /* max 400 ms > 300 */
    char *t = render(r, SKY_VERIFY_FORMAT_TEXT);
    assert_non_null(strstr(t, "slo.tile38"));
    assert_non_null(strstr(t, "tile38 latency (ingest-stats): max = "));
    assert_non_null(strstr(t, "p99<=30 max<=300"));
    char *x = render(r, SKY_VERIFY_FORMAT_JUNIT);
    assert_non_null(strstr(x, "<property name=\"latency.tile38.count\" value=\"100\"/>"));
    assert_non_null(strstr(x, "<property name=\"latency.tile38.p50_ms\" value=\"25."));
    assert_non_null(strstr(x, "<property name=\"latency.tile38.slo.max_ms\" value=\"300\"/>"));
    assert_non_null(strstr(x, "name=\"slo.tile38\">"));
    char *j = render(r, SKY_VERIFY_FORMAT_JSON);
    json_t *root = json_loads(j, 0, NULL);
    json_t *st = json_array_get(json_object_get(root, "latency"), 0);
    assert_string_equal(json_string_value(json_object_get(st, "stage")), "tile38");
    assert_int_equal(json_integer_value(json_object_get(st, "count")), 100);
    assert_true(json_number_value(json_object_get(json_object_get(st, "slo_ms"), "p99")) == 30);
    char dir[] = "/tmp/sky_hgrm_XXXXXX", path[64], err[128];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(sky_verify_report_write_hgrm(r, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/tile38.hgrm", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "Value"));
    fclose(f);
    remove(path);
    rmdir(dir);
    free(t);
    free(x);
    free(j);
    json_decref(root);
    json_decref(slo);
    sky_verify_report_destroy(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_keeps_twenty_examples_and_counts_all),
        cmocka_unit_test(test_slo_fails_only_above_threshold),
        cmocka_unit_test(test_slo_rejects_unknown_percentile),
        cmocka_unit_test(test_junit_escapes_and_lists_failures),
        cmocka_unit_test(test_tile38_stage_in_every_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
