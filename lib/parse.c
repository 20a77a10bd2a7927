/* Strict value parsers. */
#include "parse.h"

#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sky_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, const char *what,
                  char *errstr, size_t errstr_size) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: \"%s\" is not a whole number", what,
                       s);
    if (v < min || v > max)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: %lld out of range [%lld, %lld]", what,
                       v, (long long)min, (long long)max);
    *out = v;
    return 0;
}

int sky_parse_double(const char *s, double min, double max, double *out, const char *what,
                     char *errstr, size_t errstr_size) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || isnan(v))
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: \"%s\" is not a number", what, s);
    if (v < min || v > max)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s: \"%s\" out of range [%g, %g]", what,
                       s, min, max);
    *out = v;
    return 0;
}

int sky_parse_duration_ms(const char *s, int64_t *out_ms, const char *what, char *errstr,
                          size_t errstr_size) {
    static const struct {
        const char *suffix;
        double ms;
    } units[] = {{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}, {"", 1e3}};
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !(v >= 0))
        goto bad;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            double ms = v * units[i].ms;
            if (ms > 9e15)
                goto bad;
            *out_ms = (int64_t)llround(ms);
            return 0;
        }
    }
bad:
    return sky_err(errstr, errstr_size, SKY_EINVAL,
                   "%s: \"%s\" is not a duration (use e.g. 500ms, 5s, 10m, 2h, 1d)", what, s);
}

int sky_parse_hostport(const char *s, char *host, size_t hostsz, int *port, const char *what,
                       char *errstr, size_t errstr_size) {
    const char *colon;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            goto bad;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            goto bad;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostsz)
        goto bad;
    int64_t p;
    if (sky_parse_i64(colon + 1, 1, 65535, &p, what, errstr, errstr_size))
        return SKY_EUSAGE;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
bad:
    return sky_err(errstr, errstr_size, SKY_EUSAGE, "%s: \"%s\" is not HOST:PORT", what, s);
}

int sky_parse_shard(const char *s, int *index, int *count, char *errstr, size_t errstr_size) {
    char *end;
    errno = 0;
    long i = strtol(s, &end, 10);
    if (end == s || *end != '/')
        goto bad;
    const char *ns = end + 1;
    long n = strtol(ns, &end, 10);
    if (end == ns || *end || errno || n < 1 || n > 1000000 || i < 0 || i >= n)
        goto bad;
    *index = (int)i;
    *count = (int)n;
    return 0;
bad:
    return sky_err(errstr, errstr_size, SKY_EUSAGE,
                   "--shard: \"%s\" is not i/n with 0 <= i < n (e.g. 0/4)", s);
}

int sky_strlcpy(char *dst, const char *src, size_t dstsz) {
    size_t n = strlen(src);
    if (dstsz == 0)
        return SKY_EINVAL;
    if (n >= dstsz) {
        memcpy(dst, src, dstsz - 1);
        dst[dstsz - 1] = '\0';
        return SKY_EINVAL;
    }
    memcpy(dst, src, n + 1);
    return 0;
}
