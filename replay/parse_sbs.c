/* SBS-1 / BaseStation text (MSG,1..8 with 22 fields): a per-aircraft state is
 * assembled from identification (callsign), position and velocity messages, and
 * every position message becomes one record once the aircraft's altitude and
 * velocity are known: a position that comes first (MSG,3 usually precedes the
 * first MSG,4) is held until they are, never published with an invented 0 kt.
 * Times are read as UTC. */
#include "fields.h"
#include "formats.h"

#include "error.h"
#include "timefmt.h"

#include <stdlib.h>
#include <string.h>

#define SBS_FIELDS 22
#define SBS_TABLE_MIN 4096
#define SBS_TABLE_MAX (1u << 20)
#define SBS_IDLE_MS (30 * 60 * 1000) /* an aircraft silent this long is forgotten */

struct sbs_aircraft {
    uint32_t key; /* icao24 + 1; 0 = free slot */
    int64_t last_ms;
    char callsign[12];
    char hex[6]; /* the hex ident as written */
    int32_t alt_ft;
    int32_t speed_kt;
    bool has_alt, has_speed;
    /* the latest position that came before the altitude or the velocity */
    bool held, held_ground, held_has_alt;
    int32_t held_alt_ft;
    double held_lat, held_lon;
    int64_t held_ms;
};

static void drop_held(sky_line_parser_t *p, sbs_aircraft_t *a) {
    if (!a->held)
        return;
    a->held = false;
    p->sbs_held--;
    p->sbs_dropped++;
}

static size_t slot_of(uint32_t key, size_t cap) {
    return (size_t)((key * 2654435761u) & (cap - 1));
}

static sbs_aircraft_t *lookup(sbs_aircraft_t *t, size_t cap, uint32_t key) {
    size_t i = slot_of(key, cap);
    while (t[i].key && t[i].key != key)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

/* Rebuilds the table at cap entries, keeping aircraft heard from after min_ms. */
static int rebuild(sky_line_parser_t *p, size_t cap, int64_t min_ms) {
    sbs_aircraft_t *nt = calloc(cap, sizeof *nt);
    if (!nt)
        return SKY_ENOMEM;
    size_t used = 0;
    for (size_t i = 0; i < p->sbs_cap; i++) {
        if (!p->sbs[i].key)
            continue;
        if (p->sbs[i].last_ms >= min_ms) {
            *lookup(nt, cap, p->sbs[i].key) = p->sbs[i];
            used++;
        } else {
            drop_held(p, &p->sbs[i]); /* forgotten with the aircraft */
        }
    }
    free(p->sbs);
    p->sbs = nt;
    p->sbs_cap = cap;
    p->sbs_used = used;
    return 0;
}

static sbs_aircraft_t *aircraft(sky_line_parser_t *p, uint32_t key, int64_t now_ms) {
    if (!p->sbs && rebuild(p, SBS_TABLE_MIN, 0))
        return NULL;
    if ((p->sbs_used + 1) * 2 > p->sbs_cap) {
        size_t cap = p->sbs_cap < SBS_TABLE_MAX ? p->sbs_cap * 2 : p->sbs_cap;
        if (rebuild(p, cap, cap == p->sbs_cap ? now_ms - SBS_IDLE_MS : INT64_MIN))
            return NULL;
        if ((p->sbs_used + 1) * 2 > p->sbs_cap) /* every aircraft is live: refuse the new one */
            return NULL;
    }
    sbs_aircraft_t *a = lookup(p->sbs, p->sbs_cap, key);
    if (!a->key) {
        memset(a, 0, sizeof *a);
        a->key = key;
        p->sbs_used++;
    }
    a->last_ms = now_ms;
    return a;
}

void sbs_free(sky_line_parser_t *p) {
    free(p->sbs);
    p->sbs = NULL;
}

static int digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned)(s[i] - '0') >= 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "2026/11/25" + "10:00:05.123" (fraction optional, any length) as UTC ms. */
static int sbs_time(const field_t *date, const field_t *time, int64_t *out) {
    if (date->len != 10 || time->len < 8 || date->p[4] != '/' || date->p[7] != '/' ||
        time->p[2] != ':' || time->p[5] != ':')
        return -1;
    int y = digits(date->p, 4), mo = digits(date->p + 5, 2), d = digits(date->p + 8, 2);
    int h = digits(time->p, 2), mi = digits(time->p + 3, 2), s = digits(time->p + 6, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        s < 0 || s > 60)
        return -1;
    int ms = 0;
    if (time->len > 8) {
        if (time->p[8] != '.')
            return -1;
        int scale = 100;
        for (size_t i = 9; i < time->len; i++, scale /= 10) {
            if ((unsigned)(time->p[i] - '0') >= 10)
                return -1;
            ms += (time->p[i] - '0') * scale;
        }
    }
    int64_t days = sky_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = ((days * 24 + h) * 60 + mi) * 60000LL + s * 1000LL + ms;
    return 0;
}

