/* Read-ahead: the threaded reader gives exactly what the reader gives in the caller's
 * thread -- records, rejected rows with their file:line, the end, the counts -- across
 * many blocks, with capture bytes that outlive the reader's buffer; peek sees ahead. */
#include "capture.h"
#include "error.h"
#include "idmap.h"
#include "readahead.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* What one next() gave, for comparing the two modes. */
typedef struct got {
    int rc;
    char what[320]; /* the record's key/flight and position, or the error */
} got_t;

static size_t drain(const char *path, bool threaded, got_t *out, size_t max, uint64_t *rows,
                    uint64_t *skipped) {
    char err[256];
    sky_reader_t *r;
    assert_int_equal(sky_reader_open(path, SKY_FMT_AUTO, &r, err, sizeof err), 0);
    sky_readahead_t *a;
    assert_int_equal(sky_readahead_new(r, threaded, &a, err, sizeof err), 0);
    size_t n = 0;
    for (;;) {
        sky_rrec_t *rec = NULL;
        int rc = sky_readahead_next(a, &rec, err, sizeof err);
        assert_true(n < max);
        got_t *g = &out[n++];
        g->rc = rc;
        if (rc == 1 && rec->raw) {
            snprintf(g->what, sizeof g->what, "%.*s %.*s %zu", (int)rec->cap.key_len,
                     (const char *)rec->cap.key, (int)rec->cap.value_len,
                     (const char *)rec->cap.value, rec->cap.nheaders);
            if (threaded) { /* worked out ahead: the key's hash, matching the map's */
                assert_true(rec->checked);
                assert_int_equal(rec->key_hash, sky_idmap_hash(rec->cap.key, rec->cap.key_len));
            }
        } else if (rc == 1) {
            snprintf(g->what, sizeof g->what, "%s %.4f %.4f %lld", rec->flight.flight_id,
                     rec->flight.latitude, rec->flight.longitude, (long long)rec->ts_ms);
        } else if (rc < 0) {
            snprintf(g->what, sizeof g->what, "%s", err);
        }
        if (rc == 0 || (rc < 0 && rc != SKY_EINVAL))
            break;
    }
    *rows = sky_readahead_rows(a);
    *skipped = sky_readahead_skipped(a);
    sky_readahead_destroy(a);
    return n;
}

static void assert_same_in_both_modes(const char *path, size_t expect_records,
                                      size_t expect_errors) {
    enum { MAX = 5000 };
    got_t *sync = calloc(MAX, sizeof *sync), *ahead = calloc(MAX, sizeof *ahead);
    uint64_t rows1, skipped1, rows2, skipped2;
    size_t n1 = drain(path, false, sync, MAX, &rows1, &skipped1);
    size_t n2 = drain(path, true, ahead, MAX, &rows2, &skipped2);
    assert_int_equal(n1, n2);
    size_t records = 0, errors = 0;
    for (size_t i = 0; i < n1; i++) {
        assert_int_equal(sync[i].rc, ahead[i].rc);
        assert_string_equal(sync[i].what, ahead[i].what);
        records += sync[i].rc == 1;
        errors += sync[i].rc == SKY_EINVAL;
    }
    assert_int_equal(sync[n1 - 1].rc, 0);
    assert_int_equal(records, expect_records);
    assert_int_equal(errors, expect_errors);
    assert_int_equal(rows1, rows2);
    assert_int_equal(skipped1, skipped2);
    free(sync);
    free(ahead);
}

/* 1,000 records (four blocks of 256 and a part), every 7th with a 300 KiB value larger
 * than the reader's buffer, so both the in-place and the copied record paths are read. */
static void test_readahead_capture_matches_the_reader(void **state) {
    (void)state;
    const char *path = "test_readahead.skc";
    char err[256], key[32], value[64];
    static char big[300 * 1024];
    memset(big, 'v', sizeof big);
    sky_capture_writer_t *w;
    assert_int_equal(sky_capture_writer_open(path, &w, err, sizeof err), 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "FL%04d", i % 37);
        snprintf(value, sizeof value, "value-%d", i);
        big[0] = (char)('a' + i % 26);
        sky_cap_record_t r = {.timestamp_ms = 1795600800000 + i, .key = key, .key_len = strlen(key),
                              .value = i % 7 ? value : big,
                              .value_len = i % 7 ? strlen(value) : sizeof big, .nheaders = 1};
        r.headers[0] = (sky_cap_header_t){"h", "x", 1};
        assert_int_equal(sky_capture_write(w, &r, err, sizeof err), 0);
    }
    assert_int_equal(sky_capture_writer_close(w, err, sizeof err), 0);
    assert_same_in_both_modes(path, 1000, 0);
    unlink(path);
}

