/* Buffered line splitting over zlib's gzread, so .gz and plain input share one path. */
#include "line_reader.h"

#include "error.h"
#include "parse.h"

#include <errno.h>
#include <stdint.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#define BUF_SIZE (4 * SKY_LINE_MAX)

struct sky_lines {
    gzFile gz;
    char *name;
    char *buf; /* BUF_SIZE + 1 bytes */
    size_t start, end;
    long lineno;
    int eof;
};

static int connect_tcp(const char *hostport, char *errstr, size_t errsz) {
    char host[256];
    int port;
    if (sky_parse_hostport(hostport, host, sizeof host, &port, "sbs://", errstr, errsz))
        return -1;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc) {
        sky_err(errstr, errsz, SKY_EIO, "sbs://%s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        sky_err(errstr, errsz, SKY_EIO, "sbs://%s: cannot connect: %s (is the feed running?)",
                hostport, strerror(errno));
    return fd;
}

static gzFile gz_open_read(const char *path, char *errstr, size_t errsz) {
    gzFile gz;
    if (strcmp(path, "-") == 0) {
        gz = gzdopen(dup(STDIN_FILENO), "rb");
    } else if (strncmp(path, "sbs://", 6) == 0) {
        int fd = connect_tcp(path + 6, errstr, errsz);
        if (fd < 0)
            return NULL;
        gz = gzdopen(fd, "rb");
    } else {
        gz = gzopen(path, "rb");
    }
    if (!gz)
        sky_err(errstr, errsz, SKY_EIO, "%s: cannot open: %s", path,
                errno ? strerror(errno) : "out of memory");
    else
        gzbuffer(gz, BUF_SIZE / 4); /* zlib reads a plain file straight into our buffer
                                       when asked for twice its own buffer size or more */
    return gz;
}

int sky_lines_open(const char *path, sky_lines_t **out, char *errstr, size_t errsz) {
    sky_lines_t *l = calloc(1, sizeof *l);
    if (!l || !(l->buf = malloc(BUF_SIZE + 1)) || !(l->name = strdup(path))) {
        sky_lines_destroy(l);
        return sky_err(errstr, errsz, SKY_ENOMEM, "%s: out of memory", path);
    }
    l->gz = gz_open_read(path, errstr, errsz);
    if (!l->gz) {
        sky_lines_destroy(l);
        return SKY_EIO;
    }
    *out = l;
    return 0;
}

void sky_lines_destroy(sky_lines_t *l) {
    if (!l)
        return;
    if (l->gz)
        gzclose(l->gz);
    free(l->buf);
    free(l->name);
    free(l);
}

/* Moves the unread bytes to the front and reads more; returns bytes added, 0 at end, <0 error. */
static int fill(sky_lines_t *l) {
    if (l->eof)
        return 0;
    if (l->start > 0) {
        memmove(l->buf, l->buf + l->start, l->end - l->start);
        l->end -= l->start;
        l->start = 0;
    }
    if (l->end >= BUF_SIZE)
        return 0;
    int n = gzread(l->gz, l->buf + l->end, (unsigned)(BUF_SIZE - l->end));
    if (n < 0) {
        int zerr;
        const char *msg = gzerror(l->gz, &zerr);
        if (zerr == Z_BUF_ERROR) { /* truncated gzip: keep what was read */
            l->eof = 1;
            return 0;
        }
        (void)msg;
        return -1;
    }
    if (n == 0)
        l->eof = 1;
    l->end += (size_t)n;
    return n;
}

size_t sky_lines_peek(sky_lines_t *l, const char **data, size_t cap) {
    while (l->end - l->start < cap && fill(l) > 0)
        ;
    *data = l->buf + l->start;
    size_t n = l->end - l->start;
    return n < cap ? n : cap;
}

int sky_lines_take(sky_lines_t *l, size_t n, const void **data) {
    if (n > BUF_SIZE)
        return -1;
    const char *p;
    size_t got = sky_lines_peek(l, &p, n);
    l->start += got;
    *data = p;
    return got == n;
}

static int skip_long_line(sky_lines_t *l, char *errstr, size_t errsz) {
    l->lineno++;
    long no = l->lineno;
    for (;;) {
        char *nl = memchr(l->buf + l->start, '\n', l->end - l->start);
        if (nl) {
            l->start = (size_t)(nl - l->buf) + 1;
            break;
        }
        l->start = l->end;
        if (fill(l) <= 0)
            break;
    }
    return sky_err(errstr, errsz, SKY_EINVAL, "%s:%ld: line longer than %d bytes", l->name, no,
                   SKY_LINE_MAX);
}

int sky_lines_next(sky_lines_t *l, char **line, size_t *len, char *errstr, size_t errsz) {
    for (;;) {
        char *p = l->buf + l->start;
        size_t avail = l->end - l->start;
        char *nl = memchr(p, '\n', avail);
        if (!nl && avail > SKY_LINE_MAX)
            return skip_long_line(l, errstr, errsz);
        if (nl || (l->eof && avail > 0)) {
            size_t n = nl ? (size_t)(nl - p) : avail;
            if (n > SKY_LINE_MAX) {
                return skip_long_line(l, errstr, errsz);
            }
            l->start += n + (nl ? 1 : 0);
            if (n > 0 && p[n - 1] == '\r')
                n--;
            p[n] = '\0'; /* overwrites the '\n' (or the spare byte at the end) */
            l->lineno++;
            *line = p;
            *len = n;
            return 1;
        }
        int rc = fill(l);
        if (rc < 0) {
            int zerr;
            return sky_err(errstr, errsz, SKY_EIO, "%s: read failed: %s", l->name,
                           gzerror(l->gz, &zerr));
        }
        if (rc == 0 && l->end == l->start)
            return 0;
    }
}

long sky_lines_lineno(const sky_lines_t *l) {
    return l->lineno;
}

const char *sky_lines_name(const sky_lines_t *l) {
    return l->name;
}

size_t sky_lines_read(sky_lines_t *l, void *out, size_t n) {
    uint8_t *dst = out;
    size_t done = 0;
    while (done < n) {
        if (l->end == l->start && fill(l) <= 0)
            break;
        size_t take = l->end - l->start;
        if (take > n - done)
            take = n - done;
        memcpy(dst + done, l->buf + l->start, take);
        l->start += take;
        done += take;
    }
    return done;
}
