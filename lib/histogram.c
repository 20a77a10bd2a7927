/* Log-linear histogram. Index layout: values 0..255 map 1:1; above, each power
 * of two [2^k, 2^(k+1)) for k >= 8 is split into 128 equal sub-buckets. */
#include "histogram.h"

#include "error.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_BITS 7
#define SUB_COUNT (1 << SUB_BITS)      /* 128 */
#define LINEAR_LIMIT (2 * SUB_COUNT)   /* 256 values stored exactly */
#define NBUCKETS (LINEAR_LIMIT + (63 - SUB_BITS) * SUB_COUNT)

struct sky_hist {
    uint64_t total;
    int64_t min, max;
    double sum;
    uint64_t counts[NBUCKETS];
};

size_t sky_hist_bucket_index(int64_t value) {
    uint64_t v = value < 0 ? 0 : (uint64_t)value;
    if (v < LINEAR_LIMIT)
        return (size_t)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - SUB_BITS;
    uint64_t sub = (v >> shift) - SUB_COUNT; /* 0..127 */
    return LINEAR_LIMIT + (size_t)(shift - 1) * SUB_COUNT + (size_t)sub;
}

int64_t sky_hist_bucket_low(size_t index) {
    if (index < LINEAR_LIMIT)
        return (int64_t)index;
    size_t k = index - LINEAR_LIMIT;
    int shift = (int)(k / SUB_COUNT) + 1;
    uint64_t sub = k % SUB_COUNT + SUB_COUNT;
    return (int64_t)(sub << shift);
}

int64_t sky_hist_bucket_high(size_t index) {
    if (index < LINEAR_LIMIT)
        return (int64_t)index;
    int shift = (int)((index - LINEAR_LIMIT) / SUB_COUNT) + 1;
    uint64_t high = (uint64_t)sky_hist_bucket_low(index) + ((uint64_t)1 << shift) - 1;
    return high > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)high;
}

sky_hist_t *sky_hist_new(void) {
    sky_hist_t *h = calloc(1, sizeof *h);
    if (h)
        sky_hist_reset(h);
    return h;
}

void sky_hist_destroy(sky_hist_t *h) {
    free(h);
}

void sky_hist_reset(sky_hist_t *h) {
    memset(h, 0, sizeof *h);
    h->min = INT64_MAX;
}

