/* Timestamp formatting and parsing without libc's locale-dependent helpers. */
#include "timefmt.h"

#include "error.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#define ISO_PREFIX 19 /* "YYYY-MM-DDTHH:MM:SS" */

int64_t sky_days_from_civil(int64_t y, unsigned m, unsigned d) {
    /* Howard Hinnant's algorithm: exact for every proleptic Gregorian date. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void sky_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

int sky_ts_format_parse(const char *name, sky_ts_format_t *out, char *errstr, size_t errstr_size) {
    if (strcmp(name, "iso8601") == 0)
        *out = SKY_TS_ISO8601;
    else if (strcmp(name, "epoch") == 0)
        *out = SKY_TS_EPOCH;
    else if (strcmp(name, "epoch-ms") == 0)
        *out = SKY_TS_EPOCH_MS;
    else
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--timestamp-format: \"%s\" is not iso8601, epoch or epoch-ms", name);
    return 0;
}

static void put2(char *p, unsigned v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* Three digits of milliseconds (0..999): the divisions as multiply-shifts exact in
 * that range (test_timefmt checks all thousand). */
static void put_millis(char *p, unsigned frac) {
    unsigned hundreds = frac * 41 >> 12, rest = frac - hundreds * 100, tens = rest * 103 >> 10;
    p[0] = (char)('0' + hundreds);
    p[1] = (char)('0' + tens);
    p[2] = (char)('0' + rest - tens * 10);
}

static size_t fmt_int(char *out, int64_t v) {
    char tmp[24];
    size_t n = 0;
    int neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t k = 0;
    if (neg)
        out[k++] = '-';
    while (n)
        out[k++] = tmp[--n];
    return k;
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

size_t sky_ts_format(int64_t ms, sky_ts_format_t fmt, char *out) {
    int64_t secs = floor_div(ms, 1000);
    unsigned frac = (unsigned)(ms - secs * 1000);
    size_t n;
    switch (fmt) {
    case SKY_TS_EPOCH_MS:
        n = fmt_int(out, ms);
        break;
    case SKY_TS_EPOCH:
        n = fmt_int(out, secs);
        if (frac) {
            out[n++] = '.';
            put_millis(out + n, frac);
            n += 3;
        }
        break;
    case SKY_TS_ISO8601:
    default: {
        /* positions come in time order: most share the latest second formatted here */
        static _Thread_local struct {
            int64_t secs;
            bool valid;
            char text[ISO_PREFIX];
        } last;
        if (last.valid && last.secs == secs) {
            memcpy(out, last.text, ISO_PREFIX);
            n = ISO_PREFIX;
            goto millis;
        }
        int64_t days = floor_div(secs, 86400);
        unsigned sod = (unsigned)(secs - days * 86400);
        int64_t y;
        unsigned m, d;
        sky_civil_from_days(days, &y, &m, &d);
        if (y < 0 || y > 9999) { /* outside ISO's 4-digit years: fall back to epoch-ms */
            n = fmt_int(out, ms);
            break;
        }
        out[0] = (char)('0' + y / 1000);
        out[1] = (char)('0' + y / 100 % 10);
        out[2] = (char)('0' + y / 10 % 10);
        out[3] = (char)('0' + y % 10);
        out[4] = '-';
        put2(out + 5, m);
        out[7] = '-';
        put2(out + 8, d);
        out[10] = 'T';
        put2(out + 11, sod / 3600);
        out[13] = ':';
        put2(out + 14, sod / 60 % 60);
        out[16] = ':';
        put2(out + 17, sod % 60);
        memcpy(last.text, out, ISO_PREFIX);
        last.secs = secs;
        last.valid = true;
    millis:
        out[19] = '.';
        put_millis(out + 20, frac);
        out[23] = 'Z';
        n = 24;
    }
    }
    out[n] = '\0';
    return n;
}

size_t sky_ts_cache_format(sky_ts_cache_t *c, int64_t ms, sky_ts_format_t fmt) {
    uint64_t frac = (uint64_t)ms - (uint64_t)c->second_ms; /* wraps when ms is before it */
    if (fmt == SKY_TS_ISO8601 && c->len == ISO_PREFIX + 5 && frac < 1000) {
        put_millis(c->text + 20, (unsigned)frac);
        return c->len;
    }
    c->len = sky_ts_format(ms, fmt, c->text);
    c->second_ms = floor_div(ms, 1000) * 1000;
    return c->len;
}

/* Reads exactly n digits at *p into *v; advances *p. */
static int digits(const char **p, const char *end, int n, unsigned *v) {
    unsigned acc = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || (*p)[0] < '0' || (*p)[0] > '9')
            return -1;
        acc = acc * 10 + (unsigned)((*p)[0] - '0');
        (*p)++;
    }
    *v = acc;
    return 0;
}

static int days_in_month(int64_t y, unsigned m) {
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return dim[m - 1] + (m == 2 && leap);
}

static int bad_ts(char *errstr, size_t errstr_size, const char *s, size_t len, const char *why) {
    int shown = len > 40 ? 40 : (int)len;
    return sky_err(errstr, errstr_size, SKY_EINVAL, "timestamp \"%.*s\"%s: %s", shown, s,
                   len > 40 ? "..." : "", why);
}

