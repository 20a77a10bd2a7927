/* Protobuf wire-format writers shared by the FlightData encoders (codec.c's, from a
 * sky_flight_t, and the simulator's, straight from a flight plan): inline, as both
 * run once per record. Each returns the bytes written; proto3 omits zero scalars. */
#ifndef SKY_WIRE_H
#define SKY_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { SKY_WT_VARINT = 0, SKY_WT_I64 = 1, SKY_WT_LEN = 2, SKY_WT_I32 = 5 };

static inline size_t sky_wire_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* The wire is little-endian: on such a host, one 8-byte move. */
static inline void sky_wire_le64(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline size_t sky_wire_double(uint8_t *p, unsigned field, double v) {
    uint64_t bits;
    if (v == 0.0) /* proto3 omits zero; protobuf-c treats -0.0 as zero too */
        return 0;
    memcpy(&bits, &v, 8);
    p[0] = (uint8_t)(field << 3 | SKY_WT_I64);
    sky_wire_le64(p + 1, bits);
    return 9;
}

static inline size_t sky_wire_int32(uint8_t *p, unsigned field, int32_t v) {
    if (v == 0)
        return 0;
    p[0] = (uint8_t)(field << 3 | SKY_WT_VARINT);
    /* int32 negatives are sign-extended to 64 bits on the wire */
    return 1 + sky_wire_varint(p + 1, (uint64_t)(int64_t)v);
}

/* A string field of known length: the copy is a fixed 32 bytes when it fits (s has 32
 * readable bytes, p room for them), so no memcpy call. */
static inline __attribute__((always_inline)) size_t sky_wire_str32(uint8_t *p, unsigned field,
                                                                   const char *s, size_t len) {
    if (len == 0)
        return 0;
    p[0] = (uint8_t)(field << 3 | SKY_WT_LEN);
    size_t n = 1 + sky_wire_varint(p + 1, len);
    if (len <= 32)
        memcpy(p + n, s, 32);
    else
        memcpy(p + n, s, len);
    return n + len;
}

#endif
