/* Strict parsers for option values and text fields: the whole string must be
 * consumed and the value in range, or the call fails with a reason in errstr. */
#ifndef SKY_PARSE_H
#define SKY_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* `what` names the value in the error ("--aircraft", "latitude"). */
int sky_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, const char *what,
                  char *errstr, size_t errstr_size);
int sky_parse_double(const char *s, double min, double max, double *out, const char *what,
                     char *errstr, size_t errstr_size);
/* "250ms", "5s", "10m", "2h", "1d", or a bare number of seconds ("1.5");
 * result in milliseconds. */
int sky_parse_duration_ms(const char *s, int64_t *out_ms, const char *what, char *errstr,
                          size_t errstr_size);
/* "host:port" (IPv6 as "[::1]:port"); host is copied into host (hostsz bytes). */
int sky_parse_hostport(const char *s, char *host, size_t hostsz, int *port, const char *what,
                       char *errstr, size_t errstr_size);
/* "i/n" with 0 <= i < n. */
int sky_parse_shard(const char *s, int *index, int *count, char *errstr, size_t errstr_size);
/* Bounded copy that always NUL-terminates; returns 0, or SKY_EINVAL when truncated. */
int sky_strlcpy(char *dst, const char *src, size_t dstsz);

#endif
