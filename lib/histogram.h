/* HDR-style latency histogram: log-linear buckets (128 sub-buckets per power
 * of two, so any recorded value is reported within 1/128 < 1% of itself),
 * O(1) record, mergeable, exportable as HdrHistogram's .hgrm percentile text
 * and as compact JSON that sky_hist_from_json reads back. Values are int64 >= 0
 * in whatever unit the caller picks (skyload uses microseconds). */
#ifndef SKY_HISTOGRAM_H
#define SKY_HISTOGRAM_H

#include "dynbuf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sky_hist sky_hist_t;

/* Returns NULL on allocation failure. Free with sky_hist_destroy. */
sky_hist_t *sky_hist_new(void);
void sky_hist_destroy(sky_hist_t *h); /* NULL is fine */
void sky_hist_reset(sky_hist_t *h);
/* Negative values are clamped to 0 (a clock step must not corrupt the histogram). */
void sky_hist_record(sky_hist_t *h, int64_t value);
void sky_hist_record_n(sky_hist_t *h, int64_t value, uint64_t count);
void sky_hist_merge(sky_hist_t *dst, const sky_hist_t *src);

uint64_t sky_hist_count(const sky_hist_t *h);
int64_t sky_hist_min(const sky_hist_t *h);
int64_t sky_hist_max(const sky_hist_t *h);
double sky_hist_mean(const sky_hist_t *h);
/* Value at percentile p in [0, 100] (the highest value equivalent to its
 * bucket, as HdrHistogram reports); 0 when empty. */
int64_t sky_hist_percentile(const sky_hist_t *h, double p);

/* HdrHistogram-compatible percentile distribution; values divided by scale
 * (e.g. 1000.0 to print microseconds as milliseconds). */
int sky_hist_write_hgrm(const sky_hist_t *h, FILE *out, double scale);
/* {"count":N,"min":..,"max":..,"buckets":[[index,count],...]} */
int sky_hist_to_json(const sky_hist_t *h, sky_buf_t *out);
/* Reads the JSON above (as text); returns NULL with errstr filled on error. */
sky_hist_t *sky_hist_from_json(const char *json, char *errstr, size_t errstr_size);

/* Bucket geometry, exposed for tests. */
size_t sky_hist_bucket_index(int64_t value);
int64_t sky_hist_bucket_low(size_t index);
int64_t sky_hist_bucket_high(size_t index);

#endif