static int parse_hex24(const field_t *f, uint32_t *out) {
    if (f->len != 6)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 6; i++) {
        char c = f->p[i];
        int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (x < 0)
            return -1;
        v = v << 4 | (uint32_t)x;
    }
    *out = v;
    return 0;
}

static int bad_number(const field_t *f, const char *what, char *errstr, size_t errsz) {
    char show[64];
    return sky_err(errstr, errsz, SKY_EINVAL, "%s %s is not a number", what,
                   field_show(f, show, sizeof show));
}

/* Altitude, speed and callsign carried by any message type update the state. */
static int update_state(sbs_aircraft_t *a, field_t *f, char *errstr, size_t errsz) {
    double v;
    if (!field_empty(&f[11])) {
        if (!field_double(&f[11], &v))
            return bad_number(&f[11], "altitude", errstr, errsz);
        a->alt_ft = round_i32(v);
        a->has_alt = true;
    }
    if (!field_empty(&f[12])) {
        if (!field_double(&f[12], &v))
            return bad_number(&f[12], "ground speed", errstr, errsz);
        a->speed_kt = round_i32(v);
        a->has_speed = true;
    }
    field_t *cs = &f[10];
    while (cs->len && cs->p[cs->len - 1] == ' ')
        cs->len--;
    if (cs->len && cs->len < sizeof a->callsign) {
        memcpy(a->callsign, cs->p, cs->len);
        a->callsign[cs->len] = '\0';
    }
    return 0;
}

/* The record of a position of aircraft a: altitude and speed from its state. */
static int fill_record(const sbs_aircraft_t *a, double lat, double lon, int32_t alt_ft,
                       bool on_ground, int64_t ts, sky_rrec_t *rec, char *errstr, size_t errsz) {
    sky_flight_t *fl = &rec->flight;
    memset(fl, 0, sizeof *fl);
    rec->raw = false;
    rec->has_flight = true;
    rec->ts_ms = ts;
    rec->on_ground = on_ground;
    fl->has_location = true;
    fl->latitude = lat;
    fl->longitude = lon;
    fl->altitude = alt_ft;
    fl->airspeed = a->speed_kt;
    sky_replay_identity(fl, a->hex, sizeof a->hex, a->callsign, strlen(a->callsign), ts);
    sky_ts_format(ts, SKY_TS_ISO8601, fl->timestamp);
    return sky_flight_check_fields(fl, errstr, errsz) ? SKY_EINVAL : 0;
}

/* A message that completed the held position of a: release it (once), or drop it when
 * the missing value came too long after the position to belong to it. */
static void complete_held(sky_line_parser_t *p, sbs_aircraft_t *a, int64_t now_ms) {
    if (!a->held || !a->has_alt || !a->has_speed)
        return;
    if (now_ms - a->held_ms > SKY_SBS_HOLD_MS || p->sbs_released) {
        drop_held(p, a);
        return;
    }
    p->sbs_released = a->key;
}

static int position_record(sky_line_parser_t *p, sbs_aircraft_t *a, field_t *f, int64_t ts,
                           sky_rrec_t *rec, char *errstr, size_t errsz) {
    double lat, lon;
    if (field_empty(&f[14]) || field_empty(&f[15])) {
        complete_held(p, a, ts);
        return SKY_ROW_SKIPPED;
    }
    if (!field_double(&f[14], &lat))
        return bad_number(&f[14], "latitude", errstr, errsz);
    if (!field_double(&f[15], &lon))
        return bad_number(&f[15], "longitude", errstr, errsz);
    bool on_ground = f[21].len == 2 && memcmp(f[21].p, "-1", 2) == 0;
    /* checked now, with what is known, so a bad row is reported at its own line */
    if (fill_record(a, lat, lon, a->has_alt ? a->alt_ft : 0, on_ground, ts, rec, errstr, errsz))
        return SKY_EINVAL;
    drop_held(p, a); /* a newer position supersedes the one waiting */
    if (a->has_alt && a->has_speed)
        return SKY_ROW_RECORD;
    a->held = true;
    a->held_ground = on_ground;
    a->held_has_alt = a->has_alt;
    a->held_alt_ft = a->alt_ft;
    a->held_lat = lat;
    a->held_lon = lon;
    a->held_ms = ts;
    p->sbs_held++;
    return SKY_ROW_HELD;
}

