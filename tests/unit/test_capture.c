/* Capture files: records round-trip byte for byte, a truncated tail loses only the
 * last record, a flipped byte fails the CRC and the reader carries on, version 1 files
 * (zlib CRC-32) still read, a newer version is refused. */
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
#include <zlib.h>

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

static uint8_t *slurp(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)*size);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
    return b;
}

static void spill(const char *path, const uint8_t *b, long size) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, (size_t)size, f), (size_t)size);
    fclose(f);
}

/* Rewrites a version 2 file as `version`, each record's CRC recomputed with zlib's
 * CRC-32 when zlib_crc (version 1's check), else left as written. */
static void rewrite_version(const char *path, unsigned version, bool zlib_crc) {
    long size;
    uint8_t *b = slurp(path, &size);
    b[8] = (uint8_t)version;
    b[9] = (uint8_t)(version >> 8);
    for (long at = 12; zlib_crc && at + 4 <= size;) {
        uint32_t len = (uint32_t)b[at] | (uint32_t)b[at + 1] << 8 | (uint32_t)b[at + 2] << 16 |
                       (uint32_t)b[at + 3] << 24;
        uLong crc = crc32(0L, b + at + 4, len);
        for (int i = 0; i < 4; i++)
            b[at + 4 + len + i] = (uint8_t)(crc >> (8 * i));
        at += 4 + (long)len + 4;
    }
    spill(path, b, size);
    free(b);
}

static void test_capture_reads_version_1_files_by_their_zlib_crc(void **state) {
    (void)state;
    const char *path = "test_capture_v1.skc";
    int bad;
    write_file(path);
    rewrite_version(path, 1, true);
    assert_int_equal(read_file(path, &bad, true), NROWS);
    assert_int_equal(bad, 0);
    write_file(path); /* version 1 with CRC-32C checks: every record fails */
    rewrite_version(path, 1, false);
    assert_int_equal(read_file(path, &bad, false), 0);
    assert_int_equal(bad, NROWS);
    unlink(path);
}

static void test_capture_refuses_a_newer_version(void **state) {
    (void)state;
    const char *path = "test_capture_v3.skc";
    write_file(path);
    rewrite_version(path, 3, false);
    char err[256];
    sky_capture_reader_t *r = NULL;
    assert_int_equal(sky_capture_reader_open(path, &r, err, sizeof err), SKY_EINVAL);
    assert_non_null(strstr(err, "capture version 3"));
    unlink(path);
}

/* A record larger than the reader's buffer (256 KiB) is read by copy, not in place. */
static void test_capture_record_larger_than_the_read_buffer_roundtrips(void **state) {
    (void)state;
    const char *path = "test_capture_big.skc";
    enum { BIG = 1 << 20 };
    uint8_t *value = malloc(BIG);
    assert_non_null(value);
    for (size_t i = 0; i < BIG; i++)
        value[i] = (uint8_t)(i * 7 + (i >> 11));
    char err[256];
    sky_capture_writer_t *w;
    assert_int_equal(sky_capture_writer_open(path, &w, err, sizeof err), 0);
    for (int i = 0; i < 3; i++) { /* small, big, small */
        sky_cap_record_t r = {.key = "K", .key_len = 1, .value = value,
                              .value_len = i == 1 ? BIG : 10, .offset = i};
        assert_int_equal(sky_capture_write(w, &r, err, sizeof err), 0);
    }
    assert_int_equal(sky_capture_writer_close(w, err, sizeof err), 0);
    sky_capture_reader_t *rd;
    assert_int_equal(sky_capture_reader_open(path, &rd, err, sizeof err), 0);
    sky_cap_record_t c;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sky_capture_read(rd, &c, err, sizeof err), 1);
        assert_int_equal(c.offset, i);
        assert_int_equal(c.value_len, i == 1 ? BIG : 10);
        assert_memory_equal(c.value, value, c.value_len);
    }
    assert_int_equal(sky_capture_read(rd, &c, err, sizeof err), 0);
    sky_capture_reader_destroy(rd);
    free(value);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_roundtrips_plain_and_gzip),
        cmocka_unit_test(test_capture_truncated_tail_loses_only_last_record),
        cmocka_unit_test(test_capture_crc_mismatch_skips_one_record),
        cmocka_unit_test(test_capture_rejects_a_non_capture_file),
        cmocka_unit_test(test_capture_reads_version_1_files_by_their_zlib_crc),
        cmocka_unit_test(test_capture_refuses_a_newer_version),
        cmocka_unit_test(test_capture_record_larger_than_the_read_buffer_roundtrips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
