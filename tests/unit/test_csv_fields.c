/* The readers' CSV splitting and number parsing against plain reference versions:
 * csv_split's 16-byte block scan must cut every line exactly as a field-by-field
 * scan does (commas and quotes on both sides of each block edge), and field_double
 * must agree with strtod. */
#include "fields.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
    char text[FIELDS_MAX][128];
    size_t len[FIELDS_MAX];
    int n; /* fields, or the negative error */
} split_t;

/* RFC 4180 within one line, one character at a time: the reference. */
static void reference_split(const char *line, size_t len, int max, split_t *out) {
    size_t i = 0;
    out->n = 0;
    for (;;) {
        if (out->n >= max) {
            out->n = -2;
            return;
        }
        char *dst = out->text[out->n];
        size_t k = 0;
        if (i < len && line[i] == '"') {
            for (i++;; i++) {
                if (i >= len) {
                    out->n = -1;
                    return;
                }
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        dst[k++] = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                dst[k++] = line[i];
            }
            if (i < len && line[i] != ',') {
                out->n = -1;
                return;
            }
        } else {
            for (; i < len && line[i] != ','; i++)
                dst[k++] = line[i];
        }
        out->len[out->n++] = k;
        if (i >= len)
            return;
        i++;
    }
}

static void split_with_csv_split(char *line, size_t len, int max, split_t *out) {
    field_t f[FIELDS_MAX];
    out->n = csv_split(line, len, f, max);
    for (int j = 0; j < out->n; j++) {
        memcpy(out->text[j], f[j].p, f[j].len);
        out->len[j] = f[j].len;
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned next_rand(unsigned bound) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % bound);
}

/* Lines of 0..100 bytes over an alphabet dense in commas and (sometimes) quotes,
 * so that fields start, end and quote on every offset of a 16-byte block. */
static void test_csv_split_matches_reference(void **state) {
    (void)state;
    static const char plain[] = "ab1.,,,-9 ";
    static const char quoted[] = "a,\",\" 1";
    for (int iter = 0; iter < 200000; iter++) {
        char line[128], copy[128];
        size_t len = next_rand(101);
        const char *alphabet = next_rand(4) ? plain : quoted;
        size_t alen = strlen(alphabet);
        for (size_t i = 0; i < len; i++)
            line[i] = alphabet[next_rand((unsigned)alen)];
        memcpy(copy, line, len);
        int max = next_rand(8) ? FIELDS_MAX : 1 + (int)next_rand(6);
        split_t want, got;
        reference_split(line, len, max, &want);
        split_with_csv_split(copy, len, max, &got);
        if (want.n != got.n)
            fail_msg("line \"%.*s\" (max %d): %d fields, want %d", (int)len, line, max, got.n,
                     want.n);
        for (int j = 0; j < want.n; j++)
            if (want.len[j] != got.len[j] || memcmp(want.text[j], got.text[j], want.len[j]))
                fail_msg("line \"%.*s\": field %d is \"%.*s\", want \"%.*s\"", (int)len, line, j,
                         (int)got.len[j], got.text[j], (int)want.len[j], want.text[j]);
    }
}

static void test_csv_split_reads_an_opensky_row(void **state) {
    (void)state;
    char line[] = "1795600800,44cb63,-13.9527,118.8715,128.32,22.1,0.0,TST0    ,False,False,"
                  "False,1000,2966.94,3803.29,1795600799.5,1795600800.0";
    field_t f[FIELDS_MAX];
    assert_int_equal(csv_split(line, strlen(line), f, FIELDS_MAX), 16);
    assert_int_equal(f[7].len, 8);
    assert_memory_equal(f[7].p, "TST0    ", 8);
    assert_int_equal(f[15].len, 12);
    assert_memory_equal(f[15].p, "1795600800.0", 12);
}

static void test_field_double_matches_strtod(void **state) {
    (void)state;
    static const char *const texts[] = {"0",     "-0",       "+1.5",        "118.8715",
                                        "-13.9527", "10150.88", "0.000001",    "123456789012345",
                                        "1e3",   "-2.5E-2",  "1234567890.123456", "007.50"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        field_t f = {(char *)texts[i], strlen(texts[i])};
        double got;
        assert_true(field_double(&f, &got));
        if (got != strtod(texts[i], NULL))
            fail_msg("\"%s\" read as %.17g, strtod says %.17g", texts[i], got,
                     strtod(texts[i], NULL));
    }
    static const char *const bad[] = {"", "-", ".", "1.2.3", "12a", "nan", "inf", " 1", "1 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        field_t f = {(char *)bad[i], strlen(bad[i])};
        double got;
        if (field_double(&f, &got))
            fail_msg("\"%s\" accepted as %g", bad[i], got);
    }
}

