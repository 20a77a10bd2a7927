/* Timestamps: every accepted form parses to the right instant, every malformed
 * one is rejected with its reason, and formatting round-trips. */
#include "error.h"
#include "timefmt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

struct parse_row {
    const char *text;
    int64_t ms;         /* expected when reason is NULL */
    const char *reason; /* substring of the error, NULL = valid */
};

static void test_timestamp_parse_table(void **state) {
    (void)state;
    static const struct parse_row rows[] = {
        {"2026-11-25T10:00:05.000Z", 1795600805000LL, NULL},
        {"2026-11-25T10:00:05Z", 1795600805000LL, NULL},
        {"2026-11-25T10:00:05.123456789Z", 1795600805123LL, NULL},
        {"2026-11-25T10:00:05.5Z", 1795600805500LL, NULL},
        {"2026-11-25T11:00:05+01:00", 1795600805000LL, NULL},
        {"2026-11-25T05:30:05-0430", 1795600805000LL, NULL},
        {"2026-11-25T12:00:05+02", 1795600805000LL, NULL},
        {"2026-11-25 10:00:05Z", 1795600805000LL, NULL},
        {"1970-01-01T00:00:00Z", 0, NULL},
        {"2024-02-29T00:00:00Z", 1709164800000LL, NULL},
        {"1795600805", 1795600805000LL, NULL},
        {"1795600805.25", 1795600805250LL, NULL},
        {"1795600805250", 1795600805250LL, NULL},
        {"0", 0, NULL},
        {"2026-13-01T00:00:00Z", 0, "month out of range"},
        {"2026-00-01T00:00:00Z", 0, "month out of range"},
        {"2026-02-29T00:00:00Z", 0, "day out of range"},
        {"2026-04-31T00:00:00Z", 0, "day out of range"},
        {"2026-11-25T24:00:00Z", 0, "time of day out of range"},
        {"2026-11-25T10:60:00Z", 0, "time of day out of range"},
        {"2026-11-25T10:00:05", 0, "no time zone"},
        {"2026-11-25", 0, "expected 'T'"},
        {"2026-11-25T10:00:05.Z", 0, "empty fraction"},
        {"2026-11-25T10:00:05Zjunk", 0, "unexpected text after the time zone"},
        {"2026-11-25T10:00:05+25:00", 0, "UTC offset out of range"},
        {"2026/11/25", 0, "not ISO 8601"},
        {"", 0, "timestamp is empty"},
        {"12ab", 0, "not ISO 8601"},
        {"1795600805.", 0, "empty fraction"},
        {"99999999999999999", 0, "number too large"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t ms = -1;
        char err[256] = "";
        int rc = sky_ts_parse(rows[i].text, strlen(rows[i].text), &ms, err, sizeof err);
        if (!rows[i].reason && (rc || ms != rows[i].ms))
            fail_msg("\"%s\": rc=%d ms=%lld err=%s, want %lld", rows[i].text, rc, (long long)ms,
                     err, (long long)rows[i].ms);
        if (rows[i].reason && (rc == 0 || !strstr(err, rows[i].reason)))
            fail_msg("\"%s\": rc=%d err=\"%s\", want \"%s\"", rows[i].text, rc, err,
                     rows[i].reason);
    }
}

struct format_row {
    int64_t ms;
    sky_ts_format_t fmt;
    const char *text;
};

static void test_timestamp_format_table(void **state) {
    (void)state;
    static const struct format_row rows[] = {
        {1795600805000LL, SKY_TS_ISO8601, "2026-11-25T10:00:05.000Z"},
        {1795600805123LL, SKY_TS_ISO8601, "2026-11-25T10:00:05.123Z"},
        {0, SKY_TS_ISO8601, "1970-01-01T00:00:00.000Z"},
        {-1, SKY_TS_ISO8601, "1969-12-31T23:59:59.999Z"},
        {1709164800000LL, SKY_TS_ISO8601, "2024-02-29T00:00:00.000Z"},
        {1795600805000LL, SKY_TS_EPOCH, "1795600805"},
        {1795600805250LL, SKY_TS_EPOCH, "1795600805.250"},
        {1795600805250LL, SKY_TS_EPOCH_MS, "1795600805250"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[SKY_TS_MAX];
        size_t n = sky_ts_format(rows[i].ms, rows[i].fmt, out);
        assert_int_equal(n, strlen(rows[i].text));
        assert_string_equal(out, rows[i].text);
    }
}

static void test_timestamp_roundtrips_every_format_over_years(void **state) {
    (void)state;
    static const sky_ts_format_t fmts[] = {SKY_TS_ISO8601, SKY_TS_EPOCH, SKY_TS_EPOCH_MS};
    /* a prime step visits every month, day boundary and millisecond digit */
    for (int64_t ms = 1000000000000LL; ms < 4102444800000LL; ms += 7919LL * 86400 * 13 + 977) {
        for (size_t f = 0; f < 3; f++) {
            char out[SKY_TS_MAX], err[128];
            int64_t back;
            size_t n = sky_ts_format(ms, fmts[f], out);
            assert_int_equal(sky_ts_parse(out, n, &back, err, sizeof err), 0);
            assert_int_equal(back, ms);
        }
    }
}

/* In order, so that each row's date and time of day may come from the one before it (the
 * parser keeps the latest): the result must not depend on what came before. */
static void test_timestamp_parse_in_sequence_reuses_only_what_is_the_same(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int64_t ms; /* -1: rejected */
    } rows[] = {
        {"2026-11-25T10:00:05.000Z", 1795600805000},
        {"2026-11-25T10:00:05.500Z", 1795600805500},
        {"2026-11-25T10:00:05.5+01:00", 1795597205500},
        {"2026-11-25T10:00:05", -1},
        {"2026-11-25T10:00:05x", -1},
        {"2026-11-25T10:00:05.Z", -1},
        {"2026-11-25T10:00:05-00:30", 1795602605000},
        {"2026-11-25T10:00:06Z", 1795600806000},
        {"2026-11-25T10:00:05.250Z", 1795600805250},
        {"2026-11-26T10:00:05.250Z", 1795687205250},
        {"2026-13-25T10:00:05Z", -1},
        {"2026-11-26T10:00:05.250Z", 1795687205250},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t ms = 0;
        int rc = sky_ts_parse(rows[i].text, strlen(rows[i].text), &ms, NULL, 0);
        if (rows[i].ms < 0)
            assert_int_equal(rc, SKY_EINVAL);
        else if (rc || ms != rows[i].ms)
            fail_msg("%s: rc %d, %lld ms, want %lld", rows[i].text, rc, (long long)ms,
                     (long long)rows[i].ms);
    }
}

/* In order, so that each row may reuse the second formatted for the one before it. */
static void test_timestamp_format_in_sequence_reuses_only_the_same_second(void **state) {
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } rows[] = {
        {1795600805000, "2026-11-25T10:00:05.000Z"}, {1795600805999, "2026-11-25T10:00:05.999Z"},
        {1795600806000, "2026-11-25T10:00:06.000Z"}, {1795600805001, "2026-11-25T10:00:05.001Z"},
        {-1, "1969-12-31T23:59:59.999Z"},            {0, "1970-01-01T00:00:00.000Z"},
        {-1000, "1969-12-31T23:59:59.000Z"},         {1795687205250, "2026-11-26T10:00:05.250Z"},
    };
    char out[SKY_TS_MAX];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        out[sky_ts_format(rows[i].ms, SKY_TS_ISO8601, out)] = '\0';
        assert_string_equal(out, rows[i].text);
    }
}

