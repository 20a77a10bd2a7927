/* libFuzzer: the csv line parser on arbitrary lines must never crash, and every
 * record it returns must pass FlightData validation and encode. */
#include "fuzz_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_lines(SKY_FMT_CSV, data, size);
}
