/* Simulated records encoded from the plan (see record.h). Per record: the flight id
 * and number written in place, the position's fields, the timestamp (only its
 * milliseconds change within a second) and three strings copied from tables. */
#include "record.h"

#include "codec.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

/* A string field's bytes (tag, length, text), copied in one 8-byte move; len is how
 * many count (0 for an empty string, which proto3 omits). */
typedef struct field8 {
    uint8_t bytes[8];
    uint8_t len;
} field8_t;

struct sky_simrec {
    const sky_traffic_t *traffic;
    sky_ts_format_t fmt;
    field8_t *airline;   /* per airline: metadata field 1 */
    field8_t *departure; /* per airport: metadata field 3 */
    field8_t *arrival;   /* per airport: metadata field 4 */
    sky_ts_cache_t ts;
};

enum { META_AIRLINE = 1, META_NUMBER, META_DEPARTURE, META_ARRIVAL };

static void field8_set(field8_t *f, unsigned field, const char *text) {
    size_t len = strnlen(text, sizeof f->bytes - 2);
    memset(f, 0, sizeof *f);
    f->bytes[0] = (uint8_t)(field << 3 | SKY_WT_LEN);
    f->bytes[1] = (uint8_t)len;
    memcpy(f->bytes + 2, text, len);
    f->len = (uint8_t)(len ? 2 + len : 0);
}

sky_simrec_t *sky_simrec_new(const sky_traffic_t *t, sky_ts_format_t fmt) {
    sky_simrec_t *r = calloc(1, sizeof *r);
    size_t nairports = sky_traffic_airport_count(t), nairlines = sky_traffic_airline_count(t);
    if (!r)
        return NULL;
    r->traffic = t;
    r->fmt = fmt;
    r->airline = calloc(nairlines + 1, sizeof *r->airline);
    r->departure = calloc(nairports + 1, sizeof *r->departure);
    r->arrival = calloc(nairports + 1, sizeof *r->arrival);
    if (!r->airline || !r->departure || !r->arrival) {
        sky_simrec_destroy(r);
        return NULL;
    }
    for (size_t i = 0; i < nairlines; i++) {
        sky_flight_plan_t plan = {.airline = (uint16_t)i};
        field8_set(&r->airline[i], META_AIRLINE, sky_traffic_airline_icao(t, &plan));
    }
    for (size_t i = 0; i < nairports; i++) {
        field8_set(&r->departure[i], META_DEPARTURE, sky_traffic_airport_icao(t, (uint32_t)i));
        field8_set(&r->arrival[i], META_ARRIVAL, sky_traffic_airport_icao(t, (uint32_t)i));
    }
    return r;
}

void sky_simrec_destroy(sky_simrec_t *r) {
    if (!r)
        return;
    free(r->airline);
    free(r->departure);
    free(r->arrival);
    free(r);
}

static size_t put_field8(uint8_t *p, const field8_t *f) {
    memcpy(p, f->bytes, 8);
    return f->len;
}

/* A string written in place after a one-byte tag and a one-byte length (every such
 * string is shorter than 128 bytes). */
static size_t put_text(uint8_t *p, unsigned field, size_t len) {
    p[0] = (uint8_t)(field << 3 | SKY_WT_LEN);
    p[1] = (uint8_t)len;
    return 2 + len;
}

void sky_simrec_id(sky_simrec_id_t *id, const char *text, size_t len) {
    memset(id, 0, sizeof *id);
    if (len <= sizeof id->text) {
        memcpy(id->text, text, len);
        id->len = (uint8_t)len;
    }
}

/* The flight id as field 1: from the caller's copy (one 16-byte move) or the plan. */
static size_t put_id(const sky_simrec_t *r, const sky_flight_plan_t *plan,
                     const sky_simrec_id_t *id, uint8_t *p) {
    if (id->len) {
        memcpy(p + 2, id->text, sizeof id->text + 1);
        return put_text(p, 1, id->len);
    }
    return put_text(p, 1, sky_traffic_put_flight_id(r->traffic, plan, (char *)p + 2));
}

size_t sky_simrec_encode(sky_simrec_t *r, const sky_flight_plan_t *plan,
                         const sky_simrec_id_t *id, const sky_position_t *pos, int64_t ts_ms,
                         uint8_t *out) {
    uint8_t *p = out;
    p += put_id(r, plan, id, p);
    p[0] = 2 << 3 | SKY_WT_LEN;
    p[1] = (uint8_t)((pos->lat != 0.0 ? 9 : 0) + (pos->lon != 0.0 ? 9 : 0));
    p += 2;
    p += sky_wire_double(p, 1, pos->lat);
    p += sky_wire_double(p, 2, pos->lon);
    p += sky_wire_int32(p, 3, pos->alt_ft);
    p += sky_wire_int32(p, 4, pos->speed_kt);
    p += sky_wire_str32(p, 5, r->ts.text, sky_ts_cache_format(&r->ts, ts_ms, r->fmt));
    uint8_t *meta = p;
    p += 2;
    p += put_field8(p, &r->airline[plan->airline]);
    p += put_text(p, META_NUMBER,
                  sky_traffic_put_flight_number_from_id(r->traffic, plan, (const char *)out + 2,
                                                        out[1], (char *)p + 2));
    p += put_field8(p, &r->departure[plan->dep]);
    p += put_field8(p, &r->arrival[plan->arr]);
    meta[0] = 6 << 3 | SKY_WT_LEN;
    meta[1] = (uint8_t)(p - meta - 2); /* at most 4 fields of 2 + 8 bytes */
    return (size_t)(p - out);
}
