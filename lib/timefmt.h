/* Timestamps: the formats FlightData.timestamp carries, and the clock. */
#ifndef SKY_TIMEFMT_H
#define SKY_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

typedef enum sky_ts_format {
    SKY_TS_ISO8601 = 0, /* 2026-11-25T10:00:05.000Z */
    SKY_TS_EPOCH,       /* 1795600805 or 1795600805.250 (seconds, ms fraction when non-zero) */
    SKY_TS_EPOCH_MS,    /* 1795600805250 */
} sky_ts_format_t;

#define SKY_TS_MAX 32 /* buffer size that fits every format, NUL included */

/* Parses "iso8601", "epoch", "epoch-ms"; returns 0 or SKY_EUSAGE. */
int sky_ts_format_parse(const char *name, sky_ts_format_t *out, char *errstr, size_t errstr_size);

/* Writes ms (since the epoch, UTC) in fmt to out (SKY_TS_MAX bytes); returns the
 * length. Allocation-free and printf-free: it is on the generator's hot path. */
size_t sky_ts_format(int64_t ms, sky_ts_format_t fmt, char *out);

/* The latest timestamp a caller wrote, for one record after another in time order.
 * Start from {0}. */
typedef struct sky_ts_cache {
    int64_t second_ms; /* start of the second text is in */
    size_t len;        /* of text; 0: nothing yet */
    char text[SKY_TS_MAX];
} sky_ts_cache_t;

/* c->text = sky_ts_format(ms, fmt) (not NUL-terminated); returns its length. Within the
 * second of ISO 8601 it holds only the milliseconds are written: the generator's every
 * record. */
size_t sky_ts_cache_format(sky_ts_cache_t *c, int64_t ms, sky_ts_format_t fmt);

/* Parses ISO 8601 ("2026-11-25T10:00:05Z", fraction to any digits, 'T' or ' ',
 * Z or +HH:MM / +HHMM / +HH), epoch seconds with optional fraction, or epoch
 * milliseconds (a whole number >= 1e11 is taken as milliseconds). */
int sky_ts_parse(const char *s, size_t len, int64_t *out_ms, char *errstr, size_t errstr_size);

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t sky_days_from_civil(int64_t y, unsigned m, unsigned d);
void sky_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

int64_t sky_now_ns(void);      /* CLOCK_REALTIME */
int64_t sky_monotonic_ns(void); /* CLOCK_MONOTONIC */
/* The pacers' (simulate, replay) granularity: a record due sooner than this waits this
 * long, and the records due meanwhile go out together after one wake-up (never early,
 * at most this late). A sleep per record cost 0.2 cores at 27,000 msgs/s. */
#define SKY_PACE_QUANTUM_NS 1000000LL

#endif
