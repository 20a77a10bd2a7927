/* Option parsers and buffer writers: whole-string, range-checked, exact. */
#include "dynbuf.h"
#include "parse.h"
#include "record_json.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct dur_row {
    const char *text;
    int64_t ms; /* -1 = must be rejected */
};

static void test_duration_parse_table(void **state) {
    (void)state;
    static const struct dur_row rows[] = {
        {"250ms", 250}, {"5s", 5000}, {"1.5", 1500}, {"10m", 600000}, {"2h", 7200000},
        {"1d", 86400000}, {"0", 0}, {"5 s", -1}, {"s", -1}, {"-5s", -1}, {"5w", -1}, {"", -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t ms = -7;
        char err[128];
        int rc = sky_parse_duration_ms(rows[i].text, &ms, "--duration", err, sizeof err);
        if (rows[i].ms < 0 ? rc == 0 : (rc != 0 || ms != rows[i].ms))
            fail_msg("\"%s\": rc=%d ms=%lld", rows[i].text, rc, (long long)ms);
    }
}

static void test_i64_parse_rejects_trailing_text_and_range(void **state) {
    (void)state;
    int64_t v;
    char err[128];
    assert_int_equal(sky_parse_i64("42", 0, 100, &v, "--n", err, sizeof err), 0);
    assert_int_equal(v, 42);
    assert_true(sky_parse_i64("42x", 0, 100, &v, "--n", err, sizeof err) < 0);
    assert_non_null(strstr(err, "not a whole number"));
    assert_true(sky_parse_i64("101", 0, 100, &v, "--n", err, sizeof err) < 0);
    assert_non_null(strstr(err, "out of range [0, 100]"));
    assert_true(sky_parse_i64("", 0, 100, &v, "--n", err, sizeof err) < 0);
    assert_true(sky_parse_i64("99999999999999999999", 0, INT64_MAX, &v, "--n", err, sizeof err) < 0);
}

static void test_shard_and_hostport_parse(void **state) {
    (void)state;
    int i, n, port;
    char host[64], err[128];
    assert_int_equal(sky_parse_shard("2/4", &i, &n, err, sizeof err), 0);
    assert_true(i == 2 && n == 4);
    assert_true(sky_parse_shard("4/4", &i, &n, err, sizeof err) < 0);
    assert_true(sky_parse_shard("1/0", &i, &n, err, sizeof err) < 0);
    assert_true(sky_parse_shard("a/b", &i, &n, err, sizeof err) < 0);
    assert_int_equal(sky_parse_hostport("127.0.0.1:9851", host, sizeof host, &port, "--tile38",
                                        err, sizeof err), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9851);
    assert_int_equal(sky_parse_hostport("[::1]:5432", host, sizeof host, &port, "x", err,
                                        sizeof err), 0);
    assert_string_equal(host, "::1");
    assert_true(sky_parse_hostport("localhost", host, sizeof host, &port, "x", err, sizeof err) < 0);
    assert_true(sky_parse_hostport("h:70000", host, sizeof host, &port, "x", err, sizeof err) < 0);
}

static void test_json_string_escapes_controls_and_bad_utf8(void **state) {
    (void)state;
    sky_buf_t b;
    sky_buf_init(&b, 0);
    static const char in[] = "a\"b\\c\n\x01\xc3\xa9\xff";
    assert_int_equal(sky_buf_add_json_str(&b, in, sizeof in - 1), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\u00ff\"");
    sky_buf_free(&b);
}

static void test_double_text_roundtrips(void **state) {
    (void)state;
    static const double values[] = {0.1, 51.4700223, -0.4542955, 1e-7, 179.99999999999997,
                                    -90.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(sky_buf_add_double(&b, values[i]), 0);
        assert_true(strtod(b.data, NULL) == values[i]);
        sky_buf_free(&b);
    }
}

/* Every digit count and the pair/odd-digit boundaries, against snprintf. */
static void test_integer_formatters_match_snprintf(void **state) {
    (void)state;
    static const int64_t values[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000,
                                     99999, 100000, 123456789, 1795600800065778000LL,
                                     INT64_MAX, INT64_MIN, -1, -10, -1795600800065778000LL};
    char want[32], got[32];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(want, sizeof want, "%lld", (long long)values[i]);
        got[sky_fmt_i64(got, values[i])] = '\0';
        assert_string_equal(got, want);
    }
    for (uint64_t v = 1; v < UINT64_MAX / 10; v = v * 10 + 7) {
        snprintf(want, sizeof want, "%llu", (unsigned long long)v);
        got[sky_fmt_u64(got, v)] = '\0';
        assert_string_equal(got, want);
    }
    snprintf(want, sizeof want, "%llu", (unsigned long long)UINT64_MAX);
    got[sky_fmt_u64(got, UINT64_MAX)] = '\0';
    assert_string_equal(got, want);
}

static void test_base64_roundtrip_and_buffer_limit(void **state) {
    (void)state;
    static const uint8_t data[] = {0, 1, 2, 250, 251, 252, 253};
    for (size_t len = 0; len <= sizeof data; len++) {
        sky_buf_t b;
        sky_buf_init(&b, 0);
        assert_int_equal(sky_buf_add_base64(&b, data, len), 0);
        uint8_t back[16];
        long n = sky_base64_decode(b.data + 1, b.len - 2, back, sizeof back);
        assert_int_equal(n, (long)len);
        assert_memory_equal(back, data, len);
        sky_buf_free(&b);
    }
    sky_buf_t lim;
    sky_buf_init(&lim, 8);
    assert_int_equal(sky_buf_add_str(&lim, "12345678"), 0);
    assert_true(sky_buf_add_char(&lim, '9') < 0);
    sky_buf_free(&lim);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parse_table),
        cmocka_unit_test(test_i64_parse_rejects_trailing_text_and_range),
        cmocka_unit_test(test_shard_and_hostport_parse),
        cmocka_unit_test(test_json_string_escapes_controls_and_bad_utf8),
        cmocka_unit_test(test_double_text_roundtrips),
        cmocka_unit_test(test_integer_formatters_match_snprintf),
        cmocka_unit_test(test_base64_roundtrip_and_buffer_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
