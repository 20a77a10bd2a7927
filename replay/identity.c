/* A flight's identity from what recorded feeds carry: the ICAO 24-bit address, the
 * callsign and the day (reader.h, sky_replay_identity). Shared by the OpenSky and
 * SBS-1 parsers. */
#include "reader.h"

#include "timefmt.h"

#include <string.h>

/* s without its leading and trailing spaces, at most max bytes, copied to dst (lower
 * case when asked); returns the end of the copy. */
static char *put_trimmed(char *dst, const char *s, size_t len, size_t max, bool lower) {
    while (len && s[0] == ' ')
        s++, len--;
    while (len && s[len - 1] == ' ')
        len--;
    if (len > max)
        len = max;
    if (!lower) {
        memcpy(dst, s, len);
        return dst + len;
    }
    for (size_t i = 0; i < len; i++)
        dst[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    return dst + len;
}

static bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}

/* "YYYYMMDD" of the UTC day of ts_ms. Rows come in time order, so nearly all share the
 * day of the row before: kept per thread, the calendar arithmetic runs once a day. */
static const char *utc_day_digits(int64_t ts_ms) {
    static _Thread_local struct {
        int64_t day;
        bool valid;
        char digits[8];
    } last;
    int64_t day = ts_ms >= 0 ? ts_ms / 86400000 : (ts_ms - 86399999) / 86400000;
    if (last.valid && last.day == day)
        return last.digits;
    int64_t y;
    unsigned m, d;
    sky_civil_from_days(day, &y, &m, &d);
    unsigned ymd = (unsigned)(y % 10000) * 10000 + m * 100 + d;
    for (int i = 7; i >= 0; i--, ymd /= 10)
        last.digits[i] = (char)('0' + ymd % 10);
    last.day = day;
    last.valid = true;
    return last.digits;
}

void sky_replay_identity(sky_flight_t *f, const char *icao24, size_t icao_len, const char *callsign,
                         size_t callsign_len, int64_t ts_ms) {
    char *p = put_trimmed(f->flight_id, icao24, icao_len, 16, true);
    *p++ = '-';
    memcpy(p, utc_day_digits(ts_ms), 8);
    p[8] = '\0';
    char *end = put_trimmed(f->flight_number, callsign, callsign_len, SKY_META_MAX - 1, false);
    *end = '\0';
    f->has_metadata = end != f->flight_number;
    f->airline[0] = '\0';
    if (end - f->flight_number >= 4 && is_upper(f->flight_number[0]) &&
        is_upper(f->flight_number[1]) && is_upper(f->flight_number[2]) &&
        f->flight_number[3] >= '0' && f->flight_number[3] <= '9') {
        memcpy(f->airline, f->flight_number, 3);
        f->airline[3] = '\0';
    }
}
