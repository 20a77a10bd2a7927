/* libFuzzer: timestamp parsing never crashes, and every instant it accepts
 * formats and parses back to the same millisecond in every format. */
#include "timefmt.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t ms, back;
    char err[256], out[SKY_TS_MAX];
    if (sky_ts_parse((const char *)data, size, &ms, err, sizeof err) != 0)
        return 0;
    if (ms < 0 || ms > 253402300799999LL) /* ISO 8601's 4-digit years */
        return 0;
    for (int f = SKY_TS_ISO8601; f <= SKY_TS_EPOCH_MS; f++) {
        /* Bare numbers are told apart by size (docs/formats.md): epoch seconds
         * below 1e11, milliseconds from 1e11 on; outside that they are ambiguous. */
        if ((f == SKY_TS_EPOCH && ms >= 100000000000000LL) ||
            (f == SKY_TS_EPOCH_MS && ms < 100000000000LL))
            continue;
        size_t n = sky_ts_format(ms, (sky_ts_format_t)f, out);
        if (sky_ts_parse(out, n, &back, err, sizeof err) != 0 || back != ms)
            abort();
    }
    return 0;
}
