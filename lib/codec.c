/* FlightData protobuf wire format, written and read by hand: the generator and
 * ingest handle every message, so neither allocates nor copies more than once. */
#include "codec.h"

#include "error.h"
#include "timefmt.h"
#include "wire.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static uint64_t get_le64(const uint8_t *p) {
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, 8);
#else
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
#endif
    return v;
}

static size_t known_len(size_t len) { /* bytes of a string field of len bytes (len < 128) */
    return len ? 2 + len : 0;
}

size_t sky_flight_encode_lens(const sky_flight_t *f, const sky_flight_lens_t *l, uint8_t *out,
                              size_t cap) {
    if (cap < SKY_FLIGHT_ENCODED_MAX)
        return 0;
    size_t n = sky_wire_str32(out, 1, f->flight_id, l->flight_id);
    if (f->has_location) {
        size_t loc_len = (f->latitude != 0.0 ? 9 : 0) + (f->longitude != 0.0 ? 9 : 0);
        out[n++] = 2 << 3 | SKY_WT_LEN;
        out[n++] = (uint8_t)loc_len;
        n += sky_wire_double(out + n, 1, f->latitude);
        n += sky_wire_double(out + n, 2, f->longitude);
    }
    n += sky_wire_int32(out + n, 3, f->altitude);
    n += sky_wire_int32(out + n, 4, f->airspeed);
    n += sky_wire_str32(out + n, 5, f->timestamp, l->timestamp);
    if (f->has_metadata) {
        size_t meta_len = known_len(l->airline) + known_len(l->flight_number) +
                          known_len(l->departure) + known_len(l->arrival);
        out[n++] = 6 << 3 | SKY_WT_LEN;
        n += sky_wire_varint(out + n, meta_len);
        n += sky_wire_str32(out + n, 1, f->airline, l->airline);
        n += sky_wire_str32(out + n, 2, f->flight_number, l->flight_number);
        n += sky_wire_str32(out + n, 3, f->departure_airport, l->departure);
        n += sky_wire_str32(out + n, 4, f->arrival_airport, l->arrival);
    }
    return n;
}

/* strnlen(s, size - 1) for a char array of size bytes, a multiple of 16: one compare
 * per 16 bytes instead of a call per string. */
static uint8_t array_strlen(const char *s, size_t size) {
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128();
    for (size_t i = 0; i < size; i += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)), zero));
        if (m) {
            size_t len = i + (size_t)__builtin_ctz(m);
            return (uint8_t)(len < size - 1 ? len : size - 1);
        }
    }
    return (uint8_t)(size - 1);
#else
    return (uint8_t)strnlen(s, size - 1);
#endif
}

void sky_flight_measure(const sky_flight_t *f, sky_flight_lens_t *l) {
    _Static_assert(SKY_FLIGHT_ID_MAX % 16 == 0 && SKY_TIMESTAMP_MAX % 16 == 0 &&
                       SKY_META_MAX % 16 == 0 && SKY_FLIGHT_ID_MAX <= 256,
                   "array_strlen reads whole 16-byte blocks of each string array");
    l->flight_id = array_strlen(f->flight_id, sizeof f->flight_id);
    l->timestamp = array_strlen(f->timestamp, sizeof f->timestamp);
    l->airline = array_strlen(f->airline, sizeof f->airline);
    l->flight_number = array_strlen(f->flight_number, sizeof f->flight_number);
    l->departure = array_strlen(f->departure_airport, sizeof f->departure_airport);
    l->arrival = array_strlen(f->arrival_airport, sizeof f->arrival_airport);
}

/* Measures the strings and takes encode_lens's path; a small out gets the bytes through
 * a buffer big enough for any flight. */
size_t sky_flight_encode(const sky_flight_t *f, uint8_t *out, size_t cap) {
    sky_flight_lens_t l;
    sky_flight_measure(f, &l);
    if (cap >= SKY_FLIGHT_ENCODED_MAX)
        return sky_flight_encode_lens(f, &l, out, cap);
    uint8_t buf[SKY_FLIGHT_ENCODED_MAX];
    size_t n = sky_flight_encode_lens(f, &l, buf, sizeof buf);
    if (n > cap)
        return 0;
    memcpy(out, buf, n);
    return n;
}

typedef struct reader {
    const uint8_t *p, *end;
} reader_t;