/* The latest "YYYY-MM-DDTHH:MM:SS" parsed in this thread and its seconds: a stream of
 * positions is in time order, so most timestamps share it and only their fraction and
 * zone are left to parse. */
static _Thread_local struct {
    char prefix[ISO_PREFIX];
    bool valid;
    int64_t secs; /* before any UTC offset */
} last_iso;

static int parse_iso(const char *s, size_t len, int64_t *out_ms, char *errstr, size_t errsz) {
    const char *p = s, *end = s + len;
    unsigned y, mo, d, h, mi, sec, frac_ms = 0;
    int64_t local_s;
    if (len >= ISO_PREFIX && last_iso.valid && memcmp(s, last_iso.prefix, ISO_PREFIX) == 0) {
        local_s = last_iso.secs;
        p = s + ISO_PREFIX;
        goto fraction;
    }
    if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' || digits(&p, end, 2, &mo) ||
        p >= end || *p++ != '-' || digits(&p, end, 2, &d))
        return bad_ts(errstr, errsz, s, len, "expected YYYY-MM-DD");
    if (mo < 1 || mo > 12)
        return bad_ts(errstr, errsz, s, len, "month out of range 01-12");
    if (d < 1 || (int)d > days_in_month(y, mo))
        return bad_ts(errstr, errsz, s, len, "day out of range for the month");
    if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
        return bad_ts(errstr, errsz, s, len, "expected 'T' and a time after the date");
    p++;
    if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi) ||
        p >= end || *p++ != ':' || digits(&p, end, 2, &sec))
        return bad_ts(errstr, errsz, s, len, "expected HH:MM:SS");
    if (h > 23 || mi > 59 || sec > 59)
        return bad_ts(errstr, errsz, s, len, "time of day out of range");
    local_s = sky_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    if (p - s == ISO_PREFIX) {
        memcpy(last_iso.prefix, s, ISO_PREFIX);
        last_iso.secs = local_s;
        last_iso.valid = true;
    }
fraction:
    if (p < end && (*p == '.' || *p == ',')) {
        p++;
        int nd = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (nd < 3)
                frac_ms = frac_ms * 10 + (unsigned)(*p - '0');
            nd++;
            p++;
        }
        if (nd == 0)
            return bad_ts(errstr, errsz, s, len, "empty fraction of a second");
        for (; nd < 3; nd++)
            frac_ms *= 10;
    }
    int64_t offset_s = 0;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p++ == '-' ? -1 : 1;
        unsigned oh, om = 0;
        if (digits(&p, end, 2, &oh))
            return bad_ts(errstr, errsz, s, len, "bad UTC offset");
        if (p < end && *p == ':')
            p++;
        if (p < end && digits(&p, end, 2, &om))
            return bad_ts(errstr, errsz, s, len, "bad UTC offset");
        if (oh > 23 || om > 59)
            return bad_ts(errstr, errsz, s, len, "UTC offset out of range");
        offset_s = sign * (int64_t)(oh * 3600 + om * 60);
    } else if (p < end) {
        return bad_ts(errstr, errsz, s, len, "unexpected text after the time");
    } else {
        return bad_ts(errstr, errsz, s, len, "no time zone (add Z or an offset like +01:00)");
    }
    if (p != end)
        return bad_ts(errstr, errsz, s, len, "unexpected text after the time zone");
    *out_ms = (local_s - offset_s) * 1000 + frac_ms;
    return 0;
}

static int parse_epoch(const char *s, size_t len, int64_t *out_ms, char *errstr, size_t errsz) {
    const char *p = s, *end = s + len;
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    int64_t whole = 0;
    int nd = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (++nd > 16)
            return bad_ts(errstr, errsz, s, len, "number too large");
        whole = whole * 10 + (*p++ - '0');
    }
    if (nd == 0)
        return bad_ts(errstr, errsz, s, len, "not ISO 8601, epoch seconds or epoch milliseconds");
    int64_t frac_ms = 0;
    int has_frac = 0;
    if (p < end && *p == '.') {
        p++;
        int fd = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (fd < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            fd++;
            p++;
        }
        if (fd == 0)
            return bad_ts(errstr, errsz, s, len, "empty fraction");
        for (; fd < 3; fd++)
            frac_ms *= 10;
        has_frac = 1;
    }
    if (p != end)
        return bad_ts(errstr, errsz, s, len, "not ISO 8601, epoch seconds or epoch milliseconds");
    int is_ms = !has_frac && whole >= 100000000000LL;
    if (!is_ms && whole > (INT64_MAX - 999) / 1000)
        return bad_ts(errstr, errsz, s, len, "number too large");
    int64_t ms = is_ms ? whole : whole * 1000 + frac_ms;
    *out_ms = neg ? -ms : ms;
    return 0;
}

int sky_ts_parse(const char *s, size_t len, int64_t *out_ms, char *errstr, size_t errstr_size) {
    if (len == 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "timestamp is empty");
    if (len >= 5 && s[4] == '-')
        return parse_iso(s, len, out_ms, errstr, errstr_size);
    return parse_epoch(s, len, out_ms, errstr, errstr_size);
}

int64_t sky_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t sky_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
