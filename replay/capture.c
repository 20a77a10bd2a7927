/* Capture file framing: magic, version, then [u32 len][body][u32 crc32c(body)] per record
 * (version 1: zlib's crc32), little-endian, through zlib so .gz and plain files share the
 * code. */
#include "capture.h"

#include "crc32c.h"
#include "dynbuf.h"
#include "error.h"
#include "line_reader.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct sky_capture_writer {
    gzFile gz;
    sky_buf_t buf;
    char *path;
};

struct sky_capture_reader {
    sky_lines_t *in;
    unsigned version;
    uint8_t *body; /* a record too large to be read in place */
    size_t cap;
    long recno;
    char *path;
};

static void put_u16(sky_buf_t *b, uint16_t v, int *rc) {
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    *rc |= sky_buf_add(b, x, 2);
}

static void put_u32(sky_buf_t *b, uint32_t v, int *rc) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    *rc |= sky_buf_add(b, x, 4);
}

static void put_u64(sky_buf_t *b, uint64_t v, int *rc) {
    put_u32(b, (uint32_t)v, rc);
    put_u32(b, (uint32_t)(v >> 32), rc);
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A length-prefixed byte string; UINT32_MAX length = null. */
static void put_bytes(sky_buf_t *b, const void *p, size_t len, int *rc) {
    put_u32(b, p ? (uint32_t)len : UINT32_MAX, rc);
    if (p && len)
        *rc |= sky_buf_add(b, p, len);
}

int sky_capture_writer_open(const char *path, sky_capture_writer_t **out, char *errstr,
                            size_t errsz) {
    sky_capture_writer_t *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return sky_err(errstr, errsz, SKY_ENOMEM, "%s: out of memory", path);
    }
    size_t n = strlen(path);
    const char *mode = n > 3 && strcmp(path + n - 3, ".gz") == 0 ? "wb6" : "wbT";
    w->gz = strcmp(path, "-") == 0 ? gzdopen(dup(STDOUT_FILENO), mode) : gzopen(path, mode);
    sky_buf_init(&w->buf, 0);
    if (!w->gz) {
        int e = errno;
        free(w->path);
        free(w);
        return sky_err(errstr, errsz, SKY_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    int rc = sky_buf_add(&w->buf, SKY_CAPTURE_MAGIC, 8);
    put_u16(&w->buf, SKY_CAPTURE_VERSION, &rc);
    put_u16(&w->buf, 0, &rc);
    *out = w;
    return rc ? sky_err(errstr, errsz, SKY_ENOMEM, "out of memory") : 0;
}

int sky_capture_write(sky_capture_writer_t *w, const sky_cap_record_t *r, char *errstr,
                      size_t errsz) {
    int rc = 0;
    size_t len_at = w->buf.len;
    put_u32(&w->buf, 0, &rc); /* body length, patched below */
    size_t body_at = w->buf.len;
    put_u64(&w->buf, (uint64_t)r->timestamp_ms, &rc);
    put_u32(&w->buf, (uint32_t)r->partition, &rc);
    put_u64(&w->buf, (uint64_t)r->offset, &rc);
    put_bytes(&w->buf, r->key, r->key_len, &rc);
    put_u16(&w->buf, (uint16_t)r->nheaders, &rc);
    for (size_t i = 0; i < r->nheaders; i++) {
        put_bytes(&w->buf, r->headers[i].name, strlen(r->headers[i].name) + 1, &rc);
        put_bytes(&w->buf, r->headers[i].value, r->headers[i].value_len, &rc);
    }
    put_bytes(&w->buf, r->value, r->value_len, &rc);
    if (rc)
        return sky_err(errstr, errsz, SKY_ENOMEM, "%s: out of memory", w->path);
    size_t body_len = w->buf.len - body_at;
    uint8_t *lp = (uint8_t *)w->buf.data + len_at;
    for (int i = 0; i < 4; i++)
        lp[i] = (uint8_t)(body_len >> (8 * i));
    put_u32(&w->buf, sky_crc32c(0, w->buf.data + body_at, body_len), &rc);
    if (rc)
        return sky_err(errstr, errsz, SKY_ENOMEM, "%s: out of memory", w->path);
    if (w->buf.len >= 256 * 1024)
        return sky_capture_flush(w, errstr, errsz);
    return 0;
}

int sky_capture_flush(sky_capture_writer_t *w, char *errstr, size_t errsz) {
    if (w->buf.len == 0)
        return 0;
    int n = gzwrite(w->gz, w->buf.data, (unsigned)w->buf.len);
    if (n != (int)w->buf.len) {
        int zerr;
        return sky_err(errstr, errsz, SKY_EIO, "%s: write failed: %s", w->path,
                       gzerror(w->gz, &zerr));
    }
    sky_buf_reset(&w->buf);
    if (gzflush(w->gz, Z_SYNC_FLUSH) != Z_OK)
        return sky_err(errstr, errsz, SKY_EIO, "%s: write failed", w->path);
    return 0;
}

int sky_capture_writer_close(sky_capture_writer_t *w, char *errstr, size_t errsz) {
    if (!w)
        return 0;
    int rc = sky_capture_flush(w, errstr, errsz);
    if (gzclose(w->gz) != Z_OK && !rc)
        rc = sky_err(errstr, errsz, SKY_EIO, "%s: close failed", w->path);
    sky_buf_free(&w->buf);
    free(w->path);
    free(w);
    return rc;
}

int sky_capture_reader_from_lines(sky_lines_t *in, sky_capture_reader_t **out, char *errstr,
                                  size_t errsz) {
    const char *path = sky_lines_name(in);
    sky_capture_reader_t *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        sky_err(errstr, errsz, SKY_ENOMEM, "%s: out of memory", path);
        sky_lines_destroy(in); /* frees path */
        return SKY_ENOMEM;
    }
    r->in = in;
    uint8_t hdr[12];
    if (sky_lines_read(r->in, hdr, sizeof hdr) != sizeof hdr ||
        memcmp(hdr, SKY_CAPTURE_MAGIC, 8)) {
        sky_err(errstr, errsz, SKY_EINVAL, "%s: not a skyload capture file (no \"SKYCAPT\" magic)",
                path);
        sky_capture_reader_destroy(r); /* frees path */
        return SKY_EINVAL;
    }
    unsigned version = (unsigned)hdr[8] | (unsigned)hdr[9] << 8;
    r->version = version;
    if (version < 1 || version > SKY_CAPTURE_VERSION) {
        sky_err(errstr, errsz, SKY_EINVAL,
                "%s: capture version %u, this skyload reads versions 1 to %d (a newer skyload "
                "wrote it?)",
                path, version, SKY_CAPTURE_VERSION);
        sky_capture_reader_destroy(r); /* frees path */
        return SKY_EINVAL;
    }
    *out = r;
    return 0;
}

int sky_capture_reader_open(const char *path, sky_capture_reader_t **out, char *errstr,
                            size_t errsz) {
    sky_lines_t *in;
    int rc = sky_lines_open(path, &in, errstr, errsz);
    return rc ? rc : sky_capture_reader_from_lines(in, out, errstr, errsz);
}

void sky_capture_reader_destroy(sky_capture_reader_t *r) {
    if (!r)
        return;
    sky_lines_destroy(r->in);
    free(r->body);
    free(r->path);
    free(r);
}

typedef struct cursor {
    const uint8_t *p, *end;
} cursor_t;

static int take(cursor_t *c, size_t n, const uint8_t **out) {
    if ((size_t)(c->end - c->p) < n)
        return -1;
    *out = c->p;
    c->p += n;
    return 0;
}

static int take_u32(cursor_t *c, uint32_t *v) {
    const uint8_t *p;
    if (take(c, 4, &p))
        return -1;
    *v = get_u32(p);
    return 0;
}

static int take_u64(cursor_t *c, uint64_t *v) {
    uint32_t lo, hi;
    if (take_u32(c, &lo) || take_u32(c, &hi))
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

static int take_bytes(cursor_t *c, const void **out, size_t *len) {
    uint32_t n;
    const uint8_t *p;
    if (take_u32(c, &n))
        return -1;
    if (n == UINT32_MAX) {
        *out = NULL;
        *len = 0;
        return 0;
    }
    if (take(c, n, &p))
        return -1;
    *out = p;
    *len = n;
    return 0;
}

/* Header names are stored with their terminating NUL, so they can be used in place. */
int sky_capture_decode_body(const uint8_t *body, size_t len, sky_cap_record_t *out, char *errstr,
                            size_t errsz) {
    cursor_t c = {body, body + len};
    uint64_t ts, off;
    uint32_t part;
    const uint8_t *p;
    /* not memset: the 32-entry header array is most of the struct, and only nheaders
     * entries of it are ever read */
    out->nheaders = 0;
    out->key = out->value = NULL;
    out->key_len = out->value_len = 0;
    if (take_u64(&c, &ts) || take_u32(&c, &part) || take_u64(&c, &off) ||
        take_bytes(&c, &out->key, &out->key_len) || take(&c, 2, &p))
        return sky_err(errstr, errsz, SKY_EINVAL, "record header truncated");
    out->timestamp_ms = (int64_t)ts;
    out->partition = (int32_t)part;
    out->offset = (int64_t)off;
    size_t nh = (size_t)p[0] | (size_t)p[1] << 8;
    if (nh > SKY_CAPTURE_HEADERS_MAX)
        return sky_err(errstr, errsz, SKY_EINVAL, "%zu headers, at most %d are supported", nh,
                       SKY_CAPTURE_HEADERS_MAX);
    for (size_t i = 0; i < nh; i++) {
        const void *name;
        size_t nlen;
        if (take_bytes(&c, &name, &nlen) || !name || nlen == 0 ||
            memchr(name, '\0', nlen) != (const char *)name + nlen - 1 ||
            take_bytes(&c, &out->headers[i].value, &out->headers[i].value_len))
            return sky_err(errstr, errsz, SKY_EINVAL, "header %zu truncated or malformed", i);
        out->headers[i].name = name;
    }
    out->nheaders = nh;
    if (take_bytes(&c, &out->value, &out->value_len))
        return sky_err(errstr, errsz, SKY_EINVAL, "value truncated");
    if (c.p != c.end)
        return sky_err(errstr, errsz, SKY_EINVAL, "%zu stray bytes after the value",
                       (size_t)(c.end - c.p));
    return 0;
}

/* The body and its CRC (len + 4 bytes) into *body: in place in the reader's buffer where
 * it fits, else copied. 1, 0 when the file ends first, or SKY_ENOMEM. */
static int read_body(sky_capture_reader_t *r, uint32_t len, const uint8_t **body) {
    size_t need = (size_t)len + 4;
    const void *p;
    int took = sky_lines_take(r->in, need, &p);
    if (took >= 0) {
        *body = p;
        return took;
    }
    if (sky_grow_array((void **)&r->body, &r->cap, need, 1))
        return SKY_ENOMEM;
    *body = r->body;
    return sky_lines_read(r->in, r->body, need) == need;
}

int sky_capture_read(sky_capture_reader_t *r, sky_cap_record_t *out, char *errstr, size_t errsz) {
    uint8_t lenb[4];
    size_t n = sky_lines_read(r->in, lenb, 4);
    if (n == 0)
        return 0;
    r->recno++;
    if (n != 4) {
        sky_log_warn("%s: record %ld: truncated at the end of the file; ignored", r->path,
                     r->recno);
        return 0;
    }
    uint32_t len = get_u32(lenb);
    if (len > SKY_CAPTURE_RECORD_MAX)
        return sky_err(errstr, errsz, SKY_EIO,
                       "%s:record %ld: length %u is larger than %d: the file is corrupt", r->path,
                       r->recno, len, SKY_CAPTURE_RECORD_MAX);
    const uint8_t *body;
    int rc = read_body(r, len, &body);
    if (rc < 0)
        return sky_err(errstr, errsz, rc, "%s: out of memory", r->path);
    if (rc == 0) {
        sky_log_warn("%s: record %ld: truncated at the end of the file; ignored", r->path,
                     r->recno);
        return 0;
    }
    uint32_t crc = get_u32(body + len);
    if ((r->version >= 2 ? sky_crc32c(0, body, len) : (uint32_t)crc32(0L, body, len)) != crc)
        return sky_err(errstr, errsz, SKY_EINVAL, "%s:record %ld: CRC mismatch; record skipped",
                       r->path, r->recno);
    char why[200];
    if (sky_capture_decode_body(body, len, out, why, sizeof why))
        return sky_err(errstr, errsz, SKY_EINVAL, "%s:record %ld: %s", r->path, r->recno, why);
    return 1;
}

long sky_capture_record_no(const sky_capture_reader_t *r) {
    return r->recno;
}