/* A text file with bad rows between good ones and rows without a position. */
static void test_readahead_text_rows_and_errors_match_the_reader(void **state) {
    (void)state;
    const char *path = "test_readahead.csv";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,"
          "baroaltitude,geoaltitude,lastposupdate,lastcontact\n",
          f);
    for (int i = 0; i < 700; i++) {
        if (i % 50 == 3)
            fprintf(f, "1795600%03d,4ca7b5,91.5,0,100,0,0,,False,False,False,,1000,,1,1\n", i);
        else if (i % 40 == 5)
            fprintf(f, "1795600%03d,4ca7b5,,,,,,,False,False,False,,,,,1\n", i);
        else
            fprintf(f, "1795600%03d,%06x,51.%04d,-0.4543,128.6,270,10,BAW1,False,False,False,,"
                       "1524.0,,1,1\n",
                    i, 0x4ca000 + i % 11, i);
    }
    fclose(f);
    assert_same_in_both_modes(path, 700 - 14 - 18, 14);
    unlink(path);
}

/* An OpenSky file of n rows at 1 s intervals from 1795600800, each position a little north. */
static void write_opensky_rows(const char *path, int n) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%d,4ca7b5,51.%04d,-0.4543,128.6,270,10,,False,False,False,,1524.0,,1,1\n",
                1795600800 + i, i);
    fclose(f);
}

static sky_readahead_t *open_threaded(const char *path) {
    char err[256];
    sky_reader_t *r;
    assert_int_equal(sky_reader_open(path, SKY_FMT_OPENSKY, &r, err, sizeof err), 0);
    sky_readahead_t *a;
    assert_int_equal(sky_readahead_new(r, true, &a, err, sizeof err), 0);
    return a;
}

static void test_readahead_peek_sees_the_records_ahead_in_the_block(void **state) {
    (void)state;
    const char *path = "test_readahead_peek.csv";
    write_opensky_rows(path, 20);
    sky_readahead_t *a = open_threaded(path);
    char err[256];
    sky_rrec_t *rec;
    assert_null(sky_readahead_peek(a, 1)); /* nothing read yet */
    assert_int_equal(sky_readahead_next(a, &rec, err, sizeof err), 1);
    assert_int_equal(rec->ts_ms, 1795600800000);
    const sky_rrec_t *ahead = sky_readahead_peek(a, 4);
    assert_non_null(ahead);
    assert_int_equal(ahead->ts_ms, 1795600804000);
    assert_int_equal(sky_readahead_peek(a, 19)->ts_ms, 1795600819000); /* the last */
    assert_null(sky_readahead_peek(a, 20)); /* the end is no record */
    for (int i = 1; i < 20; i++)
        assert_int_equal(sky_readahead_next(a, &rec, err, sizeof err), 1);
    assert_int_equal(sky_readahead_next(a, &rec, err, sizeof err), 0);
    assert_int_equal(sky_readahead_next(a, &rec, err, sizeof err), 0);
    sky_readahead_destroy(a);
    unlink(path);
}

/* Destroyed half way, with the reader thread waiting for a free block. */
static void test_readahead_destroy_mid_file_stops_the_thread(void **state) {
    (void)state;
    const char *path = "test_readahead_stop.csv";
    write_opensky_rows(path, 5000);
    sky_readahead_t *a = open_threaded(path);
    char err[256];
    sky_rrec_t *rec;
    for (int i = 0; i < 10; i++)
        assert_int_equal(sky_readahead_next(a, &rec, err, sizeof err), 1);
    usleep(20000); /* let it fill every block and wait */
    sky_readahead_destroy(a);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readahead_capture_matches_the_reader),
        cmocka_unit_test(test_readahead_text_rows_and_errors_match_the_reader),
        cmocka_unit_test(test_readahead_peek_sees_the_records_ahead_in_the_block),
        cmocka_unit_test(test_readahead_destroy_mid_file_stops_the_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
