/* CRC-32C: reflected polynomial 0x82F63B78, initial and final value 0xFFFFFFFF. */
#include "crc32c.h"

#include <string.h>

static uint32_t table[256];

static void fill_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? c >> 1 ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
}

uint32_t sky_crc32c_table(uint32_t crc, const void *data, size_t len) {
    if (!table[1]) /* filled on first use; racing fills write the same values */
        fill_table();
    const unsigned char *p = data;
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xFF] ^ crc >> 8;
    return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data,
                                                              size_t len) {
    const unsigned char *p = data;
    uint64_t c = ~crc;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

uint32_t sky_crc32c(uint32_t crc, const void *data, size_t len) {
    static int has_sse42 = -1; /* racing first calls store the same answer */
    if (has_sse42 < 0)
        has_sse42 = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    return has_sse42 ? crc32c_sse42(crc, data, len) : sky_crc32c_table(crc, data, len);
}
#else
uint32_t sky_crc32c(uint32_t crc, const void *data, size_t len) {
    return sky_crc32c_table(crc, data, len);
}
#endif
