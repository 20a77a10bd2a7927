/* CSV field splitting and number parsing for the readers' hot path: no allocation,
 * no strtod for plain decimals (the OpenSky reader's speed depends on it). */
#include "fields.h"

#include "error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int split_quoted(char *p, char *end, field_t *f, char **next) {
    char *out = p, *q = p + 1;
    f->p = p;
    for (;;) {
        if (q >= end)
            return -1;
        if (*q == '"') {
            if (q + 1 < end && q[1] == '"') {
                *out++ = '"';
                q += 2;
                continue;
            }
            q++;
            break;
        }
        *out++ = *q++;
    }
    f->len = (size_t)(out - p);
    if (q < end && *q != ',')
        return -1;
    *next = q;
    return 0;
}

int csv_split_row(char *line, size_t len, field_t *fields, char *errstr, size_t errsz) {
    int n = csv_split(line, len, fields, FIELDS_MAX);
    if (n < 0)
        return sky_err(errstr, errsz, SKY_EINVAL,
                       n == -1 ? "unterminated quote" : "more than 32 fields");
    return n;
}

/* The fields from p on, one memchr each: the general case (quotes, short tails). */
static int split_from(char *p, char *end, field_t *fields, int n, int max) {
    for (;;) {
        if (n >= max)
            return -2;
        field_t *f = &fields[n++];
        char *stop;
        if (p < end && *p == '"') {
            if (split_quoted(p, end, f, &stop))
                return -1;
        } else {
            stop = memchr(p, ',', (size_t)(end - p));
            if (!stop)
                stop = end;
            f->p = p;
            f->len = (size_t)(stop - p);
        }
        if (stop >= end)
            return n;
        p = stop + 1;
    }
}

/* Rows of unquoted fields (OpenSky's, nearly every row) are cut 16 bytes at a time:
 * one compare finds every comma of a block, where a memchr call per field cost more
 * than the numbers' parsing. The first quote hands the rest to split_from. */
int csv_split(char *line, size_t len, field_t *fields, int max) {
    char *start = line, *end = line + len;
    int n = 0;
#ifdef __SSE2__
    const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');
    for (char *p = line; end - p >= 16; p += 16) {
        __m128i block = _mm_loadu_si128((const __m128i *)(const void *)p);
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(block, quote)))
            break;
        for (unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(block, comma)); m;
             m &= m - 1) {
            if (n >= max)
                return -2;
            char *stop = p + __builtin_ctz(m);
            fields[n].p = start;
            fields[n++].len = (size_t)(stop - start);
            start = stop + 1;
        }
    }
#endif
    return split_from(start, end, fields, n, max);
}

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Falls back to strtod for exponents and long mantissas (rare in flight data). */
__attribute__((noinline)) static bool slow_double(const field_t *f, double *out) {
    char buf[64];
    if (f->len == 0 || f->len >= sizeof buf)
        return false;
    memcpy(buf, f->p, f->len);
    buf[f->len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (end != buf + f->len || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* The digits from s on (at most up to end) into *mant; returns where they stop. */
static const char *take_digits(const char *s, const char *end, uint64_t *mant) {
    uint64_t m = *mant;
    for (unsigned d; s < end && (d = (unsigned)(*s - '0')) < 10; s++)
        m = m * 10 + d;
    *mant = m;
    return s;
}

bool field_double(const field_t *f, double *out) {
    const char *s = f->p, *end = f->p + f->len;
    bool neg = s < end && *s == '-';
    s += s < end && (*s == '-' || *s == '+');
    uint64_t mant = 0;
    const char *int_start = s;
    s = take_digits(s, end, &mant);
    size_t digits = (size_t)(s - int_start), frac = 0;
    if (s < end && *s == '.') {
        const char *frac_start = ++s;
        s = take_digits(s, end, &mant);
        frac = (size_t)(s - frac_start);
        digits += frac;
    }
    if (digits == 0)
        return false;
    if (s != end || digits > 15) /* exact below 2^53 and 1e22: one correctly rounded divide */
        return slow_double(f, out);
    double v = (double)mant / pow10_tab[frac];
    *out = neg ? -v : v;
    return true;
}

bool field_i64(const field_t *f, int64_t *out) {
    const char *s = f->p, *end = f->p + f->len;
    bool neg = s < end && *s == '-';
    s += s < end && (*s == '-' || *s == '+');
    if (s == end || end - s > 18)
        return false;
    uint64_t v = 0;
    if (take_digits(s, end, &v) != end)
        return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

const char *field_show(const field_t *f, char *buf, size_t bufsz) {
    size_t n = f->len < 40 ? f->len : 40;
    snprintf(buf, bufsz, "\"%.*s%s\"", (int)n, f->p, f->len > n ? "..." : "");
    return buf;
}
