/* The field helpers every text format's parser shares: CSV splitting in place and the
 * fast number parsers of the hot path (replay/fields.c), and the units the sources use.
 * Included by the parse_<format>.c files; it includes nothing of replay's own. */
#ifndef SKY_REPLAY_FIELDS_H
#define SKY_REPLAY_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIELDS_MAX 32

typedef struct field {
    char *p;
    size_t len;
} field_t;

/* Splits a CSV line in place (RFC 4180 quotes within one line; "" unescaped).
 * Returns the number of fields, or -1 for an unterminated quote, -2 for more than max. */
int csv_split(char *line, size_t len, field_t *fields, int max);
/* csv_split into FIELDS_MAX fields; a bad line returns SKY_EINVAL with the reason. */
int csv_split_row(char *line, size_t len, field_t *fields, char *errstr, size_t errsz);

/* Strict decimal parsers for a field ([-+]digits[.digits][e±N]); false when not a number. */
bool field_double(const field_t *f, double *out);
bool field_i64(const field_t *f, int64_t *out);
static inline bool field_empty(const field_t *f) {
    return f->len == 0;
}
/* Nearest int32, halves away from zero as lround; INT32_MIN (out of every range) for NaN
 * or huge values. Inline, as it runs for several fields of every row: v - trunc(v) is
 * exact, so no rounding call is needed. */
static inline int32_t round_i32(double v) {
    if (!(v > -2e9 && v < 2e9))
        return INT32_MIN;
    int32_t whole = (int32_t)v;
    double rest = v - whole;
    return whole + (rest >= 0.5) - (rest <= -0.5);
}
/* Field text as a short quoted excerpt for error messages. */
const char *field_show(const field_t *f, char *buf, size_t bufsz);

#define M_TO_FT (1.0 / 0.3048)
#define MS_TO_KT (3600.0 / 1852.0)

#endif