void sky_hist_record_n(sky_hist_t *h, int64_t value, uint64_t count) {
    if (value < 0)
        value = 0;
    if (count == 0)
        return;
    h->counts[sky_hist_bucket_index(value)] += count;
    h->total += count;
    h->sum += (double)value * (double)count;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void sky_hist_record(sky_hist_t *h, int64_t value) {
    sky_hist_record_n(h, value, 1);
}

void sky_hist_merge(sky_hist_t *dst, const sky_hist_t *src) {
    if (!src->total)
        return;
    for (size_t i = 0; i < NBUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t sky_hist_count(const sky_hist_t *h) {
    return h->total;
}

int64_t sky_hist_min(const sky_hist_t *h) {
    return h->total ? h->min : 0;
}

int64_t sky_hist_max(const sky_hist_t *h) {
    return h->total ? h->max : 0;
}

double sky_hist_mean(const sky_hist_t *h) {
    return h->total ? h->sum / (double)h->total : 0.0;
}

int64_t sky_hist_percentile(const sky_hist_t *h, double p) {
    if (!h->total)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    uint64_t target = (uint64_t)ceil(p / 100.0 * (double)h->total);
    if (target == 0)
        target = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= target) {
            int64_t v = sky_hist_bucket_high(i);
            return v > h->max ? h->max : v < h->min ? h->min : v;
        }
    }
    return h->max;
}

int sky_hist_write_hgrm(const sky_hist_t *h, FILE *out, double scale) {
    fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
            "1/(1-Percentile)");
    /* HdrHistogram's iteration: percentiles halving the distance to 100%, 5 ticks per half. */
    double pct = 0.0;
    for (int step = 0; step < 200; step++) {
        int64_t v = sky_hist_percentile(h, pct);
        uint64_t seen = 0;
        for (size_t i = 0; i <= sky_hist_bucket_index(v) && i < NBUCKETS; i++)
            seen += h->counts[i];
        if (pct >= 100.0 || seen >= h->total) {
            fprintf(out, "%12.3f %14.12f %10llu %14s\n", (double)h->max / scale, 1.0,
                    (unsigned long long)h->total, "");
            break;
        }
        fprintf(out, "%12.3f %14.12f %10llu %14.2f\n", (double)v / scale, pct / 100.0,
                (unsigned long long)seen, 1.0 / (1.0 - pct / 100.0));
        double remaining = 100.0 - pct;
        double half = pow(2.0, floor(log2(100.0 / remaining)));
        pct += 100.0 / half / 2.0 / 5.0;
        if (pct > 99.9999999)
            pct = 100.0;
    }
    fprintf(out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", sky_hist_mean(h) / scale, 0.0);
    fprintf(out, "#[Max     = %12.3f, Total count    = %12llu]\n",
            (double)sky_hist_max(h) / scale, (unsigned long long)h->total);
    fprintf(out, "#[Buckets = %12d, SubBuckets     = %12d]\n", NBUCKETS / SUB_COUNT, SUB_COUNT);
    return ferror(out) ? SKY_EIO : 0;
}

int sky_hist_to_json(const sky_hist_t *h, sky_buf_t *out) {
    int rc = sky_buf_add_str(out, "{\"count\":");
    rc |= sky_buf_add_u64(out, h->total);
    rc |= sky_buf_add_str(out, ",\"min\":");
    rc |= sky_buf_add_i64(out, sky_hist_min(h));
    rc |= sky_buf_add_str(out, ",\"max\":");
    rc |= sky_buf_add_i64(out, sky_hist_max(h));
    rc |= sky_buf_add_str(out, ",\"sum\":");
    rc |= sky_buf_add_double(out, h->sum);
    rc |= sky_buf_add_str(out, ",\"buckets\":[");
    int first = 1;
    for (size_t i = 0; i < NBUCKETS; i++) {
        if (!h->counts[i])
            continue;
        rc |= sky_buf_add_str(out, first ? "[" : ",[");
        rc |= sky_buf_add_u64(out, i);
        rc |= sky_buf_add_char(out, ',');
        rc |= sky_buf_add_u64(out, h->counts[i]);
        rc |= sky_buf_add_char(out, ']');
        first = 0;
    }
    rc |= sky_buf_add_str(out, "]}");
    return rc ? SKY_ENOMEM : 0;
}

sky_hist_t *sky_hist_from_json(const char *text, char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!root) {
        sky_err(errstr, errstr_size, SKY_EINVAL, "histogram JSON: %s at line %d", jerr.text,
                jerr.line);
        return NULL;
    }
    sky_hist_t *h = sky_hist_new();
    json_t *buckets = json_object_get(root, "buckets");
    if (!h || !json_is_array(buckets)) {
        sky_err(errstr, errstr_size, SKY_EINVAL, "histogram JSON: no \"buckets\" array");
        goto fail;
    }
    size_t i;
    json_t *pair;
    json_array_foreach(buckets, i, pair) {
        json_int_t idx = json_integer_value(json_array_get(pair, 0));
        json_int_t cnt = json_integer_value(json_array_get(pair, 1));
        if (idx < 0 || idx >= NBUCKETS || cnt < 0) {
            sky_err(errstr, errstr_size, SKY_EINVAL, "histogram JSON: bad bucket %zu", i);
            goto fail;
        }
        h->counts[idx] += (uint64_t)cnt;
        h->total += (uint64_t)cnt;
    }
    h->min = json_integer_value(json_object_get(root, "min"));
    h->max = json_integer_value(json_object_get(root, "max"));
    h->sum = json_number_value(json_object_get(root, "sum"));
    if (!h->total)
        h->min = INT64_MAX;
    json_decref(root);
    return h;
fail:
    sky_hist_destroy(h);
    json_decref(root);
    return NULL;
}
