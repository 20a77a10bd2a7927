/* libFuzzer: decode + validate of arbitrary bytes must never crash, and a
 * decoded message must re-encode and decode to the same fields. */
#include "codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sky_flight_t f, back;
    char err[256];
    int64_t ts;
    if (sky_flight_decode(data, size, &f, err, sizeof err) != 0)
        return 0;
    (void)sky_flight_validate(&f, &ts, err, sizeof err);
    uint8_t buf[SKY_FLIGHT_ENCODED_MAX];
    size_t n = sky_flight_encode(&f, buf, sizeof buf);
    if (sky_flight_decode(buf, n, &back, err, sizeof err) != 0)
        abort();
    if (strcmp(f.flight_id, back.flight_id) || strcmp(f.timestamp, back.timestamp) ||
        f.altitude != back.altitude || f.airspeed != back.airspeed)
        abort();
    return 0;
}
