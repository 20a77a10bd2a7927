/* CRC-32C (Castagnoli), the checksum of Kafka's record batches and of skyload's
 * capture files: the SSE4.2 crc32 instruction where the CPU has it (about 8 bytes
 * per cycle), a table otherwise. */
#ifndef SKY_CRC32C_H
#define SKY_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of len bytes, continuing from crc (0 to start): sky_crc32c(0, "123456789", 9)
 * is 0xE3069283. */
uint32_t sky_crc32c(uint32_t crc, const void *data, size_t len);
/* The same, always from the table (the fallback; the tests compare the two). */
uint32_t sky_crc32c_table(uint32_t crc, const void *data, size_t len);

#endif
