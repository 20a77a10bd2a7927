/* A growable byte buffer (curl's dynbuf idea) with allocation-free number and
 * JSON-string writers for hot paths. Appends return 0 or SKY_ENOMEM. */
#ifndef SKY_DYNBUF_H
#define SKY_DYNBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct sky_buf {
    char *data; /* always NUL-terminated when len > 0 or after sky_buf_init */
    size_t len;
    size_t cap;
    size_t max; /* hard limit; 0 = unlimited */
} sky_buf_t;

void sky_buf_init(sky_buf_t *b, size_t max);
void sky_buf_free(sky_buf_t *b);
void sky_buf_reset(sky_buf_t *b); /* len = 0, keeps the memory */
int sky_buf_reserve(sky_buf_t *b, size_t extra);

/* Makes *arr, an array of *cap elements of elem bytes, hold at least need elements: the
 * capacity doubles from 64, so n appends cost O(n). 0, or SKY_ENOMEM with *arr and *cap
 * unchanged. */
int sky_grow_array(void **arr, size_t *cap, size_t need, size_t elem);
int sky_buf_add(sky_buf_t *b, const void *data, size_t len);
int sky_buf_add_str(sky_buf_t *b, const char *s);
int sky_buf_add_char(sky_buf_t *b, char c);
int sky_buf_add_i64(sky_buf_t *b, int64_t v);
int sky_buf_add_u64(sky_buf_t *b, uint64_t v);
/* Shortest decimal text that reads back as the same double ("%.15g".."%.17g"). */
int sky_buf_add_double(sky_buf_t *b, double v);
/* A JSON string literal, quotes included, control bytes and invalid UTF-8 escaped. */
int sky_buf_add_json_str(sky_buf_t *b, const char *s, size_t len);
int sky_buf_addf(sky_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes v in decimal to out (at least 21 bytes); returns the length. No NUL. */
size_t sky_fmt_i64(char *out, int64_t v);
size_t sky_fmt_u64(char *out, uint64_t v);

#endif
