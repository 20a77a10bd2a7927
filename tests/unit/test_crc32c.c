/* CRC-32C: published check values, and the SSE4.2 path equal to the table's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crc32c.h"

#include <string.h>

static void test_crc32c_matches_published_check_values(void **state) {
    (void)state;
    /* RFC 3720 (iSCSI) B.4 and the CRC catalogue's check value */
    static const struct {
        const char *name;
        unsigned char data[48];
        size_t len;
        uint32_t crc;
    } rows[] = {
        {"123456789", "123456789", 9, 0xE3069283u},
        {"empty", "", 0, 0x00000000u},
        {"32 zeros", {0}, 32, 0x8A9136AAu},
        {"32 x 0xff",
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
         32, 0x62A8AB43u},
        {"0..31",
         {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
          16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
         32, 0x46DD794Eu},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (sky_crc32c(0, rows[i].data, rows[i].len) != rows[i].crc ||
            sky_crc32c_table(0, rows[i].data, rows[i].len) != rows[i].crc)
            fail_msg("%s: 0x%08X / 0x%08X, want 0x%08X", rows[i].name,
                     sky_crc32c(0, rows[i].data, rows[i].len),
                     sky_crc32c_table(0, rows[i].data, rows[i].len), rows[i].crc);
    }
}

/* Every length and alignment up to 64 bytes, whole and in two pieces. */
static void test_crc32c_instruction_path_equals_table_and_continues(void **state) {
    (void)state;
    unsigned char buf[80];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= 72; len++) {
            uint32_t want = sky_crc32c_table(0, buf + off, len);
            assert_int_equal(sky_crc32c(0, buf + off, len), want);
            size_t half = len / 3;
            assert_int_equal(sky_crc32c(sky_crc32c(0, buf + off, half), buf + off + half,
                                        len - half),
                             want);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_matches_published_check_values),
        cmocka_unit_test(test_crc32c_instruction_path_equals_table_and_continues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
