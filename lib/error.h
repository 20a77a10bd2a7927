/* Error codes and the errstr convention shared by every libskyload function:
 * return 0 or a negative SKY_E* code and fill a caller-provided buffer. */
#ifndef SKY_ERROR_H
#define SKY_ERROR_H

#include <stddef.h>

enum sky_err {
    SKY_OK = 0,
    SKY_EINVAL = -1,      /* bad input data (a record, a file row) */
    SKY_EUSAGE = -2,      /* bad option or configuration */
    SKY_ENOMEM = -3,      /* allocation failed */
    SKY_EIO = -4,         /* file or socket I/O failed */
    SKY_EKAFKA = -5,      /* Kafka client or broker error */
    SKY_EPG = -6,         /* PostgreSQL error */
    SKY_ETILE38 = -7,     /* Tile38 error */
    SKY_ETIMEOUT = -8,    /* a bounded wait ran out */
    SKY_EUNAVAIL = -9,    /* a server could not be reached after retries */
    SKY_ECHECK = -10,     /* a verification check or SLO failed */
    SKY_EINTR = -11,      /* stopped by a signal before finishing */
};

/* Formats the message into errstr (always NUL-terminated when errstr_size > 0)
 * and returns code, so callers can write `return sky_err(...)`. */
int sky_err(char *errstr, size_t errstr_size, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Short name of a code ("invalid input", "Kafka error", ...). Static string. */
const char *sky_strerror(int code);

/* CLI exit status for a code: 0 ok, 1 check failed, 2 usage/config, 3 runtime. */
int sky_exit_status(int code);

#endif