static int get_varint(reader_t *r, uint64_t *v) {
    uint64_t acc = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end)
            return -1;
        uint8_t b = *r->p++;
        acc |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = acc;
            return 0;
        }
    }
    return -1;
}

static int skip_field(reader_t *r, unsigned wt) {
    uint64_t v;
    switch (wt) {
    case SKY_WT_VARINT: return get_varint(r, &v);
    case SKY_WT_I64:
        if (r->end - r->p < 8)
            return -1;
        r->p += 8;
        return 0;
    case SKY_WT_I32:
        if (r->end - r->p < 4)
            return -1;
        r->p += 4;
        return 0;
    case SKY_WT_LEN:
        if (get_varint(r, &v) || v > (uint64_t)(r->end - r->p))
            return -1;
        r->p += v;
        return 0;
    default: return -1;
    }
}

/* Reads a length-delimited field body into *body. */
static int get_bytes(reader_t *r, reader_t *body) {
    uint64_t len;
    if (get_varint(r, &len) || len > (uint64_t)(r->end - r->p))
        return -1;
    body->p = r->p;
    body->end = r->p + len;
    r->p += len;
    return 0;
}

static int copy_str(const reader_t *b, char *dst, size_t dstsz, const char *name, char *errstr,
                    size_t errsz) {
    size_t len = (size_t)(b->end - b->p);
    if (len >= dstsz)
        return sky_err(errstr, errsz, SKY_EINVAL, "%s longer than %zu bytes", name, dstsz - 1);
    memcpy(dst, b->p, len);
    dst[len] = '\0';
    /* a NUL inside ends the string early: found in the copy, blocks at a time (dst is one
     * of sky_flight_t's arrays, whose sizes array_strlen takes) */
    if (array_strlen(dst, dstsz) != len)
        return sky_err(errstr, errsz, SKY_EINVAL, "%s contains a NUL byte", name);
    return 0;
}

static int get_double(reader_t *r, double *out) {
    if (r->end - r->p < 8)
        return -1;
    uint64_t bits = get_le64(r->p);
    r->p += 8;
    memcpy(out, &bits, 8);
    return 0;
}

#define TRUNC(what) sky_err(errstr, errsz, SKY_EINVAL, "does not decode: %s truncated or malformed", what)
#define WRONG_TYPE(what) sky_err(errstr, errsz, SKY_EINVAL, "does not decode: %s has the wrong wire type", what)

static int decode_location(reader_t *r, sky_flight_t *f, char *errstr, size_t errsz) {
    while (r->p < r->end) {
        uint64_t tag;
        if (get_varint(r, &tag))
            return TRUNC("location");
        unsigned field = (unsigned)(tag >> 3), wt = tag & 7;
        if (field == 1 || field == 2) {
            if (wt != SKY_WT_I64)
                return WRONG_TYPE(field == 1 ? "latitude" : "longitude");
            if (get_double(r, field == 1 ? &f->latitude : &f->longitude))
                return TRUNC("location");
        } else if (field == 0 || skip_field(r, wt)) {
            return TRUNC("location");
        }
    }
    return 0;
}

static int decode_metadata(reader_t *r, sky_flight_t *f, char *errstr, size_t errsz) {
    static const char *const names[] = {"metadata.airline", "metadata.flight_number",
                                        "metadata.departure_airport", "metadata.arrival_airport"};
    char *dst[] = {f->airline, f->flight_number, f->departure_airport, f->arrival_airport};
    while (r->p < r->end) {
        uint64_t tag;
        if (get_varint(r, &tag))
            return TRUNC("metadata");
        unsigned field = (unsigned)(tag >> 3), wt = tag & 7;
        if (field >= 1 && field <= 4) {
            reader_t body;
            if (wt != SKY_WT_LEN)
                return WRONG_TYPE(names[field - 1]);
            if (get_bytes(r, &body))
                return TRUNC(names[field - 1]);
            int rc = copy_str(&body, dst[field - 1], SKY_META_MAX, names[field - 1], errstr, errsz);
            if (rc)
                return rc;
        } else if (field == 0 || skip_field(r, wt)) {
            return TRUNC("metadata");
        }
    }
    return 0;
}

