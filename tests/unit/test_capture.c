/* Capture files: records round-trip byte for byte, a truncated tail loses only the
 * last record, a flipped byte fails the CRC and the reader carries on. */
#include "capture.h"
#include "error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct rec_row {
    const char *key; /* NULL = null key */
    const char *value;
    size_t value_len;
    const char *hname, *hvalue;
} rec_row_t;

static const rec_row_t rows[] = {
    {"FX1", "\x0a\x03" "FX1", 5, "skyload-seq", "0"},
    {NULL, "", 0, NULL, NULL},
    {"K\0Y", "\0\1\2\3", 4, "h", NULL},
    {"FX2", "value with spaces", 17, "skyload-run", "r-1"},
};
#define NROWS (sizeof rows / sizeof rows[0])

static void write_file(const char *path) {
    char err[256];
    sky_capture_writer_t *w;
    assert_int_equal(sky_capture_writer_open(path, &w, err, sizeof err), 0);
    for (size_t i = 0; i < NROWS; i++) {
        sky_cap_record_t r = {.timestamp_ms = 1795600800000 + (int64_t)i, .partition = (int32_t)i,
                              .offset = 100 + (int64_t)i, .key = rows[i].key,
                              .key_len = rows[i].key ? (i == 2 ? 3 : strlen(rows[i].key)) : 0,
                              .value = rows[i].value, .value_len = rows[i].value_len};
        if (rows[i].hname) {
            r.nheaders = 1;
            r.headers[0].name = rows[i].hname;
            r.headers[0].value = rows[i].hvalue;
            r.headers[0].value_len = rows[i].hvalue ? strlen(rows[i].hvalue) : 0;
        }
        assert_int_equal(sky_capture_write(w, &r, err, sizeof err), 0);
    }
    assert_int_equal(sky_capture_writer_close(w, err, sizeof err), 0);
}

/* Reads path; returns records read, counting CRC failures in *bad. */
static size_t read_file(const char *path, int *bad, bool check) {
    char err[256];
    sky_capture_reader_t *r;
    assert_int_equal(sky_capture_reader_open(path, &r, err, sizeof err), 0);
    sky_cap_record_t c;
    size_t n = 0;
    int rc;
    *bad = 0;
    while ((rc = sky_capture_read(r, &c, err, sizeof err)) != 0) {
        if (rc == SKY_EINVAL) {
            (*bad)++;
            continue;
        }
        assert_int_equal(rc, 1);
        if (check) {
            const rec_row_t *w = &rows[n];
            assert_int_equal(c.partition, (int32_t)n);
            assert_int_equal(c.offset, 100 + (int64_t)n);
            assert_int_equal(c.timestamp_ms, 1795600800000 + (int64_t)n);
            assert_true(w->key ? c.key && memcmp(c.key, w->key, c.key_len) == 0 : c.key == NULL);
            assert_int_equal(c.value_len, w->value_len);
            assert_memory_equal(c.value, w->value, w->value_len);
            assert_int_equal(c.nheaders, w->hname ? 1 : 0);
            if (w->hname) {
                assert_string_equal(c.headers[0].name, w->hname);
                assert_true(w->hvalue ? memcmp(c.headers[0].value, w->hvalue, strlen(w->hvalue)) == 0
                                      : c.headers[0].value == NULL);
            }
        }
        n++;
    }
    sky_capture_reader_destroy(r);
    return n;
}

static void test_capture_roundtrips_plain_and_gzip(void **state) {
    (void)state;
    const char *paths[] = {"test_capture.skc", "test_capture.skc.gz"};
    for (int i = 0; i < 2; i++) {
        int bad;
        write_file(paths[i]);
        assert_int_equal(read_file(paths[i], &bad, true), NROWS);
        assert_int_equal(bad, 0);
        unlink(paths[i]);
    }
}

static void test_capture_truncated_tail_loses_only_last_record(void **state) {
    (void)state;
    const char *path = "test_capture_cut.skc";
    write_file(path);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    for (long cut = 1; cut <= 9; cut += 4) {
        assert_int_equal(truncate(path, size - cut), 0);
        int bad;
        assert_int_equal(read_file(path, &bad, false), NROWS - 1);
        size = size - cut;
        write_file(path);
        f = fopen(path, "rb");
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    unlink(path);
}

static void test_capture_crc_mismatch_skips_one_record(void **state) {
    (void)state;
    const char *path = "test_capture_crc.skc";
    write_file(path);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 12 + 4 + 2, SEEK_SET); /* inside the first record's timestamp */
    fputc(0x5a, f);
    fclose(f);
    int bad;
    assert_int_equal(read_file(path, &bad, false), NROWS - 1);
    assert_int_equal(bad, 1);
    unlink(path);
}

static void test_capture_rejects_a_non_capture_file(void **state) {
    (void)state;
    const char *path = "test_capture_not.skc";
    FILE *f = fopen(path, "w");
    fputs("time,icao24\n", f);
    fclose(f);
    char err[256];
    sky_capture_reader_t *r = NULL;
    assert_int_equal(sky_capture_reader_open(path, &r, err, sizeof err), SKY_EINVAL);
    assert_non_null(strstr(err, "not a skyload capture file"));
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_roundtrips_plain_and_gzip),
        cmocka_unit_test(test_capture_truncated_tail_loses_only_last_record),
        cmocka_unit_test(test_capture_crc_mismatch_skips_one_record),
        cmocka_unit_test(test_capture_rejects_a_non_capture_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
