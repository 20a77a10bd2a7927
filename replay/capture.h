/* The capture file `skyload record` writes and `replay --format capture` reads:
 * Kafka records (timestamp, partition, offset, key, headers, value) framed with
 * a length and a CRC-32C, so keys, headers and values replay byte for byte and a
 * truncated tail (a recorder killed mid-write) loses only the last record.
 * Layout in docs/formats.md ("Capture files"). */
#ifndef SKY_CAPTURE_H
#define SKY_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct sky_lines;

#define SKY_CAPTURE_MAGIC "SKYCAPT\n" /* 8 bytes */
/* 2: records checked with CRC-32C; 1 (still read): with zlib's CRC-32. */
#define SKY_CAPTURE_VERSION 2
#define SKY_CAPTURE_HEADERS_MAX 32   /* headers kept per record */
#define SKY_CAPTURE_RECORD_MAX (16 * 1024 * 1024)

typedef struct sky_cap_header {
    const char *name; /* NUL-terminated */
    const void *value; /* NULL for a null header value */
    size_t value_len;
} sky_cap_header_t;

/* One record. Pointers are borrowed: for the writer from the caller, for the
 * reader from the reader's buffer until the next sky_capture_read. Only the first
 * nheaders entries of headers are set. */
typedef struct sky_cap_record {
    int64_t timestamp_ms;
    int32_t partition;
    int64_t offset;
    const void *key; /* NULL = null key */
    size_t key_len;
    const void *value; /* NULL = null value */
    size_t value_len;
    size_t nheaders;
    sky_cap_header_t headers[SKY_CAPTURE_HEADERS_MAX];
} sky_cap_record_t;

typedef struct sky_capture_writer sky_capture_writer_t;

/* Creates path ("-" = stdout; a name ending in ".gz" is gzip-compressed) and
 * writes the file header. Returns 0 and *out, or SKY_EIO / SKY_ENOMEM. */
int sky_capture_writer_open(const char *path, sky_capture_writer_t **out, char *errstr,
                            size_t errstr_size);
/* Appends one record; no allocation once the internal buffer has grown. */
int sky_capture_write(sky_capture_writer_t *w, const sky_cap_record_t *r, char *errstr,
                      size_t errstr_size);
/* Pushes buffered bytes to the file so a reader (or a crash) sees whole records. */
int sky_capture_flush(sky_capture_writer_t *w, char *errstr, size_t errstr_size);
/* Flushes, closes and frees w (also on error); NULL is fine. */
int sky_capture_writer_close(sky_capture_writer_t *w, char *errstr, size_t errstr_size);

typedef struct sky_capture_reader sky_capture_reader_t;

/* Opens path ("-" = stdin, plain or gzip) and checks magic and version. */
int sky_capture_reader_open(const char *path, sky_capture_reader_t **out, char *errstr,
                            size_t errstr_size);
/* The same over an input already opened (format detection peeked at it);
 * takes ownership of in, also on error. */
int sky_capture_reader_from_lines(struct sky_lines *in, sky_capture_reader_t **out, char *errstr,
                                  size_t errstr_size);
void sky_capture_reader_destroy(sky_capture_reader_t *r); /* NULL is fine */
/* Next record: 1 = *out filled, 0 = end of file (a truncated last record is
 * dropped with a warning through sky_log), SKY_EINVAL = a record whose CRC or
 * layout is wrong (skipped, errstr "path:record N: reason"; call again),
 * SKY_EIO = unreadable. */
int sky_capture_read(sky_capture_reader_t *r, sky_cap_record_t *out, char *errstr,
                     size_t errstr_size);
long sky_capture_record_no(const sky_capture_reader_t *r); /* 1-based, last returned */

/* Decodes a record body (the bytes between the length and the CRC); exposed for
 * the fuzz target. Returns 0 or SKY_EINVAL with a reason. */
int sky_capture_decode_body(const uint8_t *body, size_t len, sky_cap_record_t *out, char *errstr,
                            size_t errstr_size);

#endif