/* Random decimals as the feeds write them: up to 6 integer and 6 fraction digits. */
static void test_field_double_random_decimals(void **state) {
    (void)state;
    for (int iter = 0; iter < 200000; iter++) {
        char text[32];
        size_t n = 0;
        if (next_rand(2))
            text[n++] = '-';
        unsigned idigits = 1 + next_rand(6), fdigits = next_rand(7);
        for (unsigned i = 0; i < idigits; i++)
            text[n++] = (char)('0' + next_rand(10));
        if (fdigits) {
            text[n++] = '.';
            for (unsigned i = 0; i < fdigits; i++)
                text[n++] = (char)('0' + next_rand(10));
        }
        text[n] = '\0';
        field_t f = {text, n};
        double got;
        assert_true(field_double(&f, &got));
        if (got != strtod(text, NULL))
            fail_msg("\"%s\" read as %.17g, strtod says %.17g", text, got, strtod(text, NULL));
    }
}

/* round_i32 rounds as lround does (halves away from zero), and refuses what int32 cannot
 * hold: halves, their neighbours, and random values over the whole range. */
static void test_round_i32_matches_lround(void **state) {
    (void)state;
    static const double edge[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5,
                                  0.49999999999999994, -0.49999999999999994, 1e9 + 0.5,
                                  -1e9 - 0.5, 1999999999.4, -1999999999.4};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        if (round_i32(edge[i]) != lround(edge[i]))
            fail_msg("round_i32(%.17g) = %d, lround says %ld", edge[i], round_i32(edge[i]),
                     lround(edge[i]));
    for (int iter = 0; iter < 200000; iter++) {
        double v = ((double)next_rand(1u << 30) - (double)(1u << 29)) * 7.450580596923828e-6 *
                   (1 + next_rand(4000));
        if (next_rand(4) == 0)
            v = floor(v) + 0.5;
        if (round_i32(v) != lround(v))
            fail_msg("round_i32(%.17g) = %d, lround says %ld", v, round_i32(v), lround(v));
    }
    assert_int_equal(round_i32(3e9), INT32_MIN);
    assert_int_equal(round_i32(-3e9), INT32_MIN);
    assert_int_equal(round_i32(NAN), INT32_MIN);
}

/* field_i64: what strtoll reads whole, up to 18 digits; nothing else. */
static void test_field_i64_matches_strtoll(void **state) {
    (void)state;
    static const char *const good[] = {"0", "-0", "+7", "1795600800", "-42",
                                       "999999999999999999", "-999999999999999999"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        field_t f = {(char *)good[i], strlen(good[i])};
        int64_t got;
        assert_true(field_i64(&f, &got));
        assert_int_equal(got, strtoll(good[i], NULL, 10));
    }
    static const char *const bad[] = {"", "-", "+", "1.0", "12a", " 1", "1 ",
                                      "1234567890123456789", "1e3", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        field_t f = {(char *)bad[i], strlen(bad[i])};
        int64_t got;
        if (field_i64(&f, &got))
            fail_msg("\"%s\" accepted as %lld", bad[i], (long long)got);
    }
    for (int iter = 0; iter < 100000; iter++) {
        char text[24];
        size_t n = 0;
        if (next_rand(2))
            text[n++] = '-';
        for (unsigned i = 0, k = 1 + next_rand(18); i < k; i++)
            text[n++] = (char)('0' + next_rand(10));
        text[n] = '\0';
        field_t f = {text, n};
        int64_t got;
        assert_true(field_i64(&f, &got));
        if (got != strtoll(text, NULL, 10))
            fail_msg("\"%s\" read as %lld", text, (long long)got);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_split_matches_reference),
        cmocka_unit_test(test_csv_split_reads_an_opensky_row),
        cmocka_unit_test(test_field_double_matches_strtod),
        cmocka_unit_test(test_field_double_random_decimals),
        cmocka_unit_test(test_round_i32_matches_lround),
        cmocka_unit_test(test_field_i64_matches_strtoll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