int sbs_released(sky_line_parser_t *p, sky_rrec_t *rec) {
    if (!p->sbs_released)
        return 0;
    sbs_aircraft_t *a = lookup(p->sbs, p->sbs_cap, p->sbs_released);
    p->sbs_released = 0;
    if (a->key == 0 || !a->held)
        return 0;
    a->held = false;
    p->sbs_held--;
    char ignored[64];
    if (fill_record(a, a->held_lat, a->held_lon, a->held_has_alt ? a->held_alt_ft : a->alt_ft,
                    a->held_ground, a->held_ms, rec, ignored, sizeof ignored)) {
        p->sbs_dropped++; /* the speed that came is out of range */
        return 0;
    }
    return 1;
}

int parse_sbs(sky_line_parser_t *p, char *line, size_t len, sky_rrec_t *rec, char *errstr,
              size_t errsz) {
    field_t f[FIELDS_MAX];
    if (len == 0)
        return SKY_ROW_NONE;
    int n = csv_split(line, len, f, FIELDS_MAX);
    if (n < 1 || f[0].len != 3 || memcmp(f[0].p, "MSG", 3) != 0) {
        static const char *const others[] = {"SEL", "ID", "AIR", "STA", "CLK"};
        for (size_t i = 0; n >= 1 && i < sizeof others / sizeof others[0]; i++)
            if (f[0].len == strlen(others[i]) && memcmp(f[0].p, others[i], f[0].len) == 0)
                return SKY_ROW_SKIPPED; /* a row, with no position */
        return sky_err(errstr, errsz, SKY_EINVAL, "not an SBS message (MSG, SEL, ID, AIR, STA, CLK)");
    }
    if (n != SBS_FIELDS)
        return sky_err(errstr, errsz, SKY_EINVAL, "MSG with %d fields, expected %d", n, SBS_FIELDS);
    int type = f[1].len == 1 ? f[1].p[0] - '0' : -1;
    if (type < 1 || type > 8)
        return sky_err(errstr, errsz, SKY_EINVAL, "transmission type must be 1..8");
    uint32_t icao;
    if (parse_hex24(&f[4], &icao))
        return sky_err(errstr, errsz, SKY_EINVAL, "hex ident must be 6 hex digits");
    int64_t ts;
    if (sbs_time(&f[6], &f[7], &ts) && sbs_time(&f[8], &f[9], &ts))
        return sky_err(errstr, errsz, SKY_EINVAL, "date/time must be YYYY/MM/DD,HH:MM:SS.sss");
    sbs_aircraft_t *a = aircraft(p, icao + 1, ts);
    if (!a)
        return sky_err(errstr, errsz, SKY_EINVAL, "aircraft table full (or out of memory)");
    if (!a->hex[0])
        memcpy(a->hex, f[4].p, sizeof a->hex);
    int rc = update_state(a, f, errstr, errsz);
    if (rc)
        return rc;
    if (type != 2 && type != 3) {
        complete_held(p, a, ts);
        return SKY_ROW_SKIPPED;
    }
    return position_record(p, a, f, ts, rec, errstr, errsz);
}

enum sky_sniff sbs_sniff(const char *name, const char *head, size_t len) {
    static const char *const types[] = {"MSG,", "SEL,", "ID,", "AIR,", "STA,", "CLK,"};
    if (strncmp(name, "sbs://", 6) == 0)
        return SKY_SNIFF_HEADER;
    head = sky_sniff_skip_blanks(head, &len);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
        if (len >= strlen(types[k]) && memcmp(head, types[k], strlen(types[k])) == 0)
            return SKY_SNIFF_HEADER;
    return SKY_SNIFF_NO;
}
