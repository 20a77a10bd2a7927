/* Growable buffer and small formatters. */
#include "dynbuf.h"

#include "error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sky_buf_init(sky_buf_t *b, size_t max) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void sky_buf_free(sky_buf_t *b) {
    free(b->data);
    sky_buf_init(b, b->max);
}

void sky_buf_reset(sky_buf_t *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int sky_buf_reserve(sky_buf_t *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    if (b->max && need > b->max + 1)
        return SKY_ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (b->max && cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return SKY_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int sky_grow_array(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return SKY_ENOMEM;
        n *= 2;
    }
    if (elem && n > SIZE_MAX / elem)
        return SKY_ENOMEM;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return SKY_ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

int sky_buf_add(sky_buf_t *b, const void *data, size_t len) {
    if (sky_buf_reserve(b, len))
        return SKY_ENOMEM;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int sky_buf_add_str(sky_buf_t *b, const char *s) {
    return sky_buf_add(b, s, strlen(s));
}

int sky_buf_add_char(sky_buf_t *b, char c) {
    return sky_buf_add(b, &c, 1);
}

static unsigned digits_u64(uint64_t v) {
    unsigned n = 1;
    for (; v >= 10000; v /= 10000)
        n += 4;
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Two digits per division, written from the end: every record's headers go through here. */
size_t sky_fmt_u64(char *out, uint64_t v) {
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    unsigned n = digits_u64(v), i = n;
    for (; v >= 100; v /= 100) {
        i -= 2;
        memcpy(out + i, pairs + v % 100 * 2, 2);
    }
    if (v >= 10)
        memcpy(out + i - 2, pairs + v * 2, 2);
    else
        out[i - 1] = (char)('0' + v);
    return n;
}

size_t sky_fmt_i64(char *out, int64_t v) {
    if (v < 0) {
        out[0] = '-';
        return 1 + sky_fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return sky_fmt_u64(out, (uint64_t)v);
}

int sky_buf_add_i64(sky_buf_t *b, int64_t v) {
    char tmp[24];
    return sky_buf_add(b, tmp, sky_fmt_i64(tmp, v));
}

int sky_buf_add_u64(sky_buf_t *b, uint64_t v) {
    char tmp[24];
    return sky_buf_add(b, tmp, sky_fmt_u64(tmp, v));
}

int sky_buf_add_double(sky_buf_t *b, double v) {
    char tmp[40];
    if (!isfinite(v))
        return sky_buf_add_str(b, "null"); /* JSON has no NaN or infinity */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    return sky_buf_add_str(b, tmp);
}

/* Length of a valid UTF-8 sequence starting at s (at most n bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
    size_t len;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0 && s[0] >= 0xC2)
        len = 2;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3;
    else if ((s[0] & 0xF8) == 0xF0 && s[0] <= 0xF4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

int sky_buf_add_json_str(sky_buf_t *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    if (sky_buf_add_char(b, '"'))
        return SKY_ENOMEM;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        char esc[8];
        size_t n = 0;
        if (c == '"' || c == '\\') {
            esc[n++] = '\\';
            esc[n++] = (char)c;
        } else if (c == '\n') {
            esc[n++] = '\\';
            esc[n++] = 'n';
        } else if (c == '\t') {
            esc[n++] = '\\';
            esc[n++] = 't';
        } else if (c == '\r') {
            esc[n++] = '\\';
            esc[n++] = 'r';
        } else if (c < 0x20 || (c >= 0x80 && utf8_seq_len(p + i, len - i) == 0)) {
            /* control byte, or a byte that is not UTF-8: \u00XX keeps the JSON valid */
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        } else {
            size_t sl = utf8_seq_len(p + i, len - i);
            if (sky_buf_add(b, p + i, sl))
                return SKY_ENOMEM;
            i += sl;
            continue;
        }
        if (sky_buf_add(b, esc, n))
            return SKY_ENOMEM;
        i++;
    }
    return sky_buf_add_char(b, '"');
}

int sky_buf_addf(sky_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sky_buf_reserve(b, (size_t)n))
        return SKY_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}
