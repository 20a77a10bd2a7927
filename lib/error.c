/* Error formatting and the mapping from error codes to CLI exit status. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int sky_err(char *errstr, size_t errstr_size, int code, const char *fmt, ...) {
    if (errstr && errstr_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *sky_strerror(int code) {
    switch (code) {
    case SKY_OK: return "success";
    case SKY_EINVAL: return "invalid input";
    case SKY_EUSAGE: return "usage or configuration error";
    case SKY_ENOMEM: return "out of memory";
    case SKY_EIO: return "I/O error";
    case SKY_EKAFKA: return "Kafka error";
    case SKY_EPG: return "PostgreSQL error";
    case SKY_ETILE38: return "Tile38 error";
    case SKY_ETIMEOUT: return "timed out";
    case SKY_EUNAVAIL: return "server unavailable";
    case SKY_ECHECK: return "check failed";
    case SKY_EINTR: return "interrupted";
    default: return "unknown error";
    }
}

int sky_exit_status(int code) {
    switch (code) {
    case SKY_OK: return 0;
    case SKY_ECHECK: return 1;
    case SKY_EUSAGE:
    case SKY_EINVAL: return 2;
    default: return 3;
    }
}