/* sky_ts_cache_format after each previous time = a fresh sky_ts_format, whatever the
 * step: the same millisecond, the same second, the next second or day, backwards,
 * across the epoch, in each format; and every one of the thousand milliseconds. */
static void test_timestamp_cache_equals_a_fresh_format(void **state) {
    (void)state;
    static const int64_t steps[] = {0, 1, 7, 250, 999, 1000, -1, -999, -1000, 86399999,
                                    -86400000, -1795600805000};
    static const sky_ts_format_t fmts[] = {SKY_TS_ISO8601, SKY_TS_EPOCH, SKY_TS_EPOCH_MS};
    uint64_t rng = 0x2545F4914F6CDD1DULL;
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        sky_ts_cache_t cache = {0};
        char fresh[SKY_TS_MAX];
        int64_t prev = 0, ms = 1795600805000;
        for (int i = 0; i < 22000; i++) {
            if (i < 2000) {
                ms = 1795600805000 + i % 1000 - (i >= 1000 ? 86400000 * 20000LL : 0);
            } else {
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                ms += steps[rng % (sizeof steps / sizeof steps[0])];
            }
            if (ms < -1000000 || ms > 4102444800000) /* stay within 4-digit years */
                ms = 1795600805000;
            size_t kept_len = sky_ts_cache_format(&cache, ms, fmts[k]);
            size_t n = sky_ts_format(ms, fmts[k], fresh);
            fresh[n] = '\0';
            assert_int_equal(kept_len, n);
            if (memcmp(cache.text, fresh, n) != 0)
                fail_msg("format %d, %lld after %lld: \"%.*s\", fresh \"%s\"", (int)fmts[k],
                         (long long)ms, (long long)prev, (int)n, cache.text, fresh);
            prev = ms;
        }
    }
}

static void test_format_name_parse_rejects_unknown(void **state) {
    (void)state;
    sky_ts_format_t f;
    char err[128];
    assert_int_equal(sky_ts_format_parse("epoch-ms", &f, err, sizeof err), 0);
    assert_int_equal(f, SKY_TS_EPOCH_MS);
    assert_true(sky_ts_format_parse("rfc2822", &f, err, sizeof err) < 0);
    assert_non_null(strstr(err, "rfc2822"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp_parse_table),
        cmocka_unit_test(test_timestamp_format_table),
        cmocka_unit_test(test_timestamp_roundtrips_every_format_over_years),
        cmocka_unit_test(test_timestamp_parse_in_sequence_reuses_only_what_is_the_same),
        cmocka_unit_test(test_timestamp_format_in_sequence_reuses_only_the_same_second),
        cmocka_unit_test(test_timestamp_cache_equals_a_fresh_format),
        cmocka_unit_test(test_format_name_parse_rejects_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