static int decode_int32(reader_t *r, unsigned wt, int32_t *out, const char *name, char *errstr,
                        size_t errsz) {
    uint64_t v;
    if (wt != SKY_WT_VARINT)
        return WRONG_TYPE(name);
    if (get_varint(r, &v))
        return TRUNC(name);
    *out = (int32_t)(uint32_t)v; /* protobuf truncates int32 varints to 32 bits */
    return 0;
}

int sky_flight_decode(const void *buf, size_t len, sky_flight_t *f, char *errstr, size_t errsz) {
    reader_t r = {buf, (const uint8_t *)buf + len};
    memset(f, 0, sizeof *f);
    while (r.p < r.end) {
        uint64_t tag;
        if (get_varint(&r, &tag))
            return TRUNC("field tag");
        unsigned field = (unsigned)(tag >> 3), wt = tag & 7;
        reader_t body;
        int rc = 0;
        switch (field) {
        case 1:
        case 5:
        case 2:
        case 6:
            if (wt != SKY_WT_LEN)
                return WRONG_TYPE(field == 1 ? "flight_id" : field == 5 ? "timestamp"
                                  : field == 2 ? "location" : "metadata");
            if (get_bytes(&r, &body))
                return TRUNC(field == 1 ? "flight_id" : field == 5 ? "timestamp"
                             : field == 2 ? "location" : "metadata");
            if (field == 1)
                rc = copy_str(&body, f->flight_id, sizeof f->flight_id, "flight_id", errstr, errsz);
            else if (field == 5)
                rc = copy_str(&body, f->timestamp, sizeof f->timestamp, "timestamp", errstr, errsz);
            else if (field == 2) {
                f->has_location = true; /* proto3 merges repeated sub-messages */
                rc = decode_location(&body, f, errstr, errsz);
            } else {
                f->has_metadata = true;
                rc = decode_metadata(&body, f, errstr, errsz);
            }
            break;
        case 3: rc = decode_int32(&r, wt, &f->altitude, "altitude", errstr, errsz); break;
        case 4: rc = decode_int32(&r, wt, &f->airspeed, "airspeed", errstr, errsz); break;
        default:
            if (field == 0 || skip_field(&r, wt))
                return TRUNC("unknown field");
        }
        if (rc)
            return rc;
    }
    return 0;
}

int sky_flight_check_fields(const sky_flight_t *f, char *errstr, size_t errsz) {
    if (f->flight_id[0] == '\0')
        return sky_err(errstr, errsz, SKY_EINVAL, "flight_id is missing");
    if (!f->has_location)
        return sky_err(errstr, errsz, SKY_EINVAL, "location is missing");
    if (!(f->latitude >= -90.0 && f->latitude <= 90.0))
        return sky_err(errstr, errsz, SKY_EINVAL, "latitude %g out of range [-90, 90]",
                       f->latitude);
    if (!(f->longitude >= -180.0 && f->longitude <= 180.0))
        return sky_err(errstr, errsz, SKY_EINVAL, "longitude %g out of range [-180, 180]",
                       f->longitude);
    if (f->altitude < SKY_ALT_MIN_FT || f->altitude > SKY_ALT_MAX_FT)
        return sky_err(errstr, errsz, SKY_EINVAL, "altitude %d ft out of range [%d, %d]",
                       (int)f->altitude, SKY_ALT_MIN_FT, SKY_ALT_MAX_FT);
    if (f->airspeed < SKY_SPEED_MIN_KT || f->airspeed > SKY_SPEED_MAX_KT)
        return sky_err(errstr, errsz, SKY_EINVAL, "airspeed %d kt out of range [%d, %d]",
                       (int)f->airspeed, SKY_SPEED_MIN_KT, SKY_SPEED_MAX_KT);
    return 0;
}

int sky_flight_validate(const sky_flight_t *f, int64_t *ts_ms, char *errstr, size_t errsz) {
    int64_t ms;
    int rc = sky_flight_check_fields(f, errstr, errsz);
    if (rc)
        return rc;
    rc = sky_ts_parse(f->timestamp, strlen(f->timestamp), &ms, errstr, errsz);
    if (rc)
        return rc;
    if (ts_ms)
        *ts_ms = ms;
    return 0;
}

int sky_flight_parse(const void *buf, size_t len, sky_flight_t *out, int64_t *ts_ms, char *errstr,
                     size_t errstr_size) {
    int rc = sky_flight_decode(buf, len, out, errstr, errstr_size);
    return rc ? rc : sky_flight_validate(out, ts_ms, errstr, errstr_size);
}
