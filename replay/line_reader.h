/* Line-at-a-time input for the text readers: a file, stdin ("-"), a .gz file
 * (zlib reads plain and gzip input alike) or a live TCP feed ("sbs://HOST:PORT"),
 * with constant memory whatever the input size. */
#ifndef SKY_LINE_READER_H
#define SKY_LINE_READER_H

#include <stddef.h>

#define SKY_LINE_MAX 65536 /* longer lines are reported and skipped */

typedef struct sky_lines sky_lines_t;

/* Opens path ("-" = stdin, "sbs://HOST:PORT" = TCP on loopback or elsewhere).
 * Returns 0 and *out (free with sky_lines_destroy) or SKY_EIO / SKY_ENOMEM. */
int sky_lines_open(const char *path, sky_lines_t **out, char *errstr, size_t errstr_size);
void sky_lines_destroy(sky_lines_t *l); /* NULL is fine */

/* Next line without its "\n" or "\r\n", NUL-terminated; *line stays valid until
 * the next call. Returns 1 for a line, 0 at the end, SKY_EINVAL for an over-long
 * line (skipped; call again to go on), SKY_EIO on a read error. The line may be
 * modified in place by the caller. */
int sky_lines_next(sky_lines_t *l, char **line, size_t *len, char *errstr, size_t errstr_size);
/* Reads exactly n raw bytes (binary formats); returns how many were read (< n at the end). */
size_t sky_lines_read(sky_lines_t *l, void *out, size_t n);
/* The next n raw bytes in place, consumed: *data stays valid until the next call.
 * 1: done; 0: the input ended first (what was there is consumed); -1: n is larger than
 * the buffer (nothing consumed: use sky_lines_read). */
int sky_lines_take(sky_lines_t *l, size_t n, const void **data);
/* The first bytes of the input, without consuming them (for format detection);
 * returns how many are available (up to cap). */
size_t sky_lines_peek(sky_lines_t *l, const char **data, size_t cap);

long sky_lines_lineno(const sky_lines_t *l); /* number of the line last returned */
const char *sky_lines_name(const sky_lines_t *l); /* the path as given */


#endif
